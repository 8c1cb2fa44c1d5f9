//! The closed catalogue of TrentService operations (all 54 of the 2026 KMS model), parsed from
//! `X-Amz-Target: TrentService.<Name>`, and the closed set of `kms:` actions that authorize them
//! (reference §1.1 / §9.3; ReEncrypt is authorized by `kms:ReEncryptFrom` + `kms:ReEncryptTo`).

/// Every operation of the AWS KMS API, named exactly as AWS names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    CancelKeyDeletion,
    ConnectCustomKeyStore,
    CreateAlias,
    CreateCustomKeyStore,
    CreateGrant,
    CreateKey,
    Decrypt,
    DeleteAlias,
    DeleteCustomKeyStore,
    DeleteImportedKeyMaterial,
    DeriveSharedSecret,
    DescribeCustomKeyStores,
    DescribeKey,
    DisableKey,
    DisableKeyRotation,
    DisconnectCustomKeyStore,
    EnableKey,
    EnableKeyRotation,
    Encrypt,
    GenerateDataKey,
    GenerateDataKeyPair,
    GenerateDataKeyPairWithoutPlaintext,
    GenerateDataKeyWithoutPlaintext,
    GenerateMac,
    GenerateRandom,
    GetKeyLastUsage,
    GetKeyPolicy,
    GetKeyRotationStatus,
    GetParametersForImport,
    GetPublicKey,
    ImportKeyMaterial,
    ListAliases,
    ListGrants,
    ListKeyPolicies,
    ListKeyRotations,
    ListKeys,
    ListResourceTags,
    ListRetirableGrants,
    PutKeyPolicy,
    ReEncrypt,
    ReplicateKey,
    RetireGrant,
    RevokeGrant,
    RotateKeyOnDemand,
    ScheduleKeyDeletion,
    Sign,
    TagResource,
    UntagResource,
    UpdateAlias,
    UpdateCustomKeyStore,
    UpdateKeyDescription,
    UpdatePrimaryRegion,
    Verify,
    VerifyMac,
}

impl Operation {
    /// All operations, in model order.
    pub const ALL: [Operation; 54] = [
        Operation::CancelKeyDeletion,
        Operation::ConnectCustomKeyStore,
        Operation::CreateAlias,
        Operation::CreateCustomKeyStore,
        Operation::CreateGrant,
        Operation::CreateKey,
        Operation::Decrypt,
        Operation::DeleteAlias,
        Operation::DeleteCustomKeyStore,
        Operation::DeleteImportedKeyMaterial,
        Operation::DeriveSharedSecret,
        Operation::DescribeCustomKeyStores,
        Operation::DescribeKey,
        Operation::DisableKey,
        Operation::DisableKeyRotation,
        Operation::DisconnectCustomKeyStore,
        Operation::EnableKey,
        Operation::EnableKeyRotation,
        Operation::Encrypt,
        Operation::GenerateDataKey,
        Operation::GenerateDataKeyPair,
        Operation::GenerateDataKeyPairWithoutPlaintext,
        Operation::GenerateDataKeyWithoutPlaintext,
        Operation::GenerateMac,
        Operation::GenerateRandom,
        Operation::GetKeyLastUsage,
        Operation::GetKeyPolicy,
        Operation::GetKeyRotationStatus,
        Operation::GetParametersForImport,
        Operation::GetPublicKey,
        Operation::ImportKeyMaterial,
        Operation::ListAliases,
        Operation::ListGrants,
        Operation::ListKeyPolicies,
        Operation::ListKeyRotations,
        Operation::ListKeys,
        Operation::ListResourceTags,
        Operation::ListRetirableGrants,
        Operation::PutKeyPolicy,
        Operation::ReEncrypt,
        Operation::ReplicateKey,
        Operation::RetireGrant,
        Operation::RevokeGrant,
        Operation::RotateKeyOnDemand,
        Operation::ScheduleKeyDeletion,
        Operation::Sign,
        Operation::TagResource,
        Operation::UntagResource,
        Operation::UpdateAlias,
        Operation::UpdateCustomKeyStore,
        Operation::UpdateKeyDescription,
        Operation::UpdatePrimaryRegion,
        Operation::Verify,
        Operation::VerifyMac,
    ];

    /// Parses the operation name that follows `TrentService.` in `X-Amz-Target`.
    pub fn from_name(name: &str) -> Option<Operation> {
        Self::ALL.iter().copied().find(|op| op.name() == name)
    }

    /// The operation name as AWS spells it.
    pub fn name(self) -> &'static str {
        match self {
            Operation::CancelKeyDeletion => "CancelKeyDeletion",
            Operation::ConnectCustomKeyStore => "ConnectCustomKeyStore",
            Operation::CreateAlias => "CreateAlias",
            Operation::CreateCustomKeyStore => "CreateCustomKeyStore",
            Operation::CreateGrant => "CreateGrant",
            Operation::CreateKey => "CreateKey",
            Operation::Decrypt => "Decrypt",
            Operation::DeleteAlias => "DeleteAlias",
            Operation::DeleteCustomKeyStore => "DeleteCustomKeyStore",
            Operation::DeleteImportedKeyMaterial => "DeleteImportedKeyMaterial",
            Operation::DeriveSharedSecret => "DeriveSharedSecret",
            Operation::DescribeCustomKeyStores => "DescribeCustomKeyStores",
            Operation::DescribeKey => "DescribeKey",
            Operation::DisableKey => "DisableKey",
            Operation::DisableKeyRotation => "DisableKeyRotation",
            Operation::DisconnectCustomKeyStore => "DisconnectCustomKeyStore",
            Operation::EnableKey => "EnableKey",
            Operation::EnableKeyRotation => "EnableKeyRotation",
            Operation::Encrypt => "Encrypt",
            Operation::GenerateDataKey => "GenerateDataKey",
            Operation::GenerateDataKeyPair => "GenerateDataKeyPair",
            Operation::GenerateDataKeyPairWithoutPlaintext => "GenerateDataKeyPairWithoutPlaintext",
            Operation::GenerateDataKeyWithoutPlaintext => "GenerateDataKeyWithoutPlaintext",
            Operation::GenerateMac => "GenerateMac",
            Operation::GenerateRandom => "GenerateRandom",
            Operation::GetKeyLastUsage => "GetKeyLastUsage",
            Operation::GetKeyPolicy => "GetKeyPolicy",
            Operation::GetKeyRotationStatus => "GetKeyRotationStatus",
            Operation::GetParametersForImport => "GetParametersForImport",
            Operation::GetPublicKey => "GetPublicKey",
            Operation::ImportKeyMaterial => "ImportKeyMaterial",
            Operation::ListAliases => "ListAliases",
            Operation::ListGrants => "ListGrants",
            Operation::ListKeyPolicies => "ListKeyPolicies",
            Operation::ListKeyRotations => "ListKeyRotations",
            Operation::ListKeys => "ListKeys",
            Operation::ListResourceTags => "ListResourceTags",
            Operation::ListRetirableGrants => "ListRetirableGrants",
            Operation::PutKeyPolicy => "PutKeyPolicy",
            Operation::ReEncrypt => "ReEncrypt",
            Operation::ReplicateKey => "ReplicateKey",
            Operation::RetireGrant => "RetireGrant",
            Operation::RevokeGrant => "RevokeGrant",
            Operation::RotateKeyOnDemand => "RotateKeyOnDemand",
            Operation::ScheduleKeyDeletion => "ScheduleKeyDeletion",
            Operation::Sign => "Sign",
            Operation::TagResource => "TagResource",
            Operation::UntagResource => "UntagResource",
            Operation::UpdateAlias => "UpdateAlias",
            Operation::UpdateCustomKeyStore => "UpdateCustomKeyStore",
            Operation::UpdateKeyDescription => "UpdateKeyDescription",
            Operation::UpdatePrimaryRegion => "UpdatePrimaryRegion",
            Operation::Verify => "Verify",
            Operation::VerifyMac => "VerifyMac",
        }
    }

    /// The IAM action that authorizes this operation on its (main) resource; ReEncrypt is
    /// authorized by [`Action::ReEncryptFrom`] on its source and [`Action::ReEncryptTo`] on its
    /// destination and returns the latter here.
    pub fn action(self) -> Action {
        use Operation as O;
        match self {
            O::CancelKeyDeletion => Action::CancelKeyDeletion,
            O::ConnectCustomKeyStore => Action::ConnectCustomKeyStore,
            O::CreateAlias => Action::CreateAlias,
            O::CreateCustomKeyStore => Action::CreateCustomKeyStore,
            O::CreateGrant => Action::CreateGrant,
            O::CreateKey => Action::CreateKey,
            O::Decrypt => Action::Decrypt,
            O::DeleteAlias => Action::DeleteAlias,
            O::DeleteCustomKeyStore => Action::DeleteCustomKeyStore,
            O::DeleteImportedKeyMaterial => Action::DeleteImportedKeyMaterial,
            O::DeriveSharedSecret => Action::DeriveSharedSecret,
            O::DescribeCustomKeyStores => Action::DescribeCustomKeyStores,
            O::DescribeKey => Action::DescribeKey,
            O::DisableKey => Action::DisableKey,
            O::DisableKeyRotation => Action::DisableKeyRotation,
            O::DisconnectCustomKeyStore => Action::DisconnectCustomKeyStore,
            O::EnableKey => Action::EnableKey,
            O::EnableKeyRotation => Action::EnableKeyRotation,
            O::Encrypt => Action::Encrypt,
            O::GenerateDataKey => Action::GenerateDataKey,
            O::GenerateDataKeyPair => Action::GenerateDataKeyPair,
            O::GenerateDataKeyPairWithoutPlaintext => Action::GenerateDataKeyPairWithoutPlaintext,
            O::GenerateDataKeyWithoutPlaintext => Action::GenerateDataKeyWithoutPlaintext,
            O::GenerateMac => Action::GenerateMac,
            O::GenerateRandom => Action::GenerateRandom,
            O::GetKeyLastUsage => Action::GetKeyLastUsage,
            O::GetKeyPolicy => Action::GetKeyPolicy,
            O::GetKeyRotationStatus => Action::GetKeyRotationStatus,
            O::GetParametersForImport => Action::GetParametersForImport,
            O::GetPublicKey => Action::GetPublicKey,
            O::ImportKeyMaterial => Action::ImportKeyMaterial,
            O::ListAliases => Action::ListAliases,
            O::ListGrants => Action::ListGrants,
            O::ListKeyPolicies => Action::ListKeyPolicies,
            O::ListKeyRotations => Action::ListKeyRotations,
            O::ListKeys => Action::ListKeys,
            O::ListResourceTags => Action::ListResourceTags,
            O::ListRetirableGrants => Action::ListRetirableGrants,
            O::PutKeyPolicy => Action::PutKeyPolicy,
            O::ReEncrypt => Action::ReEncryptTo,
            O::ReplicateKey => Action::ReplicateKey,
            O::RetireGrant => Action::RetireGrant,
            O::RevokeGrant => Action::RevokeGrant,
            O::RotateKeyOnDemand => Action::RotateKeyOnDemand,
            O::ScheduleKeyDeletion => Action::ScheduleKeyDeletion,
            O::Sign => Action::Sign,
            O::TagResource => Action::TagResource,
            O::UntagResource => Action::UntagResource,
            O::UpdateAlias => Action::UpdateAlias,
            O::UpdateCustomKeyStore => Action::UpdateCustomKeyStore,
            O::UpdateKeyDescription => Action::UpdateKeyDescription,
            O::UpdatePrimaryRegion => Action::UpdatePrimaryRegion,
            O::Verify => Action::Verify,
            O::VerifyMac => Action::VerifyMac,
        }
    }

    /// `Describe*`, `List*`, `Get*` operations change nothing (CloudTrail `readOnly`).
    pub fn is_read_only(self) -> bool {
        let n = self.name();
        ["Describe", "List", "Get"].iter().any(|p| n.starts_with(p))
    }

    /// Control-plane operations that change stored state: their audit event is written in the
    /// same transaction as the change. (Cryptographic operations change nothing but the
    /// last-use record; their events are batched.)
    pub fn changes_state(self) -> bool {
        use Operation as O;
        match self {
            O::CancelKeyDeletion
            | O::ConnectCustomKeyStore
            | O::CreateAlias
            | O::CreateCustomKeyStore
            | O::CreateGrant
            | O::CreateKey
            | O::DeleteAlias
            | O::DeleteCustomKeyStore
            | O::DeleteImportedKeyMaterial
            | O::DisableKey
            | O::DisableKeyRotation
            | O::DisconnectCustomKeyStore
            | O::EnableKey
            | O::EnableKeyRotation
            | O::ImportKeyMaterial
            | O::PutKeyPolicy
            | O::ReplicateKey
            | O::RetireGrant
            | O::RevokeGrant
            | O::RotateKeyOnDemand
            | O::ScheduleKeyDeletion
            | O::TagResource
            | O::UntagResource
            | O::UpdateAlias
            | O::UpdateCustomKeyStore
            | O::UpdateKeyDescription
            | O::UpdatePrimaryRegion => true,
            O::Decrypt
            | O::DeriveSharedSecret
            | O::DescribeCustomKeyStores
            | O::DescribeKey
            | O::Encrypt
            | O::GenerateDataKey
            | O::GenerateDataKeyPair
            | O::GenerateDataKeyPairWithoutPlaintext
            | O::GenerateDataKeyWithoutPlaintext
            | O::GenerateMac
            | O::GenerateRandom
            | O::GetKeyLastUsage
            | O::GetKeyPolicy
            | O::GetKeyRotationStatus
            | O::GetParametersForImport
            | O::GetPublicKey
            | O::ListAliases
            | O::ListGrants
            | O::ListKeyPolicies
            | O::ListKeyRotations
            | O::ListKeys
            | O::ListResourceTags
            | O::ListRetirableGrants
            | O::ReEncrypt
            | O::Sign
            | O::Verify
            | O::VerifyMac => false,
        }
    }
}

/// Declares the KMS actions: variant and `kms:` name.
macro_rules! actions {
    ($($variant:ident = $name:literal),+ $(,)?) => {
        /// Every IAM action of the KMS service (`kms:<Name>`; reference §1.1). ReEncrypt has two,
        /// `kms:ReEncryptFrom` and `kms:ReEncryptTo`, and no `kms:ReEncrypt`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $($variant),+
        }

        impl Action {
            /// The action as policies name it (`kms:Encrypt`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Action::$variant => concat!("kms:", $name)),+
                }
            }

            /// The name without the service prefix (`Encrypt`): what a grant lists.
            pub const fn short_name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name),+
                }
            }

            /// An action by name, with or without `kms:`, ignoring ASCII case as IAM does.
            pub fn parse(name: &str) -> Option<Action> {
                let short = match name.get(..4) {
                    Some(p) if p.eq_ignore_ascii_case("kms:") => name.get(4..).unwrap_or_default(),
                    _ => name,
                };
                [$(Action::$variant),+]
                    .into_iter()
                    .find(|a| a.short_name().eq_ignore_ascii_case(short))
            }
        }
    };
}

actions! {
    CancelKeyDeletion = "CancelKeyDeletion",
    ConnectCustomKeyStore = "ConnectCustomKeyStore",
    CreateAlias = "CreateAlias",
    CreateCustomKeyStore = "CreateCustomKeyStore",
    CreateGrant = "CreateGrant",
    CreateKey = "CreateKey",
    Decrypt = "Decrypt",
    DeleteAlias = "DeleteAlias",
    DeleteCustomKeyStore = "DeleteCustomKeyStore",
    DeleteImportedKeyMaterial = "DeleteImportedKeyMaterial",
    DeriveSharedSecret = "DeriveSharedSecret",
    DescribeCustomKeyStores = "DescribeCustomKeyStores",
    DescribeKey = "DescribeKey",
    DisableKey = "DisableKey",
    DisableKeyRotation = "DisableKeyRotation",
    DisconnectCustomKeyStore = "DisconnectCustomKeyStore",
    EnableKey = "EnableKey",
    EnableKeyRotation = "EnableKeyRotation",
    Encrypt = "Encrypt",
    GenerateDataKey = "GenerateDataKey",
    GenerateDataKeyPair = "GenerateDataKeyPair",
    GenerateDataKeyPairWithoutPlaintext = "GenerateDataKeyPairWithoutPlaintext",
    GenerateDataKeyWithoutPlaintext = "GenerateDataKeyWithoutPlaintext",
    GenerateMac = "GenerateMac",
    GenerateRandom = "GenerateRandom",
    GetKeyLastUsage = "GetKeyLastUsage",
    GetKeyPolicy = "GetKeyPolicy",
    GetKeyRotationStatus = "GetKeyRotationStatus",
    GetParametersForImport = "GetParametersForImport",
    GetPublicKey = "GetPublicKey",
    ImportKeyMaterial = "ImportKeyMaterial",
    ListAliases = "ListAliases",
    ListGrants = "ListGrants",
    ListKeyPolicies = "ListKeyPolicies",
    ListKeyRotations = "ListKeyRotations",
    ListKeys = "ListKeys",
    ListResourceTags = "ListResourceTags",
    ListRetirableGrants = "ListRetirableGrants",
    PutKeyPolicy = "PutKeyPolicy",
    ReEncryptFrom = "ReEncryptFrom",
    ReEncryptTo = "ReEncryptTo",
    ReplicateKey = "ReplicateKey",
    RetireGrant = "RetireGrant",
    RevokeGrant = "RevokeGrant",
    RotateKeyOnDemand = "RotateKeyOnDemand",
    ScheduleKeyDeletion = "ScheduleKeyDeletion",
    Sign = "Sign",
    TagResource = "TagResource",
    UntagResource = "UntagResource",
    UpdateAlias = "UpdateAlias",
    UpdateCustomKeyStore = "UpdateCustomKeyStore",
    UpdateKeyDescription = "UpdateKeyDescription",
    UpdatePrimaryRegion = "UpdatePrimaryRegion",
    Verify = "Verify",
    VerifyMac = "VerifyMac",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_is_none() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(op));
        }
        assert_eq!(Operation::from_name("encrypt"), None);
        assert_eq!(Operation::from_name("Frobnicate"), None);
        assert_eq!(Operation::ALL.len(), 54);
        assert_eq!(Operation::Encrypt.action().as_str(), "kms:Encrypt");
        assert_eq!(Operation::ReEncrypt.action(), Action::ReEncryptTo);
        assert_eq!(Action::ReEncryptFrom.short_name(), "ReEncryptFrom");
    }
}

//! The key-state table of reference §3: which operations each key state allows, and AWS's error
//! text when it does not (footnotes [1]–[15]). One exhaustive `match` over every operation and,
//! inside it, over every state: a new operation or state does not compile until it is placed.
//! The authorizer applies it to every key an operation acts on, after the authorization decision
//! and before the operation runs — AWS checks the key state before the key type (AWS-recorded:
//! RotateKeyOnDemand on a disabled asymmetric key is `DisabledException`).

use trent_api::{KmsError, Operation};
use trent_types::{KeyState, Origin};

use crate::keys::LoadedKey;

/// What the table says about one (operation, state) pair.
enum Rule {
    Allowed,
    /// `DisabledException: <arn> is disabled.` [1]
    Disabled,
    /// `KMSInvalidStateException: <arn> is pending deletion.` [2]/[3]
    PendingDeletion,
    /// `KMSInvalidStateException: <arn> is not pending deletion.` [4]
    NotPendingDeletion,
    /// `KMSInvalidStateException: <arn> is pending import.` [5]
    PendingImport,
    /// `UnsupportedOperationException: <arn> origin is <origin> which is not valid for this operation.` [6]/[9]
    Origin,
    /// `KMSInvalidStateException: <arn> is unavailable.` [11]
    Unavailable,
    /// `KMSInvalidStateException: <arn> is creating.` [14]
    Creating,
    /// `KMSInvalidStateException: <arn> is updating.` [15]
    Updating,
}

/// The column pattern of the cryptographic operations (Encrypt … VerifyMac, GetPublicKey).
fn crypto(state: KeyState) -> Rule {
    match state {
        KeyState::Enabled | KeyState::Updating => Rule::Allowed,
        KeyState::Disabled => Rule::Disabled,
        KeyState::PendingDeletion | KeyState::PendingReplicaDeletion => Rule::PendingDeletion,
        KeyState::PendingImport => Rule::PendingImport,
        KeyState::Unavailable => Rule::Unavailable,
        KeyState::Creating => Rule::Creating,
    }
}

/// Allowed in every state except pending deletion (CreateAlias, TagResource, …).
fn not_pending_deletion(state: KeyState) -> Rule {
    match state {
        KeyState::PendingDeletion | KeyState::PendingReplicaDeletion => Rule::PendingDeletion,
        KeyState::Enabled
        | KeyState::Disabled
        | KeyState::PendingImport
        | KeyState::Unavailable
        | KeyState::Creating
        | KeyState::Updating => Rule::Allowed,
    }
}

fn rule(op: Operation, key: &LoadedKey) -> Rule {
    let state = key.state();
    let external = key.record.origin == Origin::External;
    use Operation as O;
    match op {
        O::Encrypt
        | O::Decrypt
        | O::ReEncrypt
        | O::GenerateDataKey
        | O::GenerateDataKeyWithoutPlaintext
        | O::GenerateDataKeyPair
        | O::GenerateDataKeyPairWithoutPlaintext
        | O::GenerateMac
        | O::VerifyMac
        | O::Sign
        | O::Verify
        | O::GetPublicKey
        | O::DeriveSharedSecret
        | O::RotateKeyOnDemand
        | O::ReplicateKey
        | O::UpdatePrimaryRegion => crypto(state),
        O::CreateGrant => match state {
            KeyState::Unavailable => Rule::Allowed,
            other => crypto(other),
        },
        O::EnableKey | O::DisableKey => match state {
            KeyState::Enabled | KeyState::Disabled | KeyState::Unavailable => Rule::Allowed,
            KeyState::PendingDeletion | KeyState::PendingReplicaDeletion => Rule::PendingDeletion,
            KeyState::PendingImport => Rule::PendingImport,
            KeyState::Creating => Rule::Creating,
            KeyState::Updating => Rule::Updating,
        },
        O::EnableKeyRotation | O::DisableKeyRotation => match state {
            KeyState::Enabled | KeyState::Updating => Rule::Allowed,
            KeyState::Disabled => Rule::Disabled,
            KeyState::PendingDeletion | KeyState::PendingReplicaDeletion => Rule::PendingDeletion,
            KeyState::PendingImport => Rule::Origin,
            KeyState::Unavailable => Rule::Unavailable,
            KeyState::Creating => Rule::Creating,
        },
        O::CancelKeyDeletion => match state {
            KeyState::PendingDeletion | KeyState::PendingReplicaDeletion => Rule::Allowed,
            KeyState::Enabled
            | KeyState::Disabled
            | KeyState::PendingImport
            | KeyState::Unavailable
            | KeyState::Creating
            | KeyState::Updating => Rule::NotPendingDeletion,
        },
        O::ScheduleKeyDeletion => match state {
            KeyState::Updating => Rule::Updating,
            other => not_pending_deletion(other),
        },
        O::CreateAlias | O::TagResource | O::UntagResource | O::UpdateKeyDescription | O::UpdateAlias => {
            not_pending_deletion(state)
        }
        // Import: a key without imported material refuses first [9], then by state [8].
        O::GetParametersForImport | O::ImportKeyMaterial if !external => Rule::Origin,
        O::GetParametersForImport | O::ImportKeyMaterial => match state {
            KeyState::Enabled | KeyState::Disabled | KeyState::PendingImport => Rule::Allowed,
            KeyState::PendingDeletion | KeyState::PendingReplicaDeletion => Rule::PendingDeletion,
            KeyState::Unavailable => Rule::Origin,
            KeyState::Creating => Rule::Creating,
            KeyState::Updating if op == O::ImportKeyMaterial => Rule::Allowed,
            KeyState::Updating => Rule::Updating,
        },
        O::DeleteImportedKeyMaterial if !external => Rule::Origin,
        O::DeleteImportedKeyMaterial => match state {
            KeyState::Creating => Rule::Creating,
            KeyState::Updating => Rule::Updating,
            KeyState::Enabled
            | KeyState::Disabled
            | KeyState::PendingDeletion
            | KeyState::PendingReplicaDeletion
            | KeyState::PendingImport
            | KeyState::Unavailable => Rule::Allowed,
        },
        // Every state (reference §3: DescribeKey, policies, tags listing, aliases listing and
        // deletion, grants listing/retiring/revoking, GetKeyLastUsage, ListKeyRotations).
        O::DescribeKey
        | O::GetKeyPolicy
        | O::PutKeyPolicy
        | O::ListKeyPolicies
        | O::ListResourceTags
        | O::ListAliases
        | O::DeleteAlias
        | O::ListGrants
        | O::RetireGrant
        | O::RevokeGrant
        | O::GetKeyLastUsage
        | O::GetKeyRotationStatus
        | O::ListKeyRotations => Rule::Allowed,
        // Operations that name no key.
        O::CreateKey
        | O::ListKeys
        | O::GenerateRandom
        | O::ListRetirableGrants
        | O::ConnectCustomKeyStore
        | O::CreateCustomKeyStore
        | O::DeleteCustomKeyStore
        | O::DescribeCustomKeyStores
        | O::DisconnectCustomKeyStore
        | O::UpdateCustomKeyStore => Rule::Allowed,
    }
}

/// Checks that `op` may run on `key` in its current state.
pub(crate) fn check(op: Operation, key: &LoadedKey) -> Result<(), KmsError> {
    let arn = &key.arn;
    match rule(op, key) {
        Rule::Allowed => Ok(()),
        Rule::Disabled => Err(KmsError::Disabled(format!("{arn} is disabled."))),
        Rule::PendingDeletion => Err(KmsError::InvalidState(format!("{arn} is pending deletion."))),
        Rule::NotPendingDeletion => Err(KmsError::InvalidState(format!("{arn} is not pending deletion."))),
        Rule::PendingImport => Err(KmsError::InvalidState(format!("{arn} is pending import."))),
        Rule::Origin => Err(KmsError::UnsupportedOperation(format!(
            "{arn} origin is {} which is not valid for this operation.",
            key.record.origin
        ))),
        Rule::Unavailable => Err(KmsError::InvalidState(format!("{arn} is unavailable."))),
        Rule::Creating => Err(KmsError::InvalidState(format!("{arn} is creating."))),
        Rule::Updating => Err(KmsError::InvalidState(format!("{arn} is updating."))),
    }
}

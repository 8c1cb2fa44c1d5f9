//! The key-state table of reference §3: which operations a key's state allows, and AWS's error
//! text when it does not (footnotes [1]–[5], [11]).

use trent_api::{KmsError, Operation};

use crate::keys::LoadedKey;

/// Checks that `op` may run on `key` in its current state.
pub fn check(op: Operation, key: &LoadedKey) -> Result<(), KmsError> {
    let arn = &key.arn;
    let state = key.record.key_state.as_str();
    let disabled = || KmsError::Disabled(format!("{arn} is disabled."));
    let pending_deletion = || KmsError::InvalidState(format!("{arn} is pending deletion."));
    let pending_import = || KmsError::InvalidState(format!("{arn} is pending import."));
    let unavailable = || KmsError::InvalidState(format!("{arn} is unavailable."));
    use Operation as O;
    match op {
        // Cryptographic operations need Enabled.
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
        | O::CreateGrant => match state {
            "Enabled" => Ok(()),
            "Disabled" => Err(disabled()),
            "PendingDeletion" | "PendingReplicaDeletion" => Err(pending_deletion()),
            "PendingImport" => Err(pending_import()),
            "Unavailable" => Err(unavailable()),
            other => Err(KmsError::InvalidState(format!(
                "{arn} is {}.",
                other.to_ascii_lowercase()
            ))),
        },
        O::EnableKey | O::DisableKey => match state {
            "PendingDeletion" | "PendingReplicaDeletion" => Err(pending_deletion()),
            "PendingImport" => Err(pending_import()),
            _ => Ok(()),
        },
        O::EnableKeyRotation | O::DisableKeyRotation => match state {
            "Disabled" => Err(disabled()),
            "PendingDeletion" | "PendingReplicaDeletion" => Err(pending_deletion()),
            "PendingImport" => Err(pending_import()),
            _ => Ok(()),
        },
        O::CancelKeyDeletion => match state {
            "PendingDeletion" | "PendingReplicaDeletion" => Ok(()),
            _ => Err(KmsError::InvalidState(format!("{arn} is not pending deletion."))),
        },
        O::ScheduleKeyDeletion
        | O::CreateAlias
        | O::TagResource
        | O::UntagResource
        | O::UpdateKeyDescription
        | O::UpdateAlias => match state {
            "PendingDeletion" | "PendingReplicaDeletion" => Err(pending_deletion()),
            _ => Ok(()),
        },
        // Every state: DescribeKey, policies, tags listing, aliases listing/deletion, grants.
        _ => Ok(()),
    }
}

//! UpdateKeyDescription: replaces the description (0–8192 characters); not while pending deletion.

use trent_api::dto::{Empty, UpdateKeyDescriptionRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: UpdateKeyDescriptionRequest) -> Result<Empty, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    match &req.description {
        None => v.not_null("description"),
        Some(d) => v.str_length("description", d, 0, 8192),
    }
    v.finish()?;
    let _guard = kms.write.lock().await;
    let key = super::key_for(
        kms,
        caller,
        key_id.unwrap_or_default(),
        Forms::IdOrArn,
        Operation::UpdateKeyDescription,
    )
    .await?;
    let mut record = key.record.clone();
    record.description = req.description.unwrap_or_default();
    kms.write_key(&key, record).await?;
    Ok(Empty {})
}

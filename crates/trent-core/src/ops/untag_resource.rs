//! UntagResource (reference §11): removes tags by key; an absent key is not an error.

use trent_api::dto::{Empty, UntagResourceRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: UntagResourceRequest) -> Result<Empty, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    match &req.tag_keys {
        None => v.not_null("tagKeys"),
        Some(keys) => {
            for (i, k) in keys.iter().enumerate() {
                v.str_length(&format!("tagKeys.{}.member", i + 1), k, 1, 128);
            }
        }
    }
    v.finish()?;
    let keys = req.tag_keys.unwrap_or_default();
    if keys.iter().any(|k| k.len() >= 4 && k[..4].eq_ignore_ascii_case("aws:")) {
        return Err(KmsError::Tag("Tags beginning with aws: are reserved".to_owned()));
    }
    let _guard = kms.write.lock().await;
    let key = super::key_for(
        kms,
        caller,
        key_id.unwrap_or_default(),
        Forms::IdOrArn,
        Operation::UntagResource,
    )
    .await?;
    let id = key.id().to_owned();
    kms.db(move |s| s.delete_tags(&id, &keys)).await?;
    kms.uncache(key.id());
    Ok(Empty {})
}

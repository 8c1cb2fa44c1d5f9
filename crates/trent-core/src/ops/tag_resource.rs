//! TagResource (reference §11): adds or overwrites tags; 50 per key, `aws:` reserved, duplicate
//! keys in one request rejected; not while pending deletion.

use trent_api::dto::{Empty, TagResourceRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};
use trent_store::TagRecord;

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: TagResourceRequest) -> Result<Empty, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    let tags = match &req.tags {
        None => {
            v.not_null("tags");
            Vec::new()
        }
        Some(t) => validate::tags(&mut v, t),
    };
    v.finish()?;
    validate::tag_rules(tags.iter().map(|(k, _)| k.as_str()))?;
    let _guard = kms.write.lock().await;
    let key = super::key_for(
        kms,
        caller,
        key_id.unwrap_or_default(),
        Forms::IdOrArn,
        Operation::TagResource,
    )
    .await?;
    let id = key.id().to_owned();
    let existing = kms.db(move |s| s.tags(&id)).await?;
    let added = tags
        .iter()
        .filter(|(k, _)| !existing.iter().any(|e| &e.key == k))
        .count();
    if existing.len() + added > validate::MAX_TAGS {
        return Err(validate::too_many_tags());
    }
    let records: Vec<TagRecord> = tags.into_iter().map(|(key, value)| TagRecord { key, value }).collect();
    let id = key.id().to_owned();
    kms.db(move |s| s.put_tags(&id, &records)).await?;
    kms.uncache(key.id());
    Ok(Empty {})
}

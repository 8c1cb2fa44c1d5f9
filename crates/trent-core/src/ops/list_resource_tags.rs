//! ListResourceTags (reference §11): tags of a key ordered by tag key, `Limit` 1–50 (default 50).

use trent_api::dto::{ListRequest, ListResourceTagsResponse, Tag};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: ListRequest) -> Result<ListResourceTagsResponse, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    let limit = validate::limit(&mut v, req.limit, 50, 50);
    validate::marker(&mut v, &req.marker);
    v.finish()?;
    let after = validate::decode_marker(&req.marker)?;
    let key = super::key_for(
        kms,
        caller,
        key_id.unwrap_or_default(),
        Forms::IdOrArn,
        Operation::ListResourceTags,
    )
    .await?;
    let id = key.id().to_owned();
    let all = kms.db(move |s| s.tags(&id)).await?;
    let mut rows: Vec<_> = all
        .into_iter()
        .filter(|t| after.as_deref().is_none_or(|a| t.key.as_str() > a))
        .collect();
    let (next_marker, truncated) = validate::cut_page(&mut rows, limit, |t| &t.key);
    let tags = rows
        .into_iter()
        .map(|t| Tag {
            tag_key: Some(t.key),
            tag_value: Some(t.value),
        })
        .collect();
    Ok(ListResourceTagsResponse {
        tags,
        next_marker,
        truncated,
    })
}

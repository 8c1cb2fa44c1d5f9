//! ListResourceTags (reference §11): tags of a key ordered by tag key, `Limit` 1–50 (default 50).

use trent_api::dto::{ListRequest, ListResourceTagsResponse, Tag};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use super::common::{finish, IdReq};
use crate::authz::{KeySpec, OneKey};
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

pub(crate) struct ListResourceTags;

pub(crate) struct Req {
    id: IdReq,
    limit: usize,
    after: Option<String>,
}

impl crate::authz::facts::RequestFacts for Req {}

impl KmsOp for ListResourceTags {
    const OP: Operation = Operation::ListResourceTags;
    type Input = ListRequest;
    type Req = Req;
    type Target = OneKey;
    type Output = ListResourceTagsResponse;

    fn validate(req: ListRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        let raw = validate::key_id(&mut v, "keyId", &req.key_id);
        let limit = validate::limit(&mut v, req.limit, 50, 50);
        validate::marker(&mut v, &req.marker);
        v.finish()?;
        let after = validate::decode_marker(&req.marker)?;
        Ok(Req {
            id: IdReq {
                key: finish(Violations::new(), raw, checks)?,
            },
            limit,
            after,
        })
    }

    fn target(req: &Req) -> KeySpec<'_> {
        req.id.spec()
    }

    async fn run(cx: Ctx<'_, OneKey>, req: Req) -> Result<ListResourceTagsResponse, KmsError> {
        let mut rows: Vec<_> = cx
            .auth
            .key
            .tags
            .iter()
            .filter(|t| req.after.as_deref().is_none_or(|a| t.key.as_str() > a))
            .cloned()
            .collect();
        let (next_marker, truncated) = validate::cut_page(&mut rows, req.limit, |t| &t.key);
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
}

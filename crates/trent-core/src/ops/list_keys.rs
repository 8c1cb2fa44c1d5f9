//! ListKeys: the caller account's keys, ordered by key id, `Limit` 1–1000 (default 100).

use trent_api::dto::{KeyListEntry, ListKeysResponse, ListRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};
use trent_types::Arn;

use crate::authz::facts::NoFacts;
use crate::authz::{Account, AccountSpec};
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

pub(crate) struct ListKeys;

pub(crate) struct Req {
    limit: usize,
    marker: Option<String>,
}

impl crate::authz::facts::RequestFacts for Req {}

impl KmsOp for ListKeys {
    const OP: Operation = Operation::ListKeys;
    type Input = ListRequest;
    type Req = Req;
    type Target = Account;
    type Output = ListKeysResponse;

    fn validate(req: ListRequest, _checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        let limit = validate::limit(&mut v, req.limit, 1000, 100);
        validate::marker(&mut v, &req.marker);
        v.finish()?;
        Ok(Req {
            limit,
            marker: req.marker,
        })
    }

    fn target(_req: &Req) -> AccountSpec<'_> {
        AccountSpec {
            also: None,
            facts: &NoFacts,
        }
    }

    async fn run(cx: Ctx<'_, Account>, req: Req) -> Result<ListKeysResponse, KmsError> {
        let after = validate::decode_marker(&req.marker)?;
        let account = cx.caller.account();
        let limit = req.limit;
        let region = cx.region();
        let at = region.clone();
        let mut rows = cx
            .kms
            .read(move |s| s.list_keys(&account, &at, after.as_deref(), limit + 1))
            .await?;
        let (next_marker, truncated) = validate::cut_page(&mut rows, limit, |k| k.key_id.as_str());
        let keys = rows
            .into_iter()
            .map(|k| KeyListEntry {
                key_arn: Arn::key(region, k.account_id, k.key_id),
                key_id: k.key_id.to_string(),
            })
            .collect();
        Ok(ListKeysResponse {
            keys,
            next_marker,
            truncated,
        })
    }
}

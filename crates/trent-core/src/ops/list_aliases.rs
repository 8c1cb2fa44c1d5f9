//! ListAliases (reference §8): the account's aliases ordered by name, optionally of one key
//! (KeyId: id or ARN), `Limit` 1–100 (default 50); unfiltered, also the predefined
//! `alias/aws/<service>` aliases whose AWS managed key does not exist yet (without a target).

use trent_api::dto::{AliasListEntry, ListAliasesResponse, ListRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};
use trent_types::{AliasName, Arn};

use crate::authz::facts::RequestFacts;
use crate::authz::{AccountAndKey, AccountAndKeySpec};
use crate::clock::epoch_seconds;
use crate::ids::{Forms, KeyRef};
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

pub(crate) struct ListAliases;

pub(crate) struct Req {
    key: Option<KeyRef>,
    limit: usize,
    marker: Option<String>,
}

impl RequestFacts for Req {}

impl KmsOp for ListAliases {
    const OP: Operation = Operation::ListAliases;
    type Input = ListRequest;
    type Req = Req;
    type Target = AccountAndKey;
    type Output = ListAliasesResponse;

    fn validate(req: ListRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        if let Some(k) = &req.key_id {
            v.str_length("keyId", k, 1, 2048);
        }
        let limit = validate::limit(&mut v, req.limit, 100, 50);
        validate::marker(&mut v, &req.marker);
        v.finish()?;
        let key = req
            .key_id
            .as_deref()
            .map(|k| validate::key_ref(Some(k), Forms::IdOrArn, checks.region))
            .transpose()?;
        Ok(Req {
            key,
            limit,
            marker: req.marker,
        })
    }

    fn target(req: &Req) -> AccountAndKeySpec<'_> {
        AccountAndKeySpec {
            key: req.key.as_ref(),
            facts: req,
        }
    }

    async fn run(cx: Ctx<'_, AccountAndKey>, req: Req) -> Result<ListAliasesResponse, KmsError> {
        let after = validate::decode_marker(&req.marker)?;
        let filter = cx.auth.key.as_ref().map(|k| *k.id());
        let account = cx.caller.account();
        let limit = req.limit;
        let after_read = after.clone();
        let region = cx.region();
        let at = region.clone();
        let rows = cx
            .kms
            .read(move |s| s.list_aliases(&account, &at, filter.as_ref(), after_read.as_deref(), limit + 1))
            .await?;
        let mut entries: Vec<AliasListEntry> = rows
            .into_iter()
            .map(|a| AliasListEntry {
                alias_arn: Arn::alias(region, a.account_id, &a.name),
                alias_name: a.name.to_string(),
                target_key_id: Some(a.target_key_id.to_string()),
                creation_date: Some(epoch_seconds(a.created_ms)),
                last_updated_date: Some(epoch_seconds(a.updated_ms)),
            })
            .collect();
        // The predefined `alias/aws/<service>` aliases are listed before their AWS managed key
        // exists, with no target (reference §8; AWS creates the key on first use). Terraform's
        // `data "aws_kms_alias"` finds them so.
        if filter.is_none() {
            for service in crate::managed::SERVICES {
                let Some(name) = AliasName::parse(&format!("alias/aws/{service}")) else {
                    continue;
                };
                let after_marker = after.as_deref().is_none_or(|a| name.as_str() > a);
                if after_marker && cx.kms.alias_target(account, region, &name).is_none() {
                    entries.push(AliasListEntry {
                        alias_arn: Arn::alias(region, account, &name),
                        alias_name: name.to_string(),
                        target_key_id: None,
                        creation_date: None,
                        last_updated_date: None,
                    });
                }
            }
            entries.sort_by(|a, b| a.alias_name.cmp(&b.alias_name));
        }
        let (next_marker, truncated) = validate::cut_page(&mut entries, limit, |a| a.alias_name.as_str());
        let aliases = entries;
        Ok(ListAliasesResponse {
            aliases,
            next_marker,
            truncated,
        })
    }
}

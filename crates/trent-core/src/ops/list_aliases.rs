//! ListAliases (reference §8): the account's aliases ordered by name, optionally of one key
//! (KeyId: id or ARN), `Limit` 1–100 (default 50).

use trent_api::dto::{AliasListEntry, ListAliasesResponse, ListRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::clock::epoch_seconds;
use crate::credentials::Caller;
use crate::ids::Forms;
use crate::{validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: ListRequest) -> Result<ListAliasesResponse, KmsError> {
    let mut v = Violations::new();
    if let Some(k) = &req.key_id {
        v.str_length("keyId", k, 1, 2048);
    }
    let limit = validate::limit(&mut v, req.limit, 100, 50);
    validate::marker(&mut v, &req.marker);
    v.finish()?;
    kms.authorize_identity(caller, "kms:ListAliases", "*").await?;
    let after = validate::decode_marker(&req.marker)?;
    let filter = match &req.key_id {
        Some(k) => Some(
            super::key_for(kms, caller, k, Forms::IdOrArn, Operation::ListAliases)
                .await?
                .id()
                .to_owned(),
        ),
        None => None,
    };
    let account = caller.account_id.clone();
    let mut rows = kms
        .db(move |s| s.list_aliases(&account, filter.as_deref(), after.as_deref(), limit + 1))
        .await?;
    let (next_marker, truncated) = validate::cut_page(&mut rows, limit, |a| &a.name);
    let aliases = rows
        .into_iter()
        .map(|a| AliasListEntry {
            alias_arn: kms.location().alias_arn(&a.account_id, &a.name),
            alias_name: a.name,
            target_key_id: Some(a.target_key_id),
            creation_date: Some(epoch_seconds(a.created_ms)),
            last_updated_date: Some(epoch_seconds(a.updated_ms)),
        })
        .collect();
    Ok(ListAliasesResponse {
        aliases,
        next_marker,
        truncated,
    })
}

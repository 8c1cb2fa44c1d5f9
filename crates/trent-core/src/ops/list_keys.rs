//! ListKeys: the caller account's keys, ordered by key id, `Limit` 1–1000 (default 100).

use trent_api::dto::{KeyListEntry, ListKeysResponse, ListRequest};
use trent_api::validate::Violations;
use trent_api::KmsError;

use crate::credentials::Caller;
use crate::{validate, Kms};

pub async fn run(kms: &Kms, caller: &Caller, req: ListRequest) -> Result<ListKeysResponse, KmsError> {
    let mut v = Violations::new();
    let limit = validate::limit(&mut v, req.limit, 1000, 100);
    validate::marker(&mut v, &req.marker);
    v.finish()?;
    kms.authorize_identity(caller, "kms:ListKeys", "*").await?;
    let after = validate::decode_marker(&req.marker)?;
    let account = caller.account_id.clone();
    let mut rows = kms
        .db(move |s| s.list_keys(&account, after.as_deref(), limit + 1))
        .await?;
    let (next_marker, truncated) = validate::cut_page(&mut rows, limit, |k| &k.key_id);
    let keys = rows
        .into_iter()
        .map(|k| KeyListEntry {
            key_arn: kms.location().key_arn(&k.account_id, &k.key_id),
            key_id: k.key_id,
        })
        .collect();
    Ok(ListKeysResponse {
        keys,
        next_marker,
        truncated,
    })
}

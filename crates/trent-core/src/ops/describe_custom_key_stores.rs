//! DescribeCustomKeyStores (reference §1.1): Trent keeps every key in its own key store and has no
//! CloudHSM or external key stores, so the account's list is always empty (`Truncated: false`), and
//! naming a store by id or name is `CustomKeyStoreNotFoundException`, as AWS answers for an account
//! without that store. Needs `kms:DescribeCustomKeyStores` (an IAM-policy-only action on `*`).

use trent_api::dto::{DescribeCustomKeyStoresRequest, DescribeCustomKeyStoresResponse};
use trent_api::validate::Violations;
use trent_api::KmsError;

use crate::credentials::Caller;
use crate::{validate, Kms};

pub async fn run(
    kms: &Kms,
    caller: &Caller,
    req: DescribeCustomKeyStoresRequest,
) -> Result<DescribeCustomKeyStoresResponse, KmsError> {
    let mut v = Violations::new();
    validate::limit(&mut v, req.limit, 1000, 100);
    validate::marker(&mut v, &req.marker);
    if let Some(id) = &req.custom_key_store_id {
        v.str_length("customKeyStoreId", id, 1, 64);
    }
    if let Some(name) = &req.custom_key_store_name {
        v.str_length("customKeyStoreName", name, 1, 256);
    }
    v.finish()?;
    kms.authorize_identity(caller, "kms:DescribeCustomKeyStores", "*")
        .await?;
    validate::decode_marker(&req.marker)?;
    if let Some(id) = &req.custom_key_store_id {
        return Err(KmsError::CustomKeyStoreNotFound(format!(
            "Custom key store ID {id} does not exist in this account and Region."
        )));
    }
    if let Some(name) = &req.custom_key_store_name {
        return Err(KmsError::CustomKeyStoreNotFound(format!(
            "Custom key store name {name} does not exist in this account and Region."
        )));
    }
    Ok(DescribeCustomKeyStoresResponse {
        custom_key_stores: Vec::new(),
        truncated: false,
    })
}

//! DescribeCustomKeyStores (reference §1.1): Trent keeps every key in its own key store and has no
//! CloudHSM or external key stores, so the account's list is always empty (`Truncated: false`), and
//! naming a store by id or name is `CustomKeyStoreNotFoundException`, as AWS answers for an account
//! without that store. Needs `kms:DescribeCustomKeyStores` (an IAM-policy-only action on `*`).

use trent_api::dto::{DescribeCustomKeyStoresRequest, DescribeCustomKeyStoresResponse};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::authz::facts::NoFacts;
use crate::authz::{Account, AccountSpec};
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

pub(crate) struct DescribeCustomKeyStores;

pub(crate) struct Req {
    id: Option<String>,
    name: Option<String>,
    marker: Option<String>,
}

impl crate::authz::facts::RequestFacts for Req {}

impl KmsOp for DescribeCustomKeyStores {
    const OP: Operation = Operation::DescribeCustomKeyStores;
    type Input = DescribeCustomKeyStoresRequest;
    type Req = Req;
    type Target = Account;
    type Output = DescribeCustomKeyStoresResponse;

    fn validate(req: DescribeCustomKeyStoresRequest, _checks: &Checks<'_>) -> Result<Req, KmsError> {
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
        Ok(Req {
            id: req.custom_key_store_id,
            name: req.custom_key_store_name,
            marker: req.marker,
        })
    }

    fn target(_req: &Req) -> AccountSpec<'_> {
        AccountSpec {
            also: None,
            facts: &NoFacts,
        }
    }

    async fn run(_cx: Ctx<'_, Account>, req: Req) -> Result<DescribeCustomKeyStoresResponse, KmsError> {
        validate::decode_marker(&req.marker)?;
        if let Some(id) = &req.id {
            return Err(KmsError::CustomKeyStoreNotFound(format!(
                "Custom key store ID {id} does not exist in this account and Region."
            )));
        }
        if let Some(name) = &req.name {
            return Err(KmsError::CustomKeyStoreNotFound(format!(
                "Custom key store name {name} does not exist in this account and Region."
            )));
        }
        Ok(DescribeCustomKeyStoresResponse {
            custom_key_stores: Vec::new(),
            truncated: false,
        })
    }
}

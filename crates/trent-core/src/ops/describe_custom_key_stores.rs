//! DescribeCustomKeyStores (reference §1.1, §13): the account's custom key stores in the
//! request's Region, ordered by id, in pages (`Limit` 1–1000, default 100; `Marker` is the last
//! id of the previous page), or the one named by id or name (`CustomKeyStoreNotFoundException`
//! when there is none). The proxy secret is never shown. An IAM-policy-only action
//! (`kms:DescribeCustomKeyStores` on `*`).

use trent_api::dto::{
    CustomKeyStoresListEntry, DescribeCustomKeyStoresRequest, DescribeCustomKeyStoresResponse, XksProxyConfiguration,
};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::authz::facts::NoFacts;
use crate::authz::{Account, AccountSpec};
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;
use crate::xks::stores::{ConnectionState, StoreDoc};

pub(crate) struct DescribeCustomKeyStores;

pub(crate) struct Req {
    id: Option<String>,
    name: Option<String>,
    limit: usize,
    marker: Option<String>,
}

impl crate::authz::facts::RequestFacts for Req {}

fn entry(d: StoreDoc) -> CustomKeyStoresListEntry {
    CustomKeyStoresListEntry {
        custom_key_store_type: "EXTERNAL_KEY_STORE",
        connection_state: d.state.as_str(),
        connection_error_code: d
            .error
            .filter(|_| d.state == ConnectionState::Failed)
            .map(|e| e.as_str()),
        creation_date: d.created_ms as f64 / 1000.0,
        xks_proxy_configuration: XksProxyConfiguration {
            connectivity: d.connectivity,
            access_key_id: d.access_key_id,
            uri_endpoint: d.uri_endpoint,
            uri_path: d.uri_path,
            vpc_endpoint_service_name: d.vpc_endpoint_service_name,
            vpc_endpoint_service_owner: d.vpc_endpoint_service_owner,
        },
        custom_key_store_id: d.id,
        custom_key_store_name: d.name,
    }
}

impl KmsOp for DescribeCustomKeyStores {
    const OP: Operation = Operation::DescribeCustomKeyStores;
    type Input = DescribeCustomKeyStoresRequest;
    type Req = Req;
    type Target = Account;
    type Output = DescribeCustomKeyStoresResponse;

    fn validate(req: DescribeCustomKeyStoresRequest, _checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        let limit = validate::limit(&mut v, req.limit, 1000, 100);
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

    async fn run(cx: Ctx<'_, Account>, req: Req) -> Result<DescribeCustomKeyStoresResponse, KmsError> {
        let after = validate::decode_marker(&req.marker)?;
        let stores = cx.kms.custom_key_stores(cx.caller.account(), cx.region()).await?;
        if let Some(id) = &req.id {
            let Some(d) = stores.into_iter().find(|d| d.id == *id) else {
                return Err(crate::xks::stores::not_found(id));
            };
            return Ok(DescribeCustomKeyStoresResponse {
                custom_key_stores: vec![entry(d)],
                next_marker: None,
                truncated: false,
            });
        }
        if let Some(name) = &req.name {
            let Some(d) = stores.into_iter().find(|d| d.name == *name) else {
                return Err(KmsError::CustomKeyStoreNotFound(format!(
                    "Custom key store name {name} does not exist in this account and Region."
                )));
            };
            return Ok(DescribeCustomKeyStoresResponse {
                custom_key_stores: vec![entry(d)],
                next_marker: None,
                truncated: false,
            });
        }
        let mut rest: Vec<StoreDoc> = stores
            .into_iter()
            .filter(|d| after.as_deref().is_none_or(|a| d.id.as_str() > a))
            .collect();
        let truncated = rest.len() > req.limit;
        rest.truncate(req.limit);
        let next_marker = if truncated {
            rest.last().map(|d| validate::encode_marker(&d.id))
        } else {
            None
        };
        Ok(DescribeCustomKeyStoresResponse {
            custom_key_stores: rest.into_iter().map(entry).collect(),
            next_marker,
            truncated,
        })
    }
}

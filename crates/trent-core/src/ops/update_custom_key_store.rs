//! UpdateCustomKeyStore (reference §13): a new name, proxy path or proxy credential at any
//! time; a new endpoint or connectivity only while the store is `DISCONNECTED`
//! (`CustomKeyStoreInvalidStateException`). A changed proxy setting is tried first — the
//! proxy must answer GetHealthStatus with it — so a typo never replaces a working
//! configuration. Rotating the proxy credential is this call with the new credential (the
//! specification's "SigV4 credentials rotation"). An IAM-policy-only action.

use trent_api::dto::{CustomKeyStoreRequest, Empty};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use super::connect_custom_key_store::store_of;
use super::create_custom_key_store::{check_unique, proxy_settings, ProxySettings};
use crate::authz::facts::NoFacts;
use crate::authz::{Account, AccountSpec};
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::xks::client::{self, Proxy};
use crate::xks::stores::ConnectionState;

pub(crate) struct UpdateCustomKeyStore;

pub(crate) struct Req {
    id: String,
    name: Option<String>,
    proxy: ProxySettings,
}

impl crate::authz::facts::RequestFacts for Req {}

impl KmsOp for UpdateCustomKeyStore {
    const OP: Operation = Operation::UpdateCustomKeyStore;
    const SERIAL: bool = true;
    type Input = CustomKeyStoreRequest;
    type Req = Req;
    type Target = Account;
    type Output = Empty;

    fn validate(mut req: CustomKeyStoreRequest, _checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        match &req.custom_key_store_id {
            None => v.not_null("customKeyStoreId"),
            Some(id) => v.str_length("customKeyStoreId", id, 1, 64),
        }
        if let Some(n) = &req.new_custom_key_store_name {
            v.str_length("newCustomKeyStoreName", n, 1, 256);
        }
        let proxy = proxy_settings(&mut v, &mut req)?;
        v.finish()?;
        Ok(Req {
            id: req.custom_key_store_id.unwrap_or_default(),
            name: req.new_custom_key_store_name,
            proxy,
        })
    }

    fn target(_req: &Req) -> AccountSpec<'_> {
        AccountSpec {
            also: None,
            facts: &NoFacts,
        }
    }

    async fn run(cx: Ctx<'_, Account>, req: Req) -> Result<Empty, KmsError> {
        let store = store_of(&cx, &req.id).await?;
        let p = req.proxy;
        let moves = p.uri_endpoint.as_ref().is_some_and(|e| *e != store.doc.uri_endpoint)
            || p.connectivity.as_ref().is_some_and(|c| *c != store.doc.connectivity);
        if moves && store.doc.state != ConnectionState::Disconnected {
            return Err(KmsError::CustomKeyStoreInvalidState(format!(
                "You requested the UpdateCustomKeyStore operation to change the XksProxyUriEndpoint or XksProxyConnectivity of a custom key store that is not disconnected ({} is {}). Disconnect it first.",
                store.doc.id,
                store.doc.state.as_str()
            )));
        }
        let mut doc = store.doc.clone();
        if let Some(n) = req.name {
            doc.name = n;
        }
        let proxy_changed = p.uri_endpoint.is_some() || p.uri_path.is_some() || p.secret.is_some();
        if let Some(e) = p.uri_endpoint {
            doc.uri_endpoint = e;
        }
        if let Some(path) = p.uri_path {
            doc.uri_path = path;
        }
        if let Some(c) = p.connectivity {
            doc.connectivity = c;
        }
        if let Some(id) = p.access_key_id {
            doc.access_key_id = id;
        }
        let secret = p
            .secret
            .unwrap_or_else(|| trent_crypto::SecretBytes::new(store.secret.expose().to_vec()));
        let others = cx.kms.custom_key_stores(store.account, cx.region()).await?;
        check_unique(&others, Some(&doc.id), &doc.name, &doc.uri())?;
        if proxy_changed {
            let proxy = Proxy {
                endpoint: &doc.uri_endpoint,
                uri_path: &doc.uri_path,
                region: &doc.region,
                access_key_id: &doc.access_key_id,
                secret: &secret,
            };
            client::health(cx.kms, &proxy, Self::OP.name(), &cx.meta.request_id)
                .await
                .map_err(|f| f.for_admin())?;
        }
        doc.sealed_secret = cx.kms.seal_proxy_secret(&doc.id, &secret)?;
        match cx
            .kms
            .put_custom_key_store(&cx.auth, store.account, &doc, Some(store.body.clone()))
            .await?
        {
            Ok(()) => Ok(Empty {}),
            Err(trent_store::StoreError::Conflict | trent_store::StoreError::NotFound) => {
                Err(KmsError::CustomKeyStoreInvalidState(format!(
                    "The custom key store {} changed while this request ran; retry it.",
                    doc.id
                )))
            }
            Err(e) => Err(KmsError::internal(e)),
        }
    }
}

//! CreateCustomKeyStore (reference §1.1, §13): an external key store
//! (`CustomKeyStoreType=EXTERNAL_KEY_STORE`, `XksProxyConnectivity=PUBLIC_ENDPOINT`) whose proxy
//! answered GetHealthStatus with its credential, created `DISCONNECTED`. CloudHSM key stores
//! are `UnsupportedOperationException` (there is no CloudHSM cluster); VPC endpoint service
//! connectivity is answered as AWS answers a service that does not exist, since Trent runs in no
//! VPC. An IAM-policy-only action (`kms:CreateCustomKeyStore` on `*`).
//!
//! The members shared with UpdateCustomKeyStore are checked here ([`ProxySettings`]).

use trent_api::dto::{CreateCustomKeyStoreResponse, CustomKeyStoreRequest, XksProxyAuthenticationCredential};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};
use trent_crypto::SecretBytes;

use crate::authz::facts::NoFacts;
use crate::authz::{Account, AccountSpec};
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::xks::client::{self, Proxy};
use crate::xks::stores::{self, ConnectionState, StoreDoc};

pub(crate) struct CreateCustomKeyStore;

/// The proxy members of Create/UpdateCustomKeyStore, validated.
#[derive(Default)]
pub(crate) struct ProxySettings {
    pub uri_endpoint: Option<String>,
    pub uri_path: Option<String>,
    pub connectivity: Option<String>,
    pub access_key_id: Option<String>,
    pub secret: Option<SecretBytes>,
}

pub(crate) struct Req {
    name: String,
    proxy: ProxySettings,
}

impl crate::authz::facts::RequestFacts for Req {}

const CLOUDHSM: &str = "AWS CloudHSM key stores are not supported: this server has no AWS CloudHSM cluster. Use CustomKeyStoreType EXTERNAL_KEY_STORE.";

/// `https://host` (AWS: `^https://[a-zA-Z0-9.-]+$`, port 443), and — Trent's extension, for
/// proxies on other ports — `https://host:port`.
fn is_endpoint(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("https://") else {
        return false;
    };
    let (host, port) = match rest.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'))
        && port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0))
}

/// Checks the members both operations share, collecting AWS's validation texts; refuses
/// CloudHSM members and VPC connectivity as AWS would here.
pub(crate) fn proxy_settings(v: &mut Violations, req: &mut CustomKeyStoreRequest) -> Result<ProxySettings, KmsError> {
    if let Some(e) = &req.xks_proxy_uri_endpoint {
        v.str_length("xksProxyUriEndpoint", e, 10, 128);
        if !is_endpoint(e) {
            v.pattern("xksProxyUriEndpoint", e, "^https://[a-zA-Z0-9.-]+$");
        }
    }
    if let Some(p) = &req.xks_proxy_uri_path {
        v.str_length("xksProxyUriPath", p, 10, 128);
        if !trent_api::xks::is_uri_path(p) {
            v.pattern(
                "xksProxyUriPath",
                p,
                "^(/[a-zA-Z0-9\\/_-]+/kms/xks/v\\d{1,2})$|^(/kms/xks/v\\d{1,2})$",
            );
        }
    }
    if let Some(c) = &req.xks_proxy_connectivity {
        v.one_of("xksProxyConnectivity", c, &["PUBLIC_ENDPOINT", "VPC_ENDPOINT_SERVICE"]);
    }
    if let Some(n) = &req.xks_proxy_vpc_endpoint_service_name {
        v.str_length("xksProxyVpcEndpointServiceName", n, 20, 64);
    }
    let credential = req.xks_proxy_authentication_credential.take();
    if let Some(XksProxyAuthenticationCredential {
        access_key_id,
        raw_secret_access_key,
    }) = &credential
    {
        match access_key_id {
            None => v.not_null("xksProxyAuthenticationCredential.accessKeyId"),
            Some(id) => {
                v.str_length("xksProxyAuthenticationCredential.accessKeyId", id, 20, 30);
                if !id.bytes().all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)) {
                    v.pattern("xksProxyAuthenticationCredential.accessKeyId", id, "^[A-Z2-7]+$");
                }
            }
        }
        match raw_secret_access_key {
            None => v.not_null("xksProxyAuthenticationCredential.rawSecretAccessKey"),
            Some(s) => {
                let s = s.expose();
                // The value is a secret: its length is reported, never the value.
                v.length(
                    "xksProxyAuthenticationCredential.rawSecretAccessKey",
                    None,
                    s.len(),
                    43,
                    64,
                );
                if !s
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b'='))
                {
                    v.push(
                        "Value at 'xksProxyAuthenticationCredential.rawSecretAccessKey' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9\\/+=]+$"
                            .to_owned(),
                    );
                }
            }
        }
    }
    if req.cloud_hsm_cluster_id.is_some() || req.trust_anchor_certificate.is_some() || req.key_store_password.is_some()
    {
        return Err(KmsError::UnsupportedOperation(CLOUDHSM.to_owned()));
    }
    if req.xks_proxy_connectivity.as_deref() == Some("VPC_ENDPOINT_SERVICE")
        || req.xks_proxy_vpc_endpoint_service_name.is_some()
    {
        return Err(KmsError::XksProxyVpcEndpointServiceNotFound(format!(
            "The VPC endpoint service {} was not found: this server is not in an Amazon VPC. Use XksProxyConnectivity PUBLIC_ENDPOINT.",
            req.xks_proxy_vpc_endpoint_service_name.as_deref().unwrap_or("(none given)")
        )));
    }
    let (access_key_id, secret) = match credential {
        Some(c) => (
            c.access_key_id,
            c.raw_secret_access_key
                .map(|s| SecretBytes::new(s.expose().as_bytes().to_vec())),
        ),
        None => (None, None),
    };
    Ok(ProxySettings {
        uri_endpoint: req.xks_proxy_uri_endpoint.take(),
        uri_path: req.xks_proxy_uri_path.take(),
        connectivity: req.xks_proxy_connectivity.take(),
        access_key_id,
        secret,
    })
}

/// Another store of the account in this Region already has this name or this proxy URI.
pub(crate) fn check_unique(others: &[StoreDoc], except: Option<&str>, name: &str, uri: &str) -> Result<(), KmsError> {
    for o in others.iter().filter(|o| Some(o.id.as_str()) != except) {
        if o.name == name {
            return Err(KmsError::CustomKeyStoreNameInUse(format!(
                "The custom key store name {name} is already used by custom key store {}.",
                o.id
            )));
        }
        if o.uri() == uri {
            return Err(KmsError::XksProxyUriInUse(format!(
                "The XKS proxy URI {uri} is already used by custom key store {}.",
                o.id
            )));
        }
    }
    Ok(())
}

impl KmsOp for CreateCustomKeyStore {
    const OP: Operation = Operation::CreateCustomKeyStore;
    const SERIAL: bool = true;
    type Input = CustomKeyStoreRequest;
    type Req = Req;
    type Target = Account;
    type Output = CreateCustomKeyStoreResponse;

    fn validate(mut req: CustomKeyStoreRequest, _checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        match &req.custom_key_store_name {
            None => v.not_null("customKeyStoreName"),
            Some(n) => v.str_length("customKeyStoreName", n, 1, 256),
        }
        if let Some(t) = &req.custom_key_store_type {
            v.one_of("customKeyStoreType", t, &["AWS_CLOUDHSM", "EXTERNAL_KEY_STORE"]);
        }
        let proxy = proxy_settings(&mut v, &mut req)?;
        v.finish()?;
        if req.custom_key_store_type.as_deref() != Some("EXTERNAL_KEY_STORE") {
            return Err(KmsError::UnsupportedOperation(CLOUDHSM.to_owned()));
        }
        let missing = [
            ("XksProxyUriEndpoint", proxy.uri_endpoint.is_none()),
            ("XksProxyUriPath", proxy.uri_path.is_none()),
            ("XksProxyAuthenticationCredential", proxy.secret.is_none()),
            ("XksProxyConnectivity", proxy.connectivity.is_none()),
        ];
        if let Some((member, _)) = missing.iter().find(|(_, m)| *m) {
            return Err(KmsError::Validation(format!(
                "{member} is required for a custom key store of type EXTERNAL_KEY_STORE."
            )));
        }
        Ok(Req {
            name: req.custom_key_store_name.unwrap_or_default(),
            proxy,
        })
    }

    fn target(_req: &Req) -> AccountSpec<'_> {
        AccountSpec {
            also: None,
            facts: &NoFacts,
        }
    }

    async fn run(cx: Ctx<'_, Account>, req: Req) -> Result<CreateCustomKeyStoreResponse, KmsError> {
        let account = cx.caller.account();
        let region = cx.region().clone();
        let p = req.proxy;
        let (Some(endpoint), Some(path), Some(connectivity), Some(access_key_id), Some(secret)) =
            (p.uri_endpoint, p.uri_path, p.connectivity, p.access_key_id, p.secret)
        else {
            return Err(KmsError::internal("validated members missing"));
        };
        let others = cx.kms.custom_key_stores(account, &region).await?;
        if others.len() >= stores::MAX_PER_REGION {
            return Err(KmsError::LimitExceeded(format!(
                "An account can have at most {} custom key stores in a Region.",
                stores::MAX_PER_REGION
            )));
        }
        check_unique(&others, None, &req.name, &format!("{endpoint}{path}"))?;
        let proxy = Proxy {
            endpoint: &endpoint,
            uri_path: &path,
            region: region.as_str(),
            access_key_id: &access_key_id,
            secret: &secret,
        };
        client::health(cx.kms, &proxy, Self::OP.name(), &cx.meta.request_id)
            .await
            .map_err(|f| f.for_admin())?;
        let id = stores::new_store_id()?;
        let doc = StoreDoc {
            v: 1,
            sealed_secret: cx.kms.seal_proxy_secret(&id, &secret)?,
            id: id.clone(),
            region: region.as_str().to_owned(),
            name: req.name,
            created_ms: cx.kms.now_ms(),
            uri_endpoint: endpoint,
            uri_path: path,
            connectivity,
            vpc_endpoint_service_name: None,
            vpc_endpoint_service_owner: None,
            access_key_id,
            state: ConnectionState::Disconnected,
            error: None,
        };
        match cx.kms.put_custom_key_store(&cx.auth, account, &doc, None).await? {
            Ok(()) => {}
            Err(trent_store::StoreError::UniqueViolation) => {
                return Err(KmsError::internal("custom key store id collision"))
            }
            Err(e) => return Err(KmsError::internal(e)),
        }
        Ok(CreateCustomKeyStoreResponse {
            custom_key_store_id: id,
        })
    }
}

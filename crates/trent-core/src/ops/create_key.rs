//! CreateKey (reference §1, §2.2): validates spec × usage exactly as AWS, generates material
//! inside Trent (none for `Origin=EXTERNAL`), seals it under the root key and stores key,
//! material and tags in one transaction. An identity-policy action on `*` (plus
//! `kms:TagResource` when the request has tags); a given key policy passes the checks of
//! `policy` first.

use trent_api::dto::{CreateKeyRequest, KeyMetadataResponse};
use trent_api::validate::Violations;
use trent_api::{Action, KmsError, Operation};
use trent_policy::Values;
use trent_store::KeyRecord;
use trent_types::{Arn, KeyId, KeyManager, KeySpec, KeyState, KeyUsage, Origin};

use crate::authz::facts::{self, KeyView, RequestFacts};
use crate::authz::{Account, AccountSpec, Authorizer};
use crate::lifecycle::{new_key_id, NewKey};
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::{policy, validate};

pub(crate) struct CreateKey;

pub(crate) struct Req {
    policy: Option<String>,
    description: String,
    key_spec: KeySpec,
    key_usage: KeyUsage,
    origin: Origin,
    bypass: bool,
    multi_region: bool,
    tags: Vec<(String, String)>,
    /// `Origin=EXTERNAL_KEY_STORE`: the store and the external key.
    external: Option<External>,
    /// `Origin=AWS_CLOUDHSM` with a `CustomKeyStoreId`: refused in `run`, which can tell an
    /// unknown store (`CustomKeyStoreNotFoundException`, as AWS answers) from an external one.
    cloudhsm_store: Option<String>,
}

pub(crate) struct External {
    store_id: String,
    xks_key_id: String,
}

impl RequestFacts for Req {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        match key {
            "kms:keyspec" | "kms:customermasterkeyspec" => facts::one(self.key_spec.as_str()),
            "kms:keyusage" | "kms:customermasterkeyusage" => facts::one(self.key_usage.as_str()),
            "kms:keyorigin" => facts::one(self.origin.as_str()),
            "kms:multiregion" => facts::one(if self.multi_region { "true" } else { "false" }),
            "kms:multiregionkeytype" if self.multi_region => facts::one("PRIMARY"),
            "kms:bypasspolicylockoutsafetycheck" => facts::one(if self.bypass { "true" } else { "false" }),
            _ => facts::request_tags(&self.tags, key),
        }
    }
}

impl KmsOp for CreateKey {
    const OP: Operation = Operation::CreateKey;
    type Input = CreateKeyRequest;
    type Req = Req;
    type Target = Account;
    type Output = KeyMetadataResponse;

    fn validate(req: CreateKeyRequest, _checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        if let Some(p) = &req.policy {
            policy::validate_member(&mut v, p);
        }
        if let Some(d) = &req.description {
            v.str_length("description", d, 0, 8192);
        }
        let usage = validate::enum_member(&mut v, "keyUsage", &req.key_usage, KeyUsage::NAMES, KeyUsage::parse);
        let cmk_spec = validate::enum_member(
            &mut v,
            "customerMasterKeySpec",
            &req.customer_master_key_spec,
            KeySpec::CUSTOMER_MASTER_KEY_SPECS,
            KeySpec::parse,
        );
        let spec = validate::enum_member(&mut v, "keySpec", &req.key_spec, KeySpec::NAMES, KeySpec::parse);
        let origin = validate::enum_member(&mut v, "origin", &req.origin, Origin::NAMES, Origin::parse);
        if let Some(c) = &req.custom_key_store_id {
            v.str_length("customKeyStoreId", c, 1, 64);
        }
        if let Some(x) = &req.xks_key_id {
            v.str_length("xksKeyId", x, 1, 128);
        }
        let tags = validate::tags(&mut v, req.tags.as_deref().unwrap_or_default());
        v.finish()?;

        if req.key_spec.is_some() && req.customer_master_key_spec.is_some() {
            return Err(KmsError::Validation(
                "You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated."
                    .to_owned(),
            ));
        }
        let key_spec = spec.or(cmk_spec).unwrap_or(KeySpec::SymmetricDefault);
        let key_usage = match usage {
            Some(u) => u,
            None if key_spec.is_symmetric() => KeyUsage::EncryptDecrypt,
            None => {
                return Err(KmsError::Validation(
                    "You must specify a KeyUsage value for all KMS keys except for symmetric encryption keys."
                        .to_owned(),
                ))
            }
        };
        if !key_spec.allowed_usages().contains(&key_usage) {
            return Err(KmsError::Validation(format!(
                "KeyUsage {key_usage} is not compatible with KeySpec {key_spec}"
            )));
        }
        validate::tag_rules(tags.iter().map(|(k, _)| k.as_str()))?;
        if tags.len() > validate::MAX_TAGS {
            return Err(validate::too_many_tags());
        }
        let origin = origin.unwrap_or(Origin::AwsKms);
        let cloudhsm_store = req
            .custom_key_store_id
            .clone()
            .filter(|_| origin == Origin::AwsCloudhsm);
        let external = if cloudhsm_store.is_some() {
            None
        } else {
            external_key(origin, &req, key_spec, key_usage)?
        };
        if trent_crypto::fips::enabled() {
            if let Some(why) = trent_crypto::fips::refused_key_spec(key_spec.as_str()) {
                return Err(KmsError::UnsupportedOperation(format!(
                    "KeySpec {key_spec} is not available in FIPS mode: {why}."
                )));
            }
        }
        if !key_spec.is_built() {
            return Err(KmsError::UnsupportedOperation(format!(
                "KeySpec {key_spec} is not supported in this Region."
            )));
        }
        Ok(Req {
            policy: req.policy,
            description: req.description.unwrap_or_default(),
            key_spec,
            key_usage,
            origin,
            bypass: req.bypass_policy_lockout_safety_check == Some(true),
            multi_region: req.multi_region == Some(true),
            tags,
            external,
            cloudhsm_store,
        })
    }

    fn target(req: &Req) -> AccountSpec<'_> {
        AccountSpec {
            also: (!req.tags.is_empty()).then_some(Action::TagResource),
            facts: req,
        }
    }

    async fn run(cx: Ctx<'_, Account>, req: Req) -> Result<KeyMetadataResponse, KmsError> {
        let account = cx.caller.account();
        if let Some(id) = &req.cloudhsm_store {
            cx.kms.existing_custom_key_store(account, cx.region(), id).await?;
            return Err(KmsError::UnsupportedOperation(format!(
                "{id} is an external key store: Origin AWS_CLOUDHSM needs a CloudHSM key store, and this server has no AWS CloudHSM cluster. Use Origin EXTERNAL_KEY_STORE."
            )));
        }
        if let Some(x) = &req.external {
            check_external_key(&cx, x).await?;
        }
        let key_id: KeyId = if req.multi_region {
            crate::lifecycle::new_multi_region_key_id()?
        } else {
            new_key_id()?
        };
        let policy_text = match &req.policy {
            Some(p) => p.clone(),
            None => policy::default_policy(account),
        };
        if req.policy.is_some() {
            let arn = Arn::key(cx.region(), account, key_id);
            let probe = KeyRecord {
                key_id,
                account_id: account,
                region: cx.region().clone(),
                description: String::new(),
                key_spec: req.key_spec,
                key_usage: req.key_usage,
                origin: req.origin,
                key_manager: KeyManager::Customer,
                key_state: KeyState::Enabled,
                created_ms: cx.kms.now_ms(),
                deletion_ms: None,
                pending_window_days: None,
                policy: policy_text.clone(),
                current_material_id: None,
                multi_region: req.multi_region,
                primary_region: req.multi_region.then(|| cx.region().clone()),
                material_region: cx.region().clone(),
                rotation_enabled: false,
                rotation_period_days: None,
                next_rotation_ms: None,
                version: 0,
                custom_key_store_id: req.external.as_ref().map(|x| x.store_id.clone()),
                xks_key_id: req.external.as_ref().map(|x| x.xks_key_id.clone()),
            };
            let tag_records = super::common::tag_records(&req.tags);
            let view = KeyView {
                record: &probe,
                tags: &tag_records,
            };
            let az = Authorizer::new(cx.kms, cx.caller, cx.meta, Self::OP);
            policy::check_key_policy(&az, view, &arn, &policy_text, req.bypass, &req).await?;
        }
        let key = cx
            .kms
            .insert_key(
                &cx.auth,
                NewKey {
                    key_id,
                    account_id: account,
                    region: cx.region().clone(),
                    description: req.description,
                    key_spec: req.key_spec,
                    key_usage: req.key_usage,
                    origin: req.origin,
                    key_manager: KeyManager::Customer,
                    policy: policy_text,
                    tags: req.tags,
                    rotation_period_days: None,
                    material: None,
                    external: req.external.map(|x| (x.store_id, x.xks_key_id)),
                },
            )
            .await?;
        Ok(KeyMetadataResponse {
            key_metadata: key.metadata(),
        })
    }
}

/// The custom key store members (reference §13): `Origin=EXTERNAL_KEY_STORE` needs
/// `CustomKeyStoreId` and `XksKeyId` and a single-Region symmetric encryption key; CloudHSM key
/// stores are not served.
fn external_key(
    origin: Origin,
    req: &CreateKeyRequest,
    spec: KeySpec,
    usage: KeyUsage,
) -> Result<Option<External>, KmsError> {
    match origin {
        Origin::AwsCloudhsm => Err(KmsError::UnsupportedOperation(
            "Origin AWS_CLOUDHSM is not supported: this server has no AWS CloudHSM cluster to keep keys in. Use an external key store (Origin EXTERNAL_KEY_STORE) instead."
                .to_owned(),
        )),
        Origin::ExternalKeyStore => {
            let (Some(store_id), Some(xks_key_id)) = (&req.custom_key_store_id, &req.xks_key_id) else {
                return Err(KmsError::Validation(
                    "CustomKeyStoreId and XksKeyId are required when Origin is EXTERNAL_KEY_STORE.".to_owned(),
                ));
            };
            if !trent_api::xks::is_external_key_id(xks_key_id) {
                return Err(KmsError::Validation(format!(
                    "1 validation error detected: Value '{xks_key_id}' at 'xksKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9-_.]+$"
                )));
            }
            if spec != KeySpec::SymmetricDefault || usage != KeyUsage::EncryptDecrypt {
                return Err(KmsError::UnsupportedOperation(format!(
                    "KeySpec {spec} is not supported in a custom key store: only SYMMETRIC_DEFAULT keys for ENCRYPT_DECRYPT are."
                )));
            }
            if req.multi_region == Some(true) {
                return Err(KmsError::UnsupportedOperation(
                    "Multi-Region keys cannot be created in a custom key store.".to_owned(),
                ));
            }
            Ok(Some(External {
                store_id: store_id.clone(),
                xks_key_id: xks_key_id.clone(),
            }))
        }
        Origin::AwsKms | Origin::External => {
            if req.custom_key_store_id.is_some() {
                return Err(KmsError::Validation(format!(
                    "CustomKeyStoreId requires Origin EXTERNAL_KEY_STORE, not {origin}."
                )));
            }
            if req.xks_key_id.is_some() {
                return Err(KmsError::Validation(format!(
                    "XksKeyId requires Origin EXTERNAL_KEY_STORE, not {origin}."
                )));
            }
            Ok(None)
        }
    }
}

/// The store must exist in this Region and be connected, the external key must not back
/// another key of the store, and the proxy must say it is an enabled 256-bit AES key
/// (GetKeyMetadata with `kmsOperation` CreateKey).
async fn check_external_key(cx: &Ctx<'_, Account>, x: &External) -> Result<(), KmsError> {
    use crate::xks::client;
    use crate::xks::stores::ConnectionState;
    let account = cx.caller.account();
    let store = cx
        .kms
        .existing_custom_key_store(account, cx.region(), &x.store_id)
        .await?;
    if store.doc.state != ConnectionState::Connected {
        return Err(KmsError::CustomKeyStoreInvalidState(format!(
            "You requested the CreateKey operation in a custom key store that is not connected ({} is {}). This operation is valid only when the custom key store ConnectionState is CONNECTED.",
            x.store_id,
            store.doc.state.as_str()
        )));
    }
    let store_id = x.store_id.clone();
    let existing = cx.kms.read(move |s| s.keys_in_custom_key_store(&store_id)).await?;
    if let Some(k) = existing
        .iter()
        .find(|k| k.xks_key_id.as_deref() == Some(x.xks_key_id.as_str()))
    {
        return Err(KmsError::XksKeyAlreadyInUse(format!(
            "The external key {} is already associated with KMS key {} in this external key store.",
            x.xks_key_id, k.key_id
        )));
    }
    let metadata = trent_api::xks::RequestMetadata {
        aws_principal_arn: Some(cx.caller.arn().to_owned()),
        kms_operation: "CreateKey".into(),
        kms_request_id: cx.meta.request_id.clone(),
        ..Default::default()
    };
    client::check_external_key(cx.kms, &client::Proxy::of(&store), &x.xks_key_id, metadata).await
}

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
        if !matches!(origin, Origin::AwsKms | Origin::External)
            || req.custom_key_store_id.is_some()
            || req.xks_key_id.is_some()
        {
            return Err(KmsError::UnsupportedOperation(format!(
                "Origin {origin} (custom key stores) is not supported by this server."
            )));
        }
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
                },
            )
            .await?;
        Ok(KeyMetadataResponse {
            key_metadata: key.metadata(),
        })
    }
}

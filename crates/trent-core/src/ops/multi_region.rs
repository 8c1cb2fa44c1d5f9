//! ReplicateKey and UpdatePrimaryRegion (reference §13, §9.2). Both are decoded, validated,
//! resolved and authorized like every operation (`kms:ReplicateKey` / `kms:UpdatePrimaryRegion`
//! on the key, with `kms:ReplicaRegion` / `kms:PrimaryRegion` as condition facts), then make the
//! other Region's side of the change:
//! - ReplicateKey also needs `kms:CreateKey` (and `kms:TagResource` with tags) in the replica
//!   Region, checks the replica's own policy (lockout check included), and writes the replica:
//!   a key record of the same id in that Region sharing the primary's material records, in
//!   state `Creating` until the service settles it (`Enabled`, or `PendingImport` for imported
//!   material, which each related key imports itself).
//! - UpdatePrimaryRegion also needs `kms:UpdatePrimaryRegion` on the replica, then moves the
//!   primary Region of every related key in one transaction, both keys `Updating` until settled.
//!
//! A Region the deployment does not serve is answered `UnsupportedOperationException` naming
//! the Regions it serves.

use trent_api::dto::{Empty, ReplicateKeyRequest, ReplicateKeyResponse, Tag, UpdatePrimaryRegionRequest};
use trent_api::validate::Violations;
use trent_api::{Action, KmsError, Operation};
use trent_policy::Values;
use trent_store::{KeyRecord, StoreError};
use trent_types::{Arn, KeyState, Origin, Region};

use super::common::{finish, tag_records};
use crate::authz::facts::{self, KeyView, RequestFacts};
use crate::authz::{Authorizer, KeySpec, OneKey};
use crate::ids::KeyRef;
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::service::RequestMeta;
use crate::{policy, validate};

const REGION_PATTERN: &str = "^([a-z]+-){2,3}\\d+$";

fn region(v: &mut Violations, field: &str, value: &Option<String>) -> String {
    match value {
        None => {
            v.not_null(field);
            String::new()
        }
        Some(r) => {
            v.str_length(field, r, 1, 32);
            if !r.is_empty() && !Region::is_name(r) {
                v.pattern(field, r, REGION_PATTERN);
            }
            r.clone()
        }
    }
}

pub(crate) struct RegionReq {
    key: KeyRef,
    region: String,
    /// `kms:ReplicaRegion` or `kms:PrimaryRegion`.
    fact: &'static str,
    /// ReplicateKey only: the replica's policy, description, tags and lockout bypass.
    policy: Option<String>,
    description: String,
    tags: Vec<(String, String)>,
    bypass: bool,
}

impl RequestFacts for RegionReq {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        if key == self.fact {
            return facts::one(&self.region);
        }
        match key {
            "kms:bypasspolicylockoutsafetycheck" if self.fact == "kms:replicaregion" => {
                facts::one(if self.bypass { "true" } else { "false" })
            }
            _ => facts::request_tags(&self.tags, key),
        }
    }
}

impl RegionReq {
    fn spec(&self) -> KeySpec<'_> {
        KeySpec {
            key: &self.key,
            facts: self,
        }
    }
}

/// The served Region a request names, or AWS's answer for one this deployment does not serve.
fn served<'k>(cx: &Ctx<'k, OneKey>, name: &str) -> Result<&'k Region, KmsError> {
    cx.kms.served_region(name).ok_or_else(|| {
        let names: Vec<&str> = cx.kms.regions().iter().map(Region::as_str).collect();
        KmsError::UnsupportedOperation(format!(
            "The Region {name} is not served by this endpoint, which serves {}.",
            names.join(", ")
        ))
    })
}

/// The same request's metadata in another Region: what its authorization there sees.
fn meta_in(meta: &RequestMeta, region: &Region) -> RequestMeta {
    RequestMeta {
        region: Some(region.clone()),
        ..meta.clone()
    }
}

fn not_primary(arn: &str) -> KmsError {
    KmsError::UnsupportedOperation(format!("{arn} is not a multi-region primary key."))
}

pub(crate) struct ReplicateKey;

impl KmsOp for ReplicateKey {
    const OP: Operation = Operation::ReplicateKey;
    const SERIAL: bool = true;
    type Input = ReplicateKeyRequest;
    type Req = RegionReq;
    type Target = OneKey;
    type Output = ReplicateKeyResponse;

    fn validate(req: ReplicateKeyRequest, checks: &Checks<'_>) -> Result<RegionReq, KmsError> {
        let mut v = Violations::new();
        let raw = validate::key_id(&mut v, "keyId", &req.key_id);
        let region = region(&mut v, "replicaRegion", &req.replica_region);
        if let Some(d) = &req.description {
            v.str_length("description", d, 0, 8192);
        }
        if let Some(p) = &req.policy {
            policy::validate_member(&mut v, p);
        }
        let tags = validate::tags(&mut v, req.tags.as_deref().unwrap_or_default());
        let key = finish(v, raw, checks)?;
        validate::tag_rules(tags.iter().map(|(k, _)| k.as_str()))?;
        if tags.len() > validate::MAX_TAGS {
            return Err(validate::too_many_tags());
        }
        Ok(RegionReq {
            key,
            region,
            fact: "kms:replicaregion",
            policy: req.policy,
            description: req.description.unwrap_or_default(),
            tags,
            bypass: req.bypass_policy_lockout_safety_check == Some(true),
        })
    }

    fn target(req: &RegionReq) -> KeySpec<'_> {
        req.spec()
    }

    async fn run(cx: Ctx<'_, OneKey>, req: RegionReq) -> Result<ReplicateKeyResponse, KmsError> {
        let key = &cx.auth.key;
        if !key.record.multi_region || key.record.is_replica() {
            return Err(not_primary(&key.arn));
        }
        let account = key.record.account_id;
        if key.related.iter().any(|r| r.as_str() == req.region) {
            // One related key per Region (the primary's own Region included).
            return Err(KmsError::AlreadyExists(format!(
                "The multi-Region key {} already exists in {}.",
                key.arn, req.region
            )));
        }
        let replica_region = served(&cx, &req.region)?.clone();
        // The replica Region's side: kms:CreateKey (and kms:TagResource with tags) there, by
        // identity policies (reference §9.2).
        let there = meta_in(cx.meta, &replica_region);
        let az = Authorizer::new(cx.kms, cx.caller, &there, Operation::CreateKey);
        az.require_account(Action::CreateKey.as_str(), "*", &req).await?;
        if !req.tags.is_empty() {
            az.require_account(Action::TagResource.as_str(), "*", &req).await?;
        }
        let policy_text = req
            .policy
            .clone()
            .unwrap_or_else(|| crate::policy::default_policy(account));
        let now = cx.kms.now_ms();
        let external = key.record.origin == Origin::External;
        let record = KeyRecord {
            region: replica_region.clone(),
            description: req.description.clone(),
            key_state: KeyState::Creating,
            created_ms: now,
            deletion_ms: None,
            pending_window_days: None,
            policy: policy_text.clone(),
            // Imported material is imported into each related key (reference §7).
            current_material_id: if external {
                None
            } else {
                key.record.current_material_id.clone()
            },
            version: 0,
            ..key.record.clone()
        };
        let tag_records = tag_records(&req.tags);
        let arn = Arn::key(&replica_region, account, *key.id());
        if req.policy.is_some() {
            let view = KeyView {
                record: &record,
                tags: &tag_records,
            };
            policy::check_key_policy(&az, view, &arn, &policy_text, req.bypass, &req).await?;
        }
        let (r, t) = (record.clone(), tag_records.clone());
        crate::pipeline::note_resource(&std::sync::Arc::from(arn.as_str()));
        match cx.kms.try_write(&cx.auth, move |s| s.create_key(&r, None, &t)).await? {
            Ok(()) => {}
            Err(StoreError::UniqueViolation) => {
                return Err(KmsError::AlreadyExists(format!(
                    "The multi-Region key {} already exists in {}.",
                    key.arn, req.region
                )))
            }
            Err(e) => return Err(KmsError::internal(e)),
        }
        // Every related key's cached copy lists the new replica from now on.
        cx.kms.uncache(key.id());
        cx.kms.settle_soon();
        let replica = cx
            .kms
            .load_key(&replica_region, key.id())
            .await?
            .ok_or_else(|| KmsError::internal("the new replica vanished"))?;
        tracing::info!(key_arn = %arn, primary = %key.arn, "multi-Region replica created");
        Ok(ReplicateKeyResponse {
            replica_key_metadata: replica.metadata(),
            replica_policy: policy_text,
            replica_tags: tag_records
                .into_iter()
                .map(|t| Tag {
                    tag_key: Some(t.key),
                    tag_value: Some(t.value),
                })
                .collect(),
        })
    }
}

pub(crate) struct UpdatePrimaryRegion;

impl KmsOp for UpdatePrimaryRegion {
    const OP: Operation = Operation::UpdatePrimaryRegion;
    const SERIAL: bool = true;
    type Input = UpdatePrimaryRegionRequest;
    type Req = RegionReq;
    type Target = OneKey;
    type Output = Empty;

    fn validate(req: UpdatePrimaryRegionRequest, checks: &Checks<'_>) -> Result<RegionReq, KmsError> {
        let mut v = Violations::new();
        let raw = validate::key_id(&mut v, "keyId", &req.key_id);
        let region = region(&mut v, "primaryRegion", &req.primary_region);
        Ok(RegionReq {
            key: finish(v, raw, checks)?,
            region,
            fact: "kms:primaryregion",
            policy: None,
            description: String::new(),
            tags: Vec::new(),
            bypass: false,
        })
    }

    fn target(req: &RegionReq) -> KeySpec<'_> {
        req.spec()
    }

    async fn run(cx: Ctx<'_, OneKey>, req: RegionReq) -> Result<Empty, KmsError> {
        let key = &cx.auth.key;
        if !key.record.multi_region {
            return Err(KmsError::UnsupportedOperation(format!(
                "{} is not a multi-region key.",
                key.arn
            )));
        }
        if key.record.is_replica() {
            return Err(not_primary(&key.arn));
        }
        if req.region == key.record.region.as_str() {
            // It is the primary already: nothing to change.
            return Ok(Empty {});
        }
        let new_primary = served(&cx, &req.region)?.clone();
        // The replica's side: it must exist, allow kms:UpdatePrimaryRegion by its own policy,
        // and be in a state that allows the operation.
        let there = meta_in(cx.meta, &new_primary);
        let az = Authorizer::new(cx.kms, cx.caller, &there, Operation::UpdatePrimaryRegion);
        let replica = az.load_key_in(&new_primary, key.id()).await?.ok_or_else(|| {
            KmsError::NotFound(format!(
                "Key '{}' does not exist",
                Arn::key(&new_primary, key.record.account_id, *key.id())
            ))
        })?;
        az.require_key(&replica, Action::UpdatePrimaryRegion, &req).await?;
        crate::state::check(Operation::UpdatePrimaryRegion, &replica)?;
        let (id, old_primary) = (*key.id(), key.record.region.clone());
        let to = new_primary.clone();
        crate::pipeline::note_resource(&replica.arn);
        cx.kms
            .write(&cx.auth, move |s| {
                s.atomically(&mut |t| {
                    for mut related in t.related_keys(&id)? {
                        related.primary_region = Some(to.clone());
                        // The two keys whose roles swap are `Updating` until settled.
                        if related.region == to || related.region == old_primary {
                            related.key_state = KeyState::Updating;
                        }
                        t.update_key(&related)?;
                    }
                    Ok(())
                })
            })
            .await?;
        cx.kms.uncache(key.id());
        cx.kms.settle_soon();
        tracing::info!(key_arn = %key.arn, primary_region = %new_primary.as_str(), "multi-Region primary moved");
        Ok(Empty {})
    }
}

//! Key rotation (reference §5): EnableKeyRotation (automatic rotation every
//! `RotationPeriodInDays`, 90–2560, default 365; the first one period after enabling; calling it
//! again changes the period), DisableKeyRotation, GetKeyRotationStatus (a key pending deletion
//! reports `false`; cancelling restores it; a key that cannot rotate reports `false`, it is not
//! an error) and RotateKeyOnDemand (now, whatever the schedule,
//! which it does not change; at most 25 times per key; an imported key's material waiting in
//! `PENDING_ROTATION` becomes current; Trent completes the rotation before answering).
//!
//! The key state is checked before the key type (AWS-recorded: RotateKeyOnDemand on a disabled
//! asymmetric key is `DisabledException`); only customer managed symmetric keys can rotate
//! (`UnsupportedOperationException`, no message, AWS-recorded).

use trent_api::dto::{Empty, GetKeyRotationStatusResponse, KeyIdResponse, KeyRotationRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};
use trent_policy::Values;
use trent_store::KeyRecord;
use trent_types::{Origin, RotationType};

use super::common::{finish, key_only, IdReq};
use crate::authz::facts::{self, RequestFacts};
use crate::authz::{KeySpec, OneKey, Rotatable, RotatableSpec};
use crate::clock::{epoch_seconds, DAY_MS};
use crate::ids::KeyRef;
use crate::keys::LoadedKey;
use crate::lifecycle::MAX_ON_DEMAND_ROTATIONS;
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

/// Keys whose rotation a customer may configure: customer managed, symmetric, generated material.
/// Related multi-Region keys share their rotation: it is set, and rotates, on the primary
/// (reference §5, "For multi-Region keys set it on the primary").
fn check_primary(key: &LoadedKey) -> Result<(), KmsError> {
    if key.record.is_replica() {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} is not a multi-region primary key.",
            key.arn
        )));
    }
    Ok(())
}

fn check_configurable(key: &LoadedKey) -> Result<(), KmsError> {
    if !key.spec().is_symmetric() || !key.is_customer_managed() {
        return Err(KmsError::UnsupportedOperation(String::new()));
    }
    check_primary(key)?;
    if key.record.origin != Origin::AwsKms {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} origin is {} which is not valid for this operation.",
            key.arn, key.record.origin
        )));
    }
    Ok(())
}

/// Keys that can rotate on demand: customer managed symmetric encryption keys (generated or,
/// since June 2025, imported material).
fn check_on_demand(key: &LoadedKey) -> Result<(), KmsError> {
    if !key.spec().is_symmetric() || !key.is_customer_managed() {
        return Err(KmsError::UnsupportedOperation(String::new()));
    }
    // Keys in custom key stores do not rotate (reference §13).
    if key.record.origin == Origin::ExternalKeyStore {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} origin is {} which is not valid for this operation.",
            key.arn, key.record.origin
        )));
    }
    check_primary(key)
}

/// Writes a key's rotation settings; a multi-Region primary's go to every related key in the
/// same transaction, so a replica's GetKeyRotationStatus shows them.
async fn write_rotation(cx: &Ctx<'_, Rotatable>, key: &LoadedKey, record: KeyRecord) -> Result<(), KmsError> {
    if key.related.len() <= 1 {
        cx.kms.write_key(&cx.auth, key, record).await?;
        return Ok(());
    }
    let id = *key.id();
    cx.kms
        .write(&cx.auth, move |s| {
            s.atomically(&mut |t| {
                t.update_key(&record)?;
                for mut other in t.related_keys(&id)?.into_iter().filter(|k| k.region != record.region) {
                    other.rotation_enabled = record.rotation_enabled;
                    other.rotation_period_days = record.rotation_period_days;
                    other.next_rotation_ms = record.next_rotation_ms;
                    t.update_key(&other)?;
                }
                Ok(())
            })
        })
        .await?;
    cx.kms.uncache(&id);
    Ok(())
}

pub(crate) struct EnableKeyRotation;

pub(crate) struct EnableReq {
    key: KeyRef,
    period: i64,
}

impl RequestFacts for EnableReq {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        (key == "kms:rotationperiodindays").then(|| facts::owned(self.period.to_string()))?
    }
}

impl KmsOp for EnableKeyRotation {
    const OP: Operation = Operation::EnableKeyRotation;
    const SERIAL: bool = true;
    type Input = KeyRotationRequest;
    type Req = EnableReq;
    type Target = Rotatable;
    type Output = Empty;

    fn validate(req: KeyRotationRequest, checks: &Checks<'_>) -> Result<EnableReq, KmsError> {
        let mut v = Violations::new();
        let raw = validate::key_id(&mut v, "keyId", &req.key_id);
        if let Some(d) = req.rotation_period_in_days {
            v.range("rotationPeriodInDays", d, 90, 2560);
        }
        Ok(EnableReq {
            key: finish(v, raw, checks)?,
            period: req.rotation_period_in_days.unwrap_or(365),
        })
    }

    fn target(req: &EnableReq) -> RotatableSpec<'_> {
        RotatableSpec {
            key: &req.key,
            facts: req,
            check: check_configurable,
        }
    }

    async fn run(cx: Ctx<'_, Rotatable>, req: EnableReq) -> Result<Empty, KmsError> {
        let key = &cx.auth.key;
        let mut record = key.record.clone();
        if !record.rotation_enabled || record.rotation_period_days != Some(req.period) {
            record.rotation_enabled = true;
            record.rotation_period_days = Some(req.period);
            record.next_rotation_ms = Some(cx.kms.now_ms() + req.period * DAY_MS);
            write_rotation(&cx, key, record).await?;
        }
        Ok(Empty {})
    }
}

pub(crate) struct DisableKeyRotation;

impl KmsOp for DisableKeyRotation {
    const OP: Operation = Operation::DisableKeyRotation;
    const SERIAL: bool = true;
    type Input = KeyRotationRequest;
    type Req = IdReq;
    type Target = Rotatable;
    type Output = Empty;

    fn validate(req: KeyRotationRequest, checks: &Checks<'_>) -> Result<IdReq, KmsError> {
        Ok(IdReq {
            key: key_only(&req.key_id, checks)?,
        })
    }

    fn target(req: &IdReq) -> RotatableSpec<'_> {
        req.rotatable(check_configurable)
    }

    async fn run(cx: Ctx<'_, Rotatable>, _req: IdReq) -> Result<Empty, KmsError> {
        let key = &cx.auth.key;
        if key.record.rotation_enabled {
            let mut record = key.record.clone();
            record.rotation_enabled = false;
            record.next_rotation_ms = None;
            write_rotation(&cx, key, record).await?;
        }
        Ok(Empty {})
    }
}

pub(crate) struct GetKeyRotationStatus;

impl KmsOp for GetKeyRotationStatus {
    const OP: Operation = Operation::GetKeyRotationStatus;
    type Input = KeyRotationRequest;
    type Req = IdReq;
    type Target = OneKey;
    type Output = GetKeyRotationStatusResponse;

    fn validate(req: KeyRotationRequest, checks: &Checks<'_>) -> Result<IdReq, KmsError> {
        Ok(IdReq {
            key: key_only(&req.key_id, checks)?,
        })
    }

    fn target(req: &IdReq) -> KeySpec<'_> {
        req.spec()
    }

    async fn run(cx: Ctx<'_, OneKey>, _req: IdReq) -> Result<GetKeyRotationStatusResponse, KmsError> {
        let key = &cx.auth.key;
        let r = &key.record;
        // "Asymmetric KMS keys, HMAC KMS keys, KMS keys with imported key material, KMS keys in a
        // custom key store: the key rotation status of these KMS keys is always false" (the
        // operation's documentation) — a status, not an error: Terraform's `aws_kms_key` reads it
        // for every key it manages. Only changing it is refused (Enable/DisableKeyRotation).
        let enabled = key.spec().is_symmetric() && r.rotation_enabled && !r.key_state.is_pending_deletion();
        Ok(GetKeyRotationStatusResponse {
            key_rotation_enabled: enabled,
            key_id: key.arn.to_string(),
            rotation_period_in_days: r.rotation_period_days.filter(|_| enabled),
            next_rotation_date: r.next_rotation_ms.filter(|_| enabled).map(epoch_seconds),
            on_demand_rotation_start_date: None,
        })
    }
}

pub(crate) struct RotateKeyOnDemand;

impl KmsOp for RotateKeyOnDemand {
    const OP: Operation = Operation::RotateKeyOnDemand;
    const SERIAL: bool = true;
    type Input = KeyRotationRequest;
    type Req = IdReq;
    type Target = Rotatable;
    type Output = KeyIdResponse;

    fn validate(req: KeyRotationRequest, checks: &Checks<'_>) -> Result<IdReq, KmsError> {
        Ok(IdReq {
            key: key_only(&req.key_id, checks)?,
        })
    }

    fn target(req: &IdReq) -> RotatableSpec<'_> {
        req.rotatable(check_on_demand)
    }

    async fn run(cx: Ctx<'_, Rotatable>, _req: IdReq) -> Result<KeyIdResponse, KmsError> {
        let key = &cx.auth.key;
        let done = key
            .versions
            .iter()
            .filter(|v| v.rotation_type == Some(RotationType::OnDemand))
            .count();
        if done >= MAX_ON_DEMAND_ROTATIONS {
            return Err(KmsError::LimitExceeded(format!(
                "The on-demand rotations limit has been reached for the given keyId. No more on-demand rotations can be performed for this key: {}",
                key.arn
            )));
        }
        let (rotated, _) = cx.kms.rotate(&cx.auth, key, RotationType::OnDemand).await?;
        Ok(KeyIdResponse {
            key_id: rotated.arn.to_string(),
        })
    }
}

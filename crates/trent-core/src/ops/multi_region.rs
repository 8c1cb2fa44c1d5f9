//! ReplicateKey and UpdatePrimaryRegion (reference §13). Both are decoded, validated, resolved
//! and authorized like every operation (`kms:ReplicateKey` / `kms:UpdatePrimaryRegion` on the
//! key, with `kms:ReplicaRegion` / `kms:PrimaryRegion` as condition facts). A deployment serves
//! one Region today, so a multi-Region key is always a primary without replicas: replicating it
//! to another Region, or moving its primary there, is answered `UnsupportedOperationException`
//! naming the Region — the answer the reference gives a single-endpoint KMS — after every
//! check AWS makes first (a key that is not a multi-Region primary is refused with AWS's
//! recorded message).

use trent_api::dto::{Empty, ReplicateKeyRequest, UpdatePrimaryRegionRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};
use trent_policy::Values;

use super::common::finish;
use crate::authz::facts::{self, RequestFacts};
use crate::authz::{KeySpec, OneKey};
use crate::ids::KeyRef;
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

/// `^([a-z]+-){2,3}\d+$`, the model's Region pattern, without a regex engine.
fn is_region_name(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let Some((last, words)) = parts.split_last() else {
        return false;
    };
    (2..=3).contains(&words.len())
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && !last.is_empty()
        && last.bytes().all(|b| b.is_ascii_digit())
}

const REGION_PATTERN: &str = "^([a-z]+-){2,3}\\d+$";

fn region(v: &mut Violations, field: &str, value: &Option<String>) -> String {
    match value {
        None => {
            v.not_null(field);
            String::new()
        }
        Some(r) => {
            v.str_length(field, r, 1, 32);
            if !r.is_empty() && !is_region_name(r) {
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
}

impl RequestFacts for RegionReq {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        (key == self.fact).then(|| facts::one(&self.region)).flatten()
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

fn not_served(region: &str, own: &str) -> KmsError {
    KmsError::UnsupportedOperation(format!(
        "The Region {region} is not served by this endpoint, which serves {own} only."
    ))
}

pub(crate) struct ReplicateKey;

impl KmsOp for ReplicateKey {
    const OP: Operation = Operation::ReplicateKey;
    const SERIAL: bool = true;
    type Input = ReplicateKeyRequest;
    type Req = RegionReq;
    type Target = OneKey;
    type Output = Empty;

    fn validate(req: ReplicateKeyRequest, checks: &Checks<'_>) -> Result<RegionReq, KmsError> {
        let mut v = Violations::new();
        let raw = validate::key_id(&mut v, "keyId", &req.key_id);
        let region = region(&mut v, "replicaRegion", &req.replica_region);
        if let Some(d) = &req.description {
            v.str_length("description", d, 0, 8192);
        }
        if let Some(p) = &req.policy {
            v.str_length("policy", p, 1, 32768);
        }
        let tags = req.tags.unwrap_or_default();
        validate::tags(&mut v, &tags);
        Ok(RegionReq {
            key: finish(v, raw, checks)?,
            region,
            fact: "kms:replicaregion",
        })
    }

    fn target(req: &RegionReq) -> KeySpec<'_> {
        req.spec()
    }

    async fn run(cx: Ctx<'_, OneKey>, req: RegionReq) -> Result<Empty, KmsError> {
        let key = &cx.auth.key;
        if !key.record.multi_region {
            return Err(KmsError::UnsupportedOperation(format!(
                "{} is not a multi-region primary key.",
                key.arn
            )));
        }
        let own = cx.kms.region().as_str();
        if req.region == own {
            // The primary is that Region's key of this id: one related key per Region, so AWS's
            // answer for a Region that holds one already.
            return Err(KmsError::AlreadyExists(format!(
                "The multi-Region key {} already exists in {own}.",
                key.arn
            )));
        }
        Err(not_served(&req.region, own))
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
        let own = cx.kms.region().as_str();
        if req.region == own {
            // It is the primary already: nothing to change (the call is idempotent in effect).
            return Ok(Empty {});
        }
        Err(not_served(&req.region, own))
    }
}

#[cfg(test)]
mod tests {
    use super::is_region_name;

    #[test]
    fn region_names_follow_the_model_pattern() {
        for ok in ["us-east-1", "eu-west-3", "us-gov-west-1", "ap-southeast-12"] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in [
            "",
            "us",
            "us-east",
            "us-east-",
            "US-east-1",
            "us-east-1a",
            "a-b-c-d-1",
            "-east-1",
        ] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }
}

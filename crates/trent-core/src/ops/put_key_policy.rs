//! PutKeyPolicy (reference §9.1): replaces the key policy after the checks of `policy`
//! (characters, 32 KB quota, grammar, the ForAllValues trap, existing principals, and — unless
//! `BypassPolicyLockoutSafetyCheck` — that the caller keeps `kms:PutKeyPolicy`).

use trent_api::dto::{Empty, KeyPolicyRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};
use trent_policy::Values;

use super::common::finish;
use super::get_key_policy::key_and_name;
use crate::authz::facts::{self, KeyView, RequestFacts};
use crate::authz::{Authorizer, KeySpec, OneKey};
use crate::ids::KeyRef;
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::policy;

pub(crate) struct PutKeyPolicy;

pub(crate) struct Req {
    key: KeyRef,
    name: String,
    policy: String,
    bypass: bool,
}

impl RequestFacts for Req {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        (key == "kms:bypasspolicylockoutsafetycheck").then(|| facts::one(if self.bypass { "true" } else { "false" }))?
    }
}

impl KmsOp for PutKeyPolicy {
    const OP: Operation = Operation::PutKeyPolicy;
    const SERIAL: bool = true;
    type Input = KeyPolicyRequest;
    type Req = Req;
    type Target = OneKey;
    type Output = Empty;

    fn validate(req: KeyPolicyRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        let raw = key_and_name(&req, &mut v);
        match &req.policy {
            None => v.not_null("policy"),
            Some(p) => policy::validate_member(&mut v, p),
        }
        Ok(Req {
            key: finish(v, raw.as_deref(), checks)?,
            name: req.policy_name.unwrap_or_else(|| "default".to_owned()),
            policy: req.policy.unwrap_or_default(),
            bypass: req.bypass_policy_lockout_safety_check == Some(true),
        })
    }

    fn target(req: &Req) -> KeySpec<'_> {
        KeySpec {
            key: &req.key,
            facts: req,
        }
    }

    async fn run(cx: Ctx<'_, OneKey>, req: Req) -> Result<Empty, KmsError> {
        let key = &cx.auth.key;
        let az = Authorizer::new(cx.kms, cx.caller, cx.meta, Self::OP);
        policy::check_key_policy(&az, KeyView::of(key), &key.arn, &req.policy, req.bypass, &req).await?;
        if req.name != "default" {
            return Err(policy::policy_name_not_found(&req.name));
        }
        let mut record = key.record.clone();
        record.policy = req.policy;
        cx.kms.write_key(&cx.auth, key, record).await?;
        Ok(Empty {})
    }
}

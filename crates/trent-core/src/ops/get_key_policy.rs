//! GetKeyPolicy (reference §9.1): the key policy text as stored; `PolicyName` defaults to
//! `default`, the only name that exists.

use trent_api::dto::{GetKeyPolicyResponse, KeyPolicyRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use super::common::{finish, IdReq};
use crate::authz::{KeySpec, OneKey};
use crate::ids::KeyRef;
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::{policy, validate};

pub(crate) struct GetKeyPolicy;

pub(crate) struct Req {
    id: IdReq,
    name: String,
}

impl crate::authz::facts::RequestFacts for Req {}

pub(super) fn key_and_name(req: &KeyPolicyRequest, v: &mut Violations) -> Option<String> {
    let raw = validate::key_id(v, "keyId", &req.key_id).map(str::to_owned);
    policy::check_policy_name(v, &req.policy_name);
    raw
}

impl KmsOp for GetKeyPolicy {
    const OP: Operation = Operation::GetKeyPolicy;
    type Input = KeyPolicyRequest;
    type Req = Req;
    type Target = OneKey;
    type Output = GetKeyPolicyResponse;

    fn validate(req: KeyPolicyRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        let raw = key_and_name(&req, &mut v);
        let key: KeyRef = finish(v, raw.as_deref(), checks)?;
        Ok(Req {
            id: IdReq { key },
            name: req.policy_name.unwrap_or_else(|| "default".to_owned()),
        })
    }

    fn target(req: &Req) -> KeySpec<'_> {
        req.id.spec()
    }

    async fn run(cx: Ctx<'_, OneKey>, req: Req) -> Result<GetKeyPolicyResponse, KmsError> {
        if req.name != "default" {
            return Err(policy::policy_name_not_found(&req.name));
        }
        Ok(GetKeyPolicyResponse {
            policy: cx.auth.key.record.policy.clone(),
            policy_name: req.name,
        })
    }
}

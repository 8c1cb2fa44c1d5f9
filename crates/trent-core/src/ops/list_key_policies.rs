//! ListKeyPolicies: always `["default"]` (reference §9.1).

use trent_api::dto::{ListKeyPoliciesResponse, ListRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use super::common::{finish, IdReq};
use crate::authz::{KeySpec, OneKey};
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

pub(crate) struct ListKeyPolicies;

impl KmsOp for ListKeyPolicies {
    const OP: Operation = Operation::ListKeyPolicies;
    type Input = ListRequest;
    type Req = IdReq;
    type Target = OneKey;
    type Output = ListKeyPoliciesResponse;

    fn validate(req: ListRequest, checks: &Checks<'_>) -> Result<IdReq, KmsError> {
        let mut v = Violations::new();
        let raw = validate::key_id(&mut v, "keyId", &req.key_id);
        validate::limit(&mut v, req.limit, 1000, 100);
        validate::marker(&mut v, &req.marker);
        Ok(IdReq {
            key: finish(v, raw, checks)?,
        })
    }

    fn target(req: &IdReq) -> KeySpec<'_> {
        req.spec()
    }

    async fn run(_cx: Ctx<'_, OneKey>, _req: IdReq) -> Result<ListKeyPoliciesResponse, KmsError> {
        Ok(ListKeyPoliciesResponse {
            policy_names: vec!["default".to_owned()],
            truncated: false,
        })
    }
}

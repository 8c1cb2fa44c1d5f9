//! RevokeGrant (reference §10): deletes a grant of a key; needs `kms:RevokeGrant` on the key.
//! Works in every key state; the grant stops authorizing at once.

use trent_api::dto::{Empty, RetireGrantRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};
use trent_policy::Values;

use super::common::finish;
use super::list_grants::{invalid_grant_id, is_grant_id};
use crate::authz::facts::{self, RequestFacts};
use crate::authz::{KeySpec, OneKey};
use crate::ids::KeyRef;
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

pub(crate) struct RevokeGrant;

pub(crate) struct Req {
    key: KeyRef,
    grant_id: String,
    dry_run: bool,
}

impl RequestFacts for Req {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        (key == "kms:grantisforawsresource").then(|| facts::one("false"))?
    }
}

impl KmsOp for RevokeGrant {
    const OP: Operation = Operation::RevokeGrant;
    const SERIAL: bool = true;
    type Input = RetireGrantRequest;
    type Req = Req;
    type Target = OneKey;
    type Output = Empty;

    fn validate(req: RetireGrantRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        let raw = validate::key_id(&mut v, "keyId", &req.key_id);
        match &req.grant_id {
            None => v.not_null("grantId"),
            Some(g) => v.str_length("grantId", g, 1, 128),
        }
        Ok(Req {
            key: finish(v, raw, checks)?,
            grant_id: req.grant_id.unwrap_or_default(),
            dry_run: req.dry_run == Some(true),
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
        if !is_grant_id(&req.grant_id) {
            return Err(invalid_grant_id(&req.grant_id));
        }
        if !key.grants.all.iter().any(|g| g.record.grant_id == req.grant_id) {
            return Err(KmsError::NotFound(format!("Grant ID {} not found", req.grant_id)));
        }
        super::finish_dry_run(req.dry_run)?;
        let id = req.grant_id;
        cx.kms.write(&cx.auth, move |s| s.delete_grant(&id)).await?;
        cx.kms.uncache(key.id());
        Ok(Empty {})
    }
}

//! RetireGrant (reference §10): by grant token, or by KeyId + GrantId. Allowed for the retiring
//! principal, for the grantee when the grant includes `RetireGrant`, and for the account that
//! issued the grant (its root) — not by a policy permission alone (the `Retirable` target).
//! Works in every key state.

use trent_api::dto::{Empty, RetireGrantRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use super::list_grants::{invalid_grant_id, is_grant_id};
use crate::authz::facts::RequestFacts;
use crate::authz::{Retirable, RetireSpec};
use crate::ids::{parse_key_ref, Forms, KeyRef};
use crate::pipeline::{Checks, Ctx, KmsOp};

pub(crate) struct RetireGrant;

pub(crate) struct Req {
    token: Option<String>,
    key: Option<KeyRef>,
    grant_id: Option<String>,
    dry_run: bool,
}

impl RequestFacts for Req {}

impl KmsOp for RetireGrant {
    const OP: Operation = Operation::RetireGrant;
    const SERIAL: bool = true;
    type Input = RetireGrantRequest;
    type Req = Req;
    type Target = Retirable;
    type Output = Empty;

    fn validate(req: RetireGrantRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        if let Some(t) = &req.grant_token {
            v.str_length("grantToken", t, 1, 8192);
        }
        if let Some(k) = &req.key_id {
            v.str_length("keyId", k, 1, 2048);
        }
        if let Some(g) = &req.grant_id {
            v.str_length("grantId", g, 1, 128);
        }
        v.finish()?;
        if req.grant_token.is_none() && (req.key_id.is_none() || req.grant_id.is_none()) {
            return Err(KmsError::Validation(
                "Either GrantToken or both KeyId and GrantId must be specified.".to_owned(),
            ));
        }
        if req.grant_token.is_none() {
            if let Some(id) = req.grant_id.as_deref().filter(|id| !is_grant_id(id)) {
                return Err(invalid_grant_id(id));
            }
        }
        let key = req
            .key_id
            .as_deref()
            .map(|k| parse_key_ref(k, Forms::IdOrArn, checks.region))
            .transpose()?;
        Ok(Req {
            token: req.grant_token,
            key,
            grant_id: req.grant_id,
            dry_run: req.dry_run == Some(true),
        })
    }

    fn target(req: &Req) -> RetireSpec<'_> {
        RetireSpec {
            token: req.token.as_deref(),
            grant_id: req.grant_id.as_deref(),
            key: req.key.as_ref(),
        }
    }

    async fn run(cx: Ctx<'_, Retirable>, req: Req) -> Result<Empty, KmsError> {
        super::finish_dry_run(req.dry_run)?;
        let grant = &cx.auth.grant;
        let id = grant.record.grant_id.clone();
        cx.kms.write(&cx.auth, move |s| s.delete_grant(&id)).await?;
        cx.kms.uncache(&grant.record.key_id);
        Ok(Empty {})
    }
}

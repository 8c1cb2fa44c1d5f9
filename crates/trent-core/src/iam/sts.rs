//! STS: GetCallerIdentity and AssumeRole. AssumeRole evaluates the role's trust policy as a
//! resource policy (naming the caller directly, or its account — then the caller's identity
//! policies must also allow `sts:AssumeRole`), and issues temporary credentials (`ASIA…` key,
//! secret, session token, expiry) for `arn:aws:sts::<acct>:assumed-role/<role>/<session>`.

use base64::Engine as _;
use trent_api::xml::Xml;
use trent_policy::{outcome, Context, PolicyKind, Request};

use super::model::{self, Role, Session, ROLE};
use super::protocol::{iso, IamError, IamResult, Params};
use crate::credentials::{issue_access_key, token_hash, Caller, KeyOwner};
use crate::Kms;

impl Kms {
    pub(crate) async fn get_caller_identity(&self, caller: &Caller) -> IamResult {
        Ok(Some(vec![
            Xml::leaf("UserId", &caller.principal.user_id),
            Xml::leaf("Account", &caller.account_id),
            Xml::leaf("Arn", &caller.principal_arn),
        ]))
    }

    pub(crate) async fn assume_role(&self, caller: &Caller, p: &Params) -> IamResult {
        let role_arn = p.req("RoleArn")?;
        let session_name = p.req("RoleSessionName")?;
        let name_ok = (2..=64).contains(&session_name.len())
            && session_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
        if !name_ok {
            return Err(IamError::validation(format!(
                "1 validation error detected: Value '{session_name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
            )));
        }
        let denied = || {
            IamError::new(
                "AccessDenied",
                403,
                format!(
                    "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                    caller.principal_arn
                ),
            )
        };
        let parts: Vec<&str> = role_arn.splitn(6, ':').collect();
        let [_, _, "iam", _, account, resource] = parts.as_slice() else {
            return Err(IamError::validation(format!("{role_arn} is not a valid role ARN.")));
        };
        let role_name = resource.rsplit('/').next().unwrap_or_default();
        let role: Role = self.iam_load(account, ROLE, role_name).await.map_err(|_| denied())?;
        if model::role_arn(account, &role.path, &role.name) != role_arn {
            return Err(denied());
        }
        let duration = match p.get("DurationSeconds") {
            None => 3600,
            Some(v) => match v.parse::<i64>() {
                Ok(n) if n >= 900 && n <= role.max_session_secs => n,
                _ => {
                    return Err(IamError::validation(format!(
                        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role or is below 900: {v}"
                    )))
                }
            },
        };
        // Trust policy (resource policy) + the caller's identity policies.
        let trust = trent_policy::parse(&role.trust_policy).map_err(|e| IamError::malformed(e.0))?;
        let mut ctx: Context = caller.request.context.clone();
        ctx.add_principal(&caller.principal);
        let req = Request {
            principal: &caller.principal,
            action: "sts:AssumeRole",
            resource: role_arn,
            context: &ctx,
        };
        let trust_out = outcome(&trust, PolicyKind::Trust, &req);
        let identities = self.identity_policies(&caller.principal).await?;
        let id_out: Vec<_> = identities
            .iter()
            .map(|d| outcome(d, PolicyKind::Identity, &req))
            .collect();
        let identity_allows = caller.is_root() || id_out.iter().any(|o| o.allows_directly);
        caller
            .request
            .authorized
            .store(true, std::sync::atomic::Ordering::Relaxed);
        let allowed = !trust_out.explicit_deny
            && !id_out.iter().any(|o| o.explicit_deny)
            && (trust_out.allows_directly || (trust_out.allows_account && identity_allows));
        if !allowed {
            return Err(denied());
        }
        let token_bytes = trent_crypto::random::array::<96>().map_err(trent_api::KmsError::internal)?;
        let token = base64::engine::general_purpose::STANDARD.encode(token_bytes);
        let now = self.now_ms();
        let expires = now + duration * 1000;
        let session = Session {
            v: 1,
            role_name: role.name.clone(),
            role_id: role.id.clone(),
            role_arn: role_arn.to_owned(),
            session_name: session_name.to_owned(),
            tags: role.tags.clone(),
        };
        let owner = KeyOwner::Session {
            session: &session,
            token_hash: token_hash(&token),
            expires_ms: expires,
        };
        let issued = {
            let store = std::sync::Arc::clone(&self.store);
            issue_access_key(store.as_ref(), &self.root, Some(&self.credentials), account, owner, now)?
        };
        let secret = String::from_utf8_lossy(issued.secret_access_key.expose()).into_owned();
        Ok(Some(vec![
            Xml::el(
                "Credentials",
                vec![
                    Xml::leaf("AccessKeyId", &issued.access_key_id),
                    Xml::leaf("SecretAccessKey", secret),
                    Xml::leaf("SessionToken", token),
                    Xml::leaf("Expiration", iso(expires)),
                ],
            ),
            Xml::el(
                "AssumedRoleUser",
                vec![
                    Xml::leaf("AssumedRoleId", format!("{}:{session_name}", role.id)),
                    Xml::leaf("Arn", model::assumed_role_arn(account, &role.name, session_name)),
                ],
            ),
        ]))
    }
}

//! STS: `GetCallerIdentity` and `AssumeRole`. AssumeRole evaluates the role's trust policy as a
//! resource policy (naming the caller directly, or its account — then the caller's identity
//! policies must also allow `sts:AssumeRole`), and issues temporary credentials (`ASIA…` key,
//! secret, session token, expiry) for `arn:aws:sts::<acct>:assumed-role/<role>/<session>`.

use base64::Engine as _;
use trent_api::xml::Xml;
use trent_api::KmsError;
use trent_store::EntityKind;
use trent_types::Arn;

use super::actions::IamCx;
use super::model::{self, Role, Session};
use super::protocol::{iso, IamError, IamErrorCode, IamResult, Params};
use crate::authz::authorize_assume_role;
use crate::credentials::{token_hash, KeyOwner};

/// `sts:GetCallerIdentity` needs no permission: AWS answers it even under an explicit deny.
pub(crate) async fn get_caller_identity(cx: &IamCx<'_>) -> IamResult {
    Ok(Some(vec![
        Xml::leaf("UserId", &cx.caller.principal().user_id),
        Xml::leaf("Account", cx.caller.account().to_string()),
        Xml::leaf("Arn", cx.caller.arn()),
    ]))
}

/// `RoleSessionName`: `[\w+=,.@-]*`, 2–64 characters.
fn session_name(p: &Params) -> Result<&str, IamError> {
    let name = p.req("RoleSessionName")?;
    let ok = (2..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !ok {
        return Err(IamError::validation(format!(
            "1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
        )));
    }
    Ok(name)
}

pub(crate) async fn assume_role(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let role_arn = p.req("RoleArn")?;
    let session_name = session_name(p)?;
    let denied = || {
        IamError::new(
            IamErrorCode::AccessDenied,
            format!(
                "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                cx.caller.arn()
            ),
        )
    };
    let (account, role_name) = match Arn::parse(role_arn) {
        Ok(Arn::Role { account, name, .. }) => (account, name),
        // Another IAM resource: nothing there to assume.
        Ok(Arn::User { .. } | Arn::Policy { .. } | Arn::Root { .. }) => return Err(denied()),
        _ => return Err(IamError::validation(format!("{role_arn} is not a valid role ARN."))),
    };
    // A role that does not exist is indistinguishable from one that does not trust the caller.
    let role: Role = cx
        .kms
        .iam_load(account, EntityKind::Role, &role_name)
        .await
        .map_err(|_| denied())?;
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
    let trust = trent_policy::parse(&role.trust_policy).map_err(|e| IamError::malformed(e.0))?;
    let auth = authorize_assume_role(&cx.authorizer(), role_arn, &trust)
        .await
        .map_err(|_| denied())?;

    let token_bytes = trent_crypto::random::array::<96>().map_err(KmsError::internal)?;
    let token = base64::engine::general_purpose::STANDARD.encode(token_bytes);
    let now = cx.kms.now_ms();
    let expires = now.saturating_add(duration.saturating_mul(1000));
    let session = Session {
        v: 1,
        role_name: role.name.clone(),
        role_id: role.id.clone(),
        role_arn: role_arn.to_owned(),
        session_name: session_name.to_owned(),
        tags: role.tags.clone(),
    };
    let owner = KeyOwner::Session {
        session,
        token_hash: token_hash(&token),
        expires_ms: expires,
    };
    let issued = cx.kms.issue_key(&auth, account, owner).await?;
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

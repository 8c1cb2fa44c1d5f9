//! IAM roles: `CreateRole`, `GetRole`, `ListRoles`, `DeleteRole`, `UpdateAssumeRolePolicy`.
//! A role's trust policy is a resource policy (it must name principals); its inline and attached
//! policies are in `holders`, shared with users.

use trent_api::xml::Xml;
use trent_store::EntityKind;
use trent_types::AccountId;

use super::actions::IamCx;
use super::holders;
use super::model::{self, Role};
use super::protocol::{
    check_description, check_document_text, check_name, check_path, iso, page, policy_size, tags_xml, url_encode,
    IamError, IamResult, Params,
};

/// IAM quota on a role's trust policy (`ACLSizePerRole`, white space not counted).
const TRUST_POLICY_QUOTA: usize = 2048;

/// `Description`: at most 1000 characters (IAM API Reference, CreateRole).
const MAX_DESCRIPTION_CHARS: usize = 1000;

pub(crate) fn role_xml(account: AccountId, r: &Role) -> Xml {
    let mut c = vec![
        Xml::leaf("Path", &r.path),
        Xml::leaf("RoleName", &r.name),
        Xml::leaf("RoleId", &r.id),
        Xml::leaf("Arn", model::role_arn(account, &r.path, &r.name)),
        Xml::leaf("CreateDate", iso(r.created_ms)),
        Xml::leaf("AssumeRolePolicyDocument", url_encode(&r.trust_policy)),
        Xml::leaf("MaxSessionDuration", r.max_session_secs.to_string()),
    ];
    if let Some(d) = &r.description {
        c.push(Xml::leaf("Description", d));
    }
    c.extend(tags_xml(&r.tags));
    Xml::el("Role", c)
}

/// A trust policy: a resource policy (it must name principals).
fn trust_policy<'p>(p: &'p Params, member: &str) -> Result<&'p str, IamError> {
    let doc = p.req(member)?;
    check_document_text(&super::protocol::lower_camel(member), doc)?;
    trent_policy::parse(doc).map_err(|e| IamError::malformed(e.0))?;
    if policy_size(doc) > TRUST_POLICY_QUOTA {
        return Err(IamError::limit(format!(
            "Cannot exceed quota for ACLSizePerRole: {TRUST_POLICY_QUOTA}"
        )));
    }
    Ok(doc)
}

pub(crate) fn description(p: &Params) -> Result<Option<String>, IamError> {
    match p.get("Description") {
        Some(d) if d.chars().count() > MAX_DESCRIPTION_CHARS => Err(IamError::validation(format!(
            "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to {MAX_DESCRIPTION_CHARS}"
        ))),
        Some(d) => {
            check_description(d)?;
            Ok(Some(d.to_owned()))
        }
        None => Ok(None),
    }
}

pub(crate) async fn create_role(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let name = p.req("RoleName")?;
    check_name("roleName", name, 64)?;
    p.req("AssumeRolePolicyDocument")?;
    let path = p.get("Path").unwrap_or("/");
    check_path(path)?;
    let description = description(p)?;
    let max = match p.get("MaxSessionDuration") {
        None => 3600,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (3600..=43200).contains(&n) => n,
            _ => {
                return Err(IamError::validation(format!(
                    "1 validation error detected: Value '{v}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200"
                )))
            }
        },
    };
    let account = cx.caller.account();
    let auth = cx.authorize(&model::role_arn(account, path, name)).await?;
    let trust = trust_policy(p, "AssumeRolePolicyDocument")?;
    let role = Role {
        v: 1,
        name: name.to_owned(),
        id: model::unique_id("AROA")?,
        path: path.to_owned(),
        created_ms: cx.kms.now_ms(),
        trust_policy: trust.to_owned(),
        description,
        max_session_secs: max,
        tags: p.tags()?,
        inline: Default::default(),
        attached: Vec::new(),
    };
    cx.kms
        .iam_save(&auth, account, EntityKind::Role, name, &role, None)
        .await?;
    Ok(Some(vec![role_xml(account, &role)]))
}

pub(crate) async fn get_role(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let h = holders::load::<Role>(cx, p.req("RoleName")?).await?;
    Ok(Some(vec![role_xml(cx.caller.account(), &h.entity)]))
}

pub(crate) async fn list_roles(cx: &IamCx<'_>, p: &Params) -> IamResult {
    cx.authorize("*").await?;
    let prefix = p.get("PathPrefix").unwrap_or("/").to_owned();
    let account = cx.caller.account();
    let mut roles: Vec<Role> = cx.kms.iam_list(account, EntityKind::Role).await?;
    roles.retain(|r| r.path.starts_with(&prefix));
    roles.sort_by(|a, b| a.name.cmp(&b.name));
    let (items, mut tail) = page(roles, p, |r| r.name.as_str())?;
    let mut out = vec![Xml::members(
        "Roles",
        items.iter().map(|r| role_xml(account, r)).collect(),
    )];
    out.append(&mut tail);
    Ok(Some(out))
}

pub(crate) async fn delete_role(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let name = p.req("RoleName")?;
    let h = holders::load::<Role>(cx, name).await?;
    if !h.entity.inline.is_empty() {
        return Err(IamError::delete_conflict(
            "Cannot delete entity, must delete policies first.",
        ));
    }
    if !h.entity.attached.is_empty() {
        return Err(IamError::delete_conflict(
            "Cannot delete entity, must detach all policies first.",
        ));
    }
    cx.kms
        .iam_delete(&h.auth, cx.caller.account(), EntityKind::Role, name)
        .await?;
    // Its sessions end with it (the store deleted their keys in the same transaction).
    let arn = model::role_arn(cx.caller.account(), &h.entity.path, &h.entity.name);
    cx.kms.credentials().remove_sessions_of(&arn);
    Ok(None)
}

pub(crate) async fn update_assume_role_policy(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let name = p.req("RoleName")?;
    p.req("PolicyDocument")?;
    let mut h = holders::load::<Role>(cx, name).await?;
    h.entity.trust_policy = trust_policy(p, "PolicyDocument")?.to_owned();
    cx.kms
        .iam_save(
            &h.auth,
            cx.caller.account(),
            EntityKind::Role,
            name,
            &h.entity,
            Some(&h.stored),
        )
        .await?;
    Ok(None)
}

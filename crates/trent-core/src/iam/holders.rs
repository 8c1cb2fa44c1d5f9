//! What users, groups and roles share: loading one by name (authorized before anything is said
//! about it), and their inline policies and attached managed policies. One generic implementation
//! serves `Put/Get/List/DeleteUserPolicy`, `Attach/Detach/ListAttachedUserPolicies` and their
//! group and role twins.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Serialize;
use trent_api::xml::Xml;
use trent_store::EntityKind;
use trent_types::AccountId;

use super::actions::IamCx;
use super::model::{self, Group, Role, User};
use super::protocol::{
    check_document_text, check_name, lower_camel, page, policy_size, url_encode, IamError, IamResult, Params,
};
use crate::authz::{Authorized, IamResource};

/// A user, a group or a role.
pub(crate) trait Holder: Serialize + DeserializeOwned + Send + Sync + 'static {
    const KIND: EntityKind;
    /// `UserName` / `GroupName` / `RoleName`.
    const MEMBER: &'static str;
    /// `user` / `group` / `role`, as IAM's messages say it.
    const NOUN: &'static str;
    /// IAM quota on the aggregate size of the entity's inline policies (white space not counted).
    const INLINE_QUOTA: usize;
    fn arn_of(account: AccountId, path: &str, name: &str) -> String;
    fn path(&self) -> &str;
    fn name(&self) -> &str;
    fn inline(&self) -> &BTreeMap<String, String>;
    fn inline_mut(&mut self) -> &mut BTreeMap<String, String>;
    fn attached(&self) -> &[String];
    fn attached_mut(&mut self) -> &mut Vec<String>;
}

/// The field accessors, the same for both entity types.
macro_rules! holder {
    ($ty:ty, $kind:expr, $member:literal, $noun:literal, $quota:literal, $arn:path) => {
        impl Holder for $ty {
            const KIND: EntityKind = $kind;
            const MEMBER: &'static str = $member;
            const NOUN: &'static str = $noun;
            const INLINE_QUOTA: usize = $quota;
            fn arn_of(account: AccountId, path: &str, name: &str) -> String {
                $arn(account, path, name)
            }
            fn path(&self) -> &str {
                &self.path
            }
            fn name(&self) -> &str {
                &self.name
            }
            fn inline(&self) -> &BTreeMap<String, String> {
                &self.inline
            }
            fn inline_mut(&mut self) -> &mut BTreeMap<String, String> {
                &mut self.inline
            }
            fn attached(&self) -> &[String] {
                &self.attached
            }
            fn attached_mut(&mut self) -> &mut Vec<String> {
                &mut self.attached
            }
        }
    };
}

// IAM quotas: inline policies of a user 2,048 characters in all, of a group 5,120, of a role
// 10,240.
holder!(User, EntityKind::User, "UserName", "user", 2048, model::user_arn);
holder!(Group, EntityKind::Group, "GroupName", "group", 5120, model::group_arn);
holder!(Role, EntityKind::Role, "RoleName", "role", 10240, model::role_arn);

/// A user, group or role, loaded and authorized for the action.
pub(crate) struct Loaded<H> {
    pub entity: H,
    /// The entity as stored when loaded: a save replaces only this (another server's change in
    /// between is `ConcurrentModification`, not silently undone).
    pub stored: String,
    pub auth: Authorized<IamResource>,
}

/// Loads the user, group or role `name` and authorizes the action on its ARN. A missing entity is
/// authorized on the path-less ARN first, so that only a caller allowed to act on it learns it
/// does not exist.
pub(crate) async fn load<H: Holder>(cx: &IamCx<'_>, name: &str) -> Result<Loaded<H>, IamError> {
    check_name(&lower_camel(H::MEMBER), name, 64)?;
    let account = cx.caller.account();
    match cx.kms.iam_load_stored::<H>(account, H::KIND, name).await {
        Ok((entity, stored)) => {
            let arn = H::arn_of(account, entity.path(), entity.name());
            let auth = cx.authorize(&arn).await?;
            Ok(Loaded { entity, stored, auth })
        }
        Err(e) => {
            cx.authorize(&H::arn_of(account, "/", name)).await?;
            Err(e)
        }
    }
}

/// A policy name (`[\w+=,.@-]+`, 1–128).
fn policy_name(p: &Params) -> Result<&str, IamError> {
    let name = p.req("PolicyName")?;
    check_name("policyName", name, 128)?;
    Ok(name)
}

/// A policy document: 1–131072 characters of IAM's policy alphabet, a valid identity policy.
pub(crate) fn identity_document(p: &Params) -> Result<&str, IamError> {
    let doc = p.req("PolicyDocument")?;
    check_document_text("policyDocument", doc)?;
    trent_policy::parse_identity(doc).map_err(|e| IamError::malformed(e.0))?;
    Ok(doc)
}

fn no_such_policy<H: Holder>(name: &str) -> IamError {
    IamError::no_such_entity(format!("The {} policy with name {name} cannot be found.", H::NOUN))
}

pub(crate) async fn put_policy<H: Holder>(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let name = p.req(H::MEMBER)?;
    let pname = policy_name(p)?;
    let mut h = load::<H>(cx, name).await?;
    let doc = identity_document(p)?;
    h.entity.inline_mut().insert(pname.to_owned(), doc.to_owned());
    let total: usize = h.entity.inline().values().map(|d| policy_size(d)).sum();
    if total > H::INLINE_QUOTA {
        return Err(IamError::limit(format!(
            "Maximum policy size of {} bytes exceeded for {} {name}",
            H::INLINE_QUOTA,
            H::NOUN
        )));
    }
    cx.kms
        .iam_save(&h.auth, cx.caller.account(), H::KIND, name, &h.entity, Some(&h.stored))
        .await?;
    Ok(None)
}

pub(crate) async fn get_policy<H: Holder>(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let name = p.req(H::MEMBER)?;
    let pname = policy_name(p)?;
    let h = load::<H>(cx, name).await?;
    let doc = h.entity.inline().get(pname).ok_or_else(|| no_such_policy::<H>(pname))?;
    Ok(Some(vec![
        Xml::leaf(H::MEMBER, name),
        Xml::leaf("PolicyName", pname),
        Xml::leaf("PolicyDocument", url_encode(doc)),
    ]))
}

pub(crate) async fn list_policies<H: Holder>(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let h = load::<H>(cx, p.req(H::MEMBER)?).await?;
    let names: Vec<&String> = h.entity.inline().keys().collect();
    let (items, mut tail) = page(names, p, |n| n.as_str())?;
    let mut out = vec![Xml::members(
        "PolicyNames",
        items.into_iter().map(|n| Xml::Text(n.clone())).collect(),
    )];
    out.append(&mut tail);
    Ok(Some(out))
}

pub(crate) async fn delete_policy<H: Holder>(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let name = p.req(H::MEMBER)?;
    let pname = policy_name(p)?;
    let mut h = load::<H>(cx, name).await?;
    if h.entity.inline_mut().remove(pname).is_none() {
        return Err(no_such_policy::<H>(pname));
    }
    cx.kms
        .iam_save(&h.auth, cx.caller.account(), H::KIND, name, &h.entity, Some(&h.stored))
        .await?;
    Ok(None)
}

/// `Attach…Policy` (`attach`) or `Detach…Policy`.
pub(crate) async fn attach<H: Holder>(cx: &IamCx<'_>, p: &Params, attach: bool) -> IamResult {
    let name = p.req(H::MEMBER)?;
    let policy_arn = p.req("PolicyArn")?;
    let mut h = load::<H>(cx, name).await?;
    let account = cx.caller.account();
    let list = h.entity.attached_mut();
    if attach {
        cx.kms.policy_by_arn(account, policy_arn).await?;
        if !list.iter().any(|a| a == policy_arn) {
            list.push(policy_arn.to_owned());
        }
    } else {
        let before = list.len();
        list.retain(|a| a != policy_arn);
        if before == list.len() {
            return Err(IamError::no_such_entity(format!("Policy {policy_arn} was not found.")));
        }
    }
    cx.kms
        .iam_save(&h.auth, account, H::KIND, name, &h.entity, Some(&h.stored))
        .await?;
    Ok(None)
}

pub(crate) async fn list_attached<H: Holder>(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let h = load::<H>(cx, p.req(H::MEMBER)?).await?;
    let mut arns: Vec<&String> = h.entity.attached().iter().collect();
    arns.sort();
    let (items, mut tail) = page(arns, p, |a| a.as_str())?;
    let items = items
        .into_iter()
        .map(|a| {
            Xml::el(
                "AttachedPolicy",
                vec![
                    Xml::leaf("PolicyName", a.rsplit('/').next().unwrap_or_default()),
                    Xml::leaf("PolicyArn", a),
                ],
            )
        })
        .collect();
    let mut out = vec![Xml::members("AttachedPolicies", items)];
    out.append(&mut tail);
    Ok(Some(out))
}

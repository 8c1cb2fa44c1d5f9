//! IAM groups: `CreateGroup`, `GetGroup`, `ListGroups`, `UpdateGroup`, `DeleteGroup`,
//! `AddUserToGroup`, `RemoveUserFromGroup`, `ListGroupsForUser`. A group's inline and attached
//! policies are in `holders` (shared with users and roles) and count for its members in every
//! authorization decision (`authz/identity.rs`), as in IAM. Membership is kept on the group.

use trent_api::xml::Xml;
use trent_store::EntityKind;
use trent_types::AccountId;

use super::actions::IamCx;
use super::holders::{self, Loaded};
use super::model::{self, Group, User};
use super::protocol::{check_name, check_path, iso, page, IamError, IamResult, Params};
use super::users::user_xml;

/// IAM quota `GroupsPerUser`.
const MAX_GROUPS_PER_USER: usize = 10;

pub(crate) fn group_xml(account: AccountId, g: &Group) -> Xml {
    Xml::el(
        "Group",
        vec![
            Xml::leaf("Path", &g.path),
            Xml::leaf("GroupName", &g.name),
            Xml::leaf("GroupId", &g.id),
            Xml::leaf("Arn", model::group_arn(account, &g.path, &g.name)),
            Xml::leaf("CreateDate", iso(g.created_ms)),
        ],
    )
}

fn group_name(p: &Params) -> Result<&str, IamError> {
    let name = p.req("GroupName")?;
    check_name("groupName", name, 128)?;
    Ok(name)
}

pub(crate) async fn create_group(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let name = group_name(p)?;
    let path = p.get("Path").unwrap_or("/");
    check_path(path)?;
    let account = cx.caller.account();
    let auth = cx.authorize(&model::group_arn(account, path, name)).await?;
    let group = Group {
        v: 1,
        name: name.to_owned(),
        id: model::unique_id("AGPA")?,
        path: path.to_owned(),
        created_ms: cx.kms.now_ms(),
        inline: Default::default(),
        attached: Vec::new(),
        members: Vec::new(),
    };
    cx.kms
        .iam_save(&auth, account, EntityKind::Group, name, &group, None)
        .await?;
    Ok(Some(vec![group_xml(account, &group)]))
}

pub(crate) async fn get_group(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let name = group_name(p)?;
    let g = holders::load::<Group>(cx, name).await?.entity;
    let account = cx.caller.account();
    let mut users: Vec<User> = Vec::new();
    for member in &g.members {
        // A member is never deleted while in the group; one missing would be a torn write.
        if let Ok(u) = cx.kms.iam_load::<User>(account, EntityKind::User, member).await {
            users.push(u);
        }
    }
    users.sort_by(|a, b| a.name.cmp(&b.name));
    let (items, mut tail) = page(users, p, |u| u.name.as_str())?;
    let mut out = vec![
        group_xml(account, &g),
        Xml::members("Users", items.iter().map(|u| user_xml(account, u)).collect()),
    ];
    out.append(&mut tail);
    Ok(Some(out))
}

pub(crate) async fn list_groups(cx: &IamCx<'_>, p: &Params) -> IamResult {
    cx.authorize("*").await?;
    let prefix = p.get("PathPrefix").unwrap_or("/").to_owned();
    let account = cx.caller.account();
    let mut groups: Vec<Group> = cx.kms.iam_list(account, EntityKind::Group).await?;
    groups.retain(|g| g.path.starts_with(&prefix));
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    let (items, mut tail) = page(groups, p, |g| g.name.as_str())?;
    let mut out = vec![Xml::members(
        "Groups",
        items.iter().map(|g| group_xml(account, g)).collect(),
    )];
    out.append(&mut tail);
    Ok(Some(out))
}

/// The groups `user` belongs to, by name.
pub(crate) async fn groups_of(cx: &IamCx<'_>, user: &str) -> Result<Vec<Group>, IamError> {
    let mut groups: Vec<Group> = cx.kms.iam_list(cx.caller.account(), EntityKind::Group).await?;
    groups.retain(|g| g.members.iter().any(|m| m == user));
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(groups)
}

pub(crate) async fn list_groups_for_user(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let user = p.req("UserName")?;
    let u = holders::load::<User>(cx, user).await?.entity;
    let account = cx.caller.account();
    let groups = groups_of(cx, &u.name).await?;
    let (items, mut tail) = page(groups, p, |g| g.name.as_str())?;
    let mut out = vec![Xml::members(
        "Groups",
        items.iter().map(|g| group_xml(account, g)).collect(),
    )];
    out.append(&mut tail);
    Ok(Some(out))
}

/// `AddUserToGroup` (`add`) or `RemoveUserFromGroup`: authorized on the group.
pub(crate) async fn membership(cx: &IamCx<'_>, p: &Params, add: bool) -> IamResult {
    let name = group_name(p)?;
    let user = p.req("UserName")?;
    check_name("userName", user, 64)?;
    let Loaded {
        mut entity,
        stored,
        auth,
    } = holders::load::<Group>(cx, name).await?;
    let account = cx.caller.account();
    let u: User = cx.kms.iam_load(account, EntityKind::User, user).await?;
    let present = entity.members.contains(&u.name);
    if add {
        if present {
            return Ok(None);
        }
        if groups_of(cx, &u.name).await?.len() >= MAX_GROUPS_PER_USER {
            return Err(IamError::limit(format!(
                "Cannot exceed quota for GroupsPerUser: {MAX_GROUPS_PER_USER}"
            )));
        }
        entity.members.push(u.name.clone());
    } else {
        if !present {
            return Err(IamError::no_such_entity(format!(
                "The user with name {user} cannot be found in group {name}."
            )));
        }
        entity.members.retain(|m| *m != u.name);
    }
    cx.kms
        .iam_save(&auth, account, EntityKind::Group, name, &entity, Some(&stored))
        .await?;
    Ok(None)
}

pub(crate) async fn delete_group(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let name = group_name(p)?;
    let Loaded { entity: g, auth, .. } = holders::load::<Group>(cx, name).await?;
    if !g.members.is_empty() {
        return Err(IamError::delete_conflict(
            "Cannot delete entity, must remove users from group first.",
        ));
    }
    if !g.inline.is_empty() {
        return Err(IamError::delete_conflict(
            "Cannot delete entity, must delete policies first.",
        ));
    }
    if !g.attached.is_empty() {
        return Err(IamError::delete_conflict(
            "Cannot delete entity, must detach all policies first.",
        ));
    }
    cx.kms
        .iam_delete(&auth, cx.caller.account(), EntityKind::Group, name)
        .await?;
    Ok(None)
}

/// `UpdateGroup`: a new name and/or path; members and policies move with it, in one
/// transaction.
pub(crate) async fn update_group(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let name = group_name(p)?;
    let new_name = match p.get("NewGroupName") {
        Some(n) => {
            check_name("newGroupName", n, 128)?;
            n
        }
        None => name,
    };
    let new_path = p.get("NewPath");
    if let Some(path) = new_path {
        check_path(path)?;
    }
    let Loaded {
        mut entity,
        stored,
        auth,
    } = holders::load::<Group>(cx, name).await?;
    let account = cx.caller.account();
    if let Some(path) = new_path {
        entity.path = path.to_owned();
    }
    if new_name == name {
        cx.kms
            .iam_save(&auth, account, EntityKind::Group, name, &entity, Some(&stored))
            .await?;
        return Ok(None);
    }
    // Authorized on the new name too (IAM: both the old and the new group are resources).
    cx.authorize(&model::group_arn(account, &entity.path, new_name)).await?;
    entity.name = new_name.to_owned();
    cx.kms
        .iam_rename(&auth, account, EntityKind::Group, name, &stored, new_name, &entity)
        .await?;
    Ok(None)
}

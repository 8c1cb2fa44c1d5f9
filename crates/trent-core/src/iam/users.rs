//! IAM users and their access keys (`CreateUser`, `GetUser`, `ListUsers`, `DeleteUser`,
//! `CreateAccessKey`, `ListAccessKeys`, `UpdateAccessKey`, `DeleteAccessKey`). Inline and
//! attached policies are in `holders`, shared with roles.

use trent_api::xml::Xml;
use trent_api::KmsError;
use trent_store::{AccessKeyRecord, EntityKind};
use trent_types::{AccessKeyStatus, AccountId};

use super::actions::IamCx;
use super::holders::{self, Loaded};
use super::model::{self, User};
use super::protocol::{check_name, check_path, iso, page, tags_xml, IamError, IamResult, Params};
use crate::authz::{Authorized, IamResource};
use crate::credentials::{prepare, KeyOwner};

/// Access keys per user, and for the root user (IAM quota `AccessKeysPerUser`).
const MAX_KEYS_PER_USER: usize = 2;

pub(crate) fn user_xml(account: AccountId, u: &User) -> Xml {
    let mut c = vec![
        Xml::leaf("Path", &u.path),
        Xml::leaf("UserName", &u.name),
        Xml::leaf("UserId", &u.id),
        Xml::leaf("Arn", model::user_arn(account, &u.path, &u.name)),
        Xml::leaf("CreateDate", iso(u.created_ms)),
    ];
    c.extend(tags_xml(&u.tags));
    Xml::el("User", c)
}

/// Whose access keys an action addresses: `UserName`, else the calling user, else (for the
/// account root) the root user's own keys.
enum Subject {
    Root,
    User(String),
}

fn subject(cx: &IamCx<'_>, p: &Params) -> Result<Subject, IamError> {
    match (p.get("UserName"), cx.caller.user_name()) {
        (Some(n), _) => {
            check_name("userName", n, 64)?;
            Ok(Subject::User(n.to_owned()))
        }
        (None, Some(n)) => Ok(Subject::User(n.to_owned())),
        (None, None) if cx.caller.is_root() => Ok(Subject::Root),
        // IAM: a session (assumed role) has no user of its own to default to.
        (None, None) => Err(IamError::validation(
            "Must specify userName when calling with non-User credentials",
        )),
    }
}

/// The subject's access keys, authorized for the action.
struct SubjectKeys {
    keys: Vec<AccessKeyRecord>,
    auth: Authorized<IamResource>,
    /// The user's unique id (`None` for the root user).
    user_id: Option<String>,
}

async fn subject_keys(cx: &IamCx<'_>, subject: &Subject) -> Result<SubjectKeys, IamError> {
    let (auth, user_id) = match subject {
        Subject::User(name) => {
            let h = holders::load::<User>(cx, name).await?;
            (h.auth, Some(h.entity.id))
        }
        Subject::Root => (cx.authorize(cx.caller.arn()).await?, None),
    };
    let account = cx.caller.account();
    let user = match subject {
        Subject::User(n) => Some(n.clone()),
        Subject::Root => None,
    };
    let id = user_id.clone();
    let mut keys: Vec<AccessKeyRecord> = cx
        .kms
        .read(move |s| s.access_keys())
        .await?
        .into_iter()
        // A key of an earlier user of the same name is not this user's (keys written before
        // owner ids were recorded have none and go by name).
        .filter(|k| {
            k.account_id == account
                && k.session.is_none()
                && k.user_name == user
                && (k.owner_id.is_none() || k.owner_id == id)
        })
        .collect();
    keys.sort_by(|a, b| a.access_key_id.cmp(&b.access_key_id));
    Ok(SubjectKeys { keys, auth, user_id })
}

pub(crate) async fn create_user(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let name = p.req("UserName")?;
    check_name("userName", name, 64)?;
    let path = p.get("Path").unwrap_or("/");
    check_path(path)?;
    let account = cx.caller.account();
    let auth = cx.authorize(&model::user_arn(account, path, name)).await?;
    let user = User {
        v: 1,
        name: name.to_owned(),
        id: model::unique_id("AIDA")?,
        path: path.to_owned(),
        created_ms: cx.kms.now_ms(),
        tags: p.tags()?,
        inline: Default::default(),
        attached: Vec::new(),
    };
    cx.kms
        .iam_save(&auth, account, EntityKind::User, name, &user, None)
        .await?;
    Ok(Some(vec![user_xml(account, &user)]))
}

pub(crate) async fn get_user(cx: &IamCx<'_>, p: &Params) -> IamResult {
    match subject(cx, p)? {
        Subject::User(name) => {
            let h = holders::load::<User>(cx, &name).await?;
            Ok(Some(vec![user_xml(cx.caller.account(), &h.entity)]))
        }
        Subject::Root => {
            // The root user: IAM answers with the account's root identity.
            cx.authorize(cx.caller.arn()).await?;
            Ok(Some(vec![Xml::el(
                "User",
                vec![
                    Xml::leaf("UserId", cx.caller.account().to_string()),
                    Xml::leaf("Arn", cx.caller.arn()),
                    Xml::leaf("CreateDate", iso(0)),
                ],
            )]))
        }
    }
}

pub(crate) async fn list_users(cx: &IamCx<'_>, p: &Params) -> IamResult {
    cx.authorize("*").await?;
    let prefix = p.get("PathPrefix").unwrap_or("/").to_owned();
    let account = cx.caller.account();
    let mut users: Vec<User> = cx.kms.iam_list(account, EntityKind::User).await?;
    users.retain(|u| u.path.starts_with(&prefix));
    users.sort_by(|a, b| a.name.cmp(&b.name));
    let (items, mut tail) = page(users, p, |u| u.name.as_str())?;
    let mut out = vec![Xml::members(
        "Users",
        items.iter().map(|u| user_xml(account, u)).collect(),
    )];
    out.append(&mut tail);
    Ok(Some(out))
}

pub(crate) async fn delete_user(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let name = p.req("UserName")?;
    let Loaded { entity: u, auth, .. } = holders::load::<User>(cx, name).await?;
    let keys = subject_keys(cx, &Subject::User(u.name.clone())).await?.keys;
    if !keys.is_empty() {
        return Err(IamError::delete_conflict(
            "Cannot delete entity, must delete access keys first.",
        ));
    }
    if !super::groups::groups_of(cx, &u.name).await?.is_empty() {
        return Err(IamError::delete_conflict(
            "Cannot delete entity, must remove users from group first.",
        ));
    }
    if !u.inline.is_empty() {
        return Err(IamError::delete_conflict(
            "Cannot delete entity, must delete policies first.",
        ));
    }
    if !u.attached.is_empty() {
        return Err(IamError::delete_conflict(
            "Cannot delete entity, must detach all policies first.",
        ));
    }
    cx.kms
        .iam_delete(&auth, cx.caller.account(), EntityKind::User, name)
        .await?;
    Ok(None)
}

fn key_xml(tag: &str, k: &AccessKeyRecord, secret: Option<String>) -> Xml {
    let mut c = Vec::new();
    if let Some(u) = &k.user_name {
        c.push(Xml::leaf("UserName", u));
    }
    c.extend([
        Xml::leaf("AccessKeyId", &k.access_key_id),
        Xml::leaf("Status", k.status.as_str()),
    ]);
    c.extend(secret.map(|s| Xml::leaf("SecretAccessKey", s)));
    c.push(Xml::leaf("CreateDate", iso(k.created_ms)));
    Xml::el(tag, c)
}

pub(crate) async fn create_access_key(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let subject = subject(cx, p)?;
    let SubjectKeys {
        keys: existing,
        auth,
        user_id,
    } = subject_keys(cx, &subject).await?;
    if existing.len() >= MAX_KEYS_PER_USER {
        return Err(IamError::limit(format!(
            "Cannot exceed quota for AccessKeysPerUser: {MAX_KEYS_PER_USER}"
        )));
    }
    let owner = match (subject, user_id) {
        (Subject::User(name), Some(id)) => KeyOwner::User { name, id },
        _ => KeyOwner::Root,
    };
    let issued = cx.kms.issue_key(&auth, cx.caller.account(), owner).await?;
    let secret = String::from_utf8_lossy(issued.secret_access_key.expose()).into_owned();
    Ok(Some(vec![key_xml("AccessKey", &issued.record, Some(secret))]))
}

pub(crate) async fn list_access_keys(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let subject = subject(cx, p)?;
    let keys = subject_keys(cx, &subject).await?.keys;
    let (items, mut tail) = page(keys, p, |k| k.access_key_id.as_str())?;
    let mut out = vec![Xml::members(
        "AccessKeyMetadata",
        items.iter().map(|k| key_xml("AccessKeyMetadata", k, None)).collect(),
    )];
    out.append(&mut tail);
    if let Subject::User(u) = subject {
        out.push(Xml::leaf("UserName", u));
    }
    Ok(Some(out))
}

/// The access key `AccessKeyId` of the addressed user (or root), authorized for the action.
async fn owned_key(cx: &IamCx<'_>, p: &Params) -> Result<(AccessKeyRecord, Authorized<IamResource>), IamError> {
    let id = p.req("AccessKeyId")?;
    if !(16..=128).contains(&id.len()) || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(IamError::validation(format!(
            "1 validation error detected: Value '{id}' at 'accessKeyId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w]+"
        )));
    }
    let subject = subject(cx, p)?;
    let SubjectKeys { keys, auth, .. } = subject_keys(cx, &subject).await?;
    let key = keys
        .into_iter()
        .find(|k| k.access_key_id == id)
        .ok_or_else(|| IamError::no_such_entity(format!("The Access Key with id {id} cannot be found.")))?;
    Ok((key, auth))
}

pub(crate) async fn update_access_key(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let raw = p.req("Status")?;
    let status = match AccessKeyStatus::parse(raw) {
        Some(s) => s,
        None => {
            return Err(IamError::validation(format!(
                "1 validation error detected: Value '{raw}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]"
            )))
        }
    };
    let (mut key, auth) = owned_key(cx, p).await?;
    let store = cx.kms.store_for(&auth);
    let root = cx.kms.root();
    key.status = status;
    let entry = tokio::task::spawn_blocking(move || -> Result<_, KmsError> {
        store
            .set_access_key_status(&key.access_key_id, status)
            .map_err(KmsError::internal)?;
        prepare(store.as_ref(), &root, &key).map(|e| (key.access_key_id, e))
    })
    .await
    .map_err(KmsError::internal)??;
    match entry {
        (_, Some(e)) => cx.kms.credentials().insert(e, cx.kms.now_ms()),
        (id, None) => cx.kms.credentials().remove(&id),
    }
    Ok(None)
}

pub(crate) async fn delete_access_key(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let (key, auth) = owned_key(cx, p).await?;
    let id = key.access_key_id.clone();
    cx.kms.write(&auth, move |s| s.delete_access_key(&id)).await?;
    cx.kms.credentials().remove(&key.access_key_id);
    Ok(None)
}

//! Customer managed policies: `CreatePolicy`, `GetPolicy`, `DeletePolicy` (refused while attached
//! or while it has versions besides the default), `ListPolicies`, and their versions
//! (`CreatePolicyVersion`, `GetPolicyVersion`, `ListPolicyVersions`, `SetDefaultPolicyVersion`,
//! `DeletePolicyVersion`; at most five per policy, the default one in force).

use trent_api::xml::Xml;
use trent_store::EntityKind;
use trent_types::AccountId;

use super::actions::IamCx;
use super::holders::identity_document;
use super::model::{self, ManagedPolicy, PolicyVersion};
use super::protocol::{check_name, check_path, iso, page, policy_size, url_encode, IamError, IamResult, Params};

use super::roles::description;

/// IAM quota on a managed policy document (`PolicySize`, white space not counted).
const MANAGED_POLICY_QUOTA: usize = 6144;
/// IAM quota: versions of one managed policy.
const MAX_VERSIONS: usize = 5;

fn policy_xml(account: AccountId, p: &ManagedPolicy, attachments: usize) -> Xml {
    let mut c = vec![
        Xml::leaf("PolicyName", &p.name),
        Xml::leaf("PolicyId", &p.id),
        Xml::leaf("Arn", model::policy_arn(account, &p.path, &p.name)),
        Xml::leaf("Path", &p.path),
        Xml::leaf("DefaultVersionId", &p.default_version),
        Xml::leaf("AttachmentCount", attachments.to_string()),
        Xml::leaf("PermissionsBoundaryUsageCount", "0"),
        Xml::leaf("IsAttachable", "true"),
        Xml::leaf("CreateDate", iso(p.created_ms)),
        Xml::leaf("UpdateDate", iso(p.updated_ms.unwrap_or(p.created_ms))),
    ];
    if let Some(d) = &p.description {
        c.push(Xml::leaf("Description", d));
    }
    Xml::el("Policy", c)
}

pub(crate) async fn create_policy(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let name = p.req("PolicyName")?;
    check_name("policyName", name, 128)?;
    p.req("PolicyDocument")?;
    let path = p.get("Path").unwrap_or("/");
    check_path(path)?;
    let description = description(p)?;
    let account = cx.caller.account();
    let auth = cx.authorize(&model::policy_arn(account, path, name)).await?;
    let doc = managed_document(p)?;
    let policy = ManagedPolicy {
        v: 1,
        name: name.to_owned(),
        id: model::unique_id("ANPA")?,
        path: path.to_owned(),
        created_ms: cx.kms.now_ms(),
        document: doc.to_owned(),
        description,
        default_version: "v1".to_owned(),
        default_created_ms: None,
        last_version: 1,
        updated_ms: None,
        other_versions: Vec::new(),
    };
    cx.kms
        .iam_save(&auth, account, EntityKind::Policy, name, &policy, None)
        .await?;
    Ok(Some(vec![policy_xml(account, &policy, 0)]))
}

/// A managed policy document: a valid identity policy within IAM's size quota.
fn managed_document(p: &Params) -> Result<&str, IamError> {
    let doc = identity_document(p)?;
    if policy_size(doc) > MANAGED_POLICY_QUOTA {
        return Err(IamError::limit(format!(
            "Cannot exceed quota for PolicySize: {MANAGED_POLICY_QUOTA}"
        )));
    }
    Ok(doc)
}

/// The policy `PolicyArn` names, authorized for the action (a missing policy is authorized on
/// the ARN as given before IAM says it does not exist), with its stored text.
struct Named {
    policy: ManagedPolicy,
    stored: String,
    arn: String,
    auth: crate::authz::Authorized<crate::authz::IamResource>,
}

async fn named_policy(cx: &IamCx<'_>, p: &Params) -> Result<Named, IamError> {
    let arn = p.req("PolicyArn")?;
    let auth = cx.authorize(arn).await?;
    let (policy, stored) = cx.kms.policy_by_arn_stored(cx.caller.account(), arn).await?;
    Ok(Named {
        policy,
        stored,
        arn: arn.to_owned(),
        auth,
    })
}

/// `VersionId`: `v<number>` (IAM's `policyVersionIdType`, `v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`).
fn version_id(p: &Params) -> Result<&str, IamError> {
    let v = p.req("VersionId")?;
    let ok = v.strip_prefix('v').is_some_and(|rest| {
        let (num, suffix) = rest.split_once('.').unwrap_or((rest, ""));
        !num.is_empty()
            && !num.starts_with('0')
            && num.bytes().all(|b| b.is_ascii_digit())
            && suffix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if !ok {
        return Err(IamError::validation(format!(
            "1 validation error detected: Value '{v}' at 'versionId' failed to satisfy constraint: Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?"
        )));
    }
    Ok(v)
}

fn no_such_version(arn: &str, version: &str) -> IamError {
    IamError::no_such_entity(format!(
        "Policy {arn} version {version} does not exist or is not attachable."
    ))
}

/// Every version of a policy: (id, document, created, is default), oldest first.
fn versions(policy: &ManagedPolicy) -> Vec<(&str, &str, i64, bool)> {
    let mut all: Vec<(&str, &str, i64, bool)> = policy
        .other_versions
        .iter()
        .map(|v| (v.id.as_str(), v.document.as_str(), v.created_ms, false))
        .collect();
    all.push((
        policy.default_version.as_str(),
        policy.document.as_str(),
        policy.default_created_ms.unwrap_or(policy.created_ms),
        true,
    ));
    all.sort_by_key(|v| (v.2, version_number(v.0)));
    all
}

fn version_number(id: &str) -> u64 {
    id.trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn version_xml(id: &str, document: Option<&str>, created_ms: i64, default: bool) -> Xml {
    let mut c = Vec::new();
    if let Some(d) = document {
        c.push(Xml::leaf("Document", url_encode(d)));
    }
    c.extend([
        Xml::leaf("VersionId", id),
        Xml::leaf("IsDefaultVersion", if default { "true" } else { "false" }),
        Xml::leaf("CreateDate", iso(created_ms)),
    ]);
    Xml::el("PolicyVersion", c)
}

pub(crate) async fn get_policy(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let Named { policy, arn, .. } = named_policy(cx, p).await?;
    let account = cx.caller.account();
    let n = cx.kms.attachment_count(account, &arn).await?;
    Ok(Some(vec![policy_xml(account, &policy, n)]))
}

pub(crate) async fn get_policy_version(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let version = version_id(p)?;
    let Named { policy, arn, .. } = named_policy(cx, p).await?;
    let found = versions(&policy).into_iter().find(|v| v.0 == version);
    let (id, doc, created, default) = found.ok_or_else(|| no_such_version(&arn, version))?;
    Ok(Some(vec![version_xml(id, Some(doc), created, default)]))
}

pub(crate) async fn list_policy_versions(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let Named { policy, .. } = named_policy(cx, p).await?;
    // Newest first, as IAM lists them; the marker names a position in that order.
    let all: Vec<(String, (&str, i64, bool))> = versions(&policy)
        .into_iter()
        .rev()
        .enumerate()
        .map(|(i, (id, _, created, default))| (format!("{i:04}"), (id, created, default)))
        .collect();
    let (items, mut tail) = page(all, p, |(k, _)| k.as_str())?;
    let mut out = vec![Xml::members(
        "Versions",
        items
            .into_iter()
            .map(|(_, (id, created, default))| version_xml(id, None, created, default))
            .collect(),
    )];
    out.append(&mut tail);
    Ok(Some(out))
}

pub(crate) async fn create_policy_version(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let doc = managed_document(p)?;
    let set_default = match p.get("SetAsDefault") {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(IamError::validation(format!(
                "1 validation error detected: Value '{other}' at 'setAsDefault' failed to satisfy constraint: Member must be a boolean"
            )))
        }
    };
    let Named {
        mut policy,
        stored,
        auth,
        ..
    } = named_policy(cx, p).await?;
    if policy.other_versions.len() + 1 >= MAX_VERSIONS {
        return Err(IamError::limit(format!(
            "A managed policy can have up to {MAX_VERSIONS} versions. Before you create a new version, you must delete an existing version."
        )));
    }
    let now = cx.kms.now_ms();
    policy.last_version += 1;
    let id = format!("v{}", policy.last_version);
    let created = PolicyVersion {
        id: id.clone(),
        document: doc.to_owned(),
        created_ms: now,
    };
    if set_default {
        make_default(&mut policy, created);
    } else {
        policy.other_versions.push(created);
    }
    policy.updated_ms = Some(now);
    save(cx, &auth, &policy, &stored).await?;
    Ok(Some(vec![version_xml(&id, None, now, set_default)]))
}

/// Replaces the policy as loaded (`stored`) with `policy`: another server's change in between is
/// `ConcurrentModification`.
async fn save(
    cx: &IamCx<'_>,
    auth: &crate::authz::Authorized<crate::authz::IamResource>,
    policy: &ManagedPolicy,
    stored: &str,
) -> Result<(), IamError> {
    cx.kms
        .iam_save(
            auth,
            cx.caller.account(),
            EntityKind::Policy,
            &policy.name,
            policy,
            Some(stored),
        )
        .await
}

/// Makes `version` the default, keeping the previous default as another version.
fn make_default(policy: &mut ManagedPolicy, version: PolicyVersion) {
    let previous = PolicyVersion {
        id: std::mem::replace(&mut policy.default_version, version.id),
        document: std::mem::replace(&mut policy.document, version.document),
        created_ms: policy.default_created_ms.unwrap_or(policy.created_ms),
    };
    policy.default_created_ms = Some(version.created_ms);
    policy.other_versions.push(previous);
}

pub(crate) async fn set_default_policy_version(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let version = version_id(p)?;
    let Named {
        mut policy,
        stored,
        arn,
        auth,
    } = named_policy(cx, p).await?;
    if policy.default_version == version {
        return Ok(None);
    }
    let at = policy
        .other_versions
        .iter()
        .position(|v| v.id == version)
        .ok_or_else(|| no_such_version(&arn, version))?;
    let chosen = policy.other_versions.remove(at);
    make_default(&mut policy, chosen);
    policy.updated_ms = Some(cx.kms.now_ms());
    save(cx, &auth, &policy, &stored).await?;
    Ok(None)
}

pub(crate) async fn delete_policy_version(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let version = version_id(p)?;
    let Named {
        mut policy,
        stored,
        arn,
        auth,
    } = named_policy(cx, p).await?;
    if policy.default_version == version {
        return Err(IamError::delete_conflict(
            "Cannot delete the default version of a policy.",
        ));
    }
    let before = policy.other_versions.len();
    policy.other_versions.retain(|v| v.id != version);
    if policy.other_versions.len() == before {
        return Err(no_such_version(&arn, version));
    }
    save(cx, &auth, &policy, &stored).await?;
    Ok(None)
}

pub(crate) async fn delete_policy(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let Named { policy, arn, auth, .. } = named_policy(cx, p).await?;
    let account = cx.caller.account();
    if cx.kms.attachment_count(account, &arn).await? > 0 {
        return Err(IamError::delete_conflict(
            "Cannot delete a policy attached to entities.",
        ));
    }
    if !policy.other_versions.is_empty() {
        return Err(IamError::delete_conflict(
            "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.",
        ));
    }
    cx.kms
        .iam_delete(&auth, account, EntityKind::Policy, &policy.name)
        .await?;
    Ok(None)
}

pub(crate) async fn list_policies(cx: &IamCx<'_>, p: &Params) -> IamResult {
    cx.authorize("*").await?;
    let account = cx.caller.account();
    let only_attached = p.get("OnlyAttached") == Some("true");
    // `Scope=AWS` lists AWS managed policies, of which Trent has none.
    let scope_aws = p.get("Scope") == Some("AWS");
    let prefix = p.get("PathPrefix").unwrap_or("/").to_owned();
    let mut policies: Vec<ManagedPolicy> = if scope_aws {
        Vec::new()
    } else {
        cx.kms.iam_list(account, EntityKind::Policy).await?
    };
    policies.retain(|pol| pol.path.starts_with(&prefix));
    policies.sort_by(|a, b| a.name.cmp(&b.name));
    let counts = cx.kms.attachment_counts(account).await?;
    let counted: Vec<(ManagedPolicy, usize)> = policies
        .into_iter()
        .map(|pol| {
            let n = counts
                .get(&model::policy_arn(account, &pol.path, &pol.name))
                .copied()
                .unwrap_or(0);
            (pol, n)
        })
        .filter(|(_, n)| !(only_attached && *n == 0))
        .collect();
    let (items, mut tail) = page(counted, p, |(pol, _)| pol.name.as_str())?;
    let mut out = vec![Xml::members(
        "Policies",
        items.iter().map(|(pol, n)| policy_xml(account, pol, *n)).collect(),
    )];
    out.append(&mut tail);
    Ok(Some(out))
}

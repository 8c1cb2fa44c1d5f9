//! Customer managed policies: `CreatePolicy`, `GetPolicy`, `GetPolicyVersion` (one version,
//! `v1`), `DeletePolicy` (refused while attached), `ListPolicies`.

use trent_api::xml::Xml;
use trent_store::EntityKind;
use trent_types::AccountId;

use super::actions::IamCx;
use super::holders::identity_document;
use super::model::{self, ManagedPolicy};
use super::protocol::{check_name, check_path, iso, page, policy_size, url_encode, IamError, IamResult, Params};

/// IAM quota on a managed policy document (`PolicySize`, white space not counted).
const MANAGED_POLICY_QUOTA: usize = 6144;
use super::roles::description;

fn policy_xml(account: AccountId, p: &ManagedPolicy, attachments: usize) -> Xml {
    let mut c = vec![
        Xml::leaf("PolicyName", &p.name),
        Xml::leaf("PolicyId", &p.id),
        Xml::leaf("Arn", model::policy_arn(account, &p.path, &p.name)),
        Xml::leaf("Path", &p.path),
        Xml::leaf("DefaultVersionId", "v1"),
        Xml::leaf("AttachmentCount", attachments.to_string()),
        Xml::leaf("PermissionsBoundaryUsageCount", "0"),
        Xml::leaf("IsAttachable", "true"),
        Xml::leaf("CreateDate", iso(p.created_ms)),
        Xml::leaf("UpdateDate", iso(p.created_ms)),
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
    let doc = identity_document(p)?;
    if policy_size(doc) > MANAGED_POLICY_QUOTA {
        return Err(IamError::limit(format!(
            "Cannot exceed quota for PolicySize: {MANAGED_POLICY_QUOTA}"
        )));
    }
    let policy = ManagedPolicy {
        v: 1,
        name: name.to_owned(),
        id: model::unique_id("ANPA")?,
        path: path.to_owned(),
        created_ms: cx.kms.now_ms(),
        document: doc.to_owned(),
        description,
    };
    cx.kms
        .iam_save(&auth, account, EntityKind::Policy, name, &policy, None)
        .await?;
    Ok(Some(vec![policy_xml(account, &policy, 0)]))
}

/// The policy `PolicyArn` names, authorized for the action (a missing policy is authorized on
/// the ARN as given before IAM says it does not exist).
async fn named_policy(
    cx: &IamCx<'_>,
    p: &Params,
) -> Result<
    (
        ManagedPolicy,
        String,
        crate::authz::Authorized<crate::authz::IamResource>,
    ),
    IamError,
> {
    let arn = p.req("PolicyArn")?;
    let auth = cx.authorize(arn).await?;
    let policy = cx.kms.policy_by_arn(cx.caller.account(), arn).await?;
    Ok((policy, arn.to_owned(), auth))
}

pub(crate) async fn get_policy(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let (policy, arn, _) = named_policy(cx, p).await?;
    let account = cx.caller.account();
    let n = cx.kms.attachment_count(account, &arn).await?;
    Ok(Some(vec![policy_xml(account, &policy, n)]))
}

pub(crate) async fn get_policy_version(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let version = p.req("VersionId")?;
    let (policy, arn, _) = named_policy(cx, p).await?;
    if version != "v1" {
        return Err(IamError::no_such_entity(format!(
            "Policy {arn} version {version} does not exist or is not attachable."
        )));
    }
    Ok(Some(vec![Xml::el(
        "PolicyVersion",
        vec![
            Xml::leaf("Document", url_encode(&policy.document)),
            Xml::leaf("VersionId", "v1"),
            Xml::leaf("IsDefaultVersion", "true"),
            Xml::leaf("CreateDate", iso(policy.created_ms)),
        ],
    )]))
}

pub(crate) async fn delete_policy(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let (policy, arn, auth) = named_policy(cx, p).await?;
    let account = cx.caller.account();
    if cx.kms.attachment_count(account, &arn).await? > 0 {
        return Err(IamError::delete_conflict(
            "Cannot delete a policy attached to entities.",
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

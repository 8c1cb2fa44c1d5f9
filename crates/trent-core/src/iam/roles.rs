//! IAM roles (trust policy, inline and attached policies) and customer managed policies.

use trent_api::xml::Xml;

use super::model::{self, ManagedPolicy, Role, POLICY, ROLE};
use super::protocol::{check_name, check_path, iso, tags_xml, url_encode, IamError, IamResult, Params};
use super::users::attached_xml;
use crate::credentials::Caller;
use crate::Kms;

pub(crate) fn role_xml(account: &str, r: &Role) -> Xml {
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

fn policy_xml(account: &str, p: &ManagedPolicy, attachments: usize) -> Xml {
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

/// A trust policy is a resource policy: it must name principals.
fn check_trust_policy(doc: &str) -> Result<(), IamError> {
    trent_policy::parse(doc)
        .map(|_| ())
        .map_err(|e| IamError::malformed(e.0))
}

impl Kms {
    async fn role_and_arn(&self, caller: &Caller, name: &str) -> Result<(Role, String), IamError> {
        let r: Role = self.iam_load(&caller.account_id, ROLE, name).await?;
        let arn = model::role_arn(&caller.account_id, &r.path, &r.name);
        Ok((r, arn))
    }

    pub(crate) async fn create_role(&self, caller: &Caller, p: &Params) -> IamResult {
        let (name, trust) = (p.req("RoleName")?, p.req("AssumeRolePolicyDocument")?);
        check_name("roleName", name, 64)?;
        let path = p.get("Path").unwrap_or("/");
        check_path(path)?;
        self.iam_authorize(
            caller,
            "iam:CreateRole",
            &model::role_arn(&caller.account_id, path, name),
        )
        .await?;
        check_trust_policy(trust)?;
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
        let role = Role {
            v: 1,
            name: name.to_owned(),
            id: model::unique_id("AROA")?,
            path: path.to_owned(),
            created_ms: self.now_ms(),
            trust_policy: trust.to_owned(),
            description: p.get("Description").map(str::to_owned),
            max_session_secs: max,
            tags: p.tags(),
            inline: Default::default(),
            attached: Vec::new(),
        };
        self.iam_save(&caller.account_id, ROLE, name, &role, true).await?;
        Ok(Some(vec![role_xml(&caller.account_id, &role)]))
    }

    pub(crate) async fn get_role(&self, caller: &Caller, p: &Params) -> IamResult {
        let (r, arn) = self.role_and_arn(caller, p.req("RoleName")?).await?;
        self.iam_authorize(caller, "iam:GetRole", &arn).await?;
        Ok(Some(vec![role_xml(&caller.account_id, &r)]))
    }

    pub(crate) async fn list_roles(&self, caller: &Caller, p: &Params) -> IamResult {
        self.iam_authorize(caller, "iam:ListRoles", "*").await?;
        let prefix = p.get("PathPrefix").unwrap_or("/");
        let roles: Vec<Role> = self.iam_list(&caller.account_id, ROLE).await?;
        let items = roles
            .iter()
            .filter(|r| r.path.starts_with(prefix))
            .map(|r| role_xml(&caller.account_id, r))
            .collect();
        Ok(Some(vec![
            Xml::members("Roles", items),
            Xml::leaf("IsTruncated", "false"),
        ]))
    }

    pub(crate) async fn delete_role(&self, caller: &Caller, p: &Params) -> IamResult {
        let name = p.req("RoleName")?;
        let (r, arn) = self.role_and_arn(caller, name).await?;
        self.iam_authorize(caller, "iam:DeleteRole", &arn).await?;
        if !r.inline.is_empty() {
            return Err(IamError::delete_conflict(
                "Cannot delete entity, must delete policies first.",
            ));
        }
        if !r.attached.is_empty() {
            return Err(IamError::delete_conflict(
                "Cannot delete entity, must detach all policies first.",
            ));
        }
        self.iam_delete(&caller.account_id, ROLE, name).await?;
        Ok(None)
    }

    pub(crate) async fn update_assume_role_policy(&self, caller: &Caller, p: &Params) -> IamResult {
        let (name, doc) = (p.req("RoleName")?, p.req("PolicyDocument")?);
        let (mut r, arn) = self.role_and_arn(caller, name).await?;
        self.iam_authorize(caller, "iam:UpdateAssumeRolePolicy", &arn).await?;
        check_trust_policy(doc)?;
        r.trust_policy = doc.to_owned();
        self.iam_save(&caller.account_id, ROLE, name, &r, false).await?;
        Ok(None)
    }

    pub(crate) async fn put_role_policy(&self, caller: &Caller, p: &Params) -> IamResult {
        let (name, pname, doc) = (p.req("RoleName")?, p.req("PolicyName")?, p.req("PolicyDocument")?);
        check_name("policyName", pname, 128)?;
        let (mut r, arn) = self.role_and_arn(caller, name).await?;
        self.iam_authorize(caller, "iam:PutRolePolicy", &arn).await?;
        trent_policy::parse_identity(doc).map_err(|e| IamError::malformed(e.0))?;
        r.inline.insert(pname.to_owned(), doc.to_owned());
        self.iam_save(&caller.account_id, ROLE, name, &r, false).await?;
        Ok(None)
    }

    pub(crate) async fn get_role_policy(&self, caller: &Caller, p: &Params) -> IamResult {
        let (name, pname) = (p.req("RoleName")?, p.req("PolicyName")?);
        let (r, arn) = self.role_and_arn(caller, name).await?;
        self.iam_authorize(caller, "iam:GetRolePolicy", &arn).await?;
        let doc = r
            .inline
            .get(pname)
            .ok_or_else(|| IamError::no_such_entity(format!("The role policy with name {pname} cannot be found.")))?;
        Ok(Some(vec![
            Xml::leaf("RoleName", name),
            Xml::leaf("PolicyName", pname),
            Xml::leaf("PolicyDocument", url_encode(doc)),
        ]))
    }

    pub(crate) async fn list_role_policies(&self, caller: &Caller, p: &Params) -> IamResult {
        let (r, arn) = self.role_and_arn(caller, p.req("RoleName")?).await?;
        self.iam_authorize(caller, "iam:ListRolePolicies", &arn).await?;
        let names = r.inline.keys().map(|k| Xml::Text(k.clone())).collect();
        Ok(Some(vec![
            Xml::members("PolicyNames", names),
            Xml::leaf("IsTruncated", "false"),
        ]))
    }

    pub(crate) async fn delete_role_policy(&self, caller: &Caller, p: &Params) -> IamResult {
        let (name, pname) = (p.req("RoleName")?, p.req("PolicyName")?);
        let (mut r, arn) = self.role_and_arn(caller, name).await?;
        self.iam_authorize(caller, "iam:DeleteRolePolicy", &arn).await?;
        if r.inline.remove(pname).is_none() {
            return Err(IamError::no_such_entity(format!(
                "The role policy with name {pname} cannot be found."
            )));
        }
        self.iam_save(&caller.account_id, ROLE, name, &r, false).await?;
        Ok(None)
    }

    pub(crate) async fn attach_role_policy(&self, caller: &Caller, p: &Params, attach: bool) -> IamResult {
        let (name, policy_arn) = (p.req("RoleName")?, p.req("PolicyArn")?);
        let (mut r, arn) = self.role_and_arn(caller, name).await?;
        let action = if attach {
            "iam:AttachRolePolicy"
        } else {
            "iam:DetachRolePolicy"
        };
        self.iam_authorize(caller, action, &arn).await?;
        if attach {
            self.policy_by_arn(&caller.account_id, policy_arn).await?;
            if !r.attached.iter().any(|a| a == policy_arn) {
                r.attached.push(policy_arn.to_owned());
            }
        } else {
            let before = r.attached.len();
            r.attached.retain(|a| a != policy_arn);
            if before == r.attached.len() {
                return Err(IamError::no_such_entity(format!("Policy {policy_arn} was not found.")));
            }
        }
        self.iam_save(&caller.account_id, ROLE, name, &r, false).await?;
        Ok(None)
    }

    pub(crate) async fn list_attached_role_policies(&self, caller: &Caller, p: &Params) -> IamResult {
        let (r, arn) = self.role_and_arn(caller, p.req("RoleName")?).await?;
        self.iam_authorize(caller, "iam:ListAttachedRolePolicies", &arn).await?;
        Ok(Some(attached_xml(&r.attached)))
    }

    pub(crate) async fn create_policy(&self, caller: &Caller, p: &Params) -> IamResult {
        let (name, doc) = (p.req("PolicyName")?, p.req("PolicyDocument")?);
        check_name("policyName", name, 128)?;
        let path = p.get("Path").unwrap_or("/");
        check_path(path)?;
        let arn = model::policy_arn(&caller.account_id, path, name);
        self.iam_authorize(caller, "iam:CreatePolicy", &arn).await?;
        trent_policy::parse_identity(doc).map_err(|e| IamError::malformed(e.0))?;
        let policy = ManagedPolicy {
            v: 1,
            name: name.to_owned(),
            id: model::unique_id("ANPA")?,
            path: path.to_owned(),
            created_ms: self.now_ms(),
            document: doc.to_owned(),
            description: p.get("Description").map(str::to_owned),
        };
        self.iam_save(&caller.account_id, POLICY, name, &policy, true).await?;
        Ok(Some(vec![policy_xml(&caller.account_id, &policy, 0)]))
    }

    pub(crate) async fn get_policy(&self, caller: &Caller, p: &Params) -> IamResult {
        let arn = p.req("PolicyArn")?;
        let policy = self.policy_by_arn(&caller.account_id, arn).await?;
        self.iam_authorize(caller, "iam:GetPolicy", arn).await?;
        let n = self.attachment_count(&caller.account_id, arn).await?;
        Ok(Some(vec![policy_xml(&caller.account_id, &policy, n)]))
    }

    pub(crate) async fn get_policy_version(&self, caller: &Caller, p: &Params) -> IamResult {
        let (arn, version) = (p.req("PolicyArn")?, p.req("VersionId")?);
        let policy = self.policy_by_arn(&caller.account_id, arn).await?;
        self.iam_authorize(caller, "iam:GetPolicyVersion", arn).await?;
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

    pub(crate) async fn delete_policy(&self, caller: &Caller, p: &Params) -> IamResult {
        let arn = p.req("PolicyArn")?;
        let policy = self.policy_by_arn(&caller.account_id, arn).await?;
        self.iam_authorize(caller, "iam:DeletePolicy", arn).await?;
        if self.attachment_count(&caller.account_id, arn).await? > 0 {
            return Err(IamError::delete_conflict(
                "Cannot delete a policy attached to entities.",
            ));
        }
        self.iam_delete(&caller.account_id, POLICY, &policy.name).await?;
        Ok(None)
    }

    pub(crate) async fn list_policies(&self, caller: &Caller, p: &Params) -> IamResult {
        self.iam_authorize(caller, "iam:ListPolicies", "*").await?;
        let policies: Vec<ManagedPolicy> = self.iam_list(&caller.account_id, POLICY).await?;
        let only_attached = p.get("OnlyAttached") == Some("true");
        let scope_aws = p.get("Scope") == Some("AWS");
        let mut items = Vec::new();
        for pol in policies.iter().filter(|_| !scope_aws) {
            let arn = model::policy_arn(&caller.account_id, &pol.path, &pol.name);
            let n = self.attachment_count(&caller.account_id, &arn).await?;
            if only_attached && n == 0 {
                continue;
            }
            items.push(policy_xml(&caller.account_id, pol, n));
        }
        Ok(Some(vec![
            Xml::members("Policies", items),
            Xml::leaf("IsTruncated", "false"),
        ]))
    }
}

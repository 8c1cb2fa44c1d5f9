//! The IAM and STS subset Trent serves (users, roles, managed and inline policies, access keys,
//! AssumeRole, GetCallerIdentity): the identities KMS authorization evaluates. Operations take the
//! AWS Query parameters and answer an XML result tree; the HTTP protocol (form decoding, XML
//! envelope, error rendering) is the server's. IAM requests are themselves authorized: the
//! account root may do everything, users and roles need `iam:*` / `sts:*` identity permissions.

pub mod model;

use trent_api::KmsError;
use trent_policy::{PolicyDocument, PrincipalElement};

use crate::credentials::Caller;
use crate::Kms;

impl Kms {
    /// Every AWS principal a resource policy names must exist (reference §9.1): `*`, an existing
    /// account (id or root ARN), or an existing user, role or role session.
    pub(crate) async fn check_principals_exist(&self, doc: &PolicyDocument) -> Result<(), KmsError> {
        let mut names = Vec::new();
        for st in &doc.statements {
            for p in [&st.principal, &st.not_principal].into_iter().flatten() {
                if let PrincipalElement::Typed(map) = p {
                    if let Some(list) = map.get("AWS") {
                        names.extend(list.0.iter().cloned());
                    }
                }
            }
        }
        let missing = self
            .db(move |s| {
                let accounts: Vec<String> = s.accounts()?.into_iter().map(|a| a.account_id).collect();
                for n in &names {
                    if n == "*" {
                        continue;
                    }
                    let account_only = n.len() == 12 && n.bytes().all(|b| b.is_ascii_digit());
                    if account_only {
                        if !accounts.contains(n) {
                            return Ok(true);
                        }
                        continue;
                    }
                    let parts: Vec<&str> = n.splitn(6, ':').collect();
                    let [_, partition, service, _, account, resource] = parts.as_slice() else {
                        return Ok(true);
                    };
                    if *partition != "aws" || !accounts.iter().any(|a| a == account) {
                        return Ok(true);
                    }
                    let last = resource.rsplit('/').next().unwrap_or_default();
                    let exists = match (*service, resource.split('/').next().unwrap_or_default()) {
                        ("iam", "root") => true,
                        ("iam", "user") => s.entity(account, model::USER, last)?.is_some(),
                        ("iam", "role") => s.entity(account, model::ROLE, last)?.is_some(),
                        ("sts", "assumed-role") => {
                            let role = resource.split('/').nth(1).unwrap_or_default();
                            s.entity(account, model::ROLE, role)?.is_some()
                        }
                        _ => false,
                    };
                    if !exists {
                        return Ok(true);
                    }
                }
                Ok(false)
            })
            .await?;
        if missing {
            return Err(KmsError::MalformedPolicyDocument(
                "Policy contains a statement with one or more invalid principals.".to_owned(),
            ));
        }
        Ok(())
    }
}

pub mod protocol;
mod roles;
mod store;
mod sts;
mod users;

pub use protocol::{IamError, Params};

/// The XML namespace of a Query service's responses.
pub fn namespace(service: &str) -> &'static str {
    if service == "sts" {
        "https://sts.amazonaws.com/doc/2011-06-15/"
    } else {
        "https://iam.amazonaws.com/doc/2010-05-08/"
    }
}

impl Kms {
    /// Answers one IAM or STS Query request for an authenticated caller and records it in the
    /// audit trail.
    pub async fn handle_query(
        &self,
        caller: &Caller,
        service: &str,
        params: &Params,
        meta: &crate::RequestMeta,
    ) -> protocol::IamResult {
        let caller = &caller.with_request(crate::credentials::RequestInfo {
            request_id: meta.request_id.clone(),
            source_ip: meta.source_ip.clone(),
            ..Default::default()
        });
        let result = self.route_query(caller, service, params).await;
        let error = result.as_ref().err().map(|e| (e.code, e.message.as_str()));
        self.audit_query(caller, service, params, error);
        result
    }

    async fn route_query(&self, caller: &Caller, service: &str, params: &Params) -> protocol::IamResult {
        let action = params.get("Action").unwrap_or_default();
        match (service, action) {
            ("sts", "GetCallerIdentity") => self.get_caller_identity(caller).await,
            ("sts", "AssumeRole") => self.assume_role(caller, params).await,
            ("iam", "CreateUser") => self.create_user(caller, params).await,
            ("iam", "GetUser") => self.get_user(caller, params).await,
            ("iam", "ListUsers") => self.list_users(caller, params).await,
            ("iam", "DeleteUser") => self.delete_user(caller, params).await,
            ("iam", "CreateAccessKey") => self.create_access_key(caller, params).await,
            ("iam", "ListAccessKeys") => self.list_access_keys(caller, params).await,
            ("iam", "UpdateAccessKey") => self.update_access_key(caller, params).await,
            ("iam", "DeleteAccessKey") => self.delete_access_key(caller, params).await,
            ("iam", "PutUserPolicy") => self.put_user_policy(caller, params).await,
            ("iam", "GetUserPolicy") => self.get_user_policy(caller, params).await,
            ("iam", "ListUserPolicies") => self.list_user_policies(caller, params).await,
            ("iam", "DeleteUserPolicy") => self.delete_user_policy(caller, params).await,
            ("iam", "AttachUserPolicy") => self.attach_user_policy(caller, params, true).await,
            ("iam", "DetachUserPolicy") => self.attach_user_policy(caller, params, false).await,
            ("iam", "ListAttachedUserPolicies") => self.list_attached_user_policies(caller, params).await,
            ("iam", "CreateRole") => self.create_role(caller, params).await,
            ("iam", "GetRole") => self.get_role(caller, params).await,
            ("iam", "ListRoles") => self.list_roles(caller, params).await,
            ("iam", "DeleteRole") => self.delete_role(caller, params).await,
            ("iam", "UpdateAssumeRolePolicy") => self.update_assume_role_policy(caller, params).await,
            ("iam", "PutRolePolicy") => self.put_role_policy(caller, params).await,
            ("iam", "GetRolePolicy") => self.get_role_policy(caller, params).await,
            ("iam", "ListRolePolicies") => self.list_role_policies(caller, params).await,
            ("iam", "DeleteRolePolicy") => self.delete_role_policy(caller, params).await,
            ("iam", "AttachRolePolicy") => self.attach_role_policy(caller, params, true).await,
            ("iam", "DetachRolePolicy") => self.attach_role_policy(caller, params, false).await,
            ("iam", "ListAttachedRolePolicies") => self.list_attached_role_policies(caller, params).await,
            ("iam", "CreatePolicy") => self.create_policy(caller, params).await,
            ("iam", "GetPolicy") => self.get_policy(caller, params).await,
            ("iam", "GetPolicyVersion") => self.get_policy_version(caller, params).await,
            ("iam", "DeletePolicy") => self.delete_policy(caller, params).await,
            ("iam", "ListPolicies") => self.list_policies(caller, params).await,
            (_, other) => Err(IamError::new(
                "InvalidAction",
                400,
                format!(
                    "Could not find operation {other} for version {}",
                    if service == "sts" { "2011-06-15" } else { "2010-05-08" }
                ),
            )),
        }
    }
}

//! The IAM and STS subset Trent serves (users, groups, roles, managed and inline policies, tags,
//! access keys, AssumeRole, GetCallerIdentity): the identities KMS authorization evaluates. A walled module:
//! the server reaches it only through [`Kms::handle_query`].
//!
//! Every action is a closed [`IamAction`] and runs the same path as a KMS operation: parse the
//! Query parameters, find the entity it names (its ARN is the resource), authorize `iam:<Action>`
//! / `sts:<Action>` by identity policies (the account root may do everything; AssumeRole by the
//! role's trust policy), then change the store with that decision's authority. Every request is
//! recorded in the audit trail. The HTTP protocol (form decoding, XML envelope, error rendering)
//! is the server's.

mod actions;
mod entities;
mod groups;
mod holders;
pub(crate) mod model;
mod policies;
pub mod protocol;
mod roles;
mod simulate;
mod sts;
mod tags;
mod users;

pub use actions::IamAction;
use protocol::{IamError, IamErrorCode, IamResult, Params};
use trent_audit::Source;

use crate::credentials::Caller;
use crate::pipeline::Recorder;
use crate::service::{Kms, RequestMeta};

/// The XML namespace of a Query service's responses.
pub fn namespace(service: &str) -> &'static str {
    if service == "sts" {
        "https://sts.amazonaws.com/doc/2011-06-15/"
    } else {
        "https://iam.amazonaws.com/doc/2010-05-08/"
    }
}

/// IAM/STS members recorded in `requestParameters` (never policy documents or secrets).
const RECORDED: &[&str] = &[
    "UserName",
    "GroupName",
    "NewGroupName",
    "NewPath",
    "RoleName",
    "PolicyArn",
    "PolicyName",
    "AccessKeyId",
    "Status",
    "RoleArn",
    "RoleSessionName",
    "DurationSeconds",
    "Path",
    "VersionId",
    "MaxItems",
];

impl Kms {
    /// Answers one IAM or STS Query request for an authenticated caller and records it in the
    /// audit trail.
    pub async fn handle_query(&self, caller: &Caller, service: &str, params: &Params, meta: &RequestMeta) -> IamResult {
        let name = params.get("Action").unwrap_or("Unknown");
        let source = if service == "sts" { Source::Sts } else { Source::Iam };
        let mut recorder = Recorder::new(
            self,
            caller,
            meta,
            source,
            name.to_owned(),
            trent_audit::is_read_only(name),
        );
        if let Some(p) = recorder.parameters() {
            for member in RECORDED {
                if let Some(v) = params.get(member) {
                    p.0.push((protocol::lower_camel(member).into(), v.into()));
                }
            }
        }
        let result = match IamAction::parse(service, name) {
            Some(action) => {
                // Changes are made one at a time on this server: each reads an entity and
                // replaces exactly what it read, so two changes to one entity at once (Terraform
                // attaches a group's policies while adding its members) must not interleave.
                // Between servers the replace is a compare-and-swap (`ConcurrentModification`).
                let _serial = if action.changes_state() {
                    Some(self.write_lock.lock().await)
                } else {
                    None
                };
                let scope = if action.changes_state() {
                    recorder.scope_for_write(Vec::new())
                } else {
                    None
                };
                crate::pipeline::in_scope(scope, self.run_iam(action, caller, params, meta)).await
            }
            None => Err(IamError::new(
                IamErrorCode::InvalidAction,
                format!(
                    "Could not find operation {name} for version {}",
                    if service == "sts" { "2011-06-15" } else { "2010-05-08" }
                ),
            )),
        };
        recorder.finish(result.as_ref().err().map(|e| (e.code.as_str(), e.message.clone())));
        result
    }

    async fn run_iam(&self, action: IamAction, caller: &Caller, p: &Params, meta: &RequestMeta) -> IamResult {
        use IamAction as A;
        let cx = actions::IamCx {
            kms: self,
            caller,
            meta,
            action,
        };
        match action {
            A::GetCallerIdentity => sts::get_caller_identity(&cx).await,
            A::SimulatePrincipalPolicy => simulate::simulate_principal_policy(&cx, p).await,
            A::AssumeRole => sts::assume_role(&cx, p).await,
            A::CreateUser => users::create_user(&cx, p).await,
            A::GetUser => users::get_user(&cx, p).await,
            A::ListUsers => users::list_users(&cx, p).await,
            A::DeleteUser => users::delete_user(&cx, p).await,
            A::CreateAccessKey => users::create_access_key(&cx, p).await,
            A::ListAccessKeys => users::list_access_keys(&cx, p).await,
            A::UpdateAccessKey => users::update_access_key(&cx, p).await,
            A::DeleteAccessKey => users::delete_access_key(&cx, p).await,
            A::PutUserPolicy => holders::put_policy::<model::User>(&cx, p).await,
            A::GetUserPolicy => holders::get_policy::<model::User>(&cx, p).await,
            A::ListUserPolicies => holders::list_policies::<model::User>(&cx, p).await,
            A::DeleteUserPolicy => holders::delete_policy::<model::User>(&cx, p).await,
            A::AttachUserPolicy => holders::attach::<model::User>(&cx, p, true).await,
            A::DetachUserPolicy => holders::attach::<model::User>(&cx, p, false).await,
            A::ListAttachedUserPolicies => holders::list_attached::<model::User>(&cx, p).await,
            A::CreateRole => roles::create_role(&cx, p).await,
            A::GetRole => roles::get_role(&cx, p).await,
            A::ListRoles => roles::list_roles(&cx, p).await,
            A::DeleteRole => roles::delete_role(&cx, p).await,
            A::UpdateAssumeRolePolicy => roles::update_assume_role_policy(&cx, p).await,
            A::PutRolePolicy => holders::put_policy::<model::Role>(&cx, p).await,
            A::GetRolePolicy => holders::get_policy::<model::Role>(&cx, p).await,
            A::ListRolePolicies => holders::list_policies::<model::Role>(&cx, p).await,
            A::DeleteRolePolicy => holders::delete_policy::<model::Role>(&cx, p).await,
            A::AttachRolePolicy => holders::attach::<model::Role>(&cx, p, true).await,
            A::DetachRolePolicy => holders::attach::<model::Role>(&cx, p, false).await,
            A::ListAttachedRolePolicies => holders::list_attached::<model::Role>(&cx, p).await,
            A::CreatePolicy => policies::create_policy(&cx, p).await,
            A::GetPolicy => policies::get_policy(&cx, p).await,
            A::GetPolicyVersion => policies::get_policy_version(&cx, p).await,
            A::DeletePolicy => policies::delete_policy(&cx, p).await,
            A::ListPolicies => policies::list_policies(&cx, p).await,
            A::CreatePolicyVersion => policies::create_policy_version(&cx, p).await,
            A::ListPolicyVersions => policies::list_policy_versions(&cx, p).await,
            A::SetDefaultPolicyVersion => policies::set_default_policy_version(&cx, p).await,
            A::DeletePolicyVersion => policies::delete_policy_version(&cx, p).await,
            A::TagUser => tags::tag::<model::User>(&cx, p).await,
            A::UntagUser => tags::untag::<model::User>(&cx, p).await,
            A::ListUserTags => tags::list_tags::<model::User>(&cx, p).await,
            A::TagRole => tags::tag::<model::Role>(&cx, p).await,
            A::UntagRole => tags::untag::<model::Role>(&cx, p).await,
            A::ListRoleTags => tags::list_tags::<model::Role>(&cx, p).await,
            A::ListInstanceProfilesForRole => tags::list_instance_profiles_for_role(&cx, p).await,
            A::CreateGroup => groups::create_group(&cx, p).await,
            A::GetGroup => groups::get_group(&cx, p).await,
            A::ListGroups => groups::list_groups(&cx, p).await,
            A::UpdateGroup => groups::update_group(&cx, p).await,
            A::DeleteGroup => groups::delete_group(&cx, p).await,
            A::AddUserToGroup => groups::membership(&cx, p, true).await,
            A::RemoveUserFromGroup => groups::membership(&cx, p, false).await,
            A::ListGroupsForUser => groups::list_groups_for_user(&cx, p).await,
            A::PutGroupPolicy => holders::put_policy::<model::Group>(&cx, p).await,
            A::GetGroupPolicy => holders::get_policy::<model::Group>(&cx, p).await,
            A::ListGroupPolicies => holders::list_policies::<model::Group>(&cx, p).await,
            A::DeleteGroupPolicy => holders::delete_policy::<model::Group>(&cx, p).await,
            A::AttachGroupPolicy => holders::attach::<model::Group>(&cx, p, true).await,
            A::DetachGroupPolicy => holders::attach::<model::Group>(&cx, p, false).await,
            A::ListAttachedGroupPolicies => holders::list_attached::<model::Group>(&cx, p).await,
        }
    }
}

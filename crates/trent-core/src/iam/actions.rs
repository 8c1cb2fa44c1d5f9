//! The closed set of IAM and STS actions Trent serves, each with its service and its policy
//! action name (`iam:CreateUser`, `sts:AssumeRole`), and the per-request context the actions run
//! with.

use super::protocol::IamError;
use crate::authz::{authorize_iam, Authorized, Authorizer, IamResource};
use crate::credentials::Caller;
use crate::service::{Kms, RequestMeta};

macro_rules! iam_actions {
    ($($variant:ident = ($service:literal, $name:literal)),+ $(,)?) => {
        /// Every IAM and STS action Trent serves.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum IamAction {
            $($variant),+
        }

        impl IamAction {
            /// The action named `name` of `service` (`iam` or `sts`).
            pub fn parse(service: &str, name: &str) -> Option<IamAction> {
                match (service, name) {
                    $(($service, $name) => Some(IamAction::$variant),)+
                    _ => None,
                }
            }

            /// Actions that change stored state (their audit event is written with the change):
            /// every action but the reads (`Get*`, `List*`).
            pub fn changes_state(self) -> bool {
                match self {
                    $(IamAction::$variant => !($name.starts_with("Get")
                        || $name.starts_with("List")
                        || $name.starts_with("Simulate"))),+
                }
            }

            /// The action as policies name it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(IamAction::$variant => concat!($service, ":", $name)),+
                }
            }

        }
    };
}

iam_actions! {
    GetCallerIdentity = ("sts", "GetCallerIdentity"),
    SimulatePrincipalPolicy = ("iam", "SimulatePrincipalPolicy"),
    AssumeRole = ("sts", "AssumeRole"),
    CreateUser = ("iam", "CreateUser"),
    GetUser = ("iam", "GetUser"),
    ListUsers = ("iam", "ListUsers"),
    DeleteUser = ("iam", "DeleteUser"),
    CreateAccessKey = ("iam", "CreateAccessKey"),
    ListAccessKeys = ("iam", "ListAccessKeys"),
    UpdateAccessKey = ("iam", "UpdateAccessKey"),
    DeleteAccessKey = ("iam", "DeleteAccessKey"),
    PutUserPolicy = ("iam", "PutUserPolicy"),
    GetUserPolicy = ("iam", "GetUserPolicy"),
    ListUserPolicies = ("iam", "ListUserPolicies"),
    DeleteUserPolicy = ("iam", "DeleteUserPolicy"),
    AttachUserPolicy = ("iam", "AttachUserPolicy"),
    DetachUserPolicy = ("iam", "DetachUserPolicy"),
    ListAttachedUserPolicies = ("iam", "ListAttachedUserPolicies"),
    CreateRole = ("iam", "CreateRole"),
    GetRole = ("iam", "GetRole"),
    ListRoles = ("iam", "ListRoles"),
    DeleteRole = ("iam", "DeleteRole"),
    UpdateAssumeRolePolicy = ("iam", "UpdateAssumeRolePolicy"),
    PutRolePolicy = ("iam", "PutRolePolicy"),
    GetRolePolicy = ("iam", "GetRolePolicy"),
    ListRolePolicies = ("iam", "ListRolePolicies"),
    DeleteRolePolicy = ("iam", "DeleteRolePolicy"),
    AttachRolePolicy = ("iam", "AttachRolePolicy"),
    DetachRolePolicy = ("iam", "DetachRolePolicy"),
    ListAttachedRolePolicies = ("iam", "ListAttachedRolePolicies"),
    CreatePolicy = ("iam", "CreatePolicy"),
    GetPolicy = ("iam", "GetPolicy"),
    GetPolicyVersion = ("iam", "GetPolicyVersion"),
    DeletePolicy = ("iam", "DeletePolicy"),
    ListPolicies = ("iam", "ListPolicies"),
    CreatePolicyVersion = ("iam", "CreatePolicyVersion"),
    ListPolicyVersions = ("iam", "ListPolicyVersions"),
    SetDefaultPolicyVersion = ("iam", "SetDefaultPolicyVersion"),
    DeletePolicyVersion = ("iam", "DeletePolicyVersion"),
    TagUser = ("iam", "TagUser"),
    UntagUser = ("iam", "UntagUser"),
    ListUserTags = ("iam", "ListUserTags"),
    TagRole = ("iam", "TagRole"),
    UntagRole = ("iam", "UntagRole"),
    ListRoleTags = ("iam", "ListRoleTags"),
    ListInstanceProfilesForRole = ("iam", "ListInstanceProfilesForRole"),
    CreateGroup = ("iam", "CreateGroup"),
    GetGroup = ("iam", "GetGroup"),
    ListGroups = ("iam", "ListGroups"),
    UpdateGroup = ("iam", "UpdateGroup"),
    DeleteGroup = ("iam", "DeleteGroup"),
    AddUserToGroup = ("iam", "AddUserToGroup"),
    RemoveUserFromGroup = ("iam", "RemoveUserFromGroup"),
    ListGroupsForUser = ("iam", "ListGroupsForUser"),
    PutGroupPolicy = ("iam", "PutGroupPolicy"),
    GetGroupPolicy = ("iam", "GetGroupPolicy"),
    ListGroupPolicies = ("iam", "ListGroupPolicies"),
    DeleteGroupPolicy = ("iam", "DeleteGroupPolicy"),
    AttachGroupPolicy = ("iam", "AttachGroupPolicy"),
    DetachGroupPolicy = ("iam", "DetachGroupPolicy"),
    ListAttachedGroupPolicies = ("iam", "ListAttachedGroupPolicies"),
}

/// What an IAM action runs with.
pub(crate) struct IamCx<'a> {
    pub kms: &'a Kms,
    pub caller: &'a Caller,
    pub meta: &'a RequestMeta,
    pub action: IamAction,
}

impl IamCx<'_> {
    /// Authorizes this action on `resource` (an entity ARN, or `*`).
    pub async fn authorize(&self, resource: &str) -> Result<Authorized<IamResource>, IamError> {
        let az = Authorizer::for_iam(self.kms, self.caller, self.meta);
        Ok(authorize_iam(&az, self.action.as_str(), resource).await?)
    }

    pub fn authorizer(&self) -> Authorizer<'_> {
        Authorizer::for_iam(self.kms, self.caller, self.meta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (s, n) in [("iam", "CreateUser"), ("sts", "AssumeRole"), ("iam", "ListPolicies")] {
            let a = IamAction::parse(s, n).expect("known");
            assert_eq!(a.as_str(), format!("{s}:{n}"));
        }
        assert_eq!(IamAction::parse("sts", "CreateUser"), None);
        assert_eq!(IamAction::parse("iam", "日本語キー"), None);
    }
}

//! The one authorization decision (reference §9.3), as a pure function of its inputs: the
//! resource policy (a key policy, or a role's trust policy), the caller's identity policies, the
//! caller's grants on the key, and the request's condition facts. The server and
//! `trent policy simulate` both call [`decide`]; simulate asks for the explanation too.
//!
//! - An explicit `Deny` in the resource policy or in an identity policy wins, over grants too.
//! - The resource policy is the root of trust. A statement that names the caller (its ARN, its
//!   role, `"*"`, or the account root for the root user) allows on its own; one that names only
//!   the caller's account delegates to that account's identity policies, which must then allow
//!   too (the account root needs none).
//! - Without a resource policy (CreateKey, ListKeys, …, IAM actions) identity policies decide;
//!   the account root may do everything.
//! - A grant to the caller that includes the operation and whose constraints match allows what
//!   the policies did not, unless a policy denied explicitly.

use trent_policy::{
    applicable, outcome, Applied, Facts, Outcome, PolicyDocument, PolicyKind, Principal, PrincipalKind, Request,
};

use crate::grants::Grant;

/// Why a request is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// A resource-policy statement names the caller directly.
    ResourcePolicy,
    /// The resource policy trusts the caller's account and an identity policy (or the root
    /// user's own authority) allows.
    AccountDelegation,
    /// No resource policy applies to the action: an identity policy allows.
    IdentityPolicy,
    /// No resource policy applies to the action: the caller is the account root.
    AccountRoot,
    /// A grant allows (its id).
    Grant(String),
}

/// Why a request is denied; renders AWS's `AccessDeniedException` text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    ResourceDeny,
    IdentityDeny,
    NoResourceAllow,
    NoIdentityAllow,
}

impl Denial {
    /// The end of AWS's message (`... on resource: <arn> <reason>`).
    pub fn reason(self, action: &str) -> String {
        match self {
            Denial::ResourceDeny => "with an explicit deny in a resource-based policy".to_owned(),
            Denial::IdentityDeny => "with an explicit deny in an identity-based policy".to_owned(),
            Denial::NoResourceAllow => format!("because no resource-based policy allows the {action} action"),
            Denial::NoIdentityAllow => format!("because no identity-based policy allows the {action} action"),
        }
    }

    pub fn is_explicit(self) -> bool {
        matches!(self, Denial::ResourceDeny | Denial::IdentityDeny)
    }
}

/// A statement that applied, with its `Sid`.
#[derive(Debug, Clone)]
pub struct Cited {
    pub applied: Applied,
    pub sid: Option<String>,
}

fn cite(doc: &PolicyDocument, applied: Vec<Applied>) -> Vec<Cited> {
    applied
        .into_iter()
        .map(|a| Cited {
            sid: doc.statements.get(a.index).and_then(|s| s.sid.clone()),
            applied: a,
        })
        .collect()
}

/// What a decision rests on, for people (`policy simulate`).
#[derive(Debug, Default, Clone)]
pub struct Explanation {
    /// Applying statements of the resource policy.
    pub resource: Vec<Cited>,
    /// Applying statements per identity policy (policy index, statements).
    pub identity: Vec<(usize, Vec<Cited>)>,
    /// Every grant of the caller on the key: (grant id, grantee, operations, whether it allows).
    pub grants: Vec<(String, String, Vec<String>, bool)>,
}

/// The decision.
#[derive(Debug, Clone)]
pub struct Decision {
    pub outcome: Result<Basis, Denial>,
    pub explanation: Option<Explanation>,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        self.outcome.is_ok()
    }
}

/// Everything a decision depends on.
pub struct Inputs<'a> {
    pub principal: &'a Principal,
    /// `kms:Encrypt`, `sts:AssumeRole`, `iam:CreateUser`, …
    pub action: &'a str,
    pub resource: &'a str,
    /// The key policy (`Resource`) or trust policy (`Trust`); `None`: identity policies decide.
    pub resource_policy: Option<(&'a PolicyDocument, PolicyKind)>,
    pub identity: &'a [PolicyDocument],
    /// The caller's grants on the key (empty when there is no key).
    pub grants: &'a [&'a Grant],
    /// Whether a grant allows this request (its operation and constraints).
    pub grant_allows: &'a dyn Fn(&Grant) -> bool,
    pub facts: &'a dyn Facts,
}

/// Decides; with `explain`, also says which statements and grants applied.
pub fn decide(i: &Inputs<'_>, explain: bool) -> Decision {
    let req = Request {
        principal: i.principal,
        action: i.action,
        resource: i.resource,
        context: i.facts,
    };
    let identity = i
        .identity
        .iter()
        .map(|d| outcome(d, PolicyKind::Identity, &req))
        .fold(Outcome::default(), Outcome::merge);
    let is_root = i.principal.kind == PrincipalKind::Account;
    let identity_allows = is_root || identity.allows_directly;
    let policies = match i.resource_policy {
        None if identity.explicit_deny => Err(Denial::IdentityDeny),
        None if identity.allows_directly => Ok(Basis::IdentityPolicy),
        None if is_root => Ok(Basis::AccountRoot),
        None => Err(Denial::NoIdentityAllow),
        Some((doc, kind)) => {
            let resource = outcome(doc, kind, &req);
            if resource.explicit_deny {
                Err(Denial::ResourceDeny)
            } else if identity.explicit_deny {
                Err(Denial::IdentityDeny)
            } else if resource.allows_directly {
                Ok(Basis::ResourcePolicy)
            } else if resource.allows_account && identity_allows {
                Ok(Basis::AccountDelegation)
            } else if resource.allows_account {
                Err(Denial::NoIdentityAllow)
            } else {
                Err(Denial::NoResourceAllow)
            }
        }
    };
    // Grants allow what policies do not, but never against an explicit deny.
    let outcome = match policies {
        Err(d) if !d.is_explicit() => match i.grants.iter().find(|g| (i.grant_allows)(g)) {
            Some(g) => Ok(Basis::Grant(g.record.grant_id.clone())),
            None => Err(d),
        },
        other => other,
    };
    let explanation = explain.then(|| Explanation {
        resource: i
            .resource_policy
            .map(|(doc, kind)| cite(doc, applicable(doc, kind, &req)))
            .unwrap_or_default(),
        identity: i
            .identity
            .iter()
            .enumerate()
            .map(|(n, d)| (n, cite(d, applicable(d, PolicyKind::Identity, &req))))
            .filter(|(_, s)| !s.is_empty())
            .collect(),
        grants: i
            .grants
            .iter()
            .map(|g| {
                (
                    g.record.grant_id.clone(),
                    g.record.grantee_principal.clone(),
                    g.operations().iter().map(|o| o.as_str().to_owned()).collect(),
                    (i.grant_allows)(g),
                )
            })
            .collect(),
    });
    Decision { outcome, explanation }
}

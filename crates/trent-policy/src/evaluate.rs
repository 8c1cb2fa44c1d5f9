//! Statement matching (IAM User Guide, "Policy evaluation logic"): a statement applies when its
//! principal (resource policies), action, resource and every condition match. This module reports
//! which statements apply and how; combining policies (explicit deny wins, key policy as root of
//! trust, identity policies, grants) is the caller's decision logic (`decide`).

use crate::context::{Facts, Principal, PrincipalKind};
use crate::document::{Effect, Patterns, PolicyDocument, Principal as PrincipalElement, Statement};

/// A resource policy (key policy, trust policy: has `Principal`) or an identity policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// A key policy: names principals; a statement without `Resource` has no effect.
    Resource,
    /// A role trust policy: names principals; it has no `Resource` element (the role itself).
    Trust,
    Identity,
}

/// How a resource-policy statement named the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// By its own ARN, its role, `"*"` — the statement applies on its own.
    Directly,
    /// Through its account (`arn:aws:iam::<acct>:root` / `<acct>`): delegates to the account's
    /// identity policies (the key policy "trusts the account").
    ViaAccount,
}

/// One statement that applies to the request (its `Sid` is `doc.statements[index].sid`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub index: usize,
    pub effect: Effect,
    /// `Some` for resource policies.
    pub named: Option<Named>,
}

/// The request being evaluated.
pub struct Request<'a> {
    pub principal: &'a Principal,
    pub action: &'a str,
    pub resource: &'a str,
    /// Condition-key values, looked up lazily.
    pub context: &'a dyn Facts,
}

fn account_of_entry(entry: &str) -> Option<&str> {
    if entry.len() == 12 && entry.bytes().all(|b| b.is_ascii_digit()) {
        return Some(entry);
    }
    entry
        .strip_prefix("arn:aws:iam::")
        .and_then(|r| r.strip_suffix(":root"))
}

fn name_principal(element: &PrincipalElement, p: &Principal) -> Option<Named> {
    let entries = match element {
        PrincipalElement::Any => return Some(Named::Directly),
        PrincipalElement::Typed(map) => match map.get("AWS") {
            Some(list) => &list.0,
            None => return None,
        },
    };
    let mut best = None;
    for e in entries {
        if e == "*" || e == &p.arn || p.role_arn.as_deref() == Some(e.as_str()) {
            return Some(Named::Directly);
        }
        if account_of_entry(e) == Some(p.account.as_str()) {
            // The root user is the account itself.
            best = Some(if p.kind == PrincipalKind::Account {
                Named::Directly
            } else {
                Named::ViaAccount
            });
        }
    }
    best
}

fn any_like(patterns: &Patterns, value: &str, vars: Option<&dyn Facts>, ignore_case: bool) -> bool {
    patterns.iter().any(|p| p.matches(value, vars, ignore_case))
}

/// Whether one statement applies; `Some(named)` (always `Directly` for identity policies).
fn applies(st: &Statement, kind: PolicyKind, req: &Request<'_>, vars: Option<&dyn Facts>) -> Option<Named> {
    let named = match kind {
        PolicyKind::Identity => Named::Directly,
        PolicyKind::Resource | PolicyKind::Trust => match (&st.principal, &st.not_principal) {
            (Some(p), _) => name_principal(p, req.principal)?,
            (None, Some(np)) => {
                if name_principal(np, req.principal).is_some() {
                    return None;
                }
                Named::Directly
            }
            (None, None) => return None,
        },
    };
    // A statement without Action or Resource has no effect (reference §9.1).
    let action_ok = match (&st.action, &st.not_action) {
        (Some(a), _) => any_like(a, req.action, None, true),
        (None, Some(na)) => !any_like(na, req.action, None, true),
        (None, None) => false,
    };
    let resource_ok = match (&st.resource, &st.not_resource) {
        (Some(r), _) => any_like(r, req.resource, vars, false),
        (None, Some(nr)) => !any_like(nr, req.resource, vars, false),
        (None, None) => kind == PolicyKind::Trust,
    };
    if !action_ok || !resource_ok {
        return None;
    }
    let conditions_ok = st.conditions.iter().all(|c| c.holds(req.context, vars));
    conditions_ok.then_some(named)
}

/// The applying statements of `doc`, in order (allocation-free).
fn each_applicable<'a>(
    doc: &'a PolicyDocument,
    kind: PolicyKind,
    req: &'a Request<'a>,
) -> impl Iterator<Item = Applied> + 'a {
    // Policy variables exist only in version 2012-10-17 documents; elsewhere `${…}` is text.
    let vars: Option<&dyn Facts> = (doc.version.as_deref() == Some("2012-10-17")).then_some(req.context);
    doc.statements.iter().enumerate().filter_map(move |(index, st)| {
        applies(st, kind, req, vars).map(|named| Applied {
            index,
            effect: st.effect,
            named: (kind != PolicyKind::Identity).then_some(named),
        })
    })
}

/// Every statement of `doc` that applies to `req` (for explanations: `policy simulate`).
pub fn applicable(doc: &PolicyDocument, kind: PolicyKind, req: &Request<'_>) -> Vec<Applied> {
    each_applicable(doc, kind, req).collect()
}

/// The summary of one policy for one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    pub explicit_deny: bool,
    /// An Allow statement named the caller directly (or it is an identity policy).
    pub allows_directly: bool,
    /// An Allow statement named only the caller's account.
    pub allows_account: bool,
}

impl Outcome {
    /// Combines the outcomes of several policies of one kind (identity policies).
    pub fn merge(self, other: Outcome) -> Outcome {
        Outcome {
            explicit_deny: self.explicit_deny || other.explicit_deny,
            allows_directly: self.allows_directly || other.allows_directly,
            allows_account: self.allows_account || other.allows_account,
        }
    }
}

/// Evaluates a whole document (every statement: an explicit deny anywhere wins).
pub fn outcome(doc: &PolicyDocument, kind: PolicyKind, req: &Request<'_>) -> Outcome {
    let mut o = Outcome::default();
    for s in each_applicable(doc, kind, req) {
        match (s.effect, s.named) {
            (Effect::Deny, _) => o.explicit_deny = true,
            (Effect::Allow, Some(Named::ViaAccount)) => o.allows_account = true,
            (Effect::Allow, _) => o.allows_directly = true,
        }
    }
    o
}

//! The request an evaluation answers: who (the principal), what (action), on what (resource), and
//! the condition-key values of the request context. Condition-key names are case-insensitive
//! (IAM User Guide, "Condition element"); values keep their case.

use std::collections::{BTreeMap, HashMap};

use crate::pattern::Variables;

/// What kind of principal made the request (`aws:PrincipalType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The account root user (`arn:aws:iam::<acct>:root`).
    Account,
    User,
    AssumedRole,
}

impl PrincipalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::Account => "Account",
            PrincipalKind::User => "User",
            PrincipalKind::AssumedRole => "AssumedRole",
        }
    }
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Root, user or assumed-role session ARN.
    pub arn: String,
    pub account: String,
    pub kind: PrincipalKind,
    /// The role of an assumed-role session.
    pub role_arn: Option<String>,
    /// `aws:userid`: account id (root), AIDA… (user), AROA…:session (assumed role).
    pub user_id: String,
    /// `aws:username` (users only).
    pub user_name: Option<String>,
    pub tags: BTreeMap<String, String>,
}

impl Principal {
    /// `aws:PrincipalArn`: for an assumed-role session, the role's ARN.
    pub fn principal_arn(&self) -> &str {
        self.role_arn.as_deref().unwrap_or(&self.arn)
    }
}

/// Condition-key values of one request.
#[derive(Debug, Clone, Default)]
pub struct Context {
    values: HashMap<String, Vec<String>>,
}

impl Context {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a single-valued key.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.values.insert(key.to_ascii_lowercase(), vec![value.into()]);
    }

    /// Sets a multi-valued key (`kms:EncryptionContextKeys`, `aws:TagKeys`, …).
    pub fn set_all(&mut self, key: &str, values: Vec<String>) {
        self.values.insert(key.to_ascii_lowercase(), values);
    }

    pub fn get(&self, key: &str) -> Option<&Vec<String>> {
        self.values.get(&key.to_ascii_lowercase())
    }

    /// Adds the global `aws:` keys that describe the principal.
    pub fn add_principal(&mut self, p: &Principal) {
        self.set("aws:PrincipalArn", p.principal_arn());
        self.set("aws:PrincipalAccount", p.account.clone());
        self.set("aws:PrincipalType", p.kind.as_str());
        self.set("aws:userid", p.user_id.clone());
        if let Some(u) = &p.user_name {
            self.set("aws:username", u.clone());
        }
        for (k, v) in &p.tags {
            self.set(&format!("aws:PrincipalTag/{k}"), v.clone());
        }
    }
}

impl Variables for Context {
    fn variable(&self, name_lower: &str) -> Option<String> {
        match self.values.get(name_lower) {
            Some(v) if v.len() == 1 => Some(v[0].clone()),
            _ => None,
        }
    }
}

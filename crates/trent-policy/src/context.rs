//! The request an evaluation answers: who (the principal), what (action), on what (resource), and
//! the condition-key values of the request context. Condition-key names are case-insensitive
//! (IAM User Guide, "Condition element"); values keep their case.
//!
//! Values are looked up lazily through [`Facts`]: the evaluator asks only for the keys a policy's
//! conditions and variables name, so a policy without conditions costs no context at all.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

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

    /// The global `aws:` keys that describe the principal (`key` lower-case).
    pub fn fact(&self, key: &str) -> Option<Values<'_>> {
        fn one(s: &str) -> Option<Values<'_>> {
            Some(Values::one(Cow::Borrowed(s)))
        }
        match key {
            "aws:principalarn" => one(self.principal_arn()),
            "aws:principalaccount" => one(&self.account),
            "aws:principaltype" => one(self.kind.as_str()),
            "aws:userid" => one(&self.user_id),
            "aws:username" => self.user_name.as_deref().and_then(one),
            _ => {
                let tag = strip_prefix_ignore_ascii_case(key, "aws:principaltag/")?;
                self.tags
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(tag))
                    .and_then(|(_, v)| one(v))
            }
        }
    }
}

/// `key` without `prefix`, comparing the prefix ignoring ASCII case (bytes, never a character
/// boundary: a prefix is ASCII).
pub fn strip_prefix_ignore_ascii_case<'a>(key: &'a str, prefix: &str) -> Option<&'a str> {
    let head = key.as_bytes().get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix.as_bytes()) {
        return None;
    }
    key.get(prefix.len()..)
}

/// The values of one condition key: usually one, several for multi-valued keys
/// (`kms:EncryptionContextKeys`, `aws:TagKeys`, `kms:GrantOperations`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Values<'a>(ValuesInner<'a>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum ValuesInner<'a> {
    One(Cow<'a, str>),
    Many(Vec<Cow<'a, str>>),
}

impl<'a> Values<'a> {
    pub fn one(v: Cow<'a, str>) -> Self {
        Values(ValuesInner::One(v))
    }

    pub fn many(v: Vec<Cow<'a, str>>) -> Self {
        Values(ValuesInner::Many(v))
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            ValuesInner::One(_) => 1,
            ValuesInner::Many(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn first(&self) -> Option<&str> {
        self.iter().next()
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let (one, many) = match &self.0 {
            ValuesInner::One(v) => (Some(v.as_ref()), None),
            ValuesInner::Many(v) => (None, Some(v.iter().map(|c| c.as_ref()))),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }
}

/// Condition-key values of one request, looked up by lower-case key name.
pub trait Facts {
    fn values(&self, key: &str) -> Option<Values<'_>>;
}

/// A materialised context: a map from lower-case key to values. Tests and `policy simulate`
/// use it; the service answers keys lazily from the typed request instead.
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

impl Facts for Context {
    fn values(&self, key: &str) -> Option<Values<'_>> {
        let v = self.values.get(key)?;
        Some(Values::many(v.iter().map(|s| Cow::Borrowed(s.as_str())).collect()))
    }
}

/// No facts at all.
pub struct NoFacts;

impl Facts for NoFacts {
    fn values(&self, _: &str) -> Option<Values<'_>> {
        None
    }
}

//! Grammar of IAM policy documents (IAM User Guide, "IAM JSON policy element reference").
//!
//! `Version` is `2012-10-17` or `2008-10-17`; `Statement` is one object or a non-empty array; each
//! statement has `Effect` (`Allow`|`Deny`), exactly one of `Principal`/`NotPrincipal` (required in
//! a resource policy), at most one of `Action`/`NotAction` and of `Resource`/`NotResource`
//! (AWS KMS accepts statements that lack them and treats them as having no effect, reference
//! §9.1), and an optional `Condition` map `operator → key → value(s)`.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::condition::{Condition, Operator, PolicyValue};
use crate::pattern::Glob;

/// Why a document is malformed; the text is what the client sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError(msg.into()))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// A string or a list of strings, as IAM allows for most elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneOrMany(pub Vec<String>);

/// `Action` / `Resource` values, compiled as wildcard patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patterns(pub Vec<Glob>);

impl Patterns {
    fn of(v: OneOrMany) -> Patterns {
        Patterns(v.0.iter().map(|s| Glob::new(s)).collect())
    }

    pub fn iter(&self) -> impl Iterator<Item = &Glob> {
        self.0.iter()
    }
}

/// `Principal` / `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// `"*"` (anyone).
    Any,
    /// `{"AWS": [...], "Service": [...], ...}` by principal type.
    Typed(BTreeMap<String, OneOrMany>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<Principal>,
    pub not_principal: Option<Principal>,
    pub action: Option<Patterns>,
    pub not_action: Option<Patterns>,
    pub resource: Option<Patterns>,
    pub not_resource: Option<Patterns>,
    /// Every `operator → key → values` entry, compiled; all must hold.
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDocument {
    pub version: Option<String>,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

impl PolicyDocument {
    /// What evaluating the document can cost, in condition values to compare: each is matched
    /// against every value of its key in the request (linear in both, see `pattern`). The
    /// service uses it to move an evaluation that could take milliseconds off the async
    /// executor.
    pub fn weight(&self) -> usize {
        self.statements
            .iter()
            .flat_map(|s| &s.conditions)
            .map(|c| c.values.len())
            .sum()
    }
}

fn one_or_many(v: &Value, what: &str) -> Result<OneOrMany, PolicyError> {
    match v {
        Value::String(s) => Ok(OneOrMany(vec![s.clone()])),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                _ => err(format!("{what} must contain only strings")),
            })
            .collect::<Result<_, _>>()
            .map(OneOrMany),
        Value::Array(_) => err(format!("{what} must not be empty")),
        _ => err(format!("{what} must be a string or an array of strings")),
    }
}

/// Condition values may be strings, numbers or booleans; all compare as strings.
fn condition_values(v: &Value) -> Result<OneOrMany, PolicyError> {
    let scalar = |i: &Value| match i {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => err("Condition values must be strings, numbers or booleans"),
    };
    match v {
        Value::Array(items) => items.iter().map(scalar).collect::<Result<_, _>>().map(OneOrMany),
        other => scalar(other).map(|s| OneOrMany(vec![s])),
    }
}

fn patterns(v: Option<&Value>, what: &str) -> Result<Option<Patterns>, PolicyError> {
    v.map(|v| one_or_many(v, what).map(Patterns::of)).transpose()
}

fn principal(v: &Value) -> Result<Principal, PolicyError> {
    match v {
        Value::String(s) if s == "*" => Ok(Principal::Any),
        Value::Object(m) if !m.is_empty() => {
            let mut out = BTreeMap::new();
            for (k, v) in m {
                if !matches!(k.as_str(), "AWS" | "Service" | "Federated" | "CanonicalUser") {
                    return err(format!("Invalid principal type: {k}"));
                }
                out.insert(k.clone(), one_or_many(v, "Principal")?);
            }
            Ok(Principal::Typed(out))
        }
        _ => err("Principal must be \"*\" or an object of principal types"),
    }
}

fn statement(v: &Value, identity: bool) -> Result<Statement, PolicyError> {
    let Value::Object(m) = v else {
        return err("Statement must be an object or an array of objects");
    };
    const KNOWN: &[&str] = &[
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    ];
    if let Some(k) = m.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return err(format!("Statement contains an unknown element: {k}"));
    }
    let get = |k: &str| m.get(k);
    let effect = match get("Effect") {
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        Some(_) => return err("Effect must be Allow or Deny"),
        None => return err("Statement is missing the required Effect element"),
    };
    let sid = match get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return err("Sid must be a string"),
    };
    let both = |a: &str, b: &str| m.contains_key(a) && m.contains_key(b);
    if both("Principal", "NotPrincipal") || both("Action", "NotAction") || both("Resource", "NotResource") {
        return err("Statement may not contain both an element and its Not-counterpart");
    }
    let principal_el = get("Principal").map(principal).transpose()?;
    let not_principal = get("NotPrincipal").map(principal).transpose()?;
    if identity && (principal_el.is_some() || not_principal.is_some()) {
        return err("Policy document should not specify a principal.");
    }
    if !identity && principal_el.is_none() && not_principal.is_none() {
        return err("Policy contains a statement with no principal.");
    }
    let mut conditions = Vec::new();
    if let Some(c) = get("Condition") {
        let Value::Object(ops) = c else {
            return err("Condition must be an object");
        };
        for (op, keys) in ops {
            let Some(operator) = Operator::parse(op) else {
                return err(format!("Invalid Condition operator: {op}"));
            };
            let Value::Object(keys) = keys else {
                return err(format!("Condition operator {op} must map condition keys to values"));
            };
            for (k, v) in keys {
                conditions.push(Condition {
                    operator_text: op.clone(),
                    operator,
                    key: k.clone(),
                    key_lower: k.to_ascii_lowercase(),
                    values: condition_values(v)?
                        .0
                        .into_iter()
                        .map(|raw| PolicyValue::new(&operator, raw))
                        .collect(),
                });
            }
        }
    }
    Ok(Statement {
        sid,
        effect,
        principal: principal_el,
        not_principal,
        action: patterns(get("Action"), "Action")?,
        not_action: patterns(get("NotAction"), "NotAction")?,
        resource: patterns(get("Resource"), "Resource")?,
        not_resource: patterns(get("NotResource"), "NotResource")?,
        conditions,
    })
}

/// Parses and checks a resource policy document (key policy, trust policy): every statement
/// names a principal.
pub fn parse(text: &str) -> Result<PolicyDocument, PolicyError> {
    parse_as(text, false)
}

/// Parses and checks an identity policy (user, role, managed policy): no statement names a
/// principal.
pub fn parse_identity(text: &str) -> Result<PolicyDocument, PolicyError> {
    parse_as(text, true)
}

fn parse_as(text: &str, identity: bool) -> Result<PolicyDocument, PolicyError> {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return err("The policy document is not valid JSON.");
    };
    let Value::Object(m): Value = v else {
        return err("The policy document must be a JSON object.");
    };
    document(&m, identity)
}

fn document(m: &Map<String, Value>, identity: bool) -> Result<PolicyDocument, PolicyError> {
    if let Some(k) = m.keys().find(|k| !matches!(k.as_str(), "Version" | "Id" | "Statement")) {
        return err(format!("Policy contains an unknown element: {k}"));
    }
    let version = match m.get("Version") {
        None => None,
        Some(Value::String(s)) if s == "2012-10-17" || s == "2008-10-17" => Some(s.clone()),
        Some(_) => return err("The policy Version must be 2012-10-17 or 2008-10-17."),
    };
    let id = match m.get("Id") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return err("Id must be a string"),
    };
    let statements = match m.get("Statement") {
        Some(Value::Array(items)) if !items.is_empty() => {
            items.iter().map(|i| statement(i, identity)).collect::<Result<_, _>>()?
        }
        Some(obj @ Value::Object(_)) => vec![statement(obj, identity)?],
        Some(_) => return err("Statement must be an object or a non-empty array"),
        None => return err("Policy is missing the required Statement element"),
    };
    Ok(PolicyDocument {
        version,
        id,
        statements,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: &str = r#"{
  "Version" : "2012-10-17",
  "Id" : "key-default-1",
  "Statement" : [ {
    "Sid" : "Enable IAM User Permissions",
    "Effect" : "Allow",
    "Principal" : {
      "AWS" : "arn:aws:iam::111122223333:root"
    },
    "Action" : "kms:*",
    "Resource" : "*"
  } ]
}"#;

    #[test]
    fn parses_the_default_key_policy() {
        let p = parse(DEFAULT).expect("valid");
        assert_eq!(p.statements.len(), 1);
        let st = p.statements.first().expect("one statement");
        assert_eq!(st.effect, Effect::Allow);
        assert_eq!(st.action, Some(Patterns(vec![Glob::new("kms:*")])));
    }

    #[test]
    fn statement_without_action_is_accepted() {
        // Reference §9.1: KMS accepts it; the statement has no effect.
        assert!(parse(r#"{"Statement":{"Effect":"Allow","Principal":"*"}}"#).is_ok());
    }

    #[test]
    fn rejects_malformed_documents() {
        for bad in [
            "not json",
            "[]",
            r#"{"Version":"2012-10-17"}"#,
            r#"{"Statement":[]}"#,
            r#"{"Statement":{"Effect":"Maybe","Principal":"*","Action":"kms:*"}}"#,
            r#"{"Statement":{"Effect":"Allow","Action":"kms:*"}}"#,
            r#"{"Statement":{"Effect":"Allow","Principal":{"Bogus":"x"},"Action":"kms:*"}}"#,
            r#"{"Version":"2020-01-01","Statement":{"Effect":"Allow","Principal":"*"}}"#,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"a","NotAction":"b"}}"#,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Condition":{"StringEquals":"x"}}}"#,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Foo":1}}"#,
        ] {
            assert!(parse(bad).is_err(), "accepted: {bad}");
        }
    }
}

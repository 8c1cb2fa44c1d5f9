//! The AWS Query protocol's vocabulary for IAM/STS results: request parameters, the typed error
//! (code, HTTP status, message — IAM API Reference "Common errors"), and XML result helpers.

use std::collections::BTreeMap;

use trent_api::xml::Xml;
use trent_api::KmsError;

/// Form parameters of one request (`Action`, `Version` and the action's members).
#[derive(Debug, Default, Clone)]
pub struct Params(pub BTreeMap<String, String>);

impl Params {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// A required member: AWS answers `ValidationError` naming it in lower camel case.
    pub fn req(&self, k: &str) -> Result<&str, IamError> {
        self.get(k).ok_or_else(|| {
            let field = crate::audit::lower_camel(k);
            IamError::validation(format!(
                "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
            ))
        })
    }

    /// `Tags.member.N.Key` / `Tags.member.N.Value` pairs.
    pub fn tags(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for n in 1.. {
            let (Some(k), Some(v)) = (
                self.0.get(&format!("Tags.member.{n}.Key")),
                self.0.get(&format!("Tags.member.{n}.Value")),
            ) else {
                break;
            };
            out.insert(k.clone(), v.clone());
        }
        out
    }
}

/// An IAM/STS error as the Query protocol renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamError {
    pub code: &'static str,
    pub status: u16,
    pub message: String,
    /// `Sender` (client) or `Receiver` (server) in the XML `Type` element.
    pub sender: bool,
}

impl IamError {
    pub fn new(code: &'static str, status: u16, message: impl Into<String>) -> Self {
        Self {
            code,
            status,
            message: message.into(),
            sender: status < 500,
        }
    }
    pub fn validation(m: impl Into<String>) -> Self {
        Self::new("ValidationError", 400, m)
    }
    pub fn no_such_entity(m: impl Into<String>) -> Self {
        Self::new("NoSuchEntity", 404, m)
    }
    pub fn exists(m: impl Into<String>) -> Self {
        Self::new("EntityAlreadyExists", 409, m)
    }
    pub fn delete_conflict(m: impl Into<String>) -> Self {
        Self::new("DeleteConflict", 409, m)
    }
    pub fn malformed(m: impl Into<String>) -> Self {
        Self::new("MalformedPolicyDocument", 400, m)
    }
    pub fn limit(m: impl Into<String>) -> Self {
        Self::new("LimitExceeded", 409, m)
    }
}

impl From<KmsError> for IamError {
    fn from(e: KmsError) -> Self {
        match e {
            KmsError::AccessDenied(m) => IamError::new("AccessDenied", 403, m),
            KmsError::Internal(detail) => {
                tracing::error!(%detail, "IAM internal error");
                IamError::new("ServiceFailure", 500, "An internal error occurred.")
            }
            other => IamError::validation(other.client_message()),
        }
    }
}

/// An action's result: the children of `<Action>Result`, or `None` for actions without one.
pub type IamResult = Result<Option<Vec<Xml>>, IamError>;

/// ISO 8601 time as IAM renders it (`2026-11-28T21:00:00Z`).
pub fn iso(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms / 1000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(fmt).unwrap_or_default()
}

/// IAM returns policy documents URL-encoded (RFC 3986); SDKs decode them.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `[\w+=,.@-]+` (IAM user, role and policy names), 1–`max` characters.
pub fn check_name(field: &str, v: &str, max: usize) -> Result<(), IamError> {
    let ok_chars = v.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if v.is_empty() || v.chars().count() > max || !ok_chars {
        return Err(IamError::validation(format!(
            "1 validation error detected: Value '{v}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"
        )));
    }
    Ok(())
}

/// `/` or `/a/b/` (IAM paths).
pub fn check_path(v: &str) -> Result<(), IamError> {
    if !(v.starts_with('/') && v.ends_with('/')) || v.len() > 512 {
        return Err(IamError::validation(format!(
            "1 validation error detected: Value '{v}' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007F]+\\u002F)"
        )));
    }
    Ok(())
}

pub fn tags_xml(tags: &BTreeMap<String, String>) -> Option<Xml> {
    (!tags.is_empty()).then(|| {
        Xml::members(
            "Tags",
            tags.iter()
                .map(|(k, v)| Xml::el("Tag", vec![Xml::leaf("Key", k), Xml::leaf("Value", v)]))
                .collect(),
        )
    })
}

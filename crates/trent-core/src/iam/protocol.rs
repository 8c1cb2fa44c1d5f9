//! The AWS Query protocol's vocabulary for IAM/STS: request parameters, the typed error (a closed
//! set of codes, each with its HTTP status and `Sender`/`Receiver` type — IAM API Reference,
//! "Common errors" and each action's errors), XML result helpers and `MaxItems`/`Marker` paging.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use trent_api::xml::Xml;
use trent_api::{ErrorCode, KmsError};

/// Form parameters of one request (`Action`, `Version` and the action's members).
#[derive(Debug, Default, Clone)]
pub struct Params(pub BTreeMap<String, String>);

/// `KeyId` → `keyId`: AWS's member names in messages and CloudTrail records.
pub(crate) fn lower_camel(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

impl Params {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// A required member: AWS answers `ValidationError` naming it in lower camel case.
    pub fn req(&self, k: &str) -> Result<&str, IamError> {
        self.get(k).ok_or_else(|| {
            IamError::validation(format!(
                "1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null",
                lower_camel(k)
            ))
        })
    }

    /// `Tags.member.N.Key` / `Tags.member.N.Value` pairs, validated as IAM does: at most 50, keys
    /// 1–128 and values 0–256 characters of `[\p{L}\p{Z}\p{N}_.:/=+\-@]` (no control characters:
    /// a tag is echoed in XML answers).
    pub fn tags(&self) -> Result<BTreeMap<String, String>, IamError> {
        let mut out = BTreeMap::new();
        for n in 1.. {
            let key = self.0.get(&format!("Tags.member.{n}.Key"));
            let value = self.0.get(&format!("Tags.member.{n}.Value"));
            let Some(k) = key else {
                if value.is_some() {
                    return Err(IamError::validation(format!(
                        "1 validation error detected: Value null at 'tags.{n}.member.key' failed to satisfy constraint: Member must not be null"
                    )));
                }
                break;
            };
            let v = value.map(String::as_str).unwrap_or_default();
            if n > MAX_TAGS {
                return Err(IamError::limit(format!(
                    "The number of tags has reached the maximum limit of {MAX_TAGS}."
                )));
            }
            check_tag_text(&format!("tags.{n}.member.key"), k, 1, 128, "+")?;
            check_tag_text(&format!("tags.{n}.member.value"), v, 0, 256, "*")?;
            out.insert(k.clone(), v.to_owned());
        }
        Ok(out)
    }

    /// `<Name>.member.N` values.
    pub fn members(&self, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        for n in 1.. {
            let Some(v) = self.0.get(&format!("{name}.member.{n}")) else {
                break;
            };
            out.push(v.clone());
        }
        out
    }
}

/// Tags per IAM user or role.
pub const MAX_TAGS: usize = 50;

/// `\p{Z}`: space, line and paragraph separators (not control characters).
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]` with a length range (IAM `tagKeyType` / `tagValueType`).
pub(crate) fn check_tag_text(member: &str, v: &str, min: usize, max: usize, quantifier: &str) -> Result<(), IamError> {
    let n = v.chars().count();
    if n < min || n > max {
        let bound = if n < min {
            format!("greater than or equal to {min}")
        } else {
            format!("less than or equal to {max}")
        };
        return Err(IamError::validation(format!(
            "1 validation error detected: Value '{v}' at '{member}' failed to satisfy constraint: Member must have length {bound}"
        )));
    }
    let ok = v
        .chars()
        .all(|c| c.is_alphabetic() || c.is_numeric() || is_separator(c) || "_.:/=+-@".contains(c));
    if !ok {
        return Err(IamError::validation(format!(
            "1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]{quantifier}"
        )));
    }
    Ok(())
}

/// IAM's free text (`Description`): `[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`.
pub fn check_description(v: &str) -> Result<(), IamError> {
    let ok = v
        .chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{A1}'..='\u{FF}'));
    if !ok {
        return Err(IamError::validation(
            "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*",
        ));
    }
    Ok(())
}

/// IAM policy documents: `[\u0009\u000A\u000D\u0020-\u00FF]+`, 1–131072 characters.
pub fn check_document_text(member: &str, doc: &str) -> Result<(), IamError> {
    let n = doc.chars().count();
    if n > 131_072 {
        return Err(IamError::validation(format!(
            "1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have length less than or equal to 131072"
        )));
    }
    let ok = doc
        .chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FF}'));
    if !ok {
        return Err(IamError::validation(format!(
            "1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+"
        )));
    }
    Ok(())
}

/// A policy's size as IAM counts it against its quotas: characters, white space not counted.
pub fn policy_size(doc: &str) -> usize {
    doc.chars().filter(|c| !c.is_whitespace()).count()
}

/// Every error code the IAM and STS endpoints answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IamErrorCode {
    AccessDenied,
    ConcurrentModification,
    DeleteConflict,
    EntityAlreadyExists,
    ExpiredToken,
    IncompleteSignature,
    InvalidAction,
    InvalidClientTokenId,
    LimitExceeded,
    MalformedPolicyDocument,
    MissingAuthenticationToken,
    NoSuchEntity,
    ServiceFailure,
    /// The service cannot answer now (sealed): HTTP 503, retried by the SDKs (IAM API
    /// Reference, "Common errors").
    ServiceUnavailable,
    SignatureDoesNotMatch,
    ValidationError,
}

impl IamErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            IamErrorCode::AccessDenied => "AccessDenied",
            IamErrorCode::ConcurrentModification => "ConcurrentModification",
            IamErrorCode::DeleteConflict => "DeleteConflict",
            IamErrorCode::EntityAlreadyExists => "EntityAlreadyExists",
            IamErrorCode::ExpiredToken => "ExpiredToken",
            IamErrorCode::IncompleteSignature => "IncompleteSignature",
            IamErrorCode::InvalidAction => "InvalidAction",
            IamErrorCode::InvalidClientTokenId => "InvalidClientTokenId",
            IamErrorCode::LimitExceeded => "LimitExceeded",
            IamErrorCode::MalformedPolicyDocument => "MalformedPolicyDocument",
            IamErrorCode::MissingAuthenticationToken => "MissingAuthenticationToken",
            IamErrorCode::NoSuchEntity => "NoSuchEntity",
            IamErrorCode::ServiceFailure => "ServiceFailure",
            IamErrorCode::ServiceUnavailable => "ServiceUnavailable",
            IamErrorCode::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            IamErrorCode::ValidationError => "ValidationError",
        }
    }

    /// The HTTP status IAM and STS answer with (IAM API Reference).
    pub fn status(self) -> u16 {
        match self {
            IamErrorCode::AccessDenied
            | IamErrorCode::InvalidClientTokenId
            | IamErrorCode::MissingAuthenticationToken
            | IamErrorCode::SignatureDoesNotMatch => 403,
            IamErrorCode::NoSuchEntity => 404,
            IamErrorCode::ConcurrentModification
            | IamErrorCode::DeleteConflict
            | IamErrorCode::EntityAlreadyExists
            | IamErrorCode::LimitExceeded => 409,
            IamErrorCode::ServiceFailure => 500,
            IamErrorCode::ServiceUnavailable => 503,
            IamErrorCode::ExpiredToken
            | IamErrorCode::IncompleteSignature
            | IamErrorCode::InvalidAction
            | IamErrorCode::MalformedPolicyDocument
            | IamErrorCode::ValidationError => 400,
        }
    }
}

/// An IAM/STS error as the Query protocol renders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamError {
    pub code: IamErrorCode,
    pub message: String,
}

impl IamError {
    pub fn new(code: IamErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
    pub fn status(&self) -> u16 {
        self.code.status()
    }
    /// `Sender` (client) or `Receiver` (server) in the XML `Type` element.
    pub fn is_sender(&self) -> bool {
        self.status() < 500
    }
    pub fn validation(m: impl Into<String>) -> Self {
        Self::new(IamErrorCode::ValidationError, m)
    }
    pub fn no_such_entity(m: impl Into<String>) -> Self {
        Self::new(IamErrorCode::NoSuchEntity, m)
    }
    pub fn exists(m: impl Into<String>) -> Self {
        Self::new(IamErrorCode::EntityAlreadyExists, m)
    }
    pub fn delete_conflict(m: impl Into<String>) -> Self {
        Self::new(IamErrorCode::DeleteConflict, m)
    }
    pub fn malformed(m: impl Into<String>) -> Self {
        Self::new(IamErrorCode::MalformedPolicyDocument, m)
    }
    pub fn limit(m: impl Into<String>) -> Self {
        Self::new(IamErrorCode::LimitExceeded, m)
    }
}

impl From<KmsError> for IamError {
    /// The service errors an IAM action can meet: a denied decision, a store failure, or a
    /// validation message; every other KMS code is a client error in IAM's vocabulary too.
    fn from(e: KmsError) -> Self {
        match e.code() {
            ErrorCode::AccessDenied => IamError::new(IamErrorCode::AccessDenied, e.client_message()),
            ErrorCode::KmsInternal => {
                tracing::error!(detail = %e, "IAM internal error");
                IamError::new(IamErrorCode::ServiceFailure, "An internal error occurred.")
            }
            ErrorCode::MalformedPolicyDocument => IamError::malformed(e.client_message()),
            ErrorCode::NotFound => IamError::no_such_entity(e.client_message()),
            ErrorCode::AlreadyExists => IamError::exists(e.client_message()),
            ErrorCode::LimitExceeded => IamError::limit(e.client_message()),
            _ => IamError::validation(e.client_message()),
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
            out.push(char::from(b));
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

/// `/` or `/a/b/` (IAM paths: `(\u002F)|(\u002F[\u0021-\u007F]+\u002F)`, at most 512).
pub fn check_path(v: &str) -> Result<(), IamError> {
    let printable = v.chars().all(|c| ('\u{21}'..='\u{7f}').contains(&c));
    if !(v.starts_with('/') && v.ends_with('/')) || v.len() > 512 || !printable {
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

/// One page of a list: `MaxItems` (1–1000, default 100) items after `Marker`, with `IsTruncated`
/// and the next `Marker` when more remain (IAM API Reference, "Pagination"). `items` are in
/// order of `key`, which the opaque marker names.
pub fn page<T>(items: Vec<T>, p: &Params, key: impl Fn(&T) -> &str) -> Result<(Vec<T>, Vec<Xml>), IamError> {
    let max = match p.get("MaxItems") {
        None => 100,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => {
                return Err(IamError::validation(format!(
                    "1 validation error detected: Value '{v}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000"
                )))
            }
        },
    };
    let after = match p.get("Marker") {
        None => None,
        Some(m) => {
            let bytes = URL_SAFE_NO_PAD
                .decode(m.as_bytes())
                .map_err(|_| IamError::validation("Invalid Marker."))?;
            Some(String::from_utf8(bytes).map_err(|_| IamError::validation("Invalid Marker."))?)
        }
    };
    let mut rest: Vec<T> = items
        .into_iter()
        .filter(|i| after.as_deref().is_none_or(|a| key(i) > a))
        .collect();
    let truncated = rest.len() > max;
    rest.truncate(max);
    let mut tail = vec![Xml::leaf("IsTruncated", if truncated { "true" } else { "false" })];
    if truncated {
        if let Some(last) = rest.last() {
            tail.push(Xml::leaf("Marker", URL_SAFE_NO_PAD.encode(key(last).as_bytes())));
        }
    }
    Ok((rest, tail))
}

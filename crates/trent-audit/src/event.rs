//! One audit event as the service records it: who, from where, what operation, which non-secret
//! parameters, which resources, and the outcome. Built on the request path from the typed request
//! and response (never from the raw body), so only members an operation chose to record can be
//! in it.

use std::borrow::Cow;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// The service an event belongs to (CloudTrail `eventSource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    Kms,
    Iam,
    Sts,
    /// Trent's own events (the dropped-events marker).
    Trent,
    /// CloudTrail's own API (LookupEvents: reading the trail is recorded in it too). Appended
    /// last: the stored encoding numbers the variants.
    CloudTrail,
    /// Trent's XKS proxy API (an external key store's requests; appended after CloudTrail).
    XksProxy,
}

impl Source {
    pub fn event_source(self) -> &'static str {
        match self {
            Source::Kms => "kms.amazonaws.com",
            Source::Iam => "iam.amazonaws.com",
            Source::Sts => "sts.amazonaws.com",
            Source::Trent => "trent",
            Source::CloudTrail => "cloudtrail.amazonaws.com",
            Source::XksProxy => "kms-xks-proxy",
        }
    }
}

/// CloudTrail `userIdentity.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdentityType {
    Root,
    IamUser,
    AssumedRole,
}

impl IdentityType {
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityType::Root => "Root",
            IdentityType::IamUser => "IAMUser",
            IdentityType::AssumedRole => "AssumedRole",
        }
    }
}

/// The caller, shared by every event of one credential (built once per access key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub kind: IdentityType,
    pub arn: String,
    pub account_id: String,
    pub access_key_id: String,
}

/// A recorded parameter value: JSON's shapes, so `requestParameters` renders as CloudTrail
/// renders the request members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<Value>),
    Map(Vec<(String, Value)>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

/// `requestParameters`: member name (lower camel case, as CloudTrail writes it) → value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Parameters(pub Vec<(Cow<'static, str>, Value)>);

impl Parameters {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, name: &'static str, value: impl Into<Value>) {
        self.0.push((Cow::Borrowed(name), value.into()));
    }

    /// Adds `value` when present.
    pub fn opt<V: Into<Value>>(&mut self, name: &'static str, value: Option<V>) {
        if let Some(v) = value {
            self.push(name, v);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub time_ms: i64,
    pub source: Source,
    pub name: Cow<'static, str>,
    pub region: Arc<str>,
    /// `None` only for Trent's own events.
    pub identity: Option<Arc<Identity>>,
    pub source_ip: Option<String>,
    pub request_id: String,
    pub parameters: Parameters,
    /// Key ARNs the request acted on.
    pub resources: Vec<Arc<str>>,
    /// `(errorCode, errorMessage)` of a failed request.
    pub error: Option<(Cow<'static, str>, String)>,
    pub read_only: bool,
    /// `additionalEventData` (Trent's own events).
    pub additional: Option<Value>,
    /// The server process (boot) that recorded the event: `trent audit verify` counts each
    /// boot's events and reports a boot that ended without a clean stop. Stored only in the
    /// compact (version 2) encoding; the self-contained version 1 never carried it.
    #[serde(skip)]
    pub origin: Option<Arc<str>>,
}

/// `Describe*`, `List*`, `Get*` operations are read-only (CloudTrail `readOnly`).
pub fn is_read_only(name: &str) -> bool {
    ["Describe", "List", "Get"].iter().any(|p| name.starts_with(p))
}

//! CloudTrail's JSON shape for a stored event (CloudTrail record contents, `eventVersion` 1.08):
//! what `trent audit show` prints. Constant and derivable members (`eventVersion`, `eventID` — a
//! UUID made from the event's chain hash, so stable and unique — `eventType`, `managementEvent`,
//! `eventCategory`, `recipientAccountId`) are added here, not stored.

use serde::Serialize;
use serde_json::{json, Map, Value as Json};
use trent_store::StoreError;

use crate::chain::{Entry, Stored};
use crate::event::{Event, Source, Value};

/// CloudTrail's record format version the events follow.
const EVENT_VERSION: &str = "1.08";

fn json_value(v: &Value) -> Json {
    match v {
        Value::Str(s) => Json::String(s.clone()),
        Value::Int(n) => json!(n),
        Value::Float(f) => json!(f),
        Value::Bool(b) => Json::Bool(*b),
        Value::List(l) => Json::Array(l.iter().map(json_value).collect()),
        Value::Map(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), json_value(v))).collect()),
    }
}

/// `2026-11-28T21:00:00.123Z`.
pub fn iso_millis(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    format!("{}.{:03}Z", t.format(fmt).unwrap_or_default(), ms.rem_euclid(1000))
}

/// A UUID-shaped id from the first 16 bytes of the chain hash (version-4 layout).
fn event_id(hash: &[u8]) -> String {
    let mut b = [0u8; 16];
    for (d, s) in b.iter_mut().zip(hash.iter()) {
        *d = *s;
    }
    if let Some(v) = b.get_mut(6) {
        *v = (*v & 0x0f) | 0x40;
    }
    if let Some(v) = b.get_mut(8) {
        *v = (*v & 0x3f) | 0x80;
    }
    let h = hex::encode(b);
    let part = |r: std::ops::Range<usize>| h.get(r).unwrap_or_default().to_owned();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Out<'a> {
    event_version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_identity: Option<IdentityOut<'a>>,
    event_time: String,
    event_source: &'static str,
    event_name: &'a str,
    aws_region: &'a str,
    #[serde(rename = "sourceIPAddress", skip_serializing_if = "Option::is_none")]
    source_ip_address: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_parameters: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
    #[serde(rename = "requestID", skip_serializing_if = "str::is_empty")]
    request_id: &'a str,
    #[serde(rename = "eventID")]
    event_id: String,
    read_only: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resources: Vec<ResourceOut<'a>>,
    event_type: &'static str,
    management_event: bool,
    event_category: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    recipient_account_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    additional_event_data: Option<Json>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IdentityOut<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    arn: &'a str,
    account_id: &'a str,
    access_key_id: &'a str,
}

#[derive(Serialize)]
struct ResourceOut<'a> {
    #[serde(rename = "accountId")]
    account_id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "ARN")]
    arn: &'a str,
}

fn arn_account(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or("")
}

fn render_event(e: &Event, hash: &[u8]) -> Result<String, StoreError> {
    let resources: Vec<ResourceOut<'_>> = e
        .resources
        .iter()
        .map(|arn| ResourceOut {
            account_id: arn_account(arn),
            kind: "AWS::KMS::Key",
            arn,
        })
        .collect();
    let recipient = resources
        .first()
        .map(|r| r.account_id)
        .or_else(|| e.identity.as_ref().map(|i| i.account_id.as_str()));
    let trent_event = e.source == Source::Trent;
    let out = Out {
        event_version: EVENT_VERSION,
        user_identity: e.identity.as_ref().map(|i| IdentityOut {
            kind: i.kind.as_str(),
            arn: &i.arn,
            account_id: &i.account_id,
            access_key_id: &i.access_key_id,
        }),
        event_time: iso_millis(e.time_ms),
        event_source: e.source.event_source(),
        event_name: &e.name,
        aws_region: &e.region,
        source_ip_address: e.source_ip.as_deref(),
        request_parameters: (!trent_event).then(|| {
            Json::Object(
                e.parameters
                    .0
                    .iter()
                    .map(|(k, v)| (k.to_string(), json_value(v)))
                    .collect::<Map<_, _>>(),
            )
        }),
        error_code: e.error.as_ref().map(|(c, _)| c.as_ref()),
        error_message: e.error.as_ref().map(|(_, m)| m.as_str()),
        request_id: &e.request_id,
        event_id: event_id(hash),
        read_only: e.read_only,
        resources,
        event_type: if trent_event { "TrentServiceEvent" } else { "AwsApiCall" },
        management_event: !trent_event,
        event_category: "Management",
        recipient_account_id: recipient,
        additional_event_data: e.additional.as_ref().map(json_value),
    };
    serde_json::to_string(&out).map_err(|e| StoreError::Backend(e.to_string()))
}

/// A pre-batch JSON event as CloudTrail shows it (constant members added).
fn render_legacy(mut v: Json, hash: &[u8]) -> String {
    let Json::Object(e) = &mut v else {
        return v.to_string();
    };
    let recipient = e
        .get("resources")
        .and_then(|r| r.get(0))
        .and_then(|r| r.get("accountId"))
        .or_else(|| e.get("userIdentity").and_then(|u| u.get("accountId")))
        .cloned();
    e.entry("eventVersion").or_insert_with(|| json!(EVENT_VERSION));
    e.entry("eventID").or_insert_with(|| json!(event_id(hash)));
    e.entry("eventType").or_insert_with(|| json!("AwsApiCall"));
    e.entry("managementEvent").or_insert_with(|| json!(true));
    e.entry("eventCategory").or_insert_with(|| json!("Management"));
    if let Some(r) = recipient {
        e.entry("recipientAccountId").or_insert(r);
    }
    v.to_string()
}

/// One stored event as a CloudTrail JSON line.
pub fn render(entry: &Entry) -> Result<String, StoreError> {
    match entry.decode()? {
        Stored::Event(e) => render_event(&e, &entry.hash),
        Stored::Legacy(v) => Ok(render_legacy(v, &entry.hash)),
    }
}

fn value_mentions(v: &Value, needle: &str) -> bool {
    match v {
        Value::Str(s) => s.contains(needle),
        Value::List(items) => items.iter().any(|i| value_mentions(i, needle)),
        Value::Map(members) => members.iter().any(|(_, i)| value_mentions(i, needle)),
        Value::Int(_) | Value::Float(_) | Value::Bool(_) => false,
    }
}

/// Whether a stored event mentions `needle` (a key id, key ARN or alias) in its resources or
/// request parameters (`trent audit show --key`).
pub fn mentions(entry: &Entry, needle: &str) -> bool {
    match entry.decode() {
        Ok(Stored::Event(e)) => {
            e.resources.iter().any(|r| r.contains(needle))
                || e.parameters.0.iter().any(|(_, v)| value_mentions(v, needle))
        }
        Ok(Stored::Legacy(v)) => ["resources", "requestParameters"]
            .iter()
            .filter_map(|k| v.get(*k))
            .any(|j| j.to_string().contains(needle)),
        Err(_) => false,
    }
}

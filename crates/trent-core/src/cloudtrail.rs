//! CloudTrail's `LookupEvents` over Trent's audit trail: the AWS-shaped way for a client (the
//! web console, `aws cloudtrail lookup-events`, boto3) to read who used which key when. AWS JSON
//! 1.1 (`X-Amz-Target: com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents`,
//! signing name `cloudtrail`), authorized by identity policies (`cloudtrail:LookupEvents` on
//! `*`), and recorded in the trail itself as a read-only `cloudtrail.amazonaws.com` event.
//!
//! Events come newest first across every writer's chain (`trent_audit::read::for_each_newest`),
//! at most `MaxResults` (1–50, default 50) per page. The `NextToken` names, per chain, where the
//! next page resumes, so paging costs one batch per chain, not a rescan. As in CloudTrail, one
//! lookup attribute filters (`EventId`, `EventName`, `ReadOnly`, `Username`, `ResourceType`,
//! `ResourceName`, `EventSource`, `AccessKeyId`), and `StartTime`/`EndTime` bound the time.
//! `GetTrailStatus` recomputes every chain, at most once per 5 s (`VERIFICATION_TTL_MS`).

use std::collections::BTreeMap;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use trent_audit::Source;

use crate::authz::facts::RequestFacts;
use crate::authz::Authorizer;
use crate::credentials::Caller;
use crate::pipeline::Recorder;
use crate::service::{Kms, RequestMeta};

/// The operations' `X-Amz-Target`s.
pub const LOOKUP_EVENTS_TARGET: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents";
pub const GET_TRAIL_STATUS_TARGET: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.GetTrailStatus";

/// The name of the one trail a deployment has (GetTrailStatus `Name`, or an ARN ending in
/// `:trail/trent`).
pub const TRAIL_NAME: &str = "trent";

/// Events scanned for one page at most: a filter that matches nothing answers an empty page
/// with a `NextToken` after this many, rather than reading the whole trail in one request.
const SCAN_LIMIT: usize = 20_000;

/// A CloudTrail error: its code (`__type`) and message, with CloudTrail's HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudTrailError {
    pub code: &'static str,
    pub message: String,
}

impl CloudTrailError {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        CloudTrailError {
            code,
            message: message.into(),
        }
    }

    /// 400 for the caller's mistakes, 500 for the service's.
    pub fn status(&self) -> u16 {
        match self.code {
            "InternalFailure" => 500,
            _ => 400,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupEventsRequest {
    lookup_attributes: Option<Vec<LookupAttribute>>,
    start_time: Option<f64>,
    end_time: Option<f64>,
    event_category: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupAttribute {
    attribute_key: Option<String>,
    attribute_value: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct LookupEventsResponse {
    events: Vec<EventOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct EventOut {
    event_id: String,
    event_name: String,
    read_only: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    access_key_id: Option<String>,
    event_time: f64,
    event_source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    resources: Vec<ResourceOut>,
    cloud_trail_event: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ResourceOut {
    resource_type: String,
    resource_name: String,
}

/// The attribute keys CloudTrail accepts.
const ATTRIBUTE_KEYS: [&str; 8] = [
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
];

/// A validated request.
struct Lookup {
    /// The lookup attribute; for `ResourceName`, the value is matched as an ARN or as its
    /// `/<key id>` suffix (`key_suffix`, built once).
    filter: Option<(String, String)>,
    key_suffix: String,
    start_ms: Option<i64>,
    end_ms: Option<i64>,
    max: usize,
    resume: BTreeMap<String, i64>,
}

/// The body, decoded as every AWS JSON request is (`pipeline::decode`: an empty body is `{}`,
/// and a malformed one is `SerializationException` in AWS's words, without parser positions).
fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, CloudTrailError> {
    crate::pipeline::decode(body).map_err(|e| CloudTrailError::new(e.code().as_str(), e.client_message()))
}

/// How long a trail verification answers GetTrailStatus: recomputing every chain is O(events),
/// so repeated calls (a console left open, or a hostile client) reuse it instead of each
/// reading the whole trail again; callers meanwhile wait for the one running.
const VERIFICATION_TTL_MS: i64 = 5_000;

struct NoFacts;
impl RequestFacts for NoFacts {}

fn invalid(code: &'static str, message: impl Into<String>) -> CloudTrailError {
    CloudTrailError::new(code, message)
}

fn validate(req: LookupEventsRequest) -> Result<Lookup, CloudTrailError> {
    let attrs = req.lookup_attributes.unwrap_or_default();
    if attrs.len() > 1 {
        return Err(invalid(
            "InvalidLookupAttributesException",
            "You cannot specify more than one lookup attribute.",
        ));
    }
    let filter = match attrs.into_iter().next() {
        None => None,
        Some(a) => {
            let key = a.attribute_key.unwrap_or_default();
            if !ATTRIBUTE_KEYS.contains(&key.as_str()) {
                return Err(invalid(
                    "InvalidLookupAttributesException",
                    format!("Lookup attribute key {key:?} is not valid."),
                ));
            }
            let value = a.attribute_value.unwrap_or_default();
            if value.is_empty() || value.len() > 2000 {
                return Err(invalid(
                    "InvalidLookupAttributesException",
                    "Lookup attribute value must be 1 to 2000 characters long.",
                ));
            }
            Some((key, value))
        }
    };
    if let Some(c) = &req.event_category {
        if c != "insight" {
            return Err(invalid("InvalidEventCategoryException", "Event category is not valid."));
        }
    }
    let max = match req.max_results {
        None => 50,
        Some(n) if (1..=50).contains(&n) => usize::try_from(n).unwrap_or(50),
        Some(_) => return Err(invalid("InvalidMaxResultsException", "MaxResults must be 1 to 50.")),
    };
    let ms = |t: Option<f64>| t.filter(|t| t.is_finite()).map(|t| (t * 1000.0) as i64);
    let (start_ms, end_ms) = (ms(req.start_time), ms(req.end_time));
    if let (Some(s), Some(e)) = (start_ms, end_ms) {
        if s > e {
            return Err(invalid(
                "InvalidTimeRangeException",
                "Start time must not be after end time.",
            ));
        }
    }
    let resume = match req.next_token {
        None => BTreeMap::new(),
        Some(t) => decode_token(&t).ok_or_else(|| invalid("InvalidNextTokenException", "Invalid NextToken."))?,
    };
    let key_suffix = filter.as_ref().map(|(_, v)| format!("/{v}")).unwrap_or_default();
    Ok(Lookup {
        filter,
        key_suffix,
        start_ms,
        end_ms,
        max,
        resume,
    })
}

fn encode_token(resume: &BTreeMap<String, i64>) -> String {
    let text = serde_json::to_string(resume).unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fn decode_token(token: &str) -> Option<BTreeMap<String, i64>> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim())
        .ok()?;
    let map: BTreeMap<String, i64> = serde_json::from_slice(&bytes).ok()?;
    (!map.is_empty() && map.len() <= 1024).then_some(map)
}

/// The `Username` CloudTrail shows: a user's name, `root`, or a role session's name.
fn username(identity: &Json) -> Option<String> {
    let arn = identity.get("arn")?.as_str()?;
    if arn.ends_with(":root") {
        return Some("root".to_owned());
    }
    arn.rsplit('/').next().map(str::to_owned)
}

/// One rendered event as LookupEvents lists it, if it passes the filter.
fn event_out(rendered: String, time_ms: i64, lookup: &Lookup) -> Option<EventOut> {
    let v: Json = serde_json::from_str(&rendered).ok()?;
    let s = |k: &str| v.get(k).and_then(Json::as_str).map(str::to_owned);
    let identity = v.get("userIdentity").cloned().unwrap_or(Json::Null);
    let resources: Vec<ResourceOut> = v
        .get("resources")
        .and_then(Json::as_array)
        .map(|rs| {
            rs.iter()
                .filter_map(|r| {
                    Some(ResourceOut {
                        resource_type: r.get("type")?.as_str()?.to_owned(),
                        resource_name: r.get("ARN")?.as_str()?.to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let out = EventOut {
        event_id: s("eventID").unwrap_or_default(),
        event_name: s("eventName").unwrap_or_default(),
        read_only: v.get("readOnly").and_then(Json::as_bool).unwrap_or(false).to_string(),
        access_key_id: identity.get("accessKeyId").and_then(Json::as_str).map(str::to_owned),
        event_time: time_ms as f64 / 1000.0,
        event_source: s("eventSource").unwrap_or_default(),
        username: username(&identity),
        resources,
        cloud_trail_event: rendered,
    };
    let keep = match &lookup.filter {
        None => true,
        Some((k, want)) => match k.as_str() {
            "EventId" => out.event_id == *want,
            "EventName" => out.event_name == *want,
            "ReadOnly" => out.read_only == *want,
            "Username" => out.username.as_deref() == Some(want.as_str()),
            "AccessKeyId" => out.access_key_id.as_deref() == Some(want.as_str()),
            "EventSource" => out.event_source == *want,
            "ResourceType" => out.resources.iter().any(|r| r.resource_type == *want),
            // A key's ARN, or its id (the console filters by the key it shows).
            "ResourceName" => out
                .resources
                .iter()
                .any(|r| r.resource_name == *want || r.resource_name.ends_with(&lookup.key_suffix)),
            _ => false,
        },
    };
    keep.then_some(out)
}

impl Kms {
    /// Serves one CloudTrail request (`target` is its `X-Amz-Target`): LookupEvents, or
    /// `UnknownOperationException`. Recorded in the trail like every authenticated request.
    pub async fn handle_cloudtrail(
        &self,
        caller: &Caller,
        target: &str,
        body: &[u8],
        meta: &RequestMeta,
    ) -> Result<Vec<u8>, CloudTrailError> {
        let name = target.rsplit('.').next().unwrap_or("Unknown").to_owned();
        let recorder = Recorder::new(self, caller, meta, Source::CloudTrail, name, true);
        let result = match target {
            LOOKUP_EVENTS_TARGET => self.lookup_events(caller, body, meta).await,
            GET_TRAIL_STATUS_TARGET => self.trail_status(caller, body, meta).await,
            _ => Err(CloudTrailError::new("UnknownOperationException", "")),
        };
        recorder.finish(result.as_ref().err().map(|e| (e.code, e.message.clone())));
        result
    }

    async fn lookup_events(
        &self,
        caller: &Caller,
        body: &[u8],
        meta: &RequestMeta,
    ) -> Result<Vec<u8>, CloudTrailError> {
        let req: LookupEventsRequest = decode(body)?;
        let lookup = validate(req)?;
        let az = Authorizer::for_iam(self, caller, meta);
        az.require_account("cloudtrail:LookupEvents", "*", &NoFacts)
            .await
            .map_err(|e| CloudTrailError::new("AccessDeniedException", e.client_message()))?;
        // Events still in memory are written first, so a lookup sees every request answered
        // before it.
        self.flush_audit()
            .await
            .map_err(|e| CloudTrailError::new("InternalFailure", e.to_string()))?;
        let answer = self
            .read(move |s| Ok(scan(s, lookup)))
            .await
            .map_err(|e| CloudTrailError::new("InternalFailure", e.to_string()))??;
        serde_json::to_vec(&answer).map_err(|e| CloudTrailError::new("InternalFailure", e.to_string()))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TrailStatusRequest {
    name: Option<String>,
}

impl Kms {
    /// `GetTrailStatus` of the deployment's trail: CloudTrail's members (`IsLogging`, the latest
    /// event time as `LatestDeliveryTime`) and, as `TrentVerification`, the result of recomputing
    /// every chain of the stored trail now (what `trent audit verify` reports): intact with its
    /// chains' heads, or the first broken link. SDKs ignore the extra member; the console shows it.
    async fn trail_status(&self, caller: &Caller, body: &[u8], meta: &RequestMeta) -> Result<Vec<u8>, CloudTrailError> {
        let req: TrailStatusRequest = decode(body)?;
        let name = req.name.unwrap_or_default();
        if name.is_empty() {
            return Err(CloudTrailError::new(
                "InvalidTrailNameException",
                "Trail name must not be empty.",
            ));
        }
        if name != TRAIL_NAME && !name.ends_with(&format!(":trail/{TRAIL_NAME}")) {
            return Err(CloudTrailError::new(
                "TrailNotFoundException",
                format!("Unknown trail: {name} for the user: {}", caller.account()),
            ));
        }
        let az = Authorizer::for_iam(self, caller, meta);
        az.require_account("cloudtrail:GetTrailStatus", "*", &NoFacts)
            .await
            .map_err(|e| CloudTrailError::new("AccessDeniedException", e.client_message()))?;
        self.flush_audit()
            .await
            .map_err(|e| CloudTrailError::new("InternalFailure", e.to_string()))?;
        let mut cached = self.trail_verification.lock().await;
        let now = self.now_ms();
        let verification = match cached.as_ref() {
            Some((at, v)) if now - at < VERIFICATION_TTL_MS => std::sync::Arc::clone(v),
            _ => {
                let key = std::sync::Arc::clone(self.chain_key());
                let v = std::sync::Arc::new(
                    self.read(move |s| trent_audit::verify(s, &key))
                        .await
                        .map_err(|e| CloudTrailError::new("InternalFailure", e.to_string()))?,
                );
                *cached = Some((now, std::sync::Arc::clone(&v)));
                v
            }
        };
        drop(cached);
        let latest = self
            .read(|s| {
                let mut newest = None;
                trent_audit::read::for_each_newest(s, &BTreeMap::new(), |_, e| {
                    newest = Some(e.time_ms);
                    Ok(false)
                })?;
                Ok(newest)
            })
            .await
            .map_err(|e| CloudTrailError::new("InternalFailure", e.to_string()))?;
        let trent = match verification.as_ref() {
            trent_audit::Verification::Intact { events, chains, notes } => serde_json::json!({
                "Intact": true,
                "Events": events,
                "Chains": chains.iter().map(|c| serde_json::json!({
                    "Chain": c.chain,
                    "Events": c.events,
                    "Head": c.head.as_ref().map(|h| h.line()),
                })).collect::<Vec<_>>(),
                "Notes": notes,
            }),
            trent_audit::Verification::Broken { chain, seq, reason } => serde_json::json!({
                "Intact": false,
                "Problem": {"Chain": chain, "Seq": seq, "Reason": reason},
            }),
        };
        let mut out = serde_json::json!({ "IsLogging": true, "TrentVerification": trent });
        if let (Some(ms), Some(map)) = (latest, out.as_object_mut()) {
            map.insert("LatestDeliveryTime".into(), serde_json::json!(ms as f64 / 1000.0));
        }
        serde_json::to_vec(&out).map_err(|e| CloudTrailError::new("InternalFailure", e.to_string()))
    }
}

fn scan(store: &dyn trent_store::StoreRead, lookup: Lookup) -> Result<LookupEventsResponse, CloudTrailError> {
    let internal = |e: trent_store::StoreError| CloudTrailError::new("InternalFailure", e.to_string());
    let mut events = Vec::new();
    let mut scanned = 0usize;
    let mut exhausted = true;
    let resume = trent_audit::read::for_each_newest(store, &lookup.resume, |_, entry| {
        scanned += 1;
        if lookup.start_ms.is_some_and(|s| entry.time_ms < s) {
            // Newest first: everything after this is older still (per chain; the merge is by time).
            return Ok(false);
        }
        if lookup.end_ms.is_none_or(|e| entry.time_ms <= e) {
            let rendered = trent_audit::render::render(&entry)?;
            if let Some(out) = event_out(rendered, entry.time_ms, &lookup) {
                events.push(out);
            }
        }
        let more = events.len() < lookup.max && scanned < SCAN_LIMIT;
        if !more {
            exhausted = false;
        }
        Ok(more)
    })
    .map_err(internal)?;
    let next_token = (!exhausted && resume.values().any(|&b| b > 1)).then(|| encode_token(&resume));
    Ok(LookupEventsResponse { events, next_token })
}

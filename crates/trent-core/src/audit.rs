//! The audit trail: one CloudTrail-shaped event for every authenticated KMS, IAM and STS request,
//! successful or not, chained by HMAC so that editing, reordering or removing a stored event is
//! detectable (`verify`).
//!
//! The hot path only appends a small record to an in-memory buffer (no database, no JSON
//! encoding, no hashing); `flush_audit` — every second from the server and at shutdown — encodes
//! the batch, extends the chain and writes it in one transaction on the blocking pool. A crash
//! can lose at most the unflushed second; a failed write keeps the batch for the next flush.
//!
//! What is recorded follows CloudTrail's KMS events: `requestParameters` hold only members on an
//! allowlist (key ids, algorithms, encryption context, grant fields, …). Plaintext, ciphertext,
//! messages, signatures, MACs, imported material, import and grant tokens, public keys and policy
//! documents never enter the buffer, so nothing secret can reach the trail or the log.
//!
//! Chain: `hash_n = HMAC-SHA256(K, hash_{n-1} || be64(n) || event_n)`, `hash_0` = 32 zero bytes,
//! `K = HKDF-SHA256(root key, info "trent-audit-chain-v1")`. Without the root key nobody can
//! recompute a valid chain over altered events. Truncation of the newest events is only
//! detectable against an externally kept (seq, hash) checkpoint, which `verify` prints.

use std::sync::Mutex;

use serde::Deserialize;
use serde_json::{json, Map, Value};
use trent_api::KmsError;
use trent_crypto::RootKey;
use trent_store::{AuditRecord, Store, StoreError};

use crate::credentials::Caller;
use crate::Kms;

/// Buffered events beyond this are dropped (and counted, and reported by a marker event) rather
/// than growing memory without bound while the store is failing.
const MAX_BUFFERED: usize = 1_000_000;
/// CloudTrail's record format version the events follow.
const EVENT_VERSION: &str = "1.08";

/// KMS request members recorded in `requestParameters` (as CloudTrail records them, lower camel
/// case). Everything else is left out: see the module docs.
const KMS_PARAMETERS: &[&str] = &[
    "KeyId",
    "AliasName",
    "TargetKeyId",
    "Description",
    "KeySpec",
    "CustomerMasterKeySpec",
    "KeyUsage",
    "Origin",
    "MultiRegion",
    "BypassPolicyLockoutSafetyCheck",
    "EncryptionContext",
    "EncryptionAlgorithm",
    "NumberOfBytes",
    "KeyPairSpec",
    "SigningAlgorithm",
    "MessageType",
    "MacAlgorithm",
    "KeyAgreementAlgorithm",
    "SourceKeyId",
    "DestinationKeyId",
    "SourceEncryptionContext",
    "DestinationEncryptionContext",
    "SourceEncryptionAlgorithm",
    "DestinationEncryptionAlgorithm",
    "PendingWindowInDays",
    "RotationPeriodInDays",
    "GranteePrincipal",
    "RetiringPrincipal",
    "Operations",
    "Constraints",
    "Name",
    "GrantId",
    "PolicyName",
    "TagKeys",
    "WrappingAlgorithm",
    "WrappingKeySpec",
    "ExpirationModel",
    "ValidTo",
    "ImportType",
    "KeyMaterialId",
    "IncludeKeyMaterial",
    "Limit",
    "DryRun",
];

/// IAM/STS Query members recorded (never policy documents or secrets).
const QUERY_PARAMETERS: &[&str] = &[
    "UserName",
    "RoleName",
    "PolicyArn",
    "PolicyName",
    "AccessKeyId",
    "Status",
    "RoleArn",
    "RoleSessionName",
    "DurationSeconds",
    "Path",
    "VersionId",
];

/// One request as the hot path leaves it.
pub(crate) struct Pending {
    time_ms: i64,
    source: &'static str,
    name: String,
    account_id: String,
    principal_arn: String,
    access_key_id: String,
    source_ip: Option<String>,
    request_id: String,
    parameters: Map<String, Value>,
    resources: Vec<String>,
    error: Option<(String, String)>,
    read_only: bool,
}

#[derive(Default)]
pub struct AuditBuffer {
    pending: Mutex<Vec<Pending>>,
    dropped: Mutex<u64>,
    /// (seq, hash) of the newest stored event; `None` until loaded. Held across a flush.
    chain: tokio::sync::Mutex<Option<(i64, Vec<u8>)>>,
}

impl AuditBuffer {
    fn push(&self, p: Pending) {
        let Ok(mut v) = self.pending.lock() else { return };
        if v.len() >= MAX_BUFFERED {
            if let Ok(mut d) = self.dropped.lock() {
                *d += 1;
            }
            return;
        }
        v.push(p);
    }

    fn take(&self) -> (Vec<Pending>, u64) {
        let events = self
            .pending
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        let dropped = self.dropped.lock().map(|mut d| std::mem::take(&mut *d)).unwrap_or(0);
        (events, dropped)
    }

    /// Puts a batch that failed to store back in front of what arrived meanwhile.
    fn restore(&self, mut batch: Vec<Pending>, dropped: u64) {
        if let Ok(mut v) = self.pending.lock() {
            batch.append(&mut v);
            *v = batch;
        }
        if let Ok(mut d) = self.dropped.lock() {
            *d += dropped;
        }
    }
}

/// The allowlisted members of a KMS request body, renamed to lower camel case.
pub(crate) fn kms_parameters(body: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(obj) = body.as_object() {
        for name in KMS_PARAMETERS {
            if let Some(v) = obj.get(*name) {
                out.insert(lower_camel(name), v.clone());
            }
        }
    }
    out
}

fn lower_camel(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The key ARNs a successful KMS response names.
fn response_resources(out: &[u8]) -> Vec<String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Meta {
        arn: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Out {
        key_id: Option<String>,
        source_key_id: Option<String>,
        key_metadata: Option<Meta>,
    }
    let Ok(o) = serde_json::from_slice::<Out>(out) else {
        return Vec::new();
    };
    let mut arns: Vec<String> = [o.source_key_id, o.key_id, o.key_metadata.and_then(|m| m.arn)]
        .into_iter()
        .flatten()
        .filter(|a| a.starts_with("arn:"))
        .collect();
    arns.dedup();
    arns
}

fn is_read_only(name: &str) -> bool {
    ["Describe", "List", "Get"].iter().any(|p| name.starts_with(p))
}

impl Kms {
    /// Records a KMS request (hot path: one buffer push).
    pub(crate) fn audit_kms(
        &self,
        caller: &Caller,
        op: trent_api::Operation,
        meta: &crate::RequestMeta,
        parameters: Map<String, Value>,
        result: &Result<Vec<u8>, KmsError>,
    ) {
        let (resources, error) = match result {
            Ok(out) => (response_resources(out), None),
            Err(e) => (Vec::new(), Some((e.code().as_str().to_owned(), e.client_message()))),
        };
        self.audit.push(Pending {
            time_ms: self.now_ms(),
            source: "kms.amazonaws.com",
            name: op.name().to_owned(),
            account_id: caller.account_id.clone(),
            principal_arn: caller.principal_arn.clone(),
            access_key_id: caller.access_key_id.clone(),
            source_ip: meta.source_ip.clone(),
            request_id: meta.request_id.clone(),
            parameters,
            resources,
            error,
            read_only: is_read_only(op.name()),
        });
    }

    /// Records an IAM or STS request.
    pub(crate) fn audit_query(
        &self,
        caller: &Caller,
        service: &str,
        params: &crate::iam::Params,
        error: Option<(&str, &str)>,
    ) {
        let action = params.get("Action").unwrap_or("Unknown").to_owned();
        let mut parameters = Map::new();
        for name in QUERY_PARAMETERS {
            if let Some(v) = params.get(name) {
                parameters.insert(lower_camel(name), Value::String(v.to_owned()));
            }
        }
        self.audit.push(Pending {
            time_ms: self.now_ms(),
            source: if service == "sts" {
                "sts.amazonaws.com"
            } else {
                "iam.amazonaws.com"
            },
            read_only: is_read_only(&action),
            name: action,
            account_id: caller.account_id.clone(),
            principal_arn: caller.principal_arn.clone(),
            access_key_id: caller.access_key_id.clone(),
            source_ip: caller.request.source_ip.clone(),
            request_id: caller.request.request_id.clone(),
            parameters,
            resources: Vec::new(),
            error: error.map(|(c, m)| (c.to_owned(), m.to_owned())),
        });
    }

    /// Writes buffered events to the store, extending the chain; returns how many were written.
    pub async fn flush_audit(&self) -> Result<usize, KmsError> {
        let mut chain = self.audit.chain.lock().await;
        let (batch, dropped) = self.audit.take();
        if batch.is_empty() && dropped == 0 {
            return Ok(0);
        }
        let head = match chain.clone() {
            Some(h) => h,
            None => match self.db(|s| s.last_audit()).await {
                Ok(last) => last.map_or((0, vec![0u8; 32]), |r| (r.seq, r.chain_hash)),
                Err(e) => {
                    self.audit.restore(batch, dropped);
                    return Err(e);
                }
            },
        };
        let key = chain_key(&self.root)?;
        let region = self.loc.region.clone();
        let events: Vec<Value> = batch.iter().map(|p| event_json(p, &region)).collect();
        let now = self.now_ms();
        let dropped_marker = (dropped > 0).then(|| {
            json!({
                "eventVersion": EVENT_VERSION,
                "eventTime": crate::iam::protocol::iso(now),
                "eventSource": "trent",
                "eventName": "AuditEventsDropped",
                "awsRegion": region,
                "additionalEventData": {"droppedEvents": dropped},
                "eventType": "TrentServiceEvent",
            })
        });
        let times: Vec<i64> = batch
            .iter()
            .map(|p| p.time_ms)
            .chain(dropped_marker.as_ref().map(|_| now))
            .collect();
        let outcome = self
            .db(move |s| {
                let mut records = Vec::with_capacity(times.len());
                let (mut seq, mut hash) = head;
                for (event, time_ms) in events.iter().chain(dropped_marker.iter()).zip(times) {
                    seq += 1;
                    let text = event.to_string();
                    hash = link(&key, &hash, seq, &text);
                    records.push(AuditRecord {
                        seq,
                        time_ms,
                        event: text,
                        chain_hash: hash.clone(),
                    });
                }
                s.append_audit(&records)?;
                Ok((seq, hash, records.len()))
            })
            .await;
        match outcome {
            Ok((seq, hash, n)) => {
                *chain = Some((seq, hash));
                Ok(n)
            }
            Err(e) => {
                // Another writer may have moved the chain: reload it next time.
                *chain = None;
                self.audit.restore(batch, dropped);
                Err(e)
            }
        }
    }
}

fn user_identity(p: &Pending) -> Value {
    let kind = if p.principal_arn.ends_with(":root") {
        "Root"
    } else if p.principal_arn.contains(":assumed-role/") {
        "AssumedRole"
    } else {
        "IAMUser"
    };
    json!({
        "type": kind,
        "arn": p.principal_arn,
        "accountId": p.account_id,
        "accessKeyId": p.access_key_id,
    })
}

fn event_json(p: &Pending, region: &str) -> Value {
    let mut e = Map::new();
    e.insert("eventVersion".into(), json!(EVENT_VERSION));
    e.insert("userIdentity".into(), user_identity(p));
    e.insert("eventTime".into(), json!(iso_millis(p.time_ms)));
    e.insert("eventSource".into(), json!(p.source));
    e.insert("eventName".into(), json!(p.name));
    e.insert("awsRegion".into(), json!(region));
    e.insert("sourceIPAddress".into(), json!(p.source_ip));
    e.insert("requestParameters".into(), Value::Object(p.parameters.clone()));
    if let Some((code, message)) = &p.error {
        e.insert("errorCode".into(), json!(code));
        e.insert("errorMessage".into(), json!(message));
    }
    e.insert("requestID".into(), json!(p.request_id));
    e.insert("eventID".into(), json!(uuid::Uuid::new_v4().to_string()));
    e.insert("readOnly".into(), json!(p.read_only));
    if !p.resources.is_empty() {
        let resources: Vec<Value> = p
            .resources
            .iter()
            .map(|arn| json!({"accountId": arn_account(arn), "type": "AWS::KMS::Key", "ARN": arn}))
            .collect();
        e.insert("resources".into(), Value::Array(resources));
    }
    e.insert("eventType".into(), json!("AwsApiCall"));
    e.insert("managementEvent".into(), json!(true));
    e.insert("recipientAccountId".into(), json!(p.account_id));
    e.insert("eventCategory".into(), json!("Management"));
    Value::Object(e)
}

fn arn_account(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or("")
}

/// `2026-11-28T21:00:00.123Z`.
fn iso_millis(ms: i64) -> String {
    let secs = crate::iam::protocol::iso(ms);
    match secs.strip_suffix('Z') {
        Some(s) => format!("{s}.{:03}Z", ms.rem_euclid(1000)),
        None => secs,
    }
}

fn chain_key(root: &RootKey) -> Result<aws_lc_rs::hmac::Key, KmsError> {
    let k = trent_crypto::symmetric::hkdf_sha256(root.expose(), b"trent", b"trent-audit-chain-v1")
        .map_err(KmsError::internal)?;
    Ok(aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, k.expose()))
}

fn link(key: &aws_lc_rs::hmac::Key, prev: &[u8], seq: i64, event: &str) -> Vec<u8> {
    let mut ctx = aws_lc_rs::hmac::Context::with_key(key);
    ctx.update(prev);
    ctx.update(&seq.to_be_bytes());
    ctx.update(event.as_bytes());
    ctx.sign().as_ref().to_vec()
}

/// The result of checking the whole stored trail.
#[derive(Debug, PartialEq, Eq)]
pub enum Verification {
    /// Every event links to its predecessor; `(seq, hash)` of the newest is the checkpoint.
    Intact { events: i64, head: Option<(i64, String)> },
    /// The first event whose sequence or hash does not follow.
    Broken { seq: i64, reason: String },
}

/// Recomputes the chain over every stored event, in pages.
pub fn verify(store: &dyn Store, root: &RootKey) -> Result<Verification, StoreError> {
    let key = chain_key(root).map_err(|e| StoreError::Backend(e.to_string()))?;
    let (mut seq, mut hash) = (0i64, vec![0u8; 32]);
    loop {
        let page = store.audit_after(seq, 1000)?;
        if page.is_empty() {
            break;
        }
        for r in page {
            if r.seq != seq + 1 {
                return Ok(Verification::Broken {
                    seq: seq + 1,
                    reason: format!("event {} is missing (next stored is {})", seq + 1, r.seq),
                });
            }
            let expected = link(&key, &hash, r.seq, &r.event);
            if !bool::from(subtle::ConstantTimeEq::ct_eq(
                expected.as_slice(),
                r.chain_hash.as_slice(),
            )) {
                return Ok(Verification::Broken {
                    seq: r.seq,
                    reason: format!("event {} does not match its chain hash", r.seq),
                });
            }
            seq = r.seq;
            hash = expected;
        }
    }
    Ok(Verification::Intact {
        events: seq,
        head: (seq > 0).then(|| (seq, hex::encode(&hash))),
    })
}

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
//!
//! Retention (`set_audit_retention_days`, default 90 in the server, like CloudTrail's event
//! history): the scheduler deletes the oldest events and keeps the (seq, hash) of the last one
//! deleted as the anchor the rest of the chain verifies from.

use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
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
    /// How long events are kept, in ms; 0 keeps them forever.
    retention_ms: std::sync::atomic::AtomicI64,
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

/// `KeyId` → `keyId`: AWS's member names in messages and CloudTrail records.
pub(crate) fn lower_camel(name: &str) -> String {
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

    /// Sets how many days events are kept (0: forever). Pruning runs with the scheduler.
    pub fn set_audit_retention_days(&self, days: u32) {
        self.audit.retention_ms.store(
            i64::from(days) * crate::clock::DAY_MS,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// Deletes events older than the retention period, in chunks of 10,000 rows per
    /// transaction so the writer is never held for long; returns how many were deleted.
    pub async fn prune_audit(&self) -> Result<usize, KmsError> {
        const CHUNK: usize = 10_000;
        let retention = self.audit.retention_ms.load(std::sync::atomic::Ordering::Relaxed);
        if retention <= 0 {
            return Ok(0);
        }
        let before = self.now_ms() - retention;
        let mut total = 0;
        loop {
            let n = self.db(move |s| s.prune_audit(before, CHUNK)).await?;
            total += n;
            if n < CHUNK {
                return Ok(total);
            }
        }
    }

    /// Writes buffered events to the store, extending the chain; returns how many were written.
    /// Encoding, hashing and the write all run on the blocking pool, never on the async runtime.
    pub async fn flush_audit(&self) -> Result<usize, KmsError> {
        let mut chain = self.audit.chain.lock().await;
        let (batch, dropped) = self.audit.take();
        if batch.is_empty() && dropped == 0 {
            return Ok(0);
        }
        let key = chain_key(&self.root)?;
        let region = self.loc.region.clone();
        let now = self.now_ms();
        let head = chain.clone();
        let store = Arc::clone(&self.store);
        let (outcome, batch) = tokio::task::spawn_blocking(move || {
            let outcome = write_batch(store.as_ref(), &key, head, &region, &batch, dropped, now);
            (outcome, batch)
        })
        .await
        .map_err(KmsError::internal)?;
        match outcome {
            Ok((seq, hash, n)) => {
                *chain = Some((seq, hash));
                Ok(n)
            }
            Err(e) => {
                // Another writer may have moved the chain: reload it next time.
                *chain = None;
                self.audit.restore(batch, dropped);
                Err(KmsError::internal(e))
            }
        }
    }
}

/// Encodes and chains one batch (plus a dropped-events marker) and appends it in one transaction.
fn write_batch(
    store: &dyn Store,
    key: &aws_lc_rs::hmac::Key,
    head: Option<(i64, Vec<u8>)>,
    region: &str,
    batch: &[Pending],
    dropped: u64,
    now: i64,
) -> Result<(i64, Vec<u8>, usize), StoreError> {
    let (mut seq, mut hash) = match head {
        Some(h) => h,
        None => match store.last_audit()? {
            Some(r) => (r.seq, r.chain_hash),
            // Everything may have been pruned: the chain continues from the anchor.
            None => store.audit_anchor()?.unwrap_or((0, vec![0u8; 32])),
        },
    };
    let encode = |e: serde_json::Result<String>| e.map_err(|e| StoreError::Backend(e.to_string()));
    let mut texts = Vec::with_capacity(batch.len() + 1);
    for p in batch {
        texts.push((p.time_ms, encode(serde_json::to_string(&EventOut::new(p, region)))?));
    }
    if dropped > 0 {
        let marker = json!({
            "eventTime": iso_millis(now),
            "eventSource": "trent",
            "eventName": "AuditEventsDropped",
            "awsRegion": region,
            "additionalEventData": {"droppedEvents": dropped},
            "eventType": "TrentServiceEvent",
        });
        texts.push((now, marker.to_string()));
    }
    let mut records = Vec::with_capacity(texts.len());
    for (time_ms, event) in texts {
        seq += 1;
        hash = link(key, &hash, seq, &event);
        records.push(AuditRecord {
            seq,
            time_ms,
            event,
            chain_hash: hash.clone(),
        });
    }
    store.append_audit(&records)?;
    Ok((seq, hash, records.len()))
}

/// The stored event, in CloudTrail's member order. Members that are constant or derivable
/// (`eventVersion`, `eventID`, `eventType`, `managementEvent`, `eventCategory`,
/// `recipientAccountId`) are added by [`render`] when the trail is read, not stored: they were a
/// fifth of every event's bytes and of its encoding time.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventOut<'a> {
    user_identity: Identity<'a>,
    event_time: String,
    event_source: &'static str,
    event_name: &'a str,
    aws_region: &'a str,
    #[serde(rename = "sourceIPAddress")]
    source_ip_address: Option<&'a str>,
    request_parameters: &'a Map<String, Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<&'a str>,
    #[serde(rename = "requestID")]
    request_id: &'a str,
    read_only: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    resources: Vec<Resource<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Identity<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    arn: &'a str,
    account_id: &'a str,
    access_key_id: &'a str,
}

#[derive(Serialize)]
struct Resource<'a> {
    #[serde(rename = "accountId")]
    account_id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "ARN")]
    arn: &'a str,
}

impl<'a> EventOut<'a> {
    fn new(p: &'a Pending, region: &'a str) -> Self {
        let kind = if p.principal_arn.ends_with(":root") {
            "Root"
        } else if p.principal_arn.contains(":assumed-role/") {
            "AssumedRole"
        } else {
            "IAMUser"
        };
        EventOut {
            user_identity: Identity {
                kind,
                arn: &p.principal_arn,
                account_id: &p.account_id,
                access_key_id: &p.access_key_id,
            },
            event_time: iso_millis(p.time_ms),
            event_source: p.source,
            event_name: &p.name,
            aws_region: region,
            source_ip_address: p.source_ip.as_deref(),
            request_parameters: &p.parameters,
            error_code: p.error.as_ref().map(|(c, _)| c.as_str()),
            error_message: p.error.as_ref().map(|(_, m)| m.as_str()),
            request_id: &p.request_id,
            read_only: p.read_only,
            resources: p
                .resources
                .iter()
                .map(|arn| Resource {
                    account_id: arn_account(arn),
                    kind: "AWS::KMS::Key",
                    arn,
                })
                .collect(),
        }
    }
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

/// A stored event as CloudTrail shows it: the stored members plus `eventVersion`, an `eventID`
/// (a UUID taken from the event's chain hash, so it is stable and unique), `eventType`,
/// `managementEvent`, `eventCategory` and `recipientAccountId` (the account owning the key, else
/// the caller's).
pub fn render(record: &AuditRecord) -> String {
    let Ok(Value::Object(mut e)) = serde_json::from_str::<Value>(&record.event) else {
        return record.event.clone();
    };
    let recipient = e
        .get("resources")
        .and_then(|r| r.get(0))
        .and_then(|r| r.get("accountId"))
        .or_else(|| e.get("userIdentity").and_then(|u| u.get("accountId")))
        .cloned();
    let mut id = [0u8; 16];
    for (d, s) in id.iter_mut().zip(record.chain_hash.iter()) {
        *d = *s;
    }
    let event_id = uuid::Builder::from_random_bytes(id).into_uuid().to_string();
    e.entry("eventVersion").or_insert_with(|| json!(EVENT_VERSION));
    e.entry("eventID").or_insert_with(|| json!(event_id));
    e.entry("eventType").or_insert_with(|| json!("AwsApiCall"));
    e.entry("managementEvent").or_insert_with(|| json!(true));
    e.entry("eventCategory").or_insert_with(|| json!("Management"));
    if let Some(r) = recipient {
        e.entry("recipientAccountId").or_insert(r);
    }
    Value::Object(e).to_string()
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
    // After retention pruning the chain starts at the anchor left by the last prune.
    let (mut seq, mut hash) = store.audit_anchor()?.unwrap_or((0, vec![0u8; 32]));
    let first = seq;
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
        events: seq - first,
        head: (seq > 0).then(|| (seq, hex::encode(&hash))),
    })
}

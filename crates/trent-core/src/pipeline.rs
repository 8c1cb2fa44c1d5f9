//! The one request path every KMS operation runs through, in this order:
//!
//! 1. **decode** the body once into the operation's typed request (`SerializationException`);
//! 2. **validate** it into domain types (`ValidationException`, every violated constraint at
//!    once, AWS's texts), plus the service rules that need no key;
//! 3. check every **grant token** it carries (`InvalidGrantTokenException`);
//! 4. **authorize**: the operation's declared [`Target`] resolves the key(s), decides, checks key
//!    state, and yields the [`Authorized`] proof — before anything is written;
//! 5. **run** the operation with that proof;
//! 6. **encode** the typed response.
//!
//! A [`Recorder`] created first records the request in the audit trail whatever happens: the
//! decoded parameters, the resources the response names, the error — and if the future is
//! dropped midway (a panic unwinding through it, a client that went away), an internal error.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use serde::de::DeserializeOwned;
use serde::Serialize;
use trent_api::{KmsError, Operation};
use trent_audit::{Event, Parameters, Source};
use trent_types::{KeyId, Region};

use crate::authz::facts::RequestFacts;
use crate::authz::{Authorized, Authorizer, Target};
use crate::credentials::Caller;
use crate::service::{Kms, RequestMeta};

/// What a request's members record in `requestParameters` (each operation lists its own; secrets
/// are never among them).
pub(crate) trait AuditMembers {
    fn audit(&self, p: &mut Parameters);
}

/// The key ARNs a successful response names (the audit event's `resources`).
pub(crate) trait Resources {
    fn resources(&self, out: &mut Vec<Arc<str>>);
}

/// What validation may consult: nothing secret, nothing stored.
pub(crate) struct Checks<'a> {
    pub region: &'a Region,
    pub now_ms: i64,
}

/// One KMS operation: its wire types, its validated request, its target, its body.
pub(crate) trait KmsOp {
    const OP: Operation;
    /// Operations that read, then write key or alias records hold the process write lock from
    /// authorization to the end of the run, so what was authorized is what is changed.
    const SERIAL: bool = false;
    /// Successful uses are recorded for GetKeyLastUsage.
    const TRACK_USAGE: bool = false;

    type Input: DeserializeOwned + AuditMembers + Send;
    type Req: RequestFacts + Send + Sync;
    type Target: Target;
    type Output: Serialize + Resources + Send;

    fn validate(input: Self::Input, checks: &Checks<'_>) -> Result<Self::Req, KmsError>;

    /// The grant tokens the request carries.
    fn grant_tokens(_req: &Self::Req) -> &[String] {
        &[]
    }

    /// What the request acts on.
    fn target(req: &Self::Req) -> <Self::Target as Target>::Spec<'_>;

    fn run(
        cx: Ctx<'_, Self::Target>,
        req: Self::Req,
    ) -> impl std::future::Future<Output = Result<Self::Output, KmsError>> + Send;
}

/// What an operation runs with: the service, the caller, and the proof of authorization (which
/// is also its authority to write).
pub(crate) struct Ctx<'a, T> {
    pub kms: &'a Kms,
    pub caller: &'a Caller,
    pub meta: &'a RequestMeta,
    pub auth: Authorized<T>,
}

impl<T> Ctx<'_, T> {
    /// The Region the request is for.
    pub fn region(&self) -> &Region {
        self.kms.region_of(self.meta)
    }
}

/// The audit event of a request that changes state, for the write that makes the change: the
/// write puts it in the same transaction (`Kms::write`), so an acknowledged change always has
/// its event and a change never reaches the disk without it.
pub(crate) struct AuditScope {
    /// The event as decoded (parameters recorded); the outcome is success if the write commits.
    prototype: Event,
    /// Key ARNs the change concerns (the request's target, or the key being created).
    resources: Mutex<Vec<Arc<str>>>,
    written: AtomicBool,
}

tokio::task_local! {
    static AUDIT_SCOPE: Arc<AuditScope>;
}

impl AuditScope {
    /// The event to write with the change, unless one was written already for this request
    /// (a request makes at most one audited write; later ones are plain).
    pub(crate) fn claim() -> Option<(Arc<AuditScope>, Event)> {
        let scope = AUDIT_SCOPE.try_with(Arc::clone).ok()?;
        if scope.written.swap(true, Ordering::AcqRel) {
            return None;
        }
        let mut e = scope.prototype.clone();
        e.resources = scope.resources.lock().map(|r| r.clone()).unwrap_or_default();
        Some((scope, e))
    }

    /// The claimed write failed: the request's event is recorded by its guard as usual.
    pub(crate) fn release(&self) {
        self.written.store(false, Ordering::Release);
    }
}

/// Names a key ARN the current request's change concerns (a key being created).
pub(crate) fn note_resource(arn: &Arc<str>) {
    let _ = AUDIT_SCOPE.try_with(|s| {
        if let Ok(mut r) = s.resources.lock() {
            if !r.iter().any(|a| a == arn) {
                r.push(Arc::clone(arn));
            }
        }
    });
}

/// Runs `f` (a request's operation) with `scope` as the audit scope of its writes.
pub(crate) async fn in_scope<T>(scope: Option<Arc<AuditScope>>, f: impl std::future::Future<Output = T>) -> T {
    match scope {
        Some(s) => AUDIT_SCOPE.scope(s, f).await,
        None => f.await,
    }
}

/// Records one request in the audit trail exactly once (see the module docs).
pub(crate) struct Recorder<'a> {
    kms: &'a Kms,
    event: Option<Event>,
    /// Set for requests that change state: their event may have been written with the change.
    scope: Option<Arc<AuditScope>>,
}

impl<'a> Recorder<'a> {
    pub fn new(
        kms: &'a Kms,
        caller: &Caller,
        meta: &RequestMeta,
        source: Source,
        name: impl Into<std::borrow::Cow<'static, str>>,
        read_only: bool,
    ) -> Self {
        let event = Event {
            time_ms: kms.now_ms(),
            source,
            name: name.into(),
            region: kms.region_of(meta).shared(),
            identity: Some(Arc::clone(caller.audit_identity())),
            source_ip: meta.source_ip.clone(),
            request_id: meta.request_id.clone(),
            parameters: Parameters::new(),
            resources: Vec::new(),
            error: None,
            read_only,
            additional: None,
            origin: Some(Arc::clone(kms.boot_id())),
        };
        Recorder {
            kms,
            event: Some(event),
            scope: None,
        }
    }

    /// Makes the event (as recorded so far) available to the request's write, which puts it in
    /// its transaction; returns the scope to run the request in.
    pub fn scope_for_write(&mut self, resources: Vec<Arc<str>>) -> Option<Arc<AuditScope>> {
        let prototype = self.event.clone()?;
        let scope = Arc::new(AuditScope {
            prototype,
            resources: Mutex::new(resources),
            written: AtomicBool::new(false),
        });
        self.scope = Some(Arc::clone(&scope));
        Some(scope)
    }

    /// Whether the request's event is already in the store (written with its change).
    fn written(&self) -> bool {
        self.scope.as_ref().is_some_and(|s| s.written.load(Ordering::Acquire))
    }

    pub fn parameters(&mut self) -> Option<&mut Parameters> {
        self.event.as_mut().map(|e| &mut e.parameters)
    }

    pub fn resources(&mut self, r: Vec<Arc<str>>) {
        if let Some(e) = self.event.as_mut() {
            e.resources = r;
        }
    }

    /// Records the outcome (unless the event went to the store with the request's change).
    pub fn finish(mut self, error: Option<(&'static str, String)>) {
        if let Some(mut e) = self.event.take() {
            if self.written() {
                if let Some((code, _)) = &error {
                    // The change committed, then the request failed: rare (operations write
                    // last), and the trail says the change happened, which it did.
                    tracing::warn!(request_id = %e.request_id, error = %code, "request failed after its change was committed");
                }
                return;
            }
            e.error = error.map(|(c, m)| (c.into(), m));
            self.kms.audit.push(e);
        }
    }

    pub fn finish_kms(self, result: &Result<Vec<u8>, KmsError>) {
        let error = result.as_ref().err().map(|e| (e.code().as_str(), e.client_message()));
        self.finish(error);
    }
}

impl Drop for Recorder<'_> {
    /// Reached without `finish`: the request panicked or was cancelled.
    fn drop(&mut self) {
        if self.written() {
            return;
        }
        if let Some(mut e) = self.event.take() {
            e.error = Some(("KMSInternalException".into(), KmsError::internal("").client_message()));
            self.kms.audit.push(e);
        }
    }
}

const NOT_A_STRUCTURE: &str = "Start of structure or map found where not expected.";

/// Decodes a request body: one JSON object (an empty body is `{}`). Syntax errors and
/// non-objects are AWS's "Start of structure…" text; type errors keep serde's description of the
/// member without positions.
pub(crate) fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T, KmsError> {
    let trimmed = body.trim_ascii_start();
    if trimmed.is_empty() {
        return serde_json::from_slice(b"{}").map_err(|e| KmsError::Serialization(message(&e)));
    }
    if trimmed.first() != Some(&b'{') {
        return Err(KmsError::Serialization(NOT_A_STRUCTURE.to_owned()));
    }
    serde_json::from_slice(body).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            KmsError::Serialization(NOT_A_STRUCTURE.to_owned())
        } else {
            KmsError::Serialization(message(&e))
        }
    })
}

/// serde's message names the member and the expected type; keep that, drop positions.
fn message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.find(" at line ") {
        Some(i) => text.get(..i).unwrap_or_default().to_owned(),
        None => text,
    }
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, KmsError> {
    let mut out = Vec::with_capacity(512);
    serde_json::to_writer(&mut out, v).map_err(KmsError::internal)?;
    Ok(out)
}

/// Runs one operation through the whole path and records it.
pub(crate) async fn run<O: KmsOp>(
    kms: &Kms,
    caller: &Caller,
    body: &[u8],
    meta: &RequestMeta,
) -> Result<Vec<u8>, KmsError> {
    let mut recorder = Recorder::new(kms, caller, meta, Source::Kms, O::OP.name(), O::OP.is_read_only());
    let result = run_inner::<O>(kms, caller, body, meta, &mut recorder).await;
    recorder.finish_kms(&result);
    result
}

async fn run_inner<O: KmsOp>(
    kms: &Kms,
    caller: &Caller,
    body: &[u8],
    meta: &RequestMeta,
    recorder: &mut Recorder<'_>,
) -> Result<Vec<u8>, KmsError> {
    let input: O::Input = decode(body)?;
    #[cfg(debug_assertions)]
    if kms.panic_on.get() == Some(&O::OP) {
        panic!("injected fault in {}", O::OP.name());
    }
    if let Some(p) = recorder.parameters() {
        input.audit(p);
    }
    let checks = Checks {
        region: kms.region_of(meta),
        now_ms: kms.now_ms(),
    };
    let req = O::validate(input, &checks)?;
    for token in O::grant_tokens(&req) {
        kms.grant_tokens.verify(token)?;
    }
    let _serial = if O::SERIAL {
        Some(kms.write_lock.lock().await)
    } else {
        None
    };
    let az = Authorizer::new(kms, caller, meta, O::OP);
    let auth = <O::Target as Target>::authorize(&az, O::target(&req)).await?;
    if let Some(quotas) = kms.quotas.get() {
        // The key's kind picks the shared cryptographic quota (it was just resolved: cached).
        let spec = auth
            .resources()
            .first()
            .and_then(|arn| arn.rsplit_once("key/").and_then(|(_, id)| KeyId::parse(id)))
            .and_then(|id| kms.cached_key(az.region, &id))
            .map(|k| k.spec());
        quotas.admit(caller.account(), crate::quota::class(O::OP, spec), kms.now_ms())?;
    }
    // A request that fails after authorization still names the keys it was authorized on, as
    // CloudTrail's events of failed KMS calls do (a refused policy, an existing alias).
    let authorized = auth.resources();
    let scope = if O::OP.changes_state() {
        recorder.scope_for_write(authorized.clone())
    } else {
        None
    };
    let out = match in_scope(
        scope,
        O::run(
            Ctx {
                kms,
                caller,
                meta,
                auth,
            },
            req,
        ),
    )
    .await
    {
        Ok(out) => out,
        Err(e) => {
            recorder.resources(authorized);
            return Err(e);
        }
    };
    let mut resources = Vec::new();
    out.resources(&mut resources);
    if O::TRACK_USAGE {
        for arn in &resources {
            if let Some(id) = arn.rsplit_once("key/").and_then(|(_, id)| KeyId::parse(id)) {
                kms.usage
                    .record(id, kms.region_of(meta), O::OP.name(), kms.now_ms(), &meta.request_id);
            }
        }
    }
    recorder.resources(resources);
    encode(&out)
}

//! Shared fixture for the service-level fuzz targets: one in-process `Kms` over SQLite in a
//! temporary directory (set `TMPDIR` to choose where; `scripts/fuzz` uses a directory it
//! removes), the account root as caller — so inputs reach every operation's body, not only
//! its authorization — and a few keys the seed corpus names by alias (`alias/fuzz-*`).
//!
//! A panic anywhere below `Kms::handle`/`Kms::handle_query` is a finding: the server would
//! answer it with a 500, which for client input is a bug.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use trent_api::{KmsError, Operation};
use trent_core::{Caller, Clock as _, IamError, Kms, Params, RequestMeta};
use trent_store::sqlite::SqliteStore;

/// The in-process service and its runtime.
pub struct Service {
    rt: tokio::runtime::Runtime,
    kms: Arc<Kms>,
    root: Caller,
    calls: AtomicUsize,
}

/// Keys the seed corpus names: `(alias, KeySpec, KeyUsage)`.
pub const KEYS: [(&str, &str, &str); 5] = [
    ("alias/fuzz-symmetric", "SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT"),
    ("alias/fuzz-rsa", "RSA_2048", "ENCRYPT_DECRYPT"),
    ("alias/fuzz-ecc", "ECC_NIST_P256", "SIGN_VERIFY"),
    ("alias/fuzz-agree", "ECC_NIST_P256", "KEY_AGREEMENT"),
    ("alias/fuzz-hmac", "HMAC_256", "GENERATE_VERIFY_MAC"),
];

/// The process-wide service, built on first use.
pub fn service() -> &'static Service {
    static SERVICE: OnceLock<Service> = OnceLock::new();
    SERVICE.get_or_init(build)
}

fn build() -> Service {
    let dir = std::env::temp_dir().join(format!("trent-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("fuzz data directory");
    let store = Arc::new(SqliteStore::open(&dir.join("trent.db")).expect("open store"));
    let clock = Arc::new(trent_core::SystemClock);
    // A fixed root key: the fuzz store holds nothing of value.
    let root_key = || trent_crypto::RootKey::from_bytes([7; 32]);
    let admin =
        trent_core::bootstrap::initialise(store.as_ref(), &root_key(), None, clock.now_ms()).expect("initialise");
    let kms = Kms::open(
        store,
        root_key(),
        clock,
        trent_core::Config {
            regions: vec!["us-east-1".into()],
        },
    )
    .expect("open service");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let service = Service {
        rt,
        kms: Arc::new(kms),
        root: Caller::root(&admin.account_id, &admin.access_key_id),
        calls: AtomicUsize::new(0),
    };
    for (alias, spec, usage) in KEYS {
        let body = format!(r#"{{"KeySpec":"{spec}","KeyUsage":"{usage}"}}"#);
        let out = service.kms(Operation::CreateKey, body.as_bytes()).expect("create key");
        let text = String::from_utf8(out).expect("utf-8");
        let id = text
            .split("\"KeyId\":\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .expect("key id")
            .to_owned();
        let body = format!(r#"{{"AliasName":"{alias}","TargetKeyId":"{id}"}}"#);
        service
            .kms(Operation::CreateAlias, body.as_bytes())
            .expect("create alias");
    }
    service
}

impl Service {
    /// One KMS request (JSON body) as the account root.
    pub fn kms(&self, op: Operation, body: &[u8]) -> Result<Vec<u8>, KmsError> {
        self.rt.block_on(async {
            let out = self.kms.handle(&self.root, op, body, &RequestMeta::default()).await;
            self.flush_now_and_then().await;
            out
        })
    }

    /// One IAM or STS request (Query form parameters) as the account root; the result's XML.
    pub fn query(&self, service: &str, params: &Params) -> Result<String, IamError> {
        self.rt.block_on(async {
            let out = self
                .kms
                .handle_query(&self.root, service, params, &RequestMeta::default())
                .await;
            self.flush_now_and_then().await;
            out.map(|parts| {
                let mut xml = String::new();
                for part in parts.unwrap_or_default() {
                    part.write(&mut xml);
                }
                xml
            })
        })
    }

    /// Writes buffered audit events now and then, as the server's flusher does, so memory stays
    /// bounded and the flush path sees fuzzed members too.
    async fn flush_now_and_then(&self) {
        if self.calls.fetch_add(1, Ordering::Relaxed) % 512 == 0 {
            self.kms.flush_audit().await.expect("audit flush");
        }
    }
}

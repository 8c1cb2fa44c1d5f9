//! The data directory and the store: the seal (`root.key` or `seal.json`, 0600), `trent.db` (SQLite, the
//! embedded default) or a PostgreSQL database (`--database postgres://…`), `admin.env` (0600,
//! the bootstrap credentials as shell-sourceable lines). First start creates them; later starts
//! reuse them and re-write `admin.env` from the sealed store (so it always names the address the
//! server listens on now). The binary is the only crate that links the concrete backends.
//!
//! With PostgreSQL every node keeps its own data directory for `root.key` and `admin.env`; nodes
//! of one database must share the root key, so a node never creates one for a database that
//! already holds data (the operator copies it from the first node).

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use trent_core::{bootstrap, Config, Kms, SystemClock};
use trent_crypto::seal::Keyring;
use trent_store::sqlite::SqliteStore;
use trent_store::Store;
use trent_store_postgres::{PgOptions, PgStore};

use crate::seals;

/// Where a command finds its state: the data directory and, optionally, a PostgreSQL database.
#[derive(clap::Args, Debug, Clone)]
pub struct Location {
    /// Data directory: root key, admin.env and (without --database) the SQLite database.
    #[arg(long, env = "TRENT_DATA_DIR", default_value = "./trent-data")]
    pub data_dir: PathBuf,
    /// A PostgreSQL URL (`postgres://user@host:5432/db`, several hosts with
    /// `target_session_attrs=read-write` for failover) to keep state in instead of SQLite.
    /// Nodes sharing one database form a cluster.
    /// `sslmode` (disable, prefer, require, verify-ca, verify-full) and `sslrootcert` (a PEM
    /// file, or `system`) in the URL as libpq reads them.
    #[arg(long, env = "TRENT_DATABASE_URL", hide_env_values = true)]
    pub database: Option<String>,
    /// Most connections to the database this process opens.
    #[arg(long, env = "TRENT_DATABASE_POOL_SIZE", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub database_pool_size: u32,
    /// Seconds a request waits for a database connection (and a connection attempt for the
    /// database) before it fails with a retryable error.
    #[arg(long, env = "TRENT_DATABASE_TIMEOUT_SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub database_timeout_secs: u64,
    #[command(flatten)]
    pub seals: crate::seals::SealArgs,
}

impl Location {
    fn pg_options(&self) -> PgOptions {
        PgOptions {
            pool_size: self.database_pool_size,
            connect_timeout: std::time::Duration::from_secs(self.database_timeout_secs),
        }
    }
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://") || url.contains("host=")
}

/// Opens the store `at` names (creating the SQLite file if needed); `Err` for an unusable URL.
fn connect(at: &Location) -> Result<Arc<dyn Store>, String> {
    match at.database.as_deref() {
        None => Ok(Arc::new(
            SqliteStore::open(&at.data_dir.join("trent.db")).map_err(|e| e.to_string())?,
        )),
        Some(url) if is_postgres(url) => Ok(Arc::new(
            PgStore::connect(url, &at.pg_options()).map_err(|e| format!("database: {e}"))?,
        )),
        Some(_) => Err(
            "--database: expected a postgres:// URL (SQLite in the data directory is the default: omit --database)"
                .into(),
        ),
    }
}

/// Whether the store `at` names was initialised (holds an account).
fn initialised(at: &Location) -> Result<Option<Arc<dyn Store>>, String> {
    if at.database.is_none() && !at.data_dir.join("trent.db").exists() {
        return Ok(None);
    }
    let store = connect(at)?;
    let has_account = !store.accounts().map_err(|e| e.to_string())?.is_empty();
    Ok(has_account.then_some(store))
}

/// The root key: created on first start; for a database that already holds data it must be
/// the one that sealed it (copied from the node that created it).
pub fn root_key(at: &Location, store: &dyn Store) -> Result<trent_crypto::RootKey, String> {
    crate::rotate_cmd::refuse_if_unfinished(at)?;
    let existing = seals::existing(at)?;
    if at.database.is_some() && existing.is_none() && !store.accounts().map_err(|e| e.to_string())?.is_empty() {
        return Err(format!(
            "the database is already initialised, but {} holds no root key: copy root.key (or seal.json) from a node of \
             this cluster (every node of one database needs the same root key)",
            at.data_dir.display()
        ));
    }
    if let (Some(have), Some(want)) = (existing, at.seals.seal.as_deref()) {
        if have.name() != want {
            return Err(format!(
                "{} uses the {have} seal, not {want}: move it with `trent operator migrate-seal --to {want}`",
                at.data_dir.display()
            ));
        }
    }
    if let Some(kind) = existing {
        return seals::unlock(at, kind);
    }
    let kind = seals::chosen(at);
    let key = trent_crypto::RootKey::generate().map_err(|e| e.to_string())?;
    seals::create_at(at, kind, &key, &seals::file_of(&at.data_dir, kind), None, None)?;
    tracing::info!(seal = %kind, "new root key sealed");
    Ok(key)
}

pub struct Opened {
    pub kms: Kms,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    pub account_id: trent_types::AccountId,
    pub admin_env: PathBuf,
}

/// How a process holds `<dir>/trent.lock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    /// Servers: any number at once (several may share one SQLite file).
    Shared,
    /// Commands that rewrite sealed state (rotate-root-key, migrate-seal): alone.
    Exclusive,
}

/// A lock on `<dir>/trent.lock`, held until the file is dropped: servers hold it shared while
/// they run and the commands that rewrite sealed state take it exclusively, so neither runs
/// against a directory the other is using.
pub fn lock(dir: &Path, how: Lock) -> Result<std::fs::File, String> {
    private_dir(dir)?;
    let path = dir.join("trent.lock");
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let f = opts.open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use rustix::fs::FlockOperation;
        let op = match how {
            Lock::Shared => FlockOperation::NonBlockingLockShared,
            Lock::Exclusive => FlockOperation::NonBlockingLockExclusive,
        };
        rustix::fs::flock(&f, op).map_err(|_| match how {
            Lock::Shared => format!(
                "{} is being rewritten (trent operator rotate-root-key or migrate-seal): wait for it to finish",
                dir.display()
            ),
            Lock::Exclusive => format!(
                "{} is in use by another trent process (a running server?): stop it first",
                dir.display()
            ),
        })?;
    }
    Ok(f)
}

fn private_dir(path: &Path) -> Result<(), String> {
    std::fs::create_dir_all(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("cannot restrict {}: {e}", path.display()))?;
    }
    Ok(())
}

fn write_private(path: &Path, contents: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(&tmp)
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    f.write_all(contents)
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Where clients reach the server: `http://addr`, or `https://addr` when it serves TLS.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint {
    pub addr: SocketAddr,
    pub tls: bool,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}", if self.tls { "https" } else { "http" }, self.addr)
    }
}

/// The Regions a server serves: `--regions` (`--region`), each a Region name, without repeats;
/// the first is the default.
pub fn regions(given: &[String]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for name in given.iter().map(|s| s.trim()) {
        if trent_types::Region::parse(name).is_none() {
            return Err(format!(
                "--regions: '{name}' is not a Region name (like us-east-1 or eu-west-1)"
            ));
        }
        if !out.iter().any(|r| r == name) {
            out.push(name.to_owned());
        }
    }
    if out.is_empty() {
        return Err("--regions: name at least one Region".into());
    }
    Ok(out)
}

/// A data directory keeps its Regions: every key records its own, and its ARN — the
/// authenticated data its material is sealed with — names it, so any Region list opens every
/// key. A list that leaves out a Region holding keys is refused at start, naming it, rather
/// than hiding those keys; adding Regions is always allowed.
fn keeps_regions(store: &dyn Store, regions: &[String]) -> Result<(), String> {
    let held = store.key_regions().map_err(|e| e.to_string())?;
    let missing: Vec<&str> = held
        .iter()
        .map(trent_types::Region::as_str)
        .filter(|r| !regions.iter().any(|g| g == r))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut all: Vec<&str> = regions.iter().map(String::as_str).collect();
    all.extend(missing.iter().copied());
    Err(format!(
        "this data directory holds keys in {} {}, which --regions ({}) leaves out: \
         start it with --regions {}",
        if missing.len() == 1 { "Region" } else { "Regions" },
        missing.join(", "),
        regions.join(","),
        all.join(",")
    ))
}

/// The data directory and the store, before the root key: the directory exists (0700), the
/// store is reachable and `regions` include every Region it holds keys in.
pub fn prepare(at: &Location, regions: &[String]) -> Result<Arc<dyn Store>, String> {
    private_dir(&at.data_dir)?;
    let store = connect(at)?;
    keeps_regions(store.as_ref(), regions)?;
    Ok(store)
}

/// The keyring a server opens with: the root key, or — while a root-key rotation is
/// unfinished (`root.key.rotating` / `seal.json.rotating`) — the staged new key and the live old
/// one, both opened with the same passphrase, PIN or credentials, so the server resumes it.
pub fn keyring(at: &Location, store: &dyn Store) -> Result<Keyring, String> {
    let Some(kind) = seals::existing(at)? else {
        return Ok(Keyring::new(root_key(at, store)?));
    };
    let live = seals::file_of(&at.data_dir, kind);
    let staged = crate::rotate_cmd::staged_of(&live);
    if !staged.exists() {
        return Ok(Keyring::new(root_key(at, store)?));
    }
    let given = seals::read_given(at, kind)?;
    let old = seals::unlock_at(at, kind, &live, given.clone())?;
    let new = seals::unlock_at(at, kind, &staged, given)?;
    tracing::warn!(staged = %staged.display(), "an unfinished root-key rotation: resuming it");
    Ok(Keyring::rotating(new, old))
}

/// Opens the service over a prepared store with its keyring (bootstrapping a new store).
pub fn open_with_root(
    at: &Location,
    store: Arc<dyn Store>,
    root: Keyring,
    regions: &[String],
    account_id: Option<&str>,
    endpoint: Endpoint,
) -> Result<Opened, String> {
    let region = regions.first().ok_or("no Region to serve")?;
    let backend = store.backend();
    let now = trent_core::Clock::now_ms(&SystemClock);
    let admin = bootstrap::initialise_with(store.as_ref(), &root, account_id, now).map_err(|e| match at.database {
        Some(_) => format!("{e} (is the root key the one the other nodes of this database use?)"),
        None => e.to_string(),
    })?;
    let admin_env = at.data_dir.join("admin.env");
    // Always re-written: it is derived from the store and names where the server listens now.
    write_env(&admin_env, &admin, region, endpoint)?;
    let kms = Kms::open_with(
        store,
        root,
        Arc::new(SystemClock),
        Config {
            regions: regions.to_vec(),
        },
    )
    .map_err(|e| e.to_string())?;
    Ok(Opened {
        kms,
        backend,
        account_id: admin.account_id,
        admin_env,
    })
}

/// `trent operator init`: a new data directory (or database) sealed with `kind`, its first
/// account and `admin.env`; returns the shares of a Shamir seal.
pub fn init(
    at: &Location,
    kind: trent_seal::SealKind,
    policy: Option<trent_seal::shamir::Policy>,
    region: &str,
    account_id: Option<&str>,
    endpoint: Endpoint,
) -> Result<(Vec<trent_crypto::SecretBytes>, trent_types::AccountId), String> {
    if let Some(have) = seals::existing(at)? {
        return Err(format!(
            "{} is initialised already (the {have} seal)",
            at.data_dir.display()
        ));
    }
    let store = prepare(at, &[region.to_owned()])?;
    if !store.accounts().map_err(|e| e.to_string())?.is_empty() {
        return Err("the database is initialised already: copy its seal file from a node of this cluster".into());
    }
    let key = trent_crypto::RootKey::generate().map_err(|e| e.to_string())?;
    let shares = seals::create_at(at, kind, &key, &seals::file_of(&at.data_dir, kind), policy, None)?;
    let now = trent_core::Clock::now_ms(&SystemClock);
    let ring = Keyring::new(key);
    let admin = bootstrap::initialise_with(store.as_ref(), &ring, account_id, now).map_err(|e| e.to_string())?;
    write_env(&at.data_dir.join("admin.env"), &admin, region, endpoint)?;
    Ok((shares, admin.account_id))
}

/// Opens an initialised data directory without serving (admin and policy tools), in `region`
/// and every Region the directory holds keys in.
pub fn open_existing(at: &Location, region: &str) -> Result<Kms, String> {
    let (store, root) = open_store(at)?;
    let mut regions = vec![region.to_owned()];
    for held in store.key_regions().map_err(|e| e.to_string())? {
        regions.push(held.as_str().to_owned());
    }
    Kms::open(store, root, Arc::new(SystemClock), Config { regions }).map_err(|e| e.to_string())
}

/// The store and root key of an initialised data directory, without starting the service.
pub fn open_store(at: &Location) -> Result<(Arc<dyn Store>, trent_crypto::RootKey), String> {
    let store = open_sealed(at)?;
    let root = root_key(at, store.as_ref())?;
    Ok((store, root))
}

/// The store of an initialised data directory, without its root key (what needs no secret).
pub fn open_sealed(at: &Location) -> Result<Arc<dyn Store>, String> {
    initialised(at)?.ok_or_else(|| not_initialised(at))
}

fn not_initialised(at: &Location) -> String {
    match at.database {
        Some(_) => "the database is not initialised (start the server once)".into(),
        None => format!(
            "{} is not an initialised data directory (start the server once)",
            at.data_dir.display()
        ),
    }
}

/// `trent admin create-account`: a new account and `admin-<account>.env` for its root principal.
pub fn create_account(at: &Location, account_id: Option<&str>, endpoint: Endpoint, region: &str) -> Result<(), String> {
    let (store, root) = open_store(at)?;
    let now = trent_core::Clock::now_ms(&SystemClock);
    let admin = bootstrap::create_account(store.as_ref(), &root, account_id, now).map_err(|e| e.to_string())?;
    let path = at.data_dir.join(format!("admin-{}.env", admin.account_id));
    write_env(&path, &admin, region, endpoint)?;
    println!("trent: account {} created", admin.account_id);
    println!("trent: credentials in {}", path.display());
    Ok(())
}

/// `trent admin create-xks-credential`: an XKS proxy credential for an IAM user, printed as the
/// specification's "XKS proxy configuration file" (the secret is shown this once).
pub fn create_xks_credential(
    at: &Location,
    account_id: Option<&str>,
    user: &str,
    uri_path: &str,
) -> Result<(), String> {
    if !trent_api::xks::is_uri_path(uri_path) {
        return Err(format!(
            "--uri-path {uri_path}: must be at most 128 characters of A-Z a-z 0-9 / - _ ending in /kms/xks/v1"
        ));
    }
    let (store, root) = open_store(at)?;
    let now = trent_core::Clock::now_ms(&SystemClock);
    let c =
        bootstrap::create_xks_credential(store.as_ref(), &root, account_id, user, now).map_err(|e| e.to_string())?;
    let secret = zeroize::Zeroizing::new(String::from_utf8_lossy(c.secret_access_key.expose()).into_owned());
    let file = zeroize::Zeroizing::new(
        serde_json::to_string_pretty(&serde_json::json!({
            "XksProxyUriPath": uri_path,
            "XksProxyAuthenticationCredential": {
                "AccessKeyId": c.access_key_id,
                "RawSecretAccessKey": secret.as_str(),
            }
        }))
        .map_err(|e| e.to_string())?,
    );
    println!("{}", file.as_str());
    eprintln!(
        "trent: XKS proxy credential {} for user {user} of account {}; allow it kms:DescribeKey, kms:Encrypt and kms:Decrypt in the policies of the keys it may use",
        c.access_key_id, c.account_id
    );
    Ok(())
}

/// `admin.env`: shell-sourceable credentials and endpoint for an account's root principal.
fn write_env(path: &Path, admin: &bootstrap::AdminCredentials, region: &str, endpoint: Endpoint) -> Result<(), String> {
    let secret = zeroize::Zeroizing::new(String::from_utf8_lossy(admin.secret_access_key.expose()).into_owned());
    let text = zeroize::Zeroizing::new(format!(
        "AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}\nAWS_REGION={region}\nAWS_DEFAULT_REGION={region}\nAWS_ENDPOINT_URL_KMS={endpoint}\nAWS_ENDPOINT_URL={endpoint}\n",
        admin.access_key_id,
        secret.as_str()
    ));
    write_private(path, text.as_bytes())
}

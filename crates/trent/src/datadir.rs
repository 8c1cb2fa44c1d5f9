//! The data directory: `root.key` (0600, the file seal), `trent.db` (SQLite), `admin.env` (0600,
//! the bootstrap credentials as shell-sourceable lines). First start creates all three; later
//! starts reuse them and re-write `admin.env` from the sealed store (so it always names the
//! address the server listens on now).

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use trent_core::rootkey::{FileRootKey, RootKeyProvider};
use trent_core::{bootstrap, Config, Kms, SystemClock};
use trent_store::sqlite::SqliteStore;

pub struct Opened {
    pub kms: Kms,
    pub account_id: trent_types::AccountId,
    pub admin_env: PathBuf,
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

pub fn open(dir: &Path, region: &str, account_id: Option<&str>, addr: SocketAddr) -> Result<Opened, String> {
    private_dir(dir)?;
    let root = FileRootKey::new(dir.join("root.key"))
        .unlock_or_create()
        .map_err(|e| e.to_string())?;
    let store = Arc::new(SqliteStore::open(&dir.join("trent.db")).map_err(|e| e.to_string())?);
    let now = trent_core::Clock::now_ms(&SystemClock);
    let admin = bootstrap::initialise(store.as_ref(), &root, account_id, now).map_err(|e| e.to_string())?;
    let admin_env = dir.join("admin.env");
    // Always re-written: it is derived from the store and names where the server listens now.
    write_env(&admin_env, &admin, region, addr)?;
    let kms = Kms::open(
        store,
        root,
        Arc::new(SystemClock),
        Config {
            region: region.to_owned(),
        },
    )
    .map_err(|e| e.to_string())?;
    Ok(Opened {
        kms,
        account_id: admin.account_id,
        admin_env,
    })
}

/// Opens an initialised data directory without serving (admin and policy tools).
pub fn open_existing(dir: &Path, region: &str) -> Result<Kms, String> {
    let (store, root) = open_store(dir)?;
    Kms::open(
        Arc::new(store),
        root,
        Arc::new(SystemClock),
        Config {
            region: region.to_owned(),
        },
    )
    .map_err(|e| e.to_string())
}

/// The store and root key of an initialised data directory, without starting the service.
pub fn open_store(dir: &Path) -> Result<(SqliteStore, trent_crypto::RootKey), String> {
    if !dir.join("trent.db").exists() {
        return Err(format!("{} is not an initialised data directory", dir.display()));
    }
    let root = FileRootKey::new(dir.join("root.key"))
        .unlock_or_create()
        .map_err(|e| e.to_string())?;
    let store = SqliteStore::open(&dir.join("trent.db")).map_err(|e| e.to_string())?;
    Ok((store, root))
}

/// `trent admin create-account`: a new account and `admin-<account>.env` for its root principal.
pub fn create_account(dir: &Path, account_id: Option<&str>, addr: SocketAddr, region: &str) -> Result<(), String> {
    if !dir.join("trent.db").exists() {
        return Err(format!(
            "{} is not an initialised data directory (start the server once)",
            dir.display()
        ));
    }
    let root = FileRootKey::new(dir.join("root.key"))
        .unlock_or_create()
        .map_err(|e| e.to_string())?;
    let store = SqliteStore::open(&dir.join("trent.db")).map_err(|e| e.to_string())?;
    let now = trent_core::Clock::now_ms(&SystemClock);
    let admin = bootstrap::create_account(&store, &root, account_id, now).map_err(|e| e.to_string())?;
    let path = dir.join(format!("admin-{}.env", admin.account_id));
    write_env(&path, &admin, region, addr)?;
    println!("trent: account {} created", admin.account_id);
    println!("trent: credentials in {}", path.display());
    Ok(())
}

/// `admin.env`: shell-sourceable credentials and endpoint for an account's root principal.
fn write_env(path: &Path, admin: &bootstrap::AdminCredentials, region: &str, addr: SocketAddr) -> Result<(), String> {
    let secret = zeroize::Zeroizing::new(String::from_utf8_lossy(admin.secret_access_key.expose()).into_owned());
    let text = zeroize::Zeroizing::new(format!(
        "AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}\nAWS_REGION={region}\nAWS_DEFAULT_REGION={region}\nAWS_ENDPOINT_URL_KMS=http://{addr}\nAWS_ENDPOINT_URL=http://{addr}\n",
        admin.access_key_id,
        secret.as_str()
    ));
    write_private(path, text.as_bytes())
}

//! The embedded SQLite backend (the default): one database file in the data directory, WAL
//! journal with `synchronous=FULL` so a commit is on disk before the response is sent, numbered
//! migrations tracked in `PRAGMA user_version`.

mod audit;
mod keys;
mod migrations;

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::{Condvar, Mutex, MutexGuard};

use rusqlite::types::Type;
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use trent_types::{
    AccessKeyStatus, AccountId, AliasName, ExpirationModel, GrantOperation, ImportState, KeyId, KeyManager, KeySpec,
    KeyState, KeyUsage, Origin, Region, RotationType,
};

use crate::{
    AccessKeyRecord, AccountRecord, AliasRecord, AuditBatchRecord, AuditHead, EntityKind, EntityRecord, GrantRecord,
    KeyRecord, MaterialRecord, Store, StoreError, StoreRead, TagRecord, UsageRecord,
};

/// SQLite-backed [`Store`]: one connection, used by one caller at a time. During
/// [`Store::atomically`] the connection is lent to a transaction view (another `SqliteStore` that
/// holds it alone); other callers wait for it to come back.
pub struct SqliteStore {
    conn: Mutex<Option<Connection>>,
    returned: Condvar,
}

/// The connection, held for one call.
pub(crate) struct ConnGuard<'a>(MutexGuard<'a, Option<Connection>>);

impl Deref for ConnGuard<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.0
            .as_ref()
            .unwrap_or_else(|| unreachable!("a guard is only made while the connection is home"))
    }
}

impl DerefMut for ConnGuard<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.0
            .as_mut()
            .unwrap_or_else(|| unreachable!("a guard is only made while the connection is home"))
    }
}

/// A write transaction: the outermost one (`BEGIN IMMEDIATE`: the write lock at once, so two
/// processes never deadlock upgrading), or a savepoint inside [`Store::atomically`]'s.
pub(crate) enum Tx<'c> {
    Top(rusqlite::Transaction<'c>),
    Nested(rusqlite::Savepoint<'c>),
}

impl<'c> Tx<'c> {
    pub(crate) fn begin(c: &'c mut Connection) -> Result<Tx<'c>, StoreError> {
        if c.is_autocommit() {
            c.transaction_with_behavior(TransactionBehavior::Immediate)
                .map(Tx::Top)
                .map_err(classify)
        } else {
            c.savepoint().map(Tx::Nested).map_err(classify)
        }
    }

    pub(crate) fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Top(t) => t.commit(),
            Tx::Nested(s) => s.commit(),
        }
        .map_err(classify)
    }
}

impl Deref for Tx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            Tx::Top(t) => t,
            Tx::Nested(s) => s,
        }
    }
}

/// The connection lent to a transaction view; brings it home (rolling back what was left open,
/// after an error or a panic) however the view's work ends.
struct Lent<'a> {
    home: &'a SqliteStore,
    view: SqliteStore,
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        let conn = self.view.conn.lock().ok().and_then(|mut g| g.take());
        if let Some(c) = &conn {
            if !c.is_autocommit() {
                let _ = c.execute_batch("ROLLBACK");
            }
        }
        if let Ok(mut g) = self.home.conn.lock() {
            *g = conn;
        }
        self.home.returned.notify_all();
    }
}

fn classify(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::FromSqlConversionFailure(col, _, why) = &e {
        return StoreError::Corrupt(format!("column {col}: {why}"));
    }
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        if f.code == rusqlite::ErrorCode::ConstraintViolation && matches!(f.extended_code, 2067 | 1555) {
            // SQLITE_CONSTRAINT_UNIQUE / SQLITE_CONSTRAINT_PRIMARYKEY
            return StoreError::UniqueViolation;
        }
    }
    StoreError::Backend(e.to_string())
}

/// A text column parsed into a domain value; an unknown value is a corrupt row.
fn parsed<T>(r: &Row<'_>, i: usize, parse: impl Fn(&str) -> Option<T>) -> rusqlite::Result<T> {
    let s: String = r.get(i)?;
    parse(&s)
        .ok_or_else(|| rusqlite::Error::FromSqlConversionFailure(i, Type::Text, format!("unknown value {s:?}").into()))
}

fn parsed_opt<T>(r: &Row<'_>, i: usize, parse: impl Fn(&str) -> Option<T>) -> rusqlite::Result<Option<T>> {
    let s: Option<String> = r.get(i)?;
    s.map(|s| {
        parse(&s).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(i, Type::Text, format!("unknown value {s:?}").into())
        })
    })
    .transpose()
}

/// Grant operations as the column keeps them: a JSON array of names (`["Encrypt","Decrypt"]`).
fn operations_text(ops: &[GrantOperation]) -> String {
    let names: Vec<String> = ops.iter().map(|o| format!("\"{}\"", o.as_str())).collect();
    format!("[{}]", names.join(","))
}

fn parse_operations(s: &str) -> Option<Vec<GrantOperation>> {
    let inner = s.trim().strip_prefix('[')?.strip_suffix(']')?.trim();
    if inner.is_empty() {
        return Some(Vec::new());
    }
    inner
        .split(',')
        .map(|n| GrantOperation::parse(n.trim().strip_prefix('"')?.strip_suffix('"')?))
        .collect()
}

const ACCESS_KEY_COLUMNS: &str = "access_key_id, account_id, principal_arn, sealed_secret, status, created_ms, user_name, session_token_hash, expires_ms, session, owner_id";

fn access_key_row(r: &Row<'_>) -> rusqlite::Result<AccessKeyRecord> {
    Ok(AccessKeyRecord {
        access_key_id: r.get(0)?,
        account_id: parsed(r, 1, AccountId::parse)?,
        principal_arn: r.get(2)?,
        sealed_secret: r.get(3)?,
        status: parsed(r, 4, AccessKeyStatus::parse)?,
        created_ms: r.get(5)?,
        user_name: r.get(6)?,
        session_token_hash: r.get(7)?,
        expires_ms: r.get(8)?,
        session: r.get(9)?,
        owner_id: r.get(10)?,
    })
}

fn entity_row(r: &Row<'_>) -> rusqlite::Result<EntityRecord> {
    Ok(EntityRecord {
        account_id: parsed(r, 0, AccountId::parse)?,
        kind: parsed(r, 1, EntityKind::parse)?,
        name: r.get(2)?,
        body: r.get(3)?,
    })
}

/// A compare-and-swap write that changed no row: the record moved on, or it is gone.
fn cas_miss(exists: bool) -> StoreError {
    if exists {
        StoreError::Conflict
    } else {
        StoreError::NotFound
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(classify)?;
        Self::init(conn)
    }

    /// A consistent online copy through SQLite's backup API (sqlite.org/backup.html): pages are
    /// copied `step` at a time and `progress(copied, total)` is called after each step. A write
    /// by another connection restarts the copy (SQLite's rule); after a few restarts the rest
    /// is copied in one step, which holds one read transaction and cannot be restarted. The copy
    /// is a snapshot of one moment, still sealed.
    pub fn backup_with_progress(
        &self,
        path: &Path,
        step: i32,
        progress: &mut dyn FnMut(i64, i64),
    ) -> Result<(), StoreError> {
        use rusqlite::backup::{Backup, StepResult};
        let c = self.conn()?;
        let mut target = Connection::open(path).map_err(classify)?;
        let backup = Backup::new(&c, &mut target).map_err(classify)?;
        let mut last_remaining = i64::MAX;
        let mut restarts = 0;
        loop {
            let pages = if restarts >= 3 { -1 } else { step.max(1) };
            match backup.step(pages).map_err(classify)? {
                StepResult::Done => {
                    let p = backup.progress();
                    progress(i64::from(p.pagecount), i64::from(p.pagecount));
                    return Ok(());
                }
                StepResult::More => {
                    let p = backup.progress();
                    let remaining = i64::from(p.remaining);
                    if remaining > last_remaining {
                        restarts += 1;
                    }
                    last_remaining = remaining;
                    progress(i64::from(p.pagecount) - remaining, i64::from(p.pagecount));
                }
                StepResult::Busy | StepResult::Locked => std::thread::sleep(std::time::Duration::from_millis(10)),
                _ => std::thread::sleep(std::time::Duration::from_millis(10)),
            }
        }
    }

    /// Rewrites the database file without its free pages and empties the write-ahead log, so
    /// bytes that were overwritten or deleted (sealed records before a root-key rotation) are
    /// no longer in any file.
    pub fn compact(&self) -> Result<(), StoreError> {
        let c = self.conn()?;
        c.execute_batch("VACUUM").map_err(classify)?;
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(classify)
    }

    /// A private in-memory database (tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory().map_err(classify)?)
    }

    fn init(mut conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL").map_err(classify)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(classify)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(classify)?;
        conn.busy_timeout(std::time::Duration::from_secs(5)).map_err(classify)?;
        migrations::apply(&mut conn)?;
        Ok(Self::holding(conn))
    }

    fn holding(conn: Connection) -> Self {
        Self {
            conn: Mutex::new(Some(conn)),
            returned: Condvar::new(),
        }
    }

    fn conn(&self) -> Result<ConnGuard<'_>, StoreError> {
        let poisoned = |_| StoreError::Backend("connection mutex poisoned".into());
        let mut g = self.conn.lock().map_err(poisoned)?;
        while g.is_none() {
            g = self.returned.wait(g).map_err(poisoned)?;
        }
        Ok(ConnGuard(g))
    }

    /// The schema version after migrations.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn()?
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(classify)
    }
}

impl StoreRead for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn accounts(&self) -> Result<Vec<AccountRecord>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare("SELECT account_id, created_ms FROM accounts ORDER BY created_ms, account_id")
            .map_err(classify)?;
        let rows = st
            .query_map([], |r| {
                Ok(AccountRecord {
                    account_id: parsed(r, 0, AccountId::parse)?,
                    created_ms: r.get(1)?,
                })
            })
            .map_err(classify)?;
        rows.collect::<Result<_, _>>().map_err(classify)
    }

    fn access_keys(&self) -> Result<Vec<AccessKeyRecord>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare(&format!("SELECT {ACCESS_KEY_COLUMNS} FROM access_keys"))
            .map_err(classify)?;
        let rows = st.query_map([], access_key_row).map_err(classify)?;
        rows.collect::<Result<_, _>>().map_err(classify)
    }

    fn access_key(&self, id: &str) -> Result<Option<AccessKeyRecord>, StoreError> {
        self.conn()?
            .query_row(
                &format!("SELECT {ACCESS_KEY_COLUMNS} FROM access_keys WHERE access_key_id = ?1"),
                [id],
                access_key_row,
            )
            .optional()
            .map_err(classify)
    }

    fn entity(&self, account_id: &AccountId, kind: EntityKind, name: &str) -> Result<Option<EntityRecord>, StoreError> {
        self.conn()?
            .query_row(
                "SELECT account_id, kind, name, body FROM iam_entities WHERE account_id = ?1 AND kind = ?2 AND name = ?3",
                [account_id.as_str(), kind.as_str(), name],
                entity_row,
            )
            .optional()
            .map_err(classify)
    }

    fn entities(&self, account_id: &AccountId, kind: EntityKind) -> Result<Vec<EntityRecord>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare("SELECT account_id, kind, name, body FROM iam_entities WHERE account_id = ?1 AND kind = ?2 ORDER BY name")
            .map_err(classify)?;
        let rows = st
            .query_map([account_id.as_str(), kind.as_str()], entity_row)
            .map_err(classify)?;
        rows.collect::<Result<_, _>>().map_err(classify)
    }

    fn key(&self, region: &Region, key_id: &KeyId) -> Result<Option<KeyRecord>, StoreError> {
        keys::key(self, region, key_id)
    }

    fn keys_settling(&self) -> Result<Vec<KeyRecord>, StoreError> {
        keys::keys_settling(self)
    }

    fn key_regions(&self) -> Result<Vec<Region>, StoreError> {
        keys::key_regions(self)
    }

    fn related_keys(&self, key_id: &KeyId) -> Result<Vec<KeyRecord>, StoreError> {
        keys::related_keys(self, key_id)
    }

    fn keys_in_custom_key_store(&self, custom_key_store_id: &str) -> Result<Vec<KeyRecord>, StoreError> {
        keys::keys_in_custom_key_store(self, custom_key_store_id)
    }

    fn materials(&self, key_id: &KeyId) -> Result<Vec<MaterialRecord>, StoreError> {
        keys::materials(self, key_id)
    }

    fn keys_due_for_rotation(&self, now_ms: i64) -> Result<Vec<KeyRecord>, StoreError> {
        keys::keys_due_for_rotation(self, now_ms)
    }

    fn expired_materials(&self, now_ms: i64) -> Result<Vec<MaterialRecord>, StoreError> {
        keys::expired_materials(self, now_ms)
    }

    fn usage(&self, region: &Region, key_id: &KeyId) -> Result<Option<UsageRecord>, StoreError> {
        keys::usage(self, region, key_id)
    }

    fn list_keys(
        &self,
        account_id: &AccountId,
        region: &Region,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        keys::list_keys(self, account_id, region, after, limit)
    }

    fn keys_due_for_deletion(&self, now_ms: i64) -> Result<Vec<KeyRecord>, StoreError> {
        keys::keys_due_for_deletion(self, now_ms)
    }

    fn alias(
        &self,
        account_id: &AccountId,
        region: &Region,
        name: &AliasName,
    ) -> Result<Option<AliasRecord>, StoreError> {
        keys::alias(self, account_id, region, name)
    }

    fn list_aliases(
        &self,
        account_id: &AccountId,
        region: &Region,
        key_id: Option<&KeyId>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AliasRecord>, StoreError> {
        keys::list_aliases(self, account_id, region, key_id, after, limit)
    }

    fn all_aliases(&self) -> Result<Vec<AliasRecord>, StoreError> {
        keys::all_aliases(self)
    }

    fn grant(&self, grant_id: &str) -> Result<Option<GrantRecord>, StoreError> {
        keys::grant(self, grant_id)
    }

    fn grants(&self, region: &Region, key_id: &KeyId) -> Result<Vec<GrantRecord>, StoreError> {
        keys::grants(self, region, key_id)
    }

    fn grants_retirable_by(&self, principal: &str) -> Result<Vec<GrantRecord>, StoreError> {
        keys::grants_retirable_by(self, principal)
    }

    fn audit_chains(&self) -> Result<Vec<String>, StoreError> {
        let c = self.conn()?;
        audit::chains(&c)
    }

    fn audit_batches_after(
        &self,
        chain: &str,
        after_seq: i64,
        limit: usize,
    ) -> Result<Vec<AuditBatchRecord>, StoreError> {
        let c = self.conn()?;
        audit::after(&c, chain, after_seq, limit)
    }

    fn audit_batches_before(
        &self,
        chain: &str,
        before_seq: i64,
        limit: usize,
    ) -> Result<Vec<AuditBatchRecord>, StoreError> {
        let c = self.conn()?;
        audit::before(&c, chain, before_seq, limit)
    }

    fn last_audit(&self, chain: &str) -> Result<Option<AuditHead>, StoreError> {
        let c = self.conn()?;
        audit::last(&c, chain)
    }

    fn audit_anchor(&self, chain: &str) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
        let c = self.conn()?;
        audit::anchor(&c, chain)
    }

    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.conn()?
            .query_row("SELECT value FROM meta WHERE name = ?1", [name], |r| r.get(0))
            .optional()
            .map_err(classify)
    }

    fn tags(&self, region: &Region, key_id: &KeyId) -> Result<Vec<TagRecord>, StoreError> {
        keys::tags(self, region, key_id)
    }
}

impl Store for SqliteStore {
    fn insert_account(&self, a: &AccountRecord) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "INSERT INTO accounts (account_id, created_ms) VALUES (?1, ?2)",
                params![a.account_id.as_str(), a.created_ms],
            )
            .map_err(classify)?;
        Ok(())
    }

    fn insert_access_key(&self, k: &AccessKeyRecord) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let tx = Tx::begin(&mut conn)?;
        // The owner must exist, with the id the key names (users by name; sessions by the role
        // their session names).
        let owner: Option<(&str, String)> = match (&k.user_name, &k.session) {
            (Some(user), _) => Some(("user", user.clone())),
            (None, Some(session)) => {
                let role: Option<String> = tx
                    .query_row(
                        "SELECT json_extract(?1, '$.role_name') WHERE json_valid(?1)",
                        [session],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(classify)?
                    .flatten();
                Some(("role", role.ok_or(StoreError::NotFound)?))
            }
            (None, None) => None,
        };
        if let Some((kind, name)) = owner {
            let id: Option<Option<String>> = tx
                .query_row(
                    "SELECT CASE WHEN json_valid(body) THEN json_extract(body, '$.id') END FROM iam_entities \
                     WHERE account_id = ?1 AND kind = ?2 AND name = ?3",
                    params![k.account_id.as_str(), kind, name],
                    |r| r.get(0),
                )
                .optional()
                .map_err(classify)?;
            match (id, &k.owner_id) {
                (None, _) => return Err(StoreError::NotFound),
                (Some(stored), Some(expected)) if stored.as_deref() != Some(expected.as_str()) => {
                    return Err(StoreError::NotFound)
                }
                _ => {}
            }
        }
        tx.execute(
            &format!(
                "INSERT INTO access_keys ({ACCESS_KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
            ),
            params![
                k.access_key_id,
                k.account_id.as_str(),
                k.principal_arn,
                k.sealed_secret,
                k.status.as_str(),
                k.created_ms,
                k.user_name,
                k.session_token_hash,
                k.expires_ms,
                k.session,
                k.owner_id
            ],
        )
        .map_err(classify)?;
        tx.commit()
    }

    fn set_access_key_status(&self, id: &str, status: AccessKeyStatus) -> Result<(), StoreError> {
        let n = self
            .conn()?
            .execute(
                "UPDATE access_keys SET status = ?2 WHERE access_key_id = ?1",
                [id, status.as_str()],
            )
            .map_err(classify)?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    fn put_meta(&self, name: &str, expected: Option<&[u8]>, value: &[u8]) -> Result<(), StoreError> {
        let c = self.conn()?;
        let n = match expected {
            None => c.execute(
                "INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                rusqlite::params![name, value],
            ),
            Some(old) => c.execute(
                "UPDATE meta SET value = ?2 WHERE name = ?1 AND value = ?3",
                rusqlite::params![name, value, old],
            ),
        }
        .map_err(classify)?;
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        Ok(())
    }

    fn reseal_access_key(&self, id: &str, expected: &[u8], sealed: &[u8]) -> Result<(), StoreError> {
        let c = self.conn()?;
        let n = c
            .execute(
                "UPDATE access_keys SET sealed_secret = ?2 WHERE access_key_id = ?1 AND sealed_secret = ?3",
                rusqlite::params![id, sealed, expected],
            )
            .map_err(classify)?;
        if n == 0 {
            let exists = c
                .query_row("SELECT 1 FROM access_keys WHERE access_key_id = ?1", [id], |_| Ok(()))
                .optional()
                .map_err(classify)?;
            return Err(cas_miss(exists.is_some()));
        }
        Ok(())
    }

    fn reseal_material(
        &self,
        key_id: &KeyId,
        material_id: &str,
        expected: &[u8],
        sealed: &[u8],
    ) -> Result<(), StoreError> {
        let c = self.conn()?;
        let n = c
            .execute(
                "UPDATE key_materials SET sealed = ?3 WHERE key_id = ?1 AND material_id = ?2 AND sealed = ?4",
                rusqlite::params![key_id.as_str(), material_id, sealed, expected],
            )
            .map_err(classify)?;
        if n == 0 {
            let exists = c
                .query_row(
                    "SELECT 1 FROM key_materials WHERE key_id = ?1 AND material_id = ?2",
                    [key_id.as_str(), material_id],
                    |_| Ok(()),
                )
                .optional()
                .map_err(classify)?;
            return Err(cas_miss(exists.is_some()));
        }
        Ok(())
    }

    fn delete_access_key(&self, id: &str) -> Result<(), StoreError> {
        let n = self
            .conn()?
            .execute("DELETE FROM access_keys WHERE access_key_id = ?1", [id])
            .map_err(classify)?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    fn put_entity(&self, e: &EntityRecord, replace: bool) -> Result<(), StoreError> {
        let sql = if replace {
            "INSERT INTO iam_entities (account_id, kind, name, body) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (account_id, kind, name) DO UPDATE SET body = excluded.body"
        } else {
            "INSERT INTO iam_entities (account_id, kind, name, body) VALUES (?1, ?2, ?3, ?4)"
        };
        self.conn()?
            .execute(sql, params![e.account_id.as_str(), e.kind.as_str(), e.name, e.body])
            .map_err(classify)?;
        Ok(())
    }

    fn replace_entity(&self, e: &EntityRecord, expected_body: &str) -> Result<(), StoreError> {
        let c = self.conn()?;
        let n = c
            .execute(
                "UPDATE iam_entities SET body = ?4 WHERE account_id = ?1 AND kind = ?2 AND name = ?3 AND body = ?5",
                params![e.account_id.as_str(), e.kind.as_str(), e.name, e.body, expected_body],
            )
            .map_err(classify)?;
        if n == 1 {
            return Ok(());
        }
        let exists = c
            .query_row(
                "SELECT 1 FROM iam_entities WHERE account_id = ?1 AND kind = ?2 AND name = ?3",
                params![e.account_id.as_str(), e.kind.as_str(), e.name],
                |_| Ok(()),
            )
            .optional()
            .map_err(classify)?
            .is_some();
        Err(if exists {
            StoreError::Conflict
        } else {
            StoreError::NotFound
        })
    }

    fn delete_entity(&self, account_id: &AccountId, kind: EntityKind, name: &str) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let tx = Tx::begin(&mut conn)?;
        let args = [account_id.as_str(), kind.as_str(), name];
        match kind {
            EntityKind::User => {
                let keys: i64 = tx
                    .query_row(
                        "SELECT COUNT(*) FROM access_keys WHERE account_id = ?1 AND user_name = ?2",
                        [account_id.as_str(), name],
                        |r| r.get(0),
                    )
                    .map_err(classify)?;
                if keys > 0 {
                    return Err(StoreError::Conflict);
                }
            }
            EntityKind::Role => {
                tx.execute(
                    "DELETE FROM access_keys WHERE account_id = ?1 AND session IS NOT NULL AND owner_id = (\
                     SELECT CASE WHEN json_valid(body) THEN json_extract(body, '$.id') END FROM iam_entities \
                     WHERE account_id = ?1 AND kind = ?2 AND name = ?3)",
                    args,
                )
                .map_err(classify)?;
            }
            EntityKind::CustomKeyStore => {
                // A custom key store that still has keys (any state) is not deleted.
                let keys: i64 = tx
                    .query_row(
                        "SELECT COUNT(*) FROM keys WHERE account_id = ?1 AND custom_key_store_id = ?2",
                        [account_id.as_str(), name],
                        |r| r.get(0),
                    )
                    .map_err(classify)?;
                if keys > 0 {
                    return Err(StoreError::Conflict);
                }
            }
            EntityKind::Policy | EntityKind::Group => {}
        }
        let n = tx
            .execute(
                "DELETE FROM iam_entities WHERE account_id = ?1 AND kind = ?2 AND name = ?3",
                args,
            )
            .map_err(classify)?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit()
    }

    fn create_key(&self, k: &KeyRecord, m: Option<&MaterialRecord>, tags: &[TagRecord]) -> Result<(), StoreError> {
        keys::create_key(self, k, m, tags)
    }

    fn update_key(&self, k: &KeyRecord) -> Result<(), StoreError> {
        keys::update_key(self, k)
    }

    fn rotate_key(&self, k: &KeyRecord, expected_current: Option<&str>, m: &MaterialRecord) -> Result<(), StoreError> {
        keys::rotate_key(self, k, expected_current, m)
    }

    fn put_material(&self, k: &KeyRecord, m: &MaterialRecord) -> Result<(), StoreError> {
        keys::put_material(self, k, m)
    }

    fn record_usage(&self, usage: &[UsageRecord]) -> Result<(), StoreError> {
        keys::record_usage(self, usage)
    }

    fn delete_key(&self, region: &Region, key_id: &KeyId) -> Result<(), StoreError> {
        keys::delete_key(self, region, key_id)
    }

    fn create_alias(&self, a: &AliasRecord) -> Result<(), StoreError> {
        keys::create_alias(self, a)
    }

    fn update_alias(&self, a: &AliasRecord) -> Result<(), StoreError> {
        keys::update_alias(self, a)
    }

    fn delete_alias(&self, account_id: &AccountId, region: &Region, name: &AliasName) -> Result<(), StoreError> {
        keys::delete_alias(self, account_id, region, name)
    }

    fn create_grant(&self, g: &GrantRecord) -> Result<(), StoreError> {
        keys::create_grant(self, g)
    }

    fn delete_grant(&self, grant_id: &str) -> Result<(), StoreError> {
        keys::delete_grant(self, grant_id)
    }

    fn append_audit_batches(&self, chain: &str, batches: &[AuditBatchRecord]) -> Result<(), StoreError> {
        let mut c = self.conn()?;
        audit::append(&mut c, chain, batches)
    }

    fn prune_audit(&self, chain: &str, before_ms: i64, max_events: usize) -> Result<usize, StoreError> {
        let mut c = self.conn()?;
        audit::prune(&mut c, chain, before_ms, max_events)
    }

    fn set_audit_anchor(&self, chain: &str, seq: i64, hash: &[u8]) -> Result<(), StoreError> {
        let mut c = self.conn()?;
        audit::import_anchor(&mut c, chain, seq, hash)
    }

    fn atomically(&self, f: &mut dyn FnMut(&dyn Store) -> Result<(), StoreError>) -> Result<(), StoreError> {
        // Already inside a transaction (a view lent by an outer `atomically`): a savepoint.
        if !self.conn()?.is_autocommit() {
            self.conn()?.execute_batch("SAVEPOINT nested").map_err(classify)?;
            let result = f(self);
            let end = if result.is_ok() {
                "RELEASE nested"
            } else {
                "ROLLBACK TO nested; RELEASE nested"
            };
            self.conn()?.execute_batch(end).map_err(classify)?;
            return result;
        }
        let conn = {
            let mut g = self.conn()?;
            g.0.take()
                .ok_or_else(|| StoreError::Backend("the connection is lent out".into()))?
        };
        let lent = Lent {
            home: self,
            view: SqliteStore::holding(conn),
        };
        lent.view.conn()?.execute_batch("BEGIN IMMEDIATE").map_err(classify)?;
        f(&lent.view)?;
        let committed = lent.view.conn()?.execute_batch("COMMIT").map_err(classify);
        // Dropping `lent` brings the connection home (rolled back if the commit failed).
        drop(lent);
        committed
    }

    fn put_tags(&self, region: &Region, key_id: &KeyId, tags: &[TagRecord]) -> Result<(), StoreError> {
        keys::put_tags(self, region, key_id, tags)
    }

    fn delete_tags(&self, region: &Region, key_id: &KeyId, tag_keys: &[String]) -> Result<(), StoreError> {
        keys::delete_tags(self, region, key_id, tag_keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_in_memory_passes_conformance() {
        crate::conformance::run_all(&SqliteStore::in_memory().expect("open"));
    }

    #[test]
    fn sqlite_file_survives_reopen_and_is_migrated_once() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("trent.db");
        {
            let s = SqliteStore::open(&path).expect("open");
            s.insert_account(&AccountRecord {
                account_id: AccountId::parse("111122223333").expect("account"),
                created_ms: 1,
            })
            .expect("ins");
        }
        let s = SqliteStore::open(&path).expect("reopen");
        assert_eq!(s.schema_version().expect("v"), migrations::LATEST);
        assert_eq!(s.accounts().expect("accounts").len(), 1);
    }
}

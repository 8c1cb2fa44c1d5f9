//! The embedded SQLite backend (the default): one database file in the data directory, WAL
//! journal with `synchronous=FULL` so a commit is on disk before the response is sent, numbered
//! migrations tracked in `PRAGMA user_version`.

mod audit;
mod migrations;

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};

use crate::{
    AccessKeyRecord, AccountRecord, AliasRecord, AuditRecord, EntityRecord, GrantRecord, KeyRecord, MaterialRecord,
    Store, StoreError, TagRecord, UsageRecord,
};

/// SQLite-backed [`Store`].
pub struct SqliteStore {
    conn: Mutex<Connection>,
}

fn classify(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        if f.code == rusqlite::ErrorCode::ConstraintViolation && matches!(f.extended_code, 2067 | 1555) {
            // SQLITE_CONSTRAINT_UNIQUE / SQLITE_CONSTRAINT_PRIMARYKEY
            return StoreError::UniqueViolation;
        }
    }
    StoreError::Backend(e.to_string())
}

const KEY_COLUMNS: &str = "key_id, account_id, region, description, key_spec, key_usage, origin, key_manager, key_state, created_ms, deletion_ms, pending_window_days, policy, current_material_id, multi_region, rotation_enabled, rotation_period_days, next_rotation_ms";
const ACCESS_KEY_COLUMNS: &str = "access_key_id, account_id, principal_arn, sealed_secret, status, created_ms, user_name, session_token_hash, expires_ms, session";
const GRANT_COLUMNS: &str =
    "grant_id, key_id, account_id, name, grantee_principal, retiring_principal, operations, constraints, created_ms";
const MATERIAL_COLUMNS: &str = "key_id, material_id, sealed, created_ms, rotation_type, rotation_ms, pending_rotation, import_state, expiration_model, valid_to_ms, description";

fn key_row(r: &Row<'_>) -> rusqlite::Result<KeyRecord> {
    Ok(KeyRecord {
        key_id: r.get(0)?,
        account_id: r.get(1)?,
        region: r.get(2)?,
        description: r.get(3)?,
        key_spec: r.get(4)?,
        key_usage: r.get(5)?,
        origin: r.get(6)?,
        key_manager: r.get(7)?,
        key_state: r.get(8)?,
        created_ms: r.get(9)?,
        deletion_ms: r.get(10)?,
        pending_window_days: r.get(11)?,
        policy: r.get(12)?,
        current_material_id: r.get(13)?,
        multi_region: r.get(14)?,
        rotation_enabled: r.get(15)?,
        rotation_period_days: r.get(16)?,
        next_rotation_ms: r.get(17)?,
    })
}

fn access_key_row(r: &Row<'_>) -> rusqlite::Result<AccessKeyRecord> {
    Ok(AccessKeyRecord {
        access_key_id: r.get(0)?,
        account_id: r.get(1)?,
        principal_arn: r.get(2)?,
        sealed_secret: r.get(3)?,
        status: r.get(4)?,
        created_ms: r.get(5)?,
        user_name: r.get(6)?,
        session_token_hash: r.get(7)?,
        expires_ms: r.get(8)?,
        session: r.get(9)?,
    })
}

fn entity_row(r: &Row<'_>) -> rusqlite::Result<EntityRecord> {
    Ok(EntityRecord {
        account_id: r.get(0)?,
        kind: r.get(1)?,
        name: r.get(2)?,
        body: r.get(3)?,
    })
}

fn grant_row(r: &Row<'_>) -> rusqlite::Result<GrantRecord> {
    Ok(GrantRecord {
        grant_id: r.get(0)?,
        key_id: r.get(1)?,
        account_id: r.get(2)?,
        name: r.get(3)?,
        grantee_principal: r.get(4)?,
        retiring_principal: r.get(5)?,
        operations: r.get(6)?,
        constraints: r.get(7)?,
        created_ms: r.get(8)?,
    })
}

fn material_row(r: &Row<'_>) -> rusqlite::Result<MaterialRecord> {
    Ok(MaterialRecord {
        key_id: r.get(0)?,
        material_id: r.get(1)?,
        sealed: r.get(2)?,
        created_ms: r.get(3)?,
        rotation_type: r.get(4)?,
        rotation_ms: r.get(5)?,
        pending_rotation: r.get(6)?,
        import_state: r.get(7)?,
        expiration_model: r.get(8)?,
        valid_to_ms: r.get(9)?,
        description: r.get(10)?,
    })
}

fn upsert_material(tx: &rusqlite::Transaction<'_>, m: &MaterialRecord) -> Result<(), StoreError> {
    tx.execute(
        &format!(
            "INSERT INTO key_materials ({MATERIAL_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
             ON CONFLICT (key_id, material_id) DO UPDATE SET sealed = excluded.sealed, rotation_type = excluded.rotation_type, \
             rotation_ms = excluded.rotation_ms, pending_rotation = excluded.pending_rotation, import_state = excluded.import_state, \
             expiration_model = excluded.expiration_model, valid_to_ms = excluded.valid_to_ms, description = excluded.description"
        ),
        params![
            m.key_id, m.material_id, m.sealed, m.created_ms, m.rotation_type, m.rotation_ms, m.pending_rotation,
            m.import_state, m.expiration_model, m.valid_to_ms, m.description
        ],
    )
    .map_err(classify)?;
    Ok(())
}

fn write_key(tx: &rusqlite::Connection, k: &KeyRecord) -> Result<usize, StoreError> {
    tx.execute(
        "UPDATE keys SET description = ?2, key_state = ?3, deletion_ms = ?4, pending_window_days = ?5, policy = ?6, \
         current_material_id = ?7, rotation_enabled = ?8, rotation_period_days = ?9, next_rotation_ms = ?10 WHERE key_id = ?1",
        params![
            k.key_id, k.description, k.key_state, k.deletion_ms, k.pending_window_days, k.policy, k.current_material_id,
            k.rotation_enabled, k.rotation_period_days, k.next_rotation_ms
        ],
    )
    .map_err(classify)
}

fn alias_row(r: &Row<'_>) -> rusqlite::Result<AliasRecord> {
    Ok(AliasRecord {
        account_id: r.get(0)?,
        name: r.get(1)?,
        target_key_id: r.get(2)?,
        created_ms: r.get(3)?,
        updated_ms: r.get(4)?,
    })
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(classify)?;
        Self::init(conn)
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
        Ok(Self { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        self.conn
            .lock()
            .map_err(|_| StoreError::Backend("connection mutex poisoned".into()))
    }

    /// The schema version after migrations.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn()?
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(classify)
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn insert_account(&self, a: &AccountRecord) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "INSERT INTO accounts (account_id, created_ms) VALUES (?1, ?2)",
                params![a.account_id, a.created_ms],
            )
            .map_err(classify)?;
        Ok(())
    }

    fn accounts(&self) -> Result<Vec<AccountRecord>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare("SELECT account_id, created_ms FROM accounts ORDER BY created_ms, account_id")
            .map_err(classify)?;
        let rows = st
            .query_map([], |r| {
                Ok(AccountRecord {
                    account_id: r.get(0)?,
                    created_ms: r.get(1)?,
                })
            })
            .map_err(classify)?;
        rows.collect::<Result<_, _>>().map_err(classify)
    }

    fn insert_access_key(&self, k: &AccessKeyRecord) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                &format!(
                    "INSERT INTO access_keys ({ACCESS_KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
                ),
                params![
                    k.access_key_id,
                    k.account_id,
                    k.principal_arn,
                    k.sealed_secret,
                    k.status,
                    k.created_ms,
                    k.user_name,
                    k.session_token_hash,
                    k.expires_ms,
                    k.session
                ],
            )
            .map_err(classify)?;
        Ok(())
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

    fn set_access_key_status(&self, id: &str, status: &str) -> Result<(), StoreError> {
        let n = self
            .conn()?
            .execute(
                "UPDATE access_keys SET status = ?2 WHERE access_key_id = ?1",
                [id, status],
            )
            .map_err(classify)?;
        if n == 0 {
            return Err(StoreError::NotFound);
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
            .execute(sql, params![e.account_id, e.kind, e.name, e.body])
            .map_err(classify)?;
        Ok(())
    }

    fn entity(&self, account_id: &str, kind: &str, name: &str) -> Result<Option<EntityRecord>, StoreError> {
        self.conn()?
            .query_row(
                "SELECT account_id, kind, name, body FROM iam_entities WHERE account_id = ?1 AND kind = ?2 AND name = ?3",
                [account_id, kind, name],
                entity_row,
            )
            .optional()
            .map_err(classify)
    }

    fn entities(&self, account_id: &str, kind: &str) -> Result<Vec<EntityRecord>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare("SELECT account_id, kind, name, body FROM iam_entities WHERE account_id = ?1 AND kind = ?2 ORDER BY name")
            .map_err(classify)?;
        let rows = st.query_map([account_id, kind], entity_row).map_err(classify)?;
        rows.collect::<Result<_, _>>().map_err(classify)
    }

    fn delete_entity(&self, account_id: &str, kind: &str, name: &str) -> Result<(), StoreError> {
        let n = self
            .conn()?
            .execute(
                "DELETE FROM iam_entities WHERE account_id = ?1 AND kind = ?2 AND name = ?3",
                [account_id, kind, name],
            )
            .map_err(classify)?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    fn create_key(&self, k: &KeyRecord, m: Option<&MaterialRecord>, tags: &[TagRecord]) -> Result<(), StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(classify)?;
        tx.execute(
            &format!("INSERT INTO keys ({KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"),
            params![
                k.key_id, k.account_id, k.region, k.description, k.key_spec, k.key_usage, k.origin, k.key_manager,
                k.key_state, k.created_ms, k.deletion_ms, k.pending_window_days, k.policy, k.current_material_id,
                k.multi_region, k.rotation_enabled, k.rotation_period_days, k.next_rotation_ms
            ],
        )
        .map_err(classify)?;
        if let Some(m) = m {
            upsert_material(&tx, m)?;
        }
        for t in tags {
            tx.execute(
                "INSERT INTO tags (key_id, tag_key, tag_value) VALUES (?1, ?2, ?3)",
                params![k.key_id, t.key, t.value],
            )
            .map_err(classify)?;
        }
        tx.commit().map_err(classify)
    }

    fn key(&self, key_id: &str) -> Result<Option<KeyRecord>, StoreError> {
        self.conn()?
            .query_row(
                &format!("SELECT {KEY_COLUMNS} FROM keys WHERE key_id = ?1"),
                [key_id],
                key_row,
            )
            .optional()
            .map_err(classify)
    }

    fn update_key(&self, k: &KeyRecord) -> Result<(), StoreError> {
        let c = self.conn()?;
        if write_key(&c, k)? == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    fn materials(&self, key_id: &str) -> Result<Vec<MaterialRecord>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare(&format!(
                "SELECT {MATERIAL_COLUMNS} FROM key_materials WHERE key_id = ?1 ORDER BY created_ms, material_id"
            ))
            .map_err(classify)?;
        let rows = st.query_map([key_id], material_row).map_err(classify)?;
        rows.collect::<Result<_, _>>().map_err(classify)
    }

    fn rotate_key(&self, k: &KeyRecord, expected_current: Option<&str>, m: &MaterialRecord) -> Result<(), StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(classify)?;
        let current: Option<Option<String>> = tx
            .query_row(
                "SELECT current_material_id FROM keys WHERE key_id = ?1",
                [&k.key_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(classify)?;
        match current {
            None => return Err(StoreError::NotFound),
            Some(cur) if cur.as_deref() != expected_current => return Err(StoreError::Conflict),
            Some(_) => {}
        }
        upsert_material(&tx, m)?;
        write_key(&tx, k)?;
        tx.commit().map_err(classify)
    }

    fn put_material(&self, k: &KeyRecord, m: &MaterialRecord) -> Result<(), StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(classify)?;
        upsert_material(&tx, m)?;
        if write_key(&tx, k)? == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().map_err(classify)
    }

    fn keys_due_for_rotation(&self, now_ms: i64) -> Result<Vec<KeyRecord>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare(&format!(
                "SELECT {KEY_COLUMNS} FROM keys WHERE rotation_enabled = 1 AND key_state = 'Enabled' AND next_rotation_ms IS NOT NULL AND next_rotation_ms <= ?1"
            ))
            .map_err(classify)?;
        let rows = st.query_map([now_ms], key_row).map_err(classify)?;
        rows.collect::<Result<_, _>>().map_err(classify)
    }

    fn expired_materials(&self, now_ms: i64) -> Result<Vec<MaterialRecord>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare(&format!(
                "SELECT {MATERIAL_COLUMNS} FROM key_materials WHERE valid_to_ms IS NOT NULL AND valid_to_ms <= ?1 AND length(sealed) > 0"
            ))
            .map_err(classify)?;
        let rows = st.query_map([now_ms], material_row).map_err(classify)?;
        rows.collect::<Result<_, _>>().map_err(classify)
    }

    fn record_usage(&self, usage: &[UsageRecord]) -> Result<(), StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(classify)?;
        for u in usage {
            tx.execute(
                "INSERT INTO key_usage (key_id, operation, at_ms, request_id) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (key_id) DO UPDATE SET operation = excluded.operation, at_ms = excluded.at_ms, request_id = excluded.request_id \
                 WHERE excluded.at_ms >= key_usage.at_ms",
                params![u.key_id, u.operation, u.at_ms, u.request_id],
            )
            .map_err(classify)?;
        }
        tx.commit().map_err(classify)
    }

    fn usage(&self, key_id: &str) -> Result<Option<UsageRecord>, StoreError> {
        self.conn()?
            .query_row(
                "SELECT key_id, operation, at_ms, request_id FROM key_usage WHERE key_id = ?1",
                [key_id],
                |r| {
                    Ok(UsageRecord {
                        key_id: r.get(0)?,
                        operation: r.get(1)?,
                        at_ms: r.get(2)?,
                        request_id: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(classify)
    }

    fn list_keys(&self, account_id: &str, after: Option<&str>, limit: usize) -> Result<Vec<KeyRecord>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare(&format!(
                "SELECT {KEY_COLUMNS} FROM keys WHERE account_id = ?1 AND key_id > ?2 ORDER BY key_id LIMIT ?3"
            ))
            .map_err(classify)?;
        let rows = st
            .query_map(params![account_id, after.unwrap_or(""), limit as i64], key_row)
            .map_err(classify)?;
        rows.collect::<Result<_, _>>().map_err(classify)
    }

    fn delete_key(&self, key_id: &str) -> Result<(), StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(classify)?;
        for sql in [
            "DELETE FROM aliases WHERE target_key_id = ?1",
            "DELETE FROM tags WHERE key_id = ?1",
            "DELETE FROM key_materials WHERE key_id = ?1",
            "DELETE FROM key_usage WHERE key_id = ?1",
            "DELETE FROM grants WHERE key_id = ?1",
            "DELETE FROM keys WHERE key_id = ?1",
        ] {
            tx.execute(sql, [key_id]).map_err(classify)?;
        }
        tx.commit().map_err(classify)
    }

    fn keys_due_for_deletion(&self, now_ms: i64) -> Result<Vec<KeyRecord>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare(&format!(
                "SELECT {KEY_COLUMNS} FROM keys WHERE key_state = 'PendingDeletion' AND deletion_ms IS NOT NULL AND deletion_ms <= ?1"
            ))
            .map_err(classify)?;
        let rows = st.query_map([now_ms], key_row).map_err(classify)?;
        rows.collect::<Result<_, _>>().map_err(classify)
    }

    fn create_alias(&self, a: &AliasRecord) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "INSERT INTO aliases (account_id, name, target_key_id, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![a.account_id, a.name, a.target_key_id, a.created_ms, a.updated_ms],
            )
            .map_err(classify)?;
        Ok(())
    }

    fn alias(&self, account_id: &str, name: &str) -> Result<Option<AliasRecord>, StoreError> {
        self.conn()?
            .query_row(
                "SELECT account_id, name, target_key_id, created_ms, updated_ms FROM aliases WHERE account_id = ?1 AND name = ?2",
                [account_id, name],
                alias_row,
            )
            .optional()
            .map_err(classify)
    }

    fn update_alias(&self, a: &AliasRecord) -> Result<(), StoreError> {
        let n = self
            .conn()?
            .execute(
                "UPDATE aliases SET target_key_id = ?3, updated_ms = ?4 WHERE account_id = ?1 AND name = ?2",
                params![a.account_id, a.name, a.target_key_id, a.updated_ms],
            )
            .map_err(classify)?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    fn delete_alias(&self, account_id: &str, name: &str) -> Result<(), StoreError> {
        let n = self
            .conn()?
            .execute(
                "DELETE FROM aliases WHERE account_id = ?1 AND name = ?2",
                [account_id, name],
            )
            .map_err(classify)?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    fn list_aliases(
        &self,
        account_id: &str,
        key_id: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AliasRecord>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare(
                "SELECT account_id, name, target_key_id, created_ms, updated_ms FROM aliases WHERE account_id = ?1 AND (?2 IS NULL OR target_key_id = ?2) AND name > ?3 ORDER BY name LIMIT ?4",
            )
            .map_err(classify)?;
        let rows = st
            .query_map(
                params![account_id, key_id, after.unwrap_or(""), limit as i64],
                alias_row,
            )
            .map_err(classify)?;
        rows.collect::<Result<_, _>>().map_err(classify)
    }

    fn all_aliases(&self) -> Result<Vec<AliasRecord>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare("SELECT account_id, name, target_key_id, created_ms, updated_ms FROM aliases")
            .map_err(classify)?;
        let rows = st.query_map([], alias_row).map_err(classify)?;
        rows.collect::<Result<_, _>>().map_err(classify)
    }

    fn create_grant(&self, g: &GrantRecord) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                &format!("INSERT INTO grants ({GRANT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                params![
                    g.grant_id,
                    g.key_id,
                    g.account_id,
                    g.name,
                    g.grantee_principal,
                    g.retiring_principal,
                    g.operations,
                    g.constraints,
                    g.created_ms
                ],
            )
            .map_err(classify)?;
        Ok(())
    }

    fn grant(&self, grant_id: &str) -> Result<Option<GrantRecord>, StoreError> {
        self.conn()?
            .query_row(
                &format!("SELECT {GRANT_COLUMNS} FROM grants WHERE grant_id = ?1"),
                [grant_id],
                grant_row,
            )
            .optional()
            .map_err(classify)
    }

    fn grants(&self, key_id: &str) -> Result<Vec<GrantRecord>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare(&format!(
                "SELECT {GRANT_COLUMNS} FROM grants WHERE key_id = ?1 ORDER BY grant_id"
            ))
            .map_err(classify)?;
        let rows = st.query_map([key_id], grant_row).map_err(classify)?;
        rows.collect::<Result<_, _>>().map_err(classify)
    }

    fn grants_retirable_by(&self, principal: &str) -> Result<Vec<GrantRecord>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare(&format!(
                "SELECT {GRANT_COLUMNS} FROM grants WHERE retiring_principal = ?1 ORDER BY grant_id"
            ))
            .map_err(classify)?;
        let rows = st.query_map([principal], grant_row).map_err(classify)?;
        rows.collect::<Result<_, _>>().map_err(classify)
    }

    fn delete_grant(&self, grant_id: &str) -> Result<(), StoreError> {
        let n = self
            .conn()?
            .execute("DELETE FROM grants WHERE grant_id = ?1", [grant_id])
            .map_err(classify)?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    fn append_audit(&self, events: &[AuditRecord]) -> Result<(), StoreError> {
        let mut c = self.conn()?;
        audit::append(&mut c, events)
    }

    fn audit_after(&self, after_seq: i64, limit: usize) -> Result<Vec<AuditRecord>, StoreError> {
        let c = self.conn()?;
        audit::after(&c, after_seq, limit)
    }

    fn last_audit(&self) -> Result<Option<AuditRecord>, StoreError> {
        let c = self.conn()?;
        audit::last(&c)
    }

    fn prune_audit(&self, before_ms: i64, max_rows: usize) -> Result<usize, StoreError> {
        let mut c = self.conn()?;
        audit::prune(&mut c, before_ms, max_rows)
    }

    fn audit_anchor(&self) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
        let c = self.conn()?;
        audit::anchor(&c)
    }

    fn tags(&self, key_id: &str) -> Result<Vec<TagRecord>, StoreError> {
        let c = self.conn()?;
        let mut st = c
            .prepare("SELECT tag_key, tag_value FROM tags WHERE key_id = ?1 ORDER BY tag_key")
            .map_err(classify)?;
        let rows = st
            .query_map([key_id], |r| {
                Ok(TagRecord {
                    key: r.get(0)?,
                    value: r.get(1)?,
                })
            })
            .map_err(classify)?;
        rows.collect::<Result<_, _>>().map_err(classify)
    }

    fn put_tags(&self, key_id: &str, tags: &[TagRecord]) -> Result<(), StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(classify)?;
        for t in tags {
            tx.execute(
                "INSERT INTO tags (key_id, tag_key, tag_value) VALUES (?1, ?2, ?3) ON CONFLICT (key_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
                params![key_id, t.key, t.value],
            )
            .map_err(classify)?;
        }
        tx.commit().map_err(classify)
    }

    fn delete_tags(&self, key_id: &str, tag_keys: &[String]) -> Result<(), StoreError> {
        let mut c = self.conn()?;
        let tx = c
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(classify)?;
        for k in tag_keys {
            tx.execute(
                "DELETE FROM tags WHERE key_id = ?1 AND tag_key = ?2",
                params![key_id, k],
            )
            .map_err(classify)?;
        }
        tx.commit().map_err(classify)
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
                account_id: "111122223333".into(),
                created_ms: 1,
            })
            .expect("ins");
        }
        let s = SqliteStore::open(&path).expect("reopen");
        assert_eq!(s.schema_version().expect("v"), migrations::LATEST);
        assert_eq!(s.accounts().expect("accounts").len(), 1);
    }
}

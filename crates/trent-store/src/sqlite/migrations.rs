//! Numbered schema migrations for SQLite. Each entry runs once, in order, in its own transaction;
//! `PRAGMA user_version` records how many have been applied. Never edit a released migration:
//! append a new one.

use rusqlite::Connection;

use crate::StoreError;

const MIGRATIONS: &[&str] = &[
    // 1: accounts, credentials, keys, key materials, aliases, tags.
    r#"
    CREATE TABLE accounts (
        account_id TEXT PRIMARY KEY,
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE access_keys (
        access_key_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(account_id),
        principal_arn TEXT NOT NULL,
        sealed_secret BLOB NOT NULL,
        status TEXT NOT NULL,
        created_ms INTEGER NOT NULL
    );
    CREATE TABLE keys (
        key_id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        description TEXT NOT NULL,
        key_spec TEXT NOT NULL,
        key_usage TEXT NOT NULL,
        origin TEXT NOT NULL,
        key_manager TEXT NOT NULL,
        key_state TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        deletion_ms INTEGER,
        pending_window_days INTEGER,
        policy TEXT NOT NULL,
        current_material_id TEXT,
        multi_region INTEGER NOT NULL
    );
    CREATE INDEX keys_by_account ON keys(account_id, key_id);
    CREATE INDEX keys_by_deletion ON keys(key_state, deletion_ms);
    CREATE TABLE key_materials (
        key_id TEXT NOT NULL REFERENCES keys(key_id),
        material_id TEXT NOT NULL,
        sealed BLOB NOT NULL,
        created_ms INTEGER NOT NULL,
        PRIMARY KEY (key_id, material_id)
    );
    CREATE TABLE aliases (
        account_id TEXT NOT NULL,
        name TEXT NOT NULL,
        target_key_id TEXT NOT NULL REFERENCES keys(key_id),
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        PRIMARY KEY (account_id, name)
    );
    CREATE INDEX aliases_by_key ON aliases(target_key_id);
    CREATE TABLE tags (
        key_id TEXT NOT NULL REFERENCES keys(key_id),
        tag_key TEXT NOT NULL,
        tag_value TEXT NOT NULL,
        PRIMARY KEY (key_id, tag_key)
    );
    "#,
];

pub const LATEST: i64 = MIGRATIONS.len() as i64;

pub fn apply(conn: &mut Connection) -> Result<(), StoreError> {
    let err = |e: rusqlite::Error| StoreError::Backend(e.to_string());
    let current: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(err)?;
    if current > LATEST {
        return Err(StoreError::Corrupt(format!(
            "database schema version {current} is newer than this binary supports ({LATEST})"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction().map_err(err)?;
        tx.execute_batch(sql).map_err(err)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64).map_err(err)?;
        tx.commit().map_err(err)?;
    }
    Ok(())
}

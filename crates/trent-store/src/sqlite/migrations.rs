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
    // 2: rotation schedule, material versions (rotation, import), last usage.
    r#"
    ALTER TABLE keys ADD COLUMN rotation_enabled INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE keys ADD COLUMN rotation_period_days INTEGER;
    ALTER TABLE keys ADD COLUMN next_rotation_ms INTEGER;
    CREATE INDEX keys_by_rotation ON keys(rotation_enabled, next_rotation_ms);
    ALTER TABLE key_materials ADD COLUMN rotation_type TEXT;
    ALTER TABLE key_materials ADD COLUMN rotation_ms INTEGER;
    ALTER TABLE key_materials ADD COLUMN pending_rotation INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE key_materials ADD COLUMN import_state TEXT;
    ALTER TABLE key_materials ADD COLUMN expiration_model TEXT;
    ALTER TABLE key_materials ADD COLUMN valid_to_ms INTEGER;
    ALTER TABLE key_materials ADD COLUMN description TEXT;
    CREATE INDEX materials_by_expiry ON key_materials(valid_to_ms);
    CREATE TABLE key_usage (
        key_id TEXT PRIMARY KEY,
        operation TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        request_id TEXT NOT NULL
    );
    "#,
    // 3: IAM identities (users, roles, managed policies) and user/session access keys.
    r#"
    CREATE TABLE iam_entities (
        account_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (account_id, kind, name)
    );
    ALTER TABLE access_keys ADD COLUMN user_name TEXT;
    ALTER TABLE access_keys ADD COLUMN session_token_hash TEXT;
    ALTER TABLE access_keys ADD COLUMN expires_ms INTEGER;
    ALTER TABLE access_keys ADD COLUMN session TEXT;
    "#,
    // 4: grants.
    r#"
    CREATE TABLE grants (
        grant_id TEXT PRIMARY KEY,
        key_id TEXT NOT NULL REFERENCES keys(key_id),
        account_id TEXT NOT NULL,
        name TEXT,
        grantee_principal TEXT NOT NULL,
        retiring_principal TEXT,
        operations TEXT NOT NULL,
        constraints TEXT,
        created_ms INTEGER NOT NULL
    );
    CREATE INDEX grants_by_key ON grants(key_id, grant_id);
    CREATE INDEX grants_by_retiring ON grants(retiring_principal, grant_id);
    "#,
    // 5: audit trail (append-only; `chain_hash` links each event to the one before).
    r#"
    CREATE TABLE audit_events (
        seq INTEGER PRIMARY KEY,
        time_ms INTEGER NOT NULL,
        event TEXT NOT NULL,
        chain_hash BLOB NOT NULL
    );
    CREATE TABLE audit_anchor (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        chain_hash BLOB NOT NULL
    );
    "#,
    // 6: the audit trail in batches (one row per batch of events, binary and hash-chained by the
    // service); rows of `audit_events` stay readable and continue into these.
    r#"
    CREATE TABLE audit_batches (
        first_seq INTEGER PRIMARY KEY,
        last_seq INTEGER NOT NULL UNIQUE,
        first_time_ms INTEGER NOT NULL,
        last_time_ms INTEGER NOT NULL,
        body BLOB NOT NULL,
        last_hash BLOB NOT NULL
    );
    "#,
    // 7: access keys name the unique id of their user (or of their session's role), so that a
    // user or role created again under the same name inherits nothing.
    r#"
    ALTER TABLE access_keys ADD COLUMN owner_id TEXT;
    UPDATE access_keys SET owner_id = (
        SELECT json_extract(e.body, '$.id') FROM iam_entities e
        WHERE e.account_id = access_keys.account_id AND e.kind = 'user' AND e.name = access_keys.user_name
          AND json_valid(e.body)
    ) WHERE user_name IS NOT NULL;
    UPDATE access_keys SET owner_id = json_extract(session, '$.role_id')
    WHERE session IS NOT NULL AND json_valid(session);
    CREATE INDEX access_keys_by_owner ON access_keys(account_id, owner_id);
    "#,
    // 8: keys carry a version for compare-and-swap updates.
    r#"
    ALTER TABLE keys ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
    "#,
    // 9: the audit trail has one chain per writer (a server's node id); what was stored is
    // chain 'main'.
    r#"
    CREATE TABLE audit_batches_v9 (
        chain TEXT NOT NULL,
        first_seq INTEGER NOT NULL,
        last_seq INTEGER NOT NULL,
        first_time_ms INTEGER NOT NULL,
        last_time_ms INTEGER NOT NULL,
        body BLOB NOT NULL,
        last_hash BLOB NOT NULL,
        PRIMARY KEY (chain, first_seq),
        UNIQUE (chain, last_seq)
    );
    INSERT INTO audit_batches_v9 SELECT 'main', first_seq, last_seq, first_time_ms, last_time_ms, body, last_hash
        FROM audit_batches;
    DROP TABLE audit_batches;
    ALTER TABLE audit_batches_v9 RENAME TO audit_batches;
    CREATE TABLE audit_anchor_v9 (
        chain TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        chain_hash BLOB NOT NULL
    );
    INSERT INTO audit_anchor_v9 SELECT 'main', seq, chain_hash FROM audit_anchor;
    DROP TABLE audit_anchor;
    ALTER TABLE audit_anchor_v9 RENAME TO audit_anchor;
    "#,
    // 10: named values of the service's own (the derivation secret after a root-key rotation).
    r#"
    CREATE TABLE meta (
        name TEXT PRIMARY KEY,
        value BLOB NOT NULL
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreRead;

    static KEY: std::sync::LazyLock<trent_types::KeyId> =
        std::sync::LazyLock::new(|| trent_types::KeyId::parse("1234abcd-12ab-34cd-56ef-1234567890ab").expect("id"));

    /// A database written by schema version 1 reads after the upgrade to the latest schema.
    #[test]
    fn version_1_data_reads_after_upgrade() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("trent.db");
        {
            let mut conn = Connection::open(&path).expect("open");
            let tx = conn.transaction().expect("tx");
            tx.execute_batch(MIGRATIONS[0]).expect("v1");
            tx.pragma_update(None, "user_version", 1).expect("version");
            tx.execute_batch(
                "INSERT INTO keys VALUES ('1234abcd-12ab-34cd-56ef-1234567890ab', '111122223333', 'us-east-1', '', 'SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT', 'AWS_KMS', 'CUSTOMER', 'Enabled', 1, NULL, NULL, '{}', 'm', 0);
                 INSERT INTO key_materials VALUES ('1234abcd-12ab-34cd-56ef-1234567890ab', 'm', x'0102', 1);",
            )
            .expect("v1 rows");
            tx.commit().expect("commit");
        }
        let store = super::super::SqliteStore::open(&path).expect("upgrade");
        assert_eq!(store.schema_version().expect("v"), LATEST);
        let key = store.key(&KEY).expect("read").expect("exists");
        assert!(!key.rotation_enabled);
        assert_eq!(key.next_rotation_ms, None);
        let mats = store.materials(&KEY).expect("materials");
        assert_eq!(mats.len(), 1);
        assert!(mats[0].is_present() && !mats[0].pending_rotation && mats[0].rotation_type.is_none());
    }

    #[test]
    fn version_7_binds_existing_keys_to_their_owners() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("trent.db");
        {
            let mut conn = Connection::open(&path).expect("open");
            let tx = conn.transaction().expect("tx");
            for (i, m) in MIGRATIONS.iter().take(6).enumerate() {
                tx.execute_batch(m).expect("migration");
                tx.pragma_update(None, "user_version", i64::try_from(i + 1).unwrap_or(0))
                    .expect("version");
            }
            tx.execute_batch(
                r#"INSERT INTO accounts VALUES ('111122223333', 0);
                   INSERT INTO iam_entities VALUES ('111122223333', 'user', 'alice', '{"v":1,"id":"AIDAALICE"}');
                   INSERT INTO access_keys (access_key_id, account_id, principal_arn, sealed_secret, status, created_ms, user_name)
                     VALUES ('AKIAALICE', '111122223333', 'arn', x'00', 'Active', 0, 'alice');
                   INSERT INTO access_keys (access_key_id, account_id, principal_arn, sealed_secret, status, created_ms, session_token_hash, expires_ms, session)
                     VALUES ('ASIASESSION', '111122223333', 'arn', x'00', 'Active', 0, 'h', 9, '{"v":1,"role_name":"app","role_id":"AROAAPP"}');
                   INSERT INTO access_keys (access_key_id, account_id, principal_arn, sealed_secret, status, created_ms)
                     VALUES ('AKIAROOT', '111122223333', 'arn', x'00', 'Active', 0);"#,
            )
            .expect("v6 rows");
            tx.commit().expect("commit");
        }
        let store = super::super::SqliteStore::open(&path).expect("upgrade");
        use crate::StoreRead;
        let owner = |id: &str| store.access_key(id).expect("read").expect("exists").owner_id;
        assert_eq!(owner("AKIAALICE").as_deref(), Some("AIDAALICE"));
        assert_eq!(owner("ASIASESSION").as_deref(), Some("AROAAPP"));
        assert_eq!(owner("AKIAROOT"), None);
    }

    /// Schema 8's single audit chain (and schema 5's per-event rows) become chain `main`.
    #[test]
    fn version_9_keeps_the_trail_as_the_main_chain() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("trent.db");
        {
            let mut conn = Connection::open(&path).expect("open");
            let tx = conn.transaction().expect("tx");
            for (i, m) in MIGRATIONS.iter().take(8).enumerate() {
                tx.execute_batch(m).expect("migration");
                tx.pragma_update(None, "user_version", i64::try_from(i + 1).unwrap_or(0))
                    .expect("version");
            }
            tx.execute_batch(
                "INSERT INTO audit_events VALUES (3, 10, '{}', x'03');
                 INSERT INTO audit_batches VALUES (4, 6, 11, 12, x'02', x'06');
                 INSERT INTO audit_anchor VALUES (1, 2, x'02');",
            )
            .expect("v8 rows");
            tx.commit().expect("commit");
        }
        let store = super::super::SqliteStore::open(&path).expect("upgrade");
        assert_eq!(
            store.audit_chains().expect("chains"),
            vec![crate::MAIN_CHAIN.to_owned()]
        );
        assert_eq!(
            store.audit_anchor(crate::MAIN_CHAIN).expect("anchor"),
            Some((2, vec![2]))
        );
        assert_eq!(
            store.last_audit(crate::MAIN_CHAIN).expect("head").map(|h| h.seq),
            Some(6)
        );
        let seqs: Vec<(i64, i64)> = store
            .audit_batches_after(crate::MAIN_CHAIN, 0, 10)
            .expect("batches")
            .iter()
            .map(|b| (b.first_seq, b.last_seq))
            .collect();
        assert_eq!(seqs, [(3, 3), (4, 6)]);
        assert!(store.audit_batches_after("other", 0, 10).expect("other").is_empty());
    }
}

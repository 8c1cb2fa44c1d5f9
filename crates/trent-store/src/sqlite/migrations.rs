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
    // 11: Regions. A key is (key id, Region): the related keys of a multi-Region key share the
    // id and, by id, their materials. Aliases are per (account, Region, name); tags, grants and
    // last use per (key id, Region). Existing rows keep the Region their key was created in.
    r#"
    CREATE TABLE keys_v11 (
        key_id TEXT NOT NULL,
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
        multi_region INTEGER NOT NULL,
        rotation_enabled INTEGER NOT NULL DEFAULT 0,
        rotation_period_days INTEGER,
        next_rotation_ms INTEGER,
        version INTEGER NOT NULL DEFAULT 0,
        primary_region TEXT,
        material_region TEXT NOT NULL,
        PRIMARY KEY (key_id, region)
    );
    INSERT INTO keys_v11 SELECT key_id, account_id, region, description, key_spec, key_usage, origin,
        key_manager, key_state, created_ms, deletion_ms, pending_window_days, policy, current_material_id,
        multi_region, rotation_enabled, rotation_period_days, next_rotation_ms, version,
        CASE WHEN multi_region THEN region END, region
        FROM keys;
    CREATE TABLE key_materials_v11 (
        key_id TEXT NOT NULL,
        material_id TEXT NOT NULL,
        sealed BLOB NOT NULL,
        created_ms INTEGER NOT NULL,
        rotation_type TEXT,
        rotation_ms INTEGER,
        pending_rotation INTEGER NOT NULL DEFAULT 0,
        import_state TEXT,
        expiration_model TEXT,
        valid_to_ms INTEGER,
        description TEXT,
        PRIMARY KEY (key_id, material_id)
    );
    INSERT INTO key_materials_v11 SELECT key_id, material_id, sealed, created_ms, rotation_type, rotation_ms,
        pending_rotation, import_state, expiration_model, valid_to_ms, description FROM key_materials;
    CREATE TABLE aliases_v11 (
        account_id TEXT NOT NULL,
        region TEXT NOT NULL,
        name TEXT NOT NULL,
        target_key_id TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        updated_ms INTEGER NOT NULL,
        PRIMARY KEY (account_id, region, name),
        FOREIGN KEY (target_key_id, region) REFERENCES keys_v11(key_id, region)
    );
    INSERT INTO aliases_v11 SELECT a.account_id, k.region, a.name, a.target_key_id, a.created_ms, a.updated_ms
        FROM aliases a JOIN keys k ON k.key_id = a.target_key_id;
    CREATE TABLE tags_v11 (
        key_id TEXT NOT NULL,
        region TEXT NOT NULL,
        tag_key TEXT NOT NULL,
        tag_value TEXT NOT NULL,
        PRIMARY KEY (key_id, region, tag_key),
        FOREIGN KEY (key_id, region) REFERENCES keys_v11(key_id, region)
    );
    INSERT INTO tags_v11 SELECT t.key_id, k.region, t.tag_key, t.tag_value FROM tags t JOIN keys k ON k.key_id = t.key_id;
    CREATE TABLE grants_v11 (
        grant_id TEXT PRIMARY KEY,
        key_id TEXT NOT NULL,
        region TEXT NOT NULL,
        account_id TEXT NOT NULL,
        name TEXT,
        grantee_principal TEXT NOT NULL,
        retiring_principal TEXT,
        operations TEXT NOT NULL,
        constraints TEXT,
        created_ms INTEGER NOT NULL,
        FOREIGN KEY (key_id, region) REFERENCES keys_v11(key_id, region)
    );
    INSERT INTO grants_v11 SELECT g.grant_id, g.key_id, k.region, g.account_id, g.name, g.grantee_principal,
        g.retiring_principal, g.operations, g.constraints, g.created_ms FROM grants g JOIN keys k ON k.key_id = g.key_id;
    CREATE TABLE key_usage_v11 (
        key_id TEXT NOT NULL,
        region TEXT NOT NULL,
        operation TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        request_id TEXT NOT NULL,
        PRIMARY KEY (key_id, region)
    );
    INSERT INTO key_usage_v11 SELECT u.key_id, k.region, u.operation, u.at_ms, u.request_id
        FROM key_usage u JOIN keys k ON k.key_id = u.key_id;
    DROP TABLE aliases;
    DROP TABLE tags;
    DROP TABLE grants;
    DROP TABLE key_usage;
    DROP TABLE key_materials;
    DROP TABLE keys;
    ALTER TABLE keys_v11 RENAME TO keys;
    ALTER TABLE key_materials_v11 RENAME TO key_materials;
    ALTER TABLE aliases_v11 RENAME TO aliases;
    ALTER TABLE tags_v11 RENAME TO tags;
    ALTER TABLE grants_v11 RENAME TO grants;
    ALTER TABLE key_usage_v11 RENAME TO key_usage;
    CREATE INDEX keys_by_account ON keys(account_id, region, key_id);
    CREATE INDEX keys_by_deletion ON keys(key_state, deletion_ms);
    CREATE INDEX keys_by_rotation ON keys(rotation_enabled, next_rotation_ms);
    CREATE INDEX materials_by_expiry ON key_materials(valid_to_ms);
    CREATE INDEX aliases_by_key ON aliases(target_key_id, region);
    CREATE INDEX grants_by_key ON grants(key_id, region, grant_id);
    CREATE INDEX grants_by_retiring ON grants(retiring_principal, grant_id);
    "#,
    // 12: external key stores. A key in a custom key store names the store and its external
    // key; one external key backs at most one key of a store (NULLs are distinct, so other keys
    // are unaffected). The stores themselves are documents in `iam_entities` (kind
    // `custom-key-store`).
    r#"
    ALTER TABLE keys ADD COLUMN custom_key_store_id TEXT;
    ALTER TABLE keys ADD COLUMN xks_key_id TEXT;
    CREATE UNIQUE INDEX keys_by_external_key ON keys(custom_key_store_id, xks_key_id);
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
        let key = store
            .key(&trent_types::Region::parse("us-east-1").expect("region"), &KEY)
            .expect("read")
            .expect("exists");
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

    /// Schema 10's keys, aliases, tags, grants and last use keep the Region their key was made
    /// in; a multi-Region key becomes its own primary.
    #[test]
    fn version_11_gives_every_row_its_key_region() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("trent.db");
        {
            let mut conn = Connection::open(&path).expect("open");
            let tx = conn.transaction().expect("tx");
            for (i, m) in MIGRATIONS.iter().take(10).enumerate() {
                tx.execute_batch(m).expect("migration");
                tx.pragma_update(None, "user_version", i64::try_from(i + 1).unwrap_or(0))
                    .expect("version");
            }
            tx.execute_batch(
                "INSERT INTO keys (key_id, account_id, region, description, key_spec, key_usage, origin, key_manager, key_state, created_ms, policy, current_material_id, multi_region)
                   VALUES ('mrk-0000000a00004000800000000000000a', '111122223333', 'eu-west-1', '', 'SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT', 'AWS_KMS', 'CUSTOMER', 'Enabled', 1, '{}', 'm', 1);
                 INSERT INTO key_materials (key_id, material_id, sealed, created_ms) VALUES ('mrk-0000000a00004000800000000000000a', 'm', x'0102', 1);
                 INSERT INTO aliases VALUES ('111122223333', 'alias/a', 'mrk-0000000a00004000800000000000000a', 1, 1);
                 INSERT INTO tags VALUES ('mrk-0000000a00004000800000000000000a', 't', 'v');
                 INSERT INTO grants VALUES ('g', 'mrk-0000000a00004000800000000000000a', '111122223333', NULL, 'p', NULL, '[\"Encrypt\"]', NULL, 1);
                 INSERT INTO key_usage VALUES ('mrk-0000000a00004000800000000000000a', 'Encrypt', 5, 'r');",
            )
            .expect("v10 rows");
            tx.commit().expect("commit");
        }
        let store = super::super::SqliteStore::open(&path).expect("upgrade");
        let west = trent_types::Region::parse("eu-west-1").expect("region");
        let id = trent_types::KeyId::parse("mrk-0000000a00004000800000000000000a").expect("id");
        let account = trent_types::AccountId::parse("111122223333").expect("account");
        let key = store.key(&west, &id).expect("read").expect("exists");
        assert_eq!(key.primary_region.as_ref(), Some(&west));
        assert_eq!(key.material_region, west);
        assert!(!key.is_replica());
        assert_eq!(store.materials(&id).expect("materials").len(), 1);
        let alias = trent_types::AliasName::parse("alias/a").expect("alias");
        assert!(store.alias(&account, &west, &alias).expect("alias").is_some());
        assert_eq!(store.tags(&west, &id).expect("tags").len(), 1);
        assert_eq!(store.grants(&west, &id).expect("grants").len(), 1);
        assert_eq!(store.usage(&west, &id).expect("usage").map(|u| u.at_ms), Some(5));
        let east = trent_types::Region::parse("us-east-1").expect("region");
        assert_eq!(store.key(&east, &id).expect("read"), None);
    }

    /// Schema 11's keys are in no custom key store after version 12, and keep everything else.
    #[test]
    fn version_12_leaves_existing_keys_outside_custom_key_stores() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("trent.db");
        {
            let mut conn = Connection::open(&path).expect("open");
            let tx = conn.transaction().expect("tx");
            for (i, m) in MIGRATIONS.iter().take(11).enumerate() {
                tx.execute_batch(m).expect("migration");
                tx.pragma_update(None, "user_version", i64::try_from(i + 1).unwrap_or(0))
                    .expect("version");
            }
            tx.execute_batch(
                "INSERT INTO keys (key_id, account_id, region, description, key_spec, key_usage, origin, key_manager, key_state, created_ms, policy, current_material_id, multi_region, material_region)
                   VALUES ('0000000a-0000-4000-8000-000000000000', '111122223333', 'us-east-1', 'old', 'SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT', 'AWS_KMS', 'CUSTOMER', 'Enabled', 1, '{}', 'm', 0, 'us-east-1');",
            )
            .expect("v11 rows");
            tx.commit().expect("commit");
        }
        let store = super::super::SqliteStore::open(&path).expect("upgrade");
        assert_eq!(store.schema_version().expect("v"), LATEST);
        let east = trent_types::Region::parse("us-east-1").expect("region");
        let id = trent_types::KeyId::parse("0000000a-0000-4000-8000-000000000000").expect("id");
        let key = store.key(&east, &id).expect("read").expect("exists");
        assert_eq!((key.custom_key_store_id, key.xks_key_id), (None, None));
        assert_eq!(key.description, "old");
    }
}

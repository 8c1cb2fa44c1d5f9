//! The PostgreSQL schema as numbered migrations, recorded in `trent_schema (version)`. Every
//! node runs [`apply`] at start; a session advisory lock makes concurrent starts apply each
//! migration once. Text identifiers use the `"C"` collation: byte order, as SQLite compares, so
//! paging (`name > $after ORDER BY name`) is the same on both backends.

use postgres::Client;

use crate::classify;
use trent_store::StoreError;

/// `pg_advisory_lock` key held while migrating ("trent-mg").
const LOCK: i64 = 0x7472_656e_742d_6d67;

const MIGRATIONS: &[&str] = &[
    // 1: the schema of SQLite's version 8.
    r#"
    CREATE TABLE accounts (
        account_id TEXT COLLATE "C" PRIMARY KEY,
        created_ms BIGINT NOT NULL
    );
    CREATE TABLE iam_entities (
        account_id TEXT COLLATE "C" NOT NULL,
        kind TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (account_id, kind, name)
    );
    CREATE TABLE access_keys (
        access_key_id TEXT COLLATE "C" PRIMARY KEY,
        account_id TEXT COLLATE "C" NOT NULL REFERENCES accounts(account_id),
        principal_arn TEXT NOT NULL,
        sealed_secret BYTEA NOT NULL,
        status TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        user_name TEXT COLLATE "C",
        session_token_hash TEXT,
        expires_ms BIGINT,
        session TEXT,
        owner_id TEXT COLLATE "C"
    );
    CREATE INDEX access_keys_by_owner ON access_keys(account_id, owner_id);
    CREATE INDEX access_keys_by_user ON access_keys(account_id, user_name);
    CREATE TABLE keys (
        key_id TEXT COLLATE "C" PRIMARY KEY,
        account_id TEXT COLLATE "C" NOT NULL,
        region TEXT NOT NULL,
        description TEXT NOT NULL,
        key_spec TEXT NOT NULL,
        key_usage TEXT NOT NULL,
        origin TEXT NOT NULL,
        key_manager TEXT NOT NULL,
        key_state TEXT NOT NULL,
        created_ms BIGINT NOT NULL,
        deletion_ms BIGINT,
        pending_window_days BIGINT,
        policy TEXT NOT NULL,
        current_material_id TEXT,
        multi_region BOOLEAN NOT NULL,
        rotation_enabled BOOLEAN NOT NULL DEFAULT FALSE,
        rotation_period_days BIGINT,
        next_rotation_ms BIGINT,
        version BIGINT NOT NULL DEFAULT 0
    );
    CREATE INDEX keys_by_account ON keys(account_id, key_id);
    CREATE INDEX keys_by_deletion ON keys(key_state, deletion_ms);
    CREATE INDEX keys_by_rotation ON keys(rotation_enabled, next_rotation_ms);
    CREATE TABLE key_materials (
        key_id TEXT COLLATE "C" NOT NULL REFERENCES keys(key_id),
        material_id TEXT COLLATE "C" NOT NULL,
        sealed BYTEA NOT NULL,
        created_ms BIGINT NOT NULL,
        rotation_type TEXT,
        rotation_ms BIGINT,
        pending_rotation BOOLEAN NOT NULL DEFAULT FALSE,
        import_state TEXT,
        expiration_model TEXT,
        valid_to_ms BIGINT,
        description TEXT,
        PRIMARY KEY (key_id, material_id)
    );
    CREATE INDEX materials_by_expiry ON key_materials(valid_to_ms);
    CREATE TABLE key_usage (
        key_id TEXT COLLATE "C" PRIMARY KEY,
        operation TEXT NOT NULL,
        at_ms BIGINT NOT NULL,
        request_id TEXT NOT NULL
    );
    CREATE TABLE aliases (
        account_id TEXT COLLATE "C" NOT NULL,
        name TEXT COLLATE "C" NOT NULL,
        target_key_id TEXT COLLATE "C" NOT NULL REFERENCES keys(key_id),
        created_ms BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL,
        PRIMARY KEY (account_id, name)
    );
    CREATE INDEX aliases_by_key ON aliases(target_key_id);
    CREATE TABLE tags (
        key_id TEXT COLLATE "C" NOT NULL REFERENCES keys(key_id),
        tag_key TEXT COLLATE "C" NOT NULL,
        tag_value TEXT NOT NULL,
        PRIMARY KEY (key_id, tag_key)
    );
    CREATE TABLE grants (
        grant_id TEXT COLLATE "C" PRIMARY KEY,
        key_id TEXT COLLATE "C" NOT NULL REFERENCES keys(key_id),
        account_id TEXT COLLATE "C" NOT NULL,
        name TEXT,
        grantee_principal TEXT NOT NULL,
        retiring_principal TEXT COLLATE "C",
        operations TEXT NOT NULL,
        constraints TEXT,
        created_ms BIGINT NOT NULL
    );
    CREATE INDEX grants_by_key ON grants(key_id, grant_id);
    CREATE INDEX grants_by_retiring ON grants(retiring_principal, grant_id);
    CREATE TABLE audit_batches (
        first_seq BIGINT PRIMARY KEY,
        last_seq BIGINT NOT NULL UNIQUE,
        first_time_ms BIGINT NOT NULL,
        last_time_ms BIGINT NOT NULL,
        body BYTEA NOT NULL,
        last_hash BYTEA NOT NULL
    );
    CREATE TABLE audit_anchor (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq BIGINT NOT NULL,
        chain_hash BYTEA NOT NULL
    );
"#,
    // 2: one audit chain per writer (a node id), so that nodes append without waiting for each
    // other; what was stored is chain 'main'.
    r#"
    ALTER TABLE audit_batches ADD COLUMN chain TEXT COLLATE "C" NOT NULL DEFAULT 'main';
    ALTER TABLE audit_batches ALTER COLUMN chain DROP DEFAULT;
    ALTER TABLE audit_batches DROP CONSTRAINT audit_batches_pkey;
    ALTER TABLE audit_batches DROP CONSTRAINT audit_batches_last_seq_key;
    ALTER TABLE audit_batches ADD PRIMARY KEY (chain, first_seq);
    ALTER TABLE audit_batches ADD UNIQUE (chain, last_seq);
    ALTER TABLE audit_anchor ADD COLUMN chain TEXT COLLATE "C" NOT NULL DEFAULT 'main';
    ALTER TABLE audit_anchor ALTER COLUMN chain DROP DEFAULT;
    ALTER TABLE audit_anchor DROP COLUMN id;
    ALTER TABLE audit_anchor ADD PRIMARY KEY (chain);
"#,
    // 3: named values of the service's own (the derivation secret after a root-key rotation).
    r#"
    CREATE TABLE meta (
        name TEXT COLLATE "C" PRIMARY KEY,
        value BYTEA NOT NULL
    );
"#,
    // 4: Regions (SQLite's version 11). A key is (key id, Region): the related keys of a
    // multi-Region key share the id and, by id, their materials. Aliases are per (account,
    // Region, name); tags, grants and last use per (key id, Region). Existing rows keep the
    // Region their key was created in.
    r#"
    ALTER TABLE key_materials DROP CONSTRAINT key_materials_key_id_fkey;
    ALTER TABLE aliases DROP CONSTRAINT aliases_target_key_id_fkey;
    ALTER TABLE tags DROP CONSTRAINT tags_key_id_fkey;
    ALTER TABLE grants DROP CONSTRAINT grants_key_id_fkey;
    ALTER TABLE keys ALTER COLUMN region TYPE TEXT COLLATE "C";
    ALTER TABLE keys ADD COLUMN primary_region TEXT COLLATE "C";
    ALTER TABLE keys ADD COLUMN material_region TEXT COLLATE "C";
    UPDATE keys SET material_region = region, primary_region = CASE WHEN multi_region THEN region END;
    ALTER TABLE keys ALTER COLUMN material_region SET NOT NULL;
    ALTER TABLE keys DROP CONSTRAINT keys_pkey;
    ALTER TABLE keys ADD PRIMARY KEY (key_id, region);
    DROP INDEX keys_by_account;
    CREATE INDEX keys_by_account ON keys(account_id, region, key_id);
    ALTER TABLE aliases ADD COLUMN region TEXT COLLATE "C";
    UPDATE aliases a SET region = k.region FROM keys k WHERE k.key_id = a.target_key_id;
    ALTER TABLE aliases ALTER COLUMN region SET NOT NULL;
    ALTER TABLE aliases DROP CONSTRAINT aliases_pkey;
    ALTER TABLE aliases ADD PRIMARY KEY (account_id, region, name);
    ALTER TABLE aliases ADD FOREIGN KEY (target_key_id, region) REFERENCES keys(key_id, region);
    DROP INDEX aliases_by_key;
    CREATE INDEX aliases_by_key ON aliases(target_key_id, region);
    ALTER TABLE tags ADD COLUMN region TEXT COLLATE "C";
    UPDATE tags t SET region = k.region FROM keys k WHERE k.key_id = t.key_id;
    ALTER TABLE tags ALTER COLUMN region SET NOT NULL;
    ALTER TABLE tags DROP CONSTRAINT tags_pkey;
    ALTER TABLE tags ADD PRIMARY KEY (key_id, region, tag_key);
    ALTER TABLE tags ADD FOREIGN KEY (key_id, region) REFERENCES keys(key_id, region);
    ALTER TABLE grants ADD COLUMN region TEXT COLLATE "C";
    UPDATE grants g SET region = k.region FROM keys k WHERE k.key_id = g.key_id;
    ALTER TABLE grants ALTER COLUMN region SET NOT NULL;
    ALTER TABLE grants ADD FOREIGN KEY (key_id, region) REFERENCES keys(key_id, region);
    DROP INDEX grants_by_key;
    CREATE INDEX grants_by_key ON grants(key_id, region, grant_id);
    ALTER TABLE key_usage ADD COLUMN region TEXT COLLATE "C";
    UPDATE key_usage u SET region = k.region FROM keys k WHERE k.key_id = u.key_id;
    DELETE FROM key_usage WHERE region IS NULL;
    ALTER TABLE key_usage ALTER COLUMN region SET NOT NULL;
    ALTER TABLE key_usage DROP CONSTRAINT key_usage_pkey;
    ALTER TABLE key_usage ADD PRIMARY KEY (key_id, region);
"#,
    // 5: external key stores (SQLite's version 12). A key in a custom key store names the store
    // and its external key; one external key backs at most one key of a store. The stores
    // themselves are documents in `iam_entities` (kind `custom-key-store`).
    r#"
    ALTER TABLE keys ADD COLUMN custom_key_store_id TEXT COLLATE "C";
    ALTER TABLE keys ADD COLUMN xks_key_id TEXT COLLATE "C";
    CREATE UNIQUE INDEX keys_by_external_key ON keys(custom_key_store_id, xks_key_id);
"#,
];

/// The schema version this binary writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// Applies pending migrations, each in its own transaction, under an advisory lock.
pub fn apply(c: &mut Client) -> Result<i64, StoreError> {
    c.execute("SELECT pg_advisory_lock($1)", &[&LOCK]).map_err(classify)?;
    let result = apply_locked(c);
    let unlocked = c.execute("SELECT pg_advisory_unlock($1)", &[&LOCK]).map_err(classify);
    let version = result?;
    unlocked?;
    Ok(version)
}

/// Applies migrations up to `version` only: for tests that data written by an older schema
/// reads after the upgrade.
pub fn apply_until(c: &mut Client, version: i64) -> Result<i64, StoreError> {
    c.execute("SELECT pg_advisory_lock($1)", &[&LOCK]).map_err(classify)?;
    let result = apply_locked_until(c, version);
    let unlocked = c.execute("SELECT pg_advisory_unlock($1)", &[&LOCK]).map_err(classify);
    let version = result?;
    unlocked?;
    Ok(version)
}

fn apply_locked(c: &mut Client) -> Result<i64, StoreError> {
    apply_locked_until(c, LATEST)
}

fn apply_locked_until(c: &mut Client, until: i64) -> Result<i64, StoreError> {
    let exists: bool = c
        .query_one("SELECT to_regclass('trent_schema') IS NOT NULL", &[])
        .map_err(classify)?
        .get(0);
    if !exists {
        c.batch_execute("CREATE TABLE trent_schema (version BIGINT PRIMARY KEY)")
            .map_err(classify)?;
    }
    let current: i64 = c
        .query_one("SELECT COALESCE(MAX(version), 0) FROM trent_schema", &[])
        .map_err(classify)?
        .get(0);
    if current > LATEST {
        return Err(StoreError::Corrupt(format!(
            "database schema version {current} is newer than this binary supports ({LATEST})"
        )));
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(current).unwrap_or(0))
        .take(usize::try_from(until.saturating_sub(current)).unwrap_or(0))
    {
        let version = i64::try_from(i + 1).unwrap_or(i64::MAX);
        let mut tx = c.transaction().map_err(classify)?;
        tx.batch_execute(sql).map_err(classify)?;
        tx.execute("INSERT INTO trent_schema (version) VALUES ($1)", &[&version])
            .map_err(classify)?;
        tx.commit().map_err(classify)?;
    }
    Ok(until.min(LATEST).max(current))
}

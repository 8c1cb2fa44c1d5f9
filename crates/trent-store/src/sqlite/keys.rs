//! The key-side tables of the SQLite store: keys (one record per key id and Region), their
//! shared material records, aliases, tags, grants and last use. `SqliteStore`'s trait methods
//! delegate here.

use rusqlite::{params, OptionalExtension};
use trent_types::{AccountId, AliasName, KeyId, Region};

use super::*;
use crate::{AliasRecord, GrantRecord, KeyRecord, MaterialRecord, StoreError, TagRecord, UsageRecord};

pub(super) fn key(s: &SqliteStore, region: &Region, key_id: &KeyId) -> Result<Option<KeyRecord>, StoreError> {
    s.conn()?
        .query_row(
            &format!("SELECT {KEY_COLUMNS} FROM keys WHERE key_id = ?1 AND region = ?2"),
            [key_id.as_str(), region.as_str()],
            key_row,
        )
        .optional()
        .map_err(classify)
}

pub(super) fn keys_settling(s: &SqliteStore) -> Result<Vec<KeyRecord>, StoreError> {
    let c = s.conn()?;
    let mut st = c
        .prepare(&format!(
            "SELECT {KEY_COLUMNS} FROM keys WHERE key_state IN ('Creating', 'Updating') ORDER BY key_id, region"
        ))
        .map_err(classify)?;
    let rows = st.query_map([], key_row).map_err(classify)?;
    rows.collect::<Result<_, _>>().map_err(classify)
}

pub(super) fn key_regions(s: &SqliteStore) -> Result<Vec<Region>, StoreError> {
    let c = s.conn()?;
    let mut st = c
        .prepare("SELECT DISTINCT region FROM keys ORDER BY region")
        .map_err(classify)?;
    let rows = st.query_map([], |r| parsed(r, 0, Region::parse)).map_err(classify)?;
    rows.collect::<Result<_, _>>().map_err(classify)
}

pub(super) fn related_keys(s: &SqliteStore, key_id: &KeyId) -> Result<Vec<KeyRecord>, StoreError> {
    let c = s.conn()?;
    let mut st = c
        .prepare(&format!(
            "SELECT {KEY_COLUMNS} FROM keys WHERE key_id = ?1 ORDER BY region"
        ))
        .map_err(classify)?;
    let rows = st.query_map([key_id.as_str()], key_row).map_err(classify)?;
    rows.collect::<Result<_, _>>().map_err(classify)
}

pub(super) fn keys_in_custom_key_store(s: &SqliteStore, store_id: &str) -> Result<Vec<KeyRecord>, StoreError> {
    let c = s.conn()?;
    let mut st = c
        .prepare(&format!(
            "SELECT {KEY_COLUMNS} FROM keys WHERE custom_key_store_id = ?1 ORDER BY key_id"
        ))
        .map_err(classify)?;
    let rows = st.query_map([store_id], key_row).map_err(classify)?;
    rows.collect::<Result<_, _>>().map_err(classify)
}

pub(super) fn materials(s: &SqliteStore, key_id: &KeyId) -> Result<Vec<MaterialRecord>, StoreError> {
    let c = s.conn()?;
    let mut st = c
        .prepare(&format!(
            "SELECT {MATERIAL_COLUMNS} FROM key_materials WHERE key_id = ?1 ORDER BY created_ms, material_id"
        ))
        .map_err(classify)?;
    let rows = st.query_map([key_id.as_str()], material_row).map_err(classify)?;
    rows.collect::<Result<_, _>>().map_err(classify)
}

pub(super) fn keys_due_for_rotation(s: &SqliteStore, now_ms: i64) -> Result<Vec<KeyRecord>, StoreError> {
    let c = s.conn()?;
    let mut st = c
        .prepare(&format!(
            "SELECT {KEY_COLUMNS} FROM keys WHERE rotation_enabled = 1 AND key_state = 'Enabled' AND next_rotation_ms IS NOT NULL AND next_rotation_ms <= ?1"
        ))
        .map_err(classify)?;
    let rows = st.query_map([now_ms], key_row).map_err(classify)?;
    rows.collect::<Result<_, _>>().map_err(classify)
}

pub(super) fn expired_materials(s: &SqliteStore, now_ms: i64) -> Result<Vec<MaterialRecord>, StoreError> {
    let c = s.conn()?;
    let mut st = c
        .prepare(&format!(
            "SELECT {MATERIAL_COLUMNS} FROM key_materials WHERE valid_to_ms IS NOT NULL AND valid_to_ms <= ?1 AND length(sealed) > 0"
        ))
        .map_err(classify)?;
    let rows = st.query_map([now_ms], material_row).map_err(classify)?;
    rows.collect::<Result<_, _>>().map_err(classify)
}

pub(super) fn usage(s: &SqliteStore, region: &Region, key_id: &KeyId) -> Result<Option<UsageRecord>, StoreError> {
    s.conn()?
        .query_row(
            "SELECT key_id, operation, at_ms, request_id, region FROM key_usage WHERE key_id = ?1 AND region = ?2",
            [key_id.as_str(), region.as_str()],
            |r| {
                Ok(UsageRecord {
                    key_id: parsed(r, 0, KeyId::parse)?,
                    operation: r.get(1)?,
                    at_ms: r.get(2)?,
                    request_id: r.get(3)?,
                    region: parsed(r, 4, Region::parse)?,
                })
            },
        )
        .optional()
        .map_err(classify)
}

pub(super) fn list_keys(
    s: &SqliteStore,
    account_id: &AccountId,
    region: &Region,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<KeyRecord>, StoreError> {
    let c = s.conn()?;
    let mut st = c
        .prepare(&format!(
            "SELECT {KEY_COLUMNS} FROM keys WHERE account_id = ?1 AND region = ?4 AND key_id > ?2 ORDER BY key_id LIMIT ?3"
        ))
        .map_err(classify)?;
    let rows = st
        .query_map(
            params![account_id.as_str(), after.unwrap_or(""), limit as i64, region.as_str()],
            key_row,
        )
        .map_err(classify)?;
    rows.collect::<Result<_, _>>().map_err(classify)
}

pub(super) fn keys_due_for_deletion(s: &SqliteStore, now_ms: i64) -> Result<Vec<KeyRecord>, StoreError> {
    let c = s.conn()?;
    let mut st = c
        .prepare(&format!(
            "SELECT {KEY_COLUMNS} FROM keys WHERE key_state = 'PendingDeletion' AND deletion_ms IS NOT NULL AND deletion_ms <= ?1"
        ))
        .map_err(classify)?;
    let rows = st.query_map([now_ms], key_row).map_err(classify)?;
    rows.collect::<Result<_, _>>().map_err(classify)
}

pub(super) fn alias(
    s: &SqliteStore,
    account_id: &AccountId,
    region: &Region,
    name: &AliasName,
) -> Result<Option<AliasRecord>, StoreError> {
    s.conn()?
        .query_row(
            &format!("SELECT {ALIAS_COLUMNS} FROM aliases WHERE account_id = ?1 AND region = ?3 AND name = ?2"),
            [account_id.as_str(), name.as_str(), region.as_str()],
            alias_row,
        )
        .optional()
        .map_err(classify)
}

pub(super) fn list_aliases(
    s: &SqliteStore,
    account_id: &AccountId,
    region: &Region,
    key_id: Option<&KeyId>,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<AliasRecord>, StoreError> {
    let c = s.conn()?;
    let mut st = c
        .prepare(&format!(
            "SELECT {ALIAS_COLUMNS} FROM aliases WHERE account_id = ?1 AND region = ?5 AND (?2 IS NULL OR target_key_id = ?2) AND name > ?3 ORDER BY name LIMIT ?4",
        ))
        .map_err(classify)?;
    let rows = st
        .query_map(
            params![
                account_id.as_str(),
                key_id.map(KeyId::as_str),
                after.unwrap_or(""),
                limit as i64,
                region.as_str()
            ],
            alias_row,
        )
        .map_err(classify)?;
    rows.collect::<Result<_, _>>().map_err(classify)
}

pub(super) fn all_aliases(s: &SqliteStore) -> Result<Vec<AliasRecord>, StoreError> {
    let c = s.conn()?;
    let mut st = c
        .prepare(&format!("SELECT {ALIAS_COLUMNS} FROM aliases"))
        .map_err(classify)?;
    let rows = st.query_map([], alias_row).map_err(classify)?;
    rows.collect::<Result<_, _>>().map_err(classify)
}

pub(super) fn grant(s: &SqliteStore, grant_id: &str) -> Result<Option<GrantRecord>, StoreError> {
    s.conn()?
        .query_row(
            &format!("SELECT {GRANT_COLUMNS} FROM grants WHERE grant_id = ?1"),
            [grant_id],
            grant_row,
        )
        .optional()
        .map_err(classify)
}

pub(super) fn grants(s: &SqliteStore, region: &Region, key_id: &KeyId) -> Result<Vec<GrantRecord>, StoreError> {
    let c = s.conn()?;
    let mut st = c
        .prepare(&format!(
            "SELECT {GRANT_COLUMNS} FROM grants WHERE key_id = ?1 AND region = ?2 ORDER BY grant_id"
        ))
        .map_err(classify)?;
    let rows = st
        .query_map([key_id.as_str(), region.as_str()], grant_row)
        .map_err(classify)?;
    rows.collect::<Result<_, _>>().map_err(classify)
}

pub(super) fn grants_retirable_by(s: &SqliteStore, principal: &str) -> Result<Vec<GrantRecord>, StoreError> {
    let c = s.conn()?;
    let mut st = c
        .prepare(&format!(
            "SELECT {GRANT_COLUMNS} FROM grants WHERE retiring_principal = ?1 ORDER BY grant_id"
        ))
        .map_err(classify)?;
    let rows = st.query_map([principal], grant_row).map_err(classify)?;
    rows.collect::<Result<_, _>>().map_err(classify)
}

pub(super) fn tags(s: &SqliteStore, region: &Region, key_id: &KeyId) -> Result<Vec<TagRecord>, StoreError> {
    let c = s.conn()?;
    let mut st = c
        .prepare("SELECT tag_key, tag_value FROM tags WHERE key_id = ?1 AND region = ?2 ORDER BY tag_key")
        .map_err(classify)?;
    let rows = st
        .query_map([key_id.as_str(), region.as_str()], |r| {
            Ok(TagRecord {
                key: r.get(0)?,
                value: r.get(1)?,
            })
        })
        .map_err(classify)?;
    rows.collect::<Result<_, _>>().map_err(classify)
}

pub(super) fn create_key(
    s: &SqliteStore,
    k: &KeyRecord,
    m: Option<&MaterialRecord>,
    tags: &[TagRecord],
) -> Result<(), StoreError> {
    let mut c = s.conn()?;
    let tx = Tx::begin(&mut c)?;
    tx.execute(
        &format!("INSERT INTO keys ({KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)"),
        params![
            k.key_id.as_str(),
            k.account_id.as_str(),
            k.region.as_str(),
            k.description,
            k.key_spec.as_str(),
            k.key_usage.as_str(),
            k.origin.as_str(),
            k.key_manager.as_str(),
            k.key_state.as_str(),
            k.created_ms,
            k.deletion_ms,
            k.pending_window_days,
            k.policy,
            k.current_material_id,
            k.multi_region,
            k.rotation_enabled,
            k.rotation_period_days,
            k.next_rotation_ms,
            k.version,
            k.primary_region.as_ref().map(Region::as_str),
            k.material_region.as_str(),
            k.custom_key_store_id,
            k.xks_key_id
        ],
    )
    .map_err(classify)?;
    if let Some(m) = m {
        upsert_material(&tx, m)?;
    }
    for t in tags {
        tx.execute(
            "INSERT INTO tags (key_id, region, tag_key, tag_value) VALUES (?1, ?2, ?3, ?4)",
            params![k.key_id.as_str(), k.region.as_str(), t.key, t.value],
        )
        .map_err(classify)?;
    }
    tx.commit()
}

pub(super) fn update_key(s: &SqliteStore, k: &KeyRecord) -> Result<(), StoreError> {
    let c = s.conn()?;
    write_key(&c, k)
}

pub(super) fn rotate_key(
    s: &SqliteStore,
    k: &KeyRecord,
    expected_current: Option<&str>,
    m: &MaterialRecord,
) -> Result<(), StoreError> {
    let mut c = s.conn()?;
    let tx = Tx::begin(&mut c)?;
    let current: Option<Option<String>> = tx
        .query_row(
            "SELECT current_material_id FROM keys WHERE key_id = ?1 AND region = ?2",
            [k.key_id.as_str(), k.region.as_str()],
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
    write_key_fields(&tx, k, true)?;
    tx.commit()
}

pub(super) fn put_material(s: &SqliteStore, k: &KeyRecord, m: &MaterialRecord) -> Result<(), StoreError> {
    let mut c = s.conn()?;
    let tx = Tx::begin(&mut c)?;
    upsert_material(&tx, m)?;
    write_key_fields(&tx, k, false)?;
    tx.commit()
}

pub(super) fn record_usage(s: &SqliteStore, usage: &[UsageRecord]) -> Result<(), StoreError> {
    let mut c = s.conn()?;
    let tx = Tx::begin(&mut c)?;
    for u in usage {
        tx.execute(
            "INSERT INTO key_usage (key_id, region, operation, at_ms, request_id) VALUES (?1, ?5, ?2, ?3, ?4) \
             ON CONFLICT (key_id, region) DO UPDATE SET operation = excluded.operation, at_ms = excluded.at_ms, request_id = excluded.request_id \
             WHERE excluded.at_ms >= key_usage.at_ms",
            params![u.key_id.as_str(), u.operation, u.at_ms, u.request_id, u.region.as_str()],
        )
        .map_err(classify)?;
    }
    tx.commit()
}

pub(super) fn delete_key(s: &SqliteStore, region: &Region, key_id: &KeyId) -> Result<(), StoreError> {
    let mut c = s.conn()?;
    let tx = Tx::begin(&mut c)?;
    for sql in [
        "DELETE FROM aliases WHERE target_key_id = ?1 AND region = ?2",
        "DELETE FROM tags WHERE key_id = ?1 AND region = ?2",
        "DELETE FROM key_usage WHERE key_id = ?1 AND region = ?2",
        "DELETE FROM grants WHERE key_id = ?1 AND region = ?2",
        "DELETE FROM keys WHERE key_id = ?1 AND region = ?2",
    ] {
        tx.execute(sql, [key_id.as_str(), region.as_str()]).map_err(classify)?;
    }
    // Related multi-Region keys share the materials: they go with the last of them.
    tx.execute(
        "DELETE FROM key_materials WHERE key_id = ?1 AND NOT EXISTS (SELECT 1 FROM keys WHERE key_id = ?1)",
        [key_id.as_str()],
    )
    .map_err(classify)?;
    tx.commit()
}

pub(super) fn create_alias(s: &SqliteStore, a: &AliasRecord) -> Result<(), StoreError> {
    s.conn()?
        .execute(
            &format!("INSERT INTO aliases ({ALIAS_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
            params![
                a.account_id.as_str(),
                a.name.as_str(),
                a.target_key_id.as_str(),
                a.created_ms,
                a.updated_ms,
                a.region.as_str()
            ],
        )
        .map_err(classify)?;
    Ok(())
}

pub(super) fn update_alias(s: &SqliteStore, a: &AliasRecord) -> Result<(), StoreError> {
    let n = s
        .conn()?
        .execute(
            "UPDATE aliases SET target_key_id = ?3, updated_ms = ?4 WHERE account_id = ?1 AND name = ?2 AND region = ?5",
            params![
                a.account_id.as_str(),
                a.name.as_str(),
                a.target_key_id.as_str(),
                a.updated_ms,
                a.region.as_str()
            ],
        )
        .map_err(classify)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(super) fn delete_alias(
    s: &SqliteStore,
    account_id: &AccountId,
    region: &Region,
    name: &AliasName,
) -> Result<(), StoreError> {
    let n = s
        .conn()?
        .execute(
            "DELETE FROM aliases WHERE account_id = ?1 AND name = ?2 AND region = ?3",
            [account_id.as_str(), name.as_str(), region.as_str()],
        )
        .map_err(classify)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(super) fn create_grant(s: &SqliteStore, g: &GrantRecord) -> Result<(), StoreError> {
    s.conn()?
        .execute(
            &format!("INSERT INTO grants ({GRANT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
            params![
                g.grant_id,
                g.key_id.as_str(),
                g.account_id.as_str(),
                g.name,
                g.grantee_principal,
                g.retiring_principal,
                operations_text(&g.operations),
                g.constraints,
                g.created_ms,
                g.region.as_str()
            ],
        )
        .map_err(classify)?;
    Ok(())
}

pub(super) fn delete_grant(s: &SqliteStore, grant_id: &str) -> Result<(), StoreError> {
    let n = s
        .conn()?
        .execute("DELETE FROM grants WHERE grant_id = ?1", [grant_id])
        .map_err(classify)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(super) fn put_tags(s: &SqliteStore, region: &Region, key_id: &KeyId, tags: &[TagRecord]) -> Result<(), StoreError> {
    let mut c = s.conn()?;
    let tx = Tx::begin(&mut c)?;
    for t in tags {
        tx.execute(
            "INSERT INTO tags (key_id, region, tag_key, tag_value) VALUES (?1, ?4, ?2, ?3) ON CONFLICT (key_id, region, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
            params![key_id.as_str(), t.key, t.value, region.as_str()],
        )
        .map_err(classify)?;
    }
    tx.commit()
}

pub(super) fn delete_tags(
    s: &SqliteStore,
    region: &Region,
    key_id: &KeyId,
    tag_keys: &[String],
) -> Result<(), StoreError> {
    let mut c = s.conn()?;
    let tx = Tx::begin(&mut c)?;
    for k in tag_keys {
        tx.execute(
            "DELETE FROM tags WHERE key_id = ?1 AND region = ?3 AND tag_key = ?2",
            params![key_id.as_str(), k, region.as_str()],
        )
        .map_err(classify)?;
    }
    tx.commit()
}

pub(super) fn key_row(r: &Row<'_>) -> rusqlite::Result<KeyRecord> {
    Ok(KeyRecord {
        key_id: parsed(r, 0, KeyId::parse)?,
        account_id: parsed(r, 1, AccountId::parse)?,
        region: parsed(r, 2, Region::parse)?,
        description: r.get(3)?,
        key_spec: parsed(r, 4, KeySpec::parse)?,
        key_usage: parsed(r, 5, KeyUsage::parse)?,
        origin: parsed(r, 6, Origin::parse)?,
        key_manager: parsed(r, 7, KeyManager::parse)?,
        key_state: parsed(r, 8, KeyState::parse)?,
        created_ms: r.get(9)?,
        deletion_ms: r.get(10)?,
        pending_window_days: r.get(11)?,
        policy: r.get(12)?,
        current_material_id: r.get(13)?,
        multi_region: r.get(14)?,
        rotation_enabled: r.get(15)?,
        rotation_period_days: r.get(16)?,
        next_rotation_ms: r.get(17)?,
        version: r.get(18)?,
        primary_region: parsed_opt(r, 19, Region::parse)?,
        material_region: parsed(r, 20, Region::parse)?,
        custom_key_store_id: r.get(21)?,
        xks_key_id: r.get(22)?,
    })
}

pub(super) fn grant_row(r: &Row<'_>) -> rusqlite::Result<GrantRecord> {
    Ok(GrantRecord {
        grant_id: r.get(0)?,
        key_id: parsed(r, 1, KeyId::parse)?,
        account_id: parsed(r, 2, AccountId::parse)?,
        name: r.get(3)?,
        grantee_principal: r.get(4)?,
        retiring_principal: r.get(5)?,
        operations: parsed(r, 6, parse_operations)?,
        constraints: r.get(7)?,
        created_ms: r.get(8)?,
        region: parsed(r, 9, Region::parse)?,
    })
}

pub(super) fn material_row(r: &Row<'_>) -> rusqlite::Result<MaterialRecord> {
    Ok(MaterialRecord {
        key_id: parsed(r, 0, KeyId::parse)?,
        material_id: r.get(1)?,
        sealed: r.get(2)?,
        created_ms: r.get(3)?,
        rotation_type: parsed_opt(r, 4, RotationType::parse)?,
        rotation_ms: r.get(5)?,
        pending_rotation: r.get(6)?,
        import_state: parsed_opt(r, 7, ImportState::parse)?,
        expiration_model: parsed_opt(r, 8, ExpirationModel::parse)?,
        valid_to_ms: r.get(9)?,
        description: r.get(10)?,
    })
}

pub(super) fn upsert_material(tx: &Connection, m: &MaterialRecord) -> Result<(), StoreError> {
    tx.execute(
        &format!(
            "INSERT INTO key_materials ({MATERIAL_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
             ON CONFLICT (key_id, material_id) DO UPDATE SET sealed = excluded.sealed, rotation_type = excluded.rotation_type, \
             rotation_ms = excluded.rotation_ms, pending_rotation = excluded.pending_rotation, import_state = excluded.import_state, \
             expiration_model = excluded.expiration_model, valid_to_ms = excluded.valid_to_ms, description = excluded.description"
        ),
        params![
            m.key_id.as_str(),
            m.material_id,
            m.sealed,
            m.created_ms,
            m.rotation_type.map(RotationType::as_str),
            m.rotation_ms,
            m.pending_rotation,
            m.import_state.map(ImportState::as_str),
            m.expiration_model.map(ExpirationModel::as_str),
            m.valid_to_ms,
            m.description
        ],
    )
    .map_err(classify)?;
    Ok(())
}

/// `update_key`: every mutable field, over the version `k` was read at.
pub(super) fn write_key(tx: &rusqlite::Connection, k: &KeyRecord) -> Result<(), StoreError> {
    let n = tx
        .execute(
            "UPDATE keys SET description = ?2, key_state = ?3, deletion_ms = ?4, pending_window_days = ?5, policy = ?6, \
             current_material_id = ?7, rotation_enabled = ?8, rotation_period_days = ?9, next_rotation_ms = ?10, \
             primary_region = ?13, version = version + 1 WHERE key_id = ?1 AND version = ?11 AND region = ?12",
            params![
                k.key_id.as_str(),
                k.description,
                k.key_state.as_str(),
                k.deletion_ms,
                k.pending_window_days,
                k.policy,
                k.current_material_id,
                k.rotation_enabled,
                k.rotation_period_days,
                k.next_rotation_ms,
                k.version,
                k.region.as_str(),
                k.primary_region.as_ref().map(Region::as_str)
            ],
        )
        .map_err(classify)?;
    if n == 1 {
        return Ok(());
    }
    let exists: bool = tx
        .query_row(
            "SELECT 1 FROM keys WHERE key_id = ?1 AND region = ?2",
            [k.key_id.as_str(), k.region.as_str()],
            |_| Ok(true),
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

/// `rotate_key` (current material, next rotation, on every Region's record of the key id) /
/// `put_material` (state, current material, on the key's record): only the fields they own,
/// whatever the version; `NotFound` if the key is gone.
pub(super) fn write_key_fields(tx: &rusqlite::Connection, k: &KeyRecord, rotation: bool) -> Result<(), StoreError> {
    let n = if rotation {
        tx.execute(
            "UPDATE keys SET current_material_id = ?2, next_rotation_ms = ?3, version = version + 1 WHERE key_id = ?1",
            params![k.key_id.as_str(), k.current_material_id, k.next_rotation_ms],
        )
    } else {
        tx.execute(
            "UPDATE keys SET key_state = ?2, current_material_id = ?3, version = version + 1 WHERE key_id = ?1 AND region = ?4",
            params![k.key_id.as_str(), k.key_state.as_str(), k.current_material_id, k.region.as_str()],
        )
    }
    .map_err(classify)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(super) fn alias_row(r: &Row<'_>) -> rusqlite::Result<AliasRecord> {
    Ok(AliasRecord {
        account_id: parsed(r, 0, AccountId::parse)?,
        name: parsed(r, 1, AliasName::parse)?,
        target_key_id: parsed(r, 2, KeyId::parse)?,
        created_ms: r.get(3)?,
        updated_ms: r.get(4)?,
        region: parsed(r, 5, Region::parse)?,
    })
}

pub(super) const KEY_COLUMNS: &str = "key_id, account_id, region, description, key_spec, key_usage, origin, key_manager, key_state, created_ms, deletion_ms, pending_window_days, policy, current_material_id, multi_region, rotation_enabled, rotation_period_days, next_rotation_ms, version, primary_region, material_region, custom_key_store_id, xks_key_id";

pub(super) const GRANT_COLUMNS: &str =
    "grant_id, key_id, account_id, name, grantee_principal, retiring_principal, operations, constraints, created_ms, region";

pub(super) const MATERIAL_COLUMNS: &str = "key_id, material_id, sealed, created_ms, rotation_type, rotation_ms, pending_rotation, import_state, expiration_model, valid_to_ms, description";

pub(super) const ALIAS_COLUMNS: &str = "account_id, name, target_key_id, created_ms, updated_ms, region";

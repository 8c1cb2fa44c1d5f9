//! [`Store`] for PostgreSQL: every method is one transaction (a savepoint inside `atomically`).
//! Writes whose outcome depends on a read lock the row they read, so that concurrent nodes
//! serialize on it: a rotation locks its key (`FOR UPDATE`) before comparing the current
//! material; an access key locks its owner (`FOR SHARE`) and a user's deletion locks the user
//! (`FOR UPDATE`) before counting its keys — whichever commits first, the other sees it.

use postgres::Client;
use trent_store::{
    AccessKeyRecord, AccountRecord, AliasRecord, AuditBatchRecord, Change, EntityKind, EntityRecord, GrantRecord,
    KeyRecord, MaterialRecord, Store, StoreError, TagRecord, UsageRecord,
};
use trent_types::{AccessKeyStatus, AccountId, AliasName, ExpirationModel, ImportState, KeyId, Region, RotationType};

use crate::changes::notify;
use crate::read::{operations_text, ACCESS_KEY_COLUMNS, ALIAS_COLUMNS, GRANT_COLUMNS, KEY_COLUMNS, MATERIAL_COLUMNS};
use crate::{classify, col, PgStore};

/// A string member of a stored JSON document (`$.id` of an IAM entity, `$.role_name` of a
/// session); `None` if the text is not a JSON object with that string.
fn json_member(text: &str, name: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    v.get(name)?.as_str().map(str::to_owned)
}

fn upsert_material(c: &mut Client, m: &MaterialRecord) -> Result<(), StoreError> {
    c.execute(
        &format!(
            "INSERT INTO key_materials ({MATERIAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (key_id, material_id) DO UPDATE SET sealed = excluded.sealed, rotation_type = excluded.rotation_type, \
             rotation_ms = excluded.rotation_ms, pending_rotation = excluded.pending_rotation, import_state = excluded.import_state, \
             expiration_model = excluded.expiration_model, valid_to_ms = excluded.valid_to_ms, description = excluded.description"
        ),
        &[
            &m.key_id.as_str(),
            &m.material_id,
            &m.sealed,
            &m.created_ms,
            &m.rotation_type.map(RotationType::as_str),
            &m.rotation_ms,
            &m.pending_rotation,
            &m.import_state.map(ImportState::as_str),
            &m.expiration_model.map(ExpirationModel::as_str),
            &m.valid_to_ms,
            &m.description,
        ],
    )
    .map_err(classify)?;
    Ok(())
}

/// `update_key`: every mutable field, over the version `k` was read at (compare-and-swap).
fn write_key(c: &mut Client, k: &KeyRecord) -> Result<(), StoreError> {
    let n = c
        .execute(
            "UPDATE keys SET description = $2, key_state = $3, deletion_ms = $4, pending_window_days = $5, policy = $6, \
             current_material_id = $7, rotation_enabled = $8, rotation_period_days = $9, next_rotation_ms = $10, \
             primary_region = $13, version = version + 1 WHERE key_id = $1 AND version = $11 AND region = $12",
            &[
                &k.key_id.as_str(),
                &k.description,
                &k.key_state.as_str(),
                &k.deletion_ms,
                &k.pending_window_days,
                &k.policy,
                &k.current_material_id,
                &k.rotation_enabled,
                &k.rotation_period_days,
                &k.next_rotation_ms,
                &k.version,
                &k.region.as_str(),
                &k.primary_region.as_ref().map(Region::as_str),
            ],
        )
        .map_err(classify)?;
    if n == 1 {
        return Ok(());
    }
    let exists = c
        .query_opt(
            "SELECT 1 FROM keys WHERE key_id = $1 AND region = $2",
            &[&k.key_id.as_str(), &k.region.as_str()],
        )
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
fn write_key_fields(c: &mut Client, k: &KeyRecord, rotation: bool) -> Result<(), StoreError> {
    let n = if rotation {
        c.execute(
            "UPDATE keys SET current_material_id = $2, next_rotation_ms = $3, version = version + 1 WHERE key_id = $1",
            &[&k.key_id.as_str(), &k.current_material_id, &k.next_rotation_ms],
        )
    } else {
        c.execute(
            "UPDATE keys SET key_state = $2, current_material_id = $3, version = version + 1 WHERE key_id = $1 AND region = $4",
            &[
                &k.key_id.as_str(),
                &k.key_state.as_str(),
                &k.current_material_id,
                &k.region.as_str(),
            ],
        )
    }
    .map_err(classify)?;
    changed(n)
}

/// A compare-and-swap write that changed no row: the record moved on, or it is gone.
fn cas_miss(exists: bool) -> StoreError {
    if exists {
        StoreError::Conflict
    } else {
        StoreError::NotFound
    }
}

fn changed(n: u64) -> Result<(), StoreError> {
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

impl Store for PgStore {
    fn insert_account(&self, a: &AccountRecord) -> Result<(), StoreError> {
        self.write(|c| {
            c.execute(
                "INSERT INTO accounts (account_id, created_ms) VALUES ($1, $2)",
                &[&a.account_id.as_str(), &a.created_ms],
            )
            .map_err(classify)?;
            Ok(())
        })
    }

    fn insert_access_key(&self, k: &AccessKeyRecord) -> Result<(), StoreError> {
        self.write(|c| {
            // The owner must exist, with the id the key names (users by name; sessions by the
            // role their session names), and stays locked until this commits.
            let owner = match (&k.user_name, &k.session) {
                (Some(user), _) => Some(("user", user.clone())),
                (None, Some(session)) => Some(("role", json_member(session, "role_name").ok_or(StoreError::NotFound)?)),
                (None, None) => None,
            };
            if let Some((kind, name)) = owner {
                let row = c
                    .query_opt(
                        "SELECT body FROM iam_entities WHERE account_id = $1 AND kind = $2 AND name = $3 FOR SHARE",
                        &[&k.account_id.as_str(), &kind, &name],
                    )
                    .map_err(classify)?
                    .ok_or(StoreError::NotFound)?;
                let body: String = col(&row, 0)?;
                if let Some(expected) = &k.owner_id {
                    if json_member(&body, "id").as_deref() != Some(expected.as_str()) {
                        return Err(StoreError::NotFound);
                    }
                }
            }
            c.execute(
                &format!(
                    "INSERT INTO access_keys ({ACCESS_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
                ),
                &[
                    &k.access_key_id,
                    &k.account_id.as_str(),
                    &k.principal_arn,
                    &k.sealed_secret,
                    &k.status.as_str(),
                    &k.created_ms,
                    &k.user_name,
                    &k.session_token_hash,
                    &k.expires_ms,
                    &k.session,
                    &k.owner_id,
                ],
            )
            .map_err(classify)?;
            notify(c, &Change::AccessKey(k.access_key_id.clone()))
        })
    }

    fn set_access_key_status(&self, id: &str, status: AccessKeyStatus) -> Result<(), StoreError> {
        self.write(|c| {
            changed(
                c.execute(
                    "UPDATE access_keys SET status = $2 WHERE access_key_id = $1",
                    &[&id, &status.as_str()],
                )
                .map_err(classify)?,
            )?;
            notify(c, &Change::AccessKey(id.to_owned()))
        })
    }

    fn put_meta(&self, name: &str, expected: Option<&[u8]>, value: &[u8]) -> Result<(), StoreError> {
        self.write(|c| {
            let n = match expected {
                None => c.execute(
                    "INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                    &[&name, &value],
                ),
                Some(old) => c.execute(
                    "UPDATE meta SET value = $2 WHERE name = $1 AND value = $3",
                    &[&name, &value, &old],
                ),
            }
            .map_err(classify)?;
            if n == 0 {
                return Err(StoreError::Conflict);
            }
            Ok(())
        })
    }

    fn reseal_access_key(&self, id: &str, expected: &[u8], sealed: &[u8]) -> Result<(), StoreError> {
        self.write(|c| {
            let n = c
                .execute(
                    "UPDATE access_keys SET sealed_secret = $2 WHERE access_key_id = $1 AND sealed_secret = $3",
                    &[&id, &sealed, &expected],
                )
                .map_err(classify)?;
            if n == 0 {
                let exists = c
                    .query_opt("SELECT 1 FROM access_keys WHERE access_key_id = $1", &[&id])
                    .map_err(classify)?;
                return Err(cas_miss(exists.is_some()));
            }
            Ok(())
        })
    }

    fn reseal_material(
        &self,
        key_id: &KeyId,
        material_id: &str,
        expected: &[u8],
        sealed: &[u8],
    ) -> Result<(), StoreError> {
        self.write(|c| {
            let n = c
                .execute(
                    "UPDATE key_materials SET sealed = $3 WHERE key_id = $1 AND material_id = $2 AND sealed = $4",
                    &[&key_id.as_str(), &material_id, &sealed, &expected],
                )
                .map_err(classify)?;
            if n == 0 {
                let exists = c
                    .query_opt(
                        "SELECT 1 FROM key_materials WHERE key_id = $1 AND material_id = $2",
                        &[&key_id.as_str(), &material_id],
                    )
                    .map_err(classify)?;
                return Err(cas_miss(exists.is_some()));
            }
            Ok(())
        })
    }

    fn delete_access_key(&self, id: &str) -> Result<(), StoreError> {
        self.write(|c| {
            changed(
                c.execute("DELETE FROM access_keys WHERE access_key_id = $1", &[&id])
                    .map_err(classify)?,
            )?;
            notify(c, &Change::AccessKey(id.to_owned()))
        })
    }

    fn put_entity(&self, e: &EntityRecord, replace: bool) -> Result<(), StoreError> {
        let sql = if replace {
            "INSERT INTO iam_entities (account_id, kind, name, body) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (account_id, kind, name) DO UPDATE SET body = excluded.body"
        } else {
            "INSERT INTO iam_entities (account_id, kind, name, body) VALUES ($1, $2, $3, $4)"
        };
        self.write(|c| {
            c.execute(sql, &[&e.account_id.as_str(), &e.kind.as_str(), &e.name, &e.body])
                .map_err(classify)?;
            notify(c, &Change::Identity(e.account_id))
        })
    }

    fn replace_entity(&self, e: &EntityRecord, expected_body: &str) -> Result<(), StoreError> {
        self.write(|c| {
            let n = c
                .execute(
                    "UPDATE iam_entities SET body = $4 WHERE account_id = $1 AND kind = $2 AND name = $3 AND body = $5",
                    &[
                        &e.account_id.as_str(),
                        &e.kind.as_str(),
                        &e.name,
                        &e.body,
                        &expected_body,
                    ],
                )
                .map_err(classify)?;
            if n == 0 {
                let exists = c
                    .query_opt(
                        "SELECT 1 FROM iam_entities WHERE account_id = $1 AND kind = $2 AND name = $3",
                        &[&e.account_id.as_str(), &e.kind.as_str(), &e.name],
                    )
                    .map_err(classify)?
                    .is_some();
                return Err(if exists {
                    StoreError::Conflict
                } else {
                    StoreError::NotFound
                });
            }
            notify(c, &Change::Identity(e.account_id))
        })
    }

    fn delete_entity(&self, account_id: &AccountId, kind: EntityKind, name: &str) -> Result<(), StoreError> {
        self.write(|c| {
            let row = c
                .query_opt(
                    "SELECT body FROM iam_entities WHERE account_id = $1 AND kind = $2 AND name = $3 FOR UPDATE",
                    &[&account_id.as_str(), &kind.as_str(), &name],
                )
                .map_err(classify)?
                .ok_or(StoreError::NotFound)?;
            let body: String = col(&row, 0)?;
            match kind {
                EntityKind::User => {
                    let keys: i64 = col(
                        &c.query_one(
                            "SELECT COUNT(*) FROM access_keys WHERE account_id = $1 AND user_name = $2",
                            &[&account_id.as_str(), &name],
                        )
                        .map_err(classify)?,
                        0,
                    )?;
                    if keys > 0 {
                        return Err(StoreError::Conflict);
                    }
                }
                EntityKind::Role => {
                    if let Some(id) = json_member(&body, "id") {
                        c.execute(
                            "DELETE FROM access_keys WHERE account_id = $1 AND session IS NOT NULL AND owner_id = $2",
                            &[&account_id.as_str(), &id],
                        )
                        .map_err(classify)?;
                    }
                }
                EntityKind::CustomKeyStore => {
                    // A custom key store that still has keys (any state) is not deleted.
                    let keys: i64 = col(
                        &c.query_one(
                            "SELECT COUNT(*) FROM keys WHERE account_id = $1 AND custom_key_store_id = $2",
                            &[&account_id.as_str(), &name],
                        )
                        .map_err(classify)?,
                        0,
                    )?;
                    if keys > 0 {
                        return Err(StoreError::Conflict);
                    }
                }
                EntityKind::Policy | EntityKind::Group => {}
            }
            c.execute(
                "DELETE FROM iam_entities WHERE account_id = $1 AND kind = $2 AND name = $3",
                &[&account_id.as_str(), &kind.as_str(), &name],
            )
            .map_err(classify)?;
            notify(c, &Change::Identity(*account_id))
        })
    }

    fn create_key(&self, k: &KeyRecord, m: Option<&MaterialRecord>, tags: &[TagRecord]) -> Result<(), StoreError> {
        self.write(|c| {
            c.execute(
                &format!(
                    "INSERT INTO keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"
                ),
                &[
                    &k.key_id.as_str(),
                    &k.account_id.as_str(),
                    &k.region.as_str(),
                    &k.description,
                    &k.key_spec.as_str(),
                    &k.key_usage.as_str(),
                    &k.origin.as_str(),
                    &k.key_manager.as_str(),
                    &k.key_state.as_str(),
                    &k.created_ms,
                    &k.deletion_ms,
                    &k.pending_window_days,
                    &k.policy,
                    &k.current_material_id,
                    &k.multi_region,
                    &k.rotation_enabled,
                    &k.rotation_period_days,
                    &k.next_rotation_ms,
                    &k.version,
                    &k.primary_region.as_ref().map(Region::as_str),
                    &k.material_region.as_str(),
                    &k.custom_key_store_id,
                    &k.xks_key_id,
                ],
            )
            .map_err(classify)?;
            if let Some(m) = m {
                upsert_material(c, m)?;
            }
            for t in tags {
                c.execute(
                    "INSERT INTO tags (key_id, region, tag_key, tag_value) VALUES ($1, $2, $3, $4)",
                    &[&k.key_id.as_str(), &k.region.as_str(), &t.key, &t.value],
                )
                .map_err(classify)?;
            }
            notify(c, &Change::Key(k.key_id))
        })
    }

    fn update_key(&self, k: &KeyRecord) -> Result<(), StoreError> {
        self.write(|c| {
            write_key(c, k)?;
            notify(c, &Change::Key(k.key_id))
        })
    }

    fn rotate_key(&self, k: &KeyRecord, expected_current: Option<&str>, m: &MaterialRecord) -> Result<(), StoreError> {
        self.write(|c| {
            let row = c
                .query_opt(
                    "SELECT current_material_id FROM keys WHERE key_id = $1 AND region = $2 FOR UPDATE",
                    &[&k.key_id.as_str(), &k.region.as_str()],
                )
                .map_err(classify)?
                .ok_or(StoreError::NotFound)?;
            let current: Option<String> = col(&row, 0)?;
            if current.as_deref() != expected_current {
                return Err(StoreError::Conflict);
            }
            upsert_material(c, m)?;
            write_key_fields(c, k, true)?;
            notify(c, &Change::Key(k.key_id))
        })
    }

    fn put_material(&self, k: &KeyRecord, m: &MaterialRecord) -> Result<(), StoreError> {
        self.write(|c| {
            upsert_material(c, m)?;
            write_key_fields(c, k, false)?;
            notify(c, &Change::Key(k.key_id))
        })
    }

    fn record_usage(&self, usage: &[UsageRecord]) -> Result<(), StoreError> {
        self.write(|c| {
            let st = c
                .prepare(
                    "INSERT INTO key_usage (key_id, operation, at_ms, request_id, region) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (key_id, region) DO UPDATE SET operation = excluded.operation, at_ms = excluded.at_ms, \
                     request_id = excluded.request_id WHERE excluded.at_ms >= key_usage.at_ms",
                )
                .map_err(classify)?;
            for u in usage {
                c.execute(
                    &st,
                    &[&u.key_id.as_str(), &u.operation, &u.at_ms, &u.request_id, &u.region.as_str()],
                )
                    .map_err(classify)?;
            }
            Ok(())
        })
    }

    fn delete_key(&self, region: &Region, key_id: &KeyId) -> Result<(), StoreError> {
        self.write(|c| {
            for sql in [
                "DELETE FROM aliases WHERE target_key_id = $1 AND region = $2",
                "DELETE FROM tags WHERE key_id = $1 AND region = $2",
                "DELETE FROM key_usage WHERE key_id = $1 AND region = $2",
                "DELETE FROM grants WHERE key_id = $1 AND region = $2",
                "DELETE FROM keys WHERE key_id = $1 AND region = $2",
            ] {
                c.execute(sql, &[&key_id.as_str(), &region.as_str()])
                    .map_err(classify)?;
            }
            // Related multi-Region keys share the materials: they go with the last of them.
            c.execute(
                "DELETE FROM key_materials WHERE key_id = $1 AND NOT EXISTS (SELECT 1 FROM keys WHERE key_id = $1)",
                &[&key_id.as_str()],
            )
            .map_err(classify)?;
            notify(c, &Change::Key(*key_id))
        })
    }

    fn create_alias(&self, a: &AliasRecord) -> Result<(), StoreError> {
        self.write(|c| {
            c.execute(
                &format!("INSERT INTO aliases ({ALIAS_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"),
                &[
                    &a.account_id.as_str(),
                    &a.name.as_str(),
                    &a.target_key_id.as_str(),
                    &a.created_ms,
                    &a.updated_ms,
                    &a.region.as_str(),
                ],
            )
            .map_err(classify)?;
            notify(c, &Change::Alias(a.account_id, a.region.clone(), a.name.clone()))
        })
    }

    fn update_alias(&self, a: &AliasRecord) -> Result<(), StoreError> {
        self.write(|c| {
            changed(
                c.execute(
                    "UPDATE aliases SET target_key_id = $3, updated_ms = $4 WHERE account_id = $1 AND name = $2 AND region = $5",
                    &[
                        &a.account_id.as_str(),
                        &a.name.as_str(),
                        &a.target_key_id.as_str(),
                        &a.updated_ms,
                        &a.region.as_str(),
                    ],
                )
                .map_err(classify)?,
            )?;
            notify(c, &Change::Alias(a.account_id, a.region.clone(), a.name.clone()))
        })
    }

    fn delete_alias(&self, account_id: &AccountId, region: &Region, name: &AliasName) -> Result<(), StoreError> {
        self.write(|c| {
            changed(
                c.execute(
                    "DELETE FROM aliases WHERE account_id = $1 AND name = $2 AND region = $3",
                    &[&account_id.as_str(), &name.as_str(), &region.as_str()],
                )
                .map_err(classify)?,
            )?;
            notify(c, &Change::Alias(*account_id, region.clone(), name.clone()))
        })
    }

    fn create_grant(&self, g: &GrantRecord) -> Result<(), StoreError> {
        self.write(|c| {
            c.execute(
                &format!("INSERT INTO grants ({GRANT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
                &[
                    &g.grant_id,
                    &g.key_id.as_str(),
                    &g.account_id.as_str(),
                    &g.name,
                    &g.grantee_principal,
                    &g.retiring_principal,
                    &operations_text(&g.operations),
                    &g.constraints,
                    &g.created_ms,
                    &g.region.as_str(),
                ],
            )
            .map_err(classify)?;
            notify(c, &Change::Key(g.key_id))
        })
    }

    fn delete_grant(&self, grant_id: &str) -> Result<(), StoreError> {
        self.write(|c| {
            let row = c
                .query_opt("DELETE FROM grants WHERE grant_id = $1 RETURNING key_id", &[&grant_id])
                .map_err(classify)?
                .ok_or(StoreError::NotFound)?;
            let key = crate::parsed(&row, 0, KeyId::parse)?;
            notify(c, &Change::Key(key))
        })
    }

    fn append_audit_batches(&self, chain: &str, batches: &[AuditBatchRecord]) -> Result<(), StoreError> {
        self.write(|c| crate::audit::append(c, chain, batches))
    }

    fn prune_audit(&self, chain: &str, before_ms: i64, max_events: usize) -> Result<usize, StoreError> {
        self.write(|c| crate::audit::prune(c, chain, before_ms, max_events))
    }

    fn set_audit_anchor(&self, chain: &str, seq: i64, hash: &[u8]) -> Result<(), StoreError> {
        self.write(|c| crate::audit::import_anchor(c, chain, seq, hash))
    }

    fn put_tags(&self, region: &Region, key_id: &KeyId, tags: &[TagRecord]) -> Result<(), StoreError> {
        self.write(|c| {
            for t in tags {
                c.execute(
                    "INSERT INTO tags (key_id, region, tag_key, tag_value) VALUES ($1, $4, $2, $3) \
                     ON CONFLICT (key_id, region, tag_key) DO UPDATE SET tag_value = excluded.tag_value",
                    &[&key_id.as_str(), &t.key, &t.value, &region.as_str()],
                )
                .map_err(classify)?;
            }
            notify(c, &Change::Key(*key_id))
        })
    }

    fn delete_tags(&self, region: &Region, key_id: &KeyId, tag_keys: &[String]) -> Result<(), StoreError> {
        self.write(|c| {
            for k in tag_keys {
                c.execute(
                    "DELETE FROM tags WHERE key_id = $1 AND region = $3 AND tag_key = $2",
                    &[&key_id.as_str(), k, &region.as_str()],
                )
                .map_err(classify)?;
            }
            notify(c, &Change::Key(*key_id))
        })
    }

    fn atomically(&self, f: &mut dyn FnMut(&dyn Store) -> Result<(), StoreError>) -> Result<(), StoreError> {
        self.in_transaction(f)
    }
}

//! [`StoreRead`] for PostgreSQL: one query per call, rows decoded into the typed records (an
//! unknown enum value is a `Corrupt` row, never a default).

use postgres::Row;
use trent_store::{
    AccessKeyRecord, AccountRecord, AliasRecord, AuditBatchRecord, AuditHead, EntityKind, EntityRecord, GrantRecord,
    KeyRecord, MaterialRecord, StoreError, StoreRead, TagRecord, UsageRecord,
};
use trent_types::{
    AccessKeyStatus, AccountId, AliasName, ExpirationModel, GrantOperation, ImportState, KeyId, KeyManager, KeySpec,
    KeyState, KeyUsage, Origin, Region, RotationType,
};

use crate::{classify, col, parsed, parsed_opt, PgStore};

pub(crate) const KEY_COLUMNS: &str = "key_id, account_id, region, description, key_spec, key_usage, origin, key_manager, key_state, created_ms, deletion_ms, pending_window_days, policy, current_material_id, multi_region, rotation_enabled, rotation_period_days, next_rotation_ms, version, primary_region, material_region, custom_key_store_id, xks_key_id";
pub(crate) const ACCESS_KEY_COLUMNS: &str = "access_key_id, account_id, principal_arn, sealed_secret, status, created_ms, user_name, session_token_hash, expires_ms, session, owner_id";
pub(crate) const GRANT_COLUMNS: &str =
    "grant_id, key_id, account_id, name, grantee_principal, retiring_principal, operations, constraints, created_ms, region";
pub(crate) const MATERIAL_COLUMNS: &str = "key_id, material_id, sealed, created_ms, rotation_type, rotation_ms, pending_rotation, import_state, expiration_model, valid_to_ms, description";
pub(crate) const ALIAS_COLUMNS: &str = "account_id, name, target_key_id, created_ms, updated_ms, region";

fn key_row(r: &Row) -> Result<KeyRecord, StoreError> {
    Ok(KeyRecord {
        key_id: parsed(r, 0, KeyId::parse)?,
        account_id: parsed(r, 1, AccountId::parse)?,
        region: parsed(r, 2, Region::parse)?,
        description: col(r, 3)?,
        key_spec: parsed(r, 4, KeySpec::parse)?,
        key_usage: parsed(r, 5, KeyUsage::parse)?,
        origin: parsed(r, 6, Origin::parse)?,
        key_manager: parsed(r, 7, KeyManager::parse)?,
        key_state: parsed(r, 8, KeyState::parse)?,
        created_ms: col(r, 9)?,
        deletion_ms: col(r, 10)?,
        pending_window_days: col(r, 11)?,
        policy: col(r, 12)?,
        current_material_id: col(r, 13)?,
        multi_region: col(r, 14)?,
        rotation_enabled: col(r, 15)?,
        rotation_period_days: col(r, 16)?,
        next_rotation_ms: col(r, 17)?,
        version: col(r, 18)?,
        primary_region: parsed_opt(r, 19, Region::parse)?,
        material_region: parsed(r, 20, Region::parse)?,
        custom_key_store_id: col(r, 21)?,
        xks_key_id: col(r, 22)?,
    })
}

fn access_key_row(r: &Row) -> Result<AccessKeyRecord, StoreError> {
    Ok(AccessKeyRecord {
        access_key_id: col(r, 0)?,
        account_id: parsed(r, 1, AccountId::parse)?,
        principal_arn: col(r, 2)?,
        sealed_secret: col(r, 3)?,
        status: parsed(r, 4, AccessKeyStatus::parse)?,
        created_ms: col(r, 5)?,
        user_name: col(r, 6)?,
        session_token_hash: col(r, 7)?,
        expires_ms: col(r, 8)?,
        session: col(r, 9)?,
        owner_id: col(r, 10)?,
    })
}

fn entity_row(r: &Row) -> Result<EntityRecord, StoreError> {
    Ok(EntityRecord {
        account_id: parsed(r, 0, AccountId::parse)?,
        kind: parsed(r, 1, EntityKind::parse)?,
        name: col(r, 2)?,
        body: col(r, 3)?,
    })
}

/// Grant operations as the column keeps them: a JSON array of names (`["Encrypt","Decrypt"]`),
/// the same text as the SQLite backend's.
pub(crate) fn operations_text(ops: &[GrantOperation]) -> String {
    let names: Vec<String> = ops.iter().map(|o| format!("\"{}\"", o.as_str())).collect();
    format!("[{}]", names.join(","))
}

fn parse_operations(s: &str) -> Option<Vec<GrantOperation>> {
    let names: Vec<String> = serde_json::from_str(s).ok()?;
    names.iter().map(|n| GrantOperation::parse(n)).collect()
}

fn grant_row(r: &Row) -> Result<GrantRecord, StoreError> {
    Ok(GrantRecord {
        grant_id: col(r, 0)?,
        key_id: parsed(r, 1, KeyId::parse)?,
        account_id: parsed(r, 2, AccountId::parse)?,
        name: col(r, 3)?,
        grantee_principal: col(r, 4)?,
        retiring_principal: col(r, 5)?,
        operations: parsed(r, 6, parse_operations)?,
        constraints: col(r, 7)?,
        created_ms: col(r, 8)?,
        region: parsed(r, 9, Region::parse)?,
    })
}

fn material_row(r: &Row) -> Result<MaterialRecord, StoreError> {
    Ok(MaterialRecord {
        key_id: parsed(r, 0, KeyId::parse)?,
        material_id: col(r, 1)?,
        sealed: col(r, 2)?,
        created_ms: col(r, 3)?,
        rotation_type: parsed_opt(r, 4, RotationType::parse)?,
        rotation_ms: col(r, 5)?,
        pending_rotation: col(r, 6)?,
        import_state: parsed_opt(r, 7, ImportState::parse)?,
        expiration_model: parsed_opt(r, 8, ExpirationModel::parse)?,
        valid_to_ms: col(r, 9)?,
        description: col(r, 10)?,
    })
}

fn alias_row(r: &Row) -> Result<AliasRecord, StoreError> {
    Ok(AliasRecord {
        account_id: parsed(r, 0, AccountId::parse)?,
        name: parsed(r, 1, AliasName::parse)?,
        target_key_id: parsed(r, 2, KeyId::parse)?,
        created_ms: col(r, 3)?,
        updated_ms: col(r, 4)?,
        region: parsed(r, 5, Region::parse)?,
    })
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl PgStore {
    fn rows<T>(
        &self,
        sql: &str,
        args: &[&(dyn postgres::types::ToSql + Sync)],
        decode: impl Fn(&Row) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let rows = self.client()?.query(sql, args).map_err(classify)?;
        rows.iter().map(decode).collect()
    }

    fn row<T>(
        &self,
        sql: &str,
        args: &[&(dyn postgres::types::ToSql + Sync)],
        decode: impl Fn(&Row) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let row = self.client()?.query_opt(sql, args).map_err(classify)?;
        row.as_ref().map(decode).transpose()
    }
}

impl StoreRead for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn accounts(&self) -> Result<Vec<AccountRecord>, StoreError> {
        self.rows(
            "SELECT account_id, created_ms FROM accounts ORDER BY created_ms, account_id",
            &[],
            |r| {
                Ok(AccountRecord {
                    account_id: parsed(r, 0, AccountId::parse)?,
                    created_ms: col(r, 1)?,
                })
            },
        )
    }

    fn access_keys(&self) -> Result<Vec<AccessKeyRecord>, StoreError> {
        self.rows(
            &format!("SELECT {ACCESS_KEY_COLUMNS} FROM access_keys"),
            &[],
            access_key_row,
        )
    }

    fn access_key(&self, id: &str) -> Result<Option<AccessKeyRecord>, StoreError> {
        self.row(
            &format!("SELECT {ACCESS_KEY_COLUMNS} FROM access_keys WHERE access_key_id = $1"),
            &[&id],
            access_key_row,
        )
    }

    fn entity(&self, account_id: &AccountId, kind: EntityKind, name: &str) -> Result<Option<EntityRecord>, StoreError> {
        self.row(
            "SELECT account_id, kind, name, body FROM iam_entities WHERE account_id = $1 AND kind = $2 AND name = $3",
            &[&account_id.as_str(), &kind.as_str(), &name],
            entity_row,
        )
    }

    fn entities(&self, account_id: &AccountId, kind: EntityKind) -> Result<Vec<EntityRecord>, StoreError> {
        self.rows(
            "SELECT account_id, kind, name, body FROM iam_entities WHERE account_id = $1 AND kind = $2 ORDER BY name",
            &[&account_id.as_str(), &kind.as_str()],
            entity_row,
        )
    }

    fn key(&self, region: &Region, key_id: &KeyId) -> Result<Option<KeyRecord>, StoreError> {
        self.row(
            &format!("SELECT {KEY_COLUMNS} FROM keys WHERE key_id = $1 AND region = $2"),
            &[&key_id.as_str(), &region.as_str()],
            key_row,
        )
    }

    fn keys_settling(&self) -> Result<Vec<KeyRecord>, StoreError> {
        self.rows(
            &format!(
                "SELECT {KEY_COLUMNS} FROM keys WHERE key_state IN ('Creating', 'Updating') ORDER BY key_id, region"
            ),
            &[],
            key_row,
        )
    }

    fn key_regions(&self) -> Result<Vec<Region>, StoreError> {
        self.rows("SELECT DISTINCT region FROM keys ORDER BY region", &[], |r| {
            parsed(r, 0, Region::parse)
        })
    }

    fn related_keys(&self, key_id: &KeyId) -> Result<Vec<KeyRecord>, StoreError> {
        self.rows(
            &format!("SELECT {KEY_COLUMNS} FROM keys WHERE key_id = $1 ORDER BY region"),
            &[&key_id.as_str()],
            key_row,
        )
    }

    fn keys_in_custom_key_store(&self, custom_key_store_id: &str) -> Result<Vec<KeyRecord>, StoreError> {
        self.rows(
            &format!("SELECT {KEY_COLUMNS} FROM keys WHERE custom_key_store_id = $1 ORDER BY key_id"),
            &[&custom_key_store_id],
            key_row,
        )
    }

    fn materials(&self, key_id: &KeyId) -> Result<Vec<MaterialRecord>, StoreError> {
        self.rows(
            &format!("SELECT {MATERIAL_COLUMNS} FROM key_materials WHERE key_id = $1 ORDER BY created_ms, material_id"),
            &[&key_id.as_str()],
            material_row,
        )
    }

    fn keys_due_for_rotation(&self, now_ms: i64) -> Result<Vec<KeyRecord>, StoreError> {
        self.rows(
            &format!(
                "SELECT {KEY_COLUMNS} FROM keys WHERE rotation_enabled AND key_state = 'Enabled' \
                 AND next_rotation_ms IS NOT NULL AND next_rotation_ms <= $1"
            ),
            &[&now_ms],
            key_row,
        )
    }

    fn expired_materials(&self, now_ms: i64) -> Result<Vec<MaterialRecord>, StoreError> {
        self.rows(
            &format!(
                "SELECT {MATERIAL_COLUMNS} FROM key_materials WHERE valid_to_ms IS NOT NULL AND valid_to_ms <= $1 \
                 AND length(sealed) > 0"
            ),
            &[&now_ms],
            material_row,
        )
    }

    fn usage(&self, region: &Region, key_id: &KeyId) -> Result<Option<UsageRecord>, StoreError> {
        self.row(
            "SELECT key_id, operation, at_ms, request_id, region FROM key_usage WHERE key_id = $1 AND region = $2",
            &[&key_id.as_str(), &region.as_str()],
            |r| {
                Ok(UsageRecord {
                    key_id: parsed(r, 0, KeyId::parse)?,
                    operation: col(r, 1)?,
                    at_ms: col(r, 2)?,
                    request_id: col(r, 3)?,
                    region: parsed(r, 4, Region::parse)?,
                })
            },
        )
    }

    fn list_keys(
        &self,
        account_id: &AccountId,
        region: &Region,
        after: Option<&str>,
        n: usize,
    ) -> Result<Vec<KeyRecord>, StoreError> {
        self.rows(
            &format!(
                "SELECT {KEY_COLUMNS} FROM keys WHERE account_id = $1 AND region = $4 AND key_id > $2 \
                 ORDER BY key_id LIMIT $3"
            ),
            &[&account_id.as_str(), &after.unwrap_or(""), &limit(n), &region.as_str()],
            key_row,
        )
    }

    fn keys_due_for_deletion(&self, now_ms: i64) -> Result<Vec<KeyRecord>, StoreError> {
        self.rows(
            &format!(
                "SELECT {KEY_COLUMNS} FROM keys WHERE key_state = 'PendingDeletion' AND deletion_ms IS NOT NULL \
                 AND deletion_ms <= $1"
            ),
            &[&now_ms],
            key_row,
        )
    }

    fn alias(
        &self,
        account_id: &AccountId,
        region: &Region,
        name: &AliasName,
    ) -> Result<Option<AliasRecord>, StoreError> {
        self.row(
            &format!("SELECT {ALIAS_COLUMNS} FROM aliases WHERE account_id = $1 AND name = $2 AND region = $3"),
            &[&account_id.as_str(), &name.as_str(), &region.as_str()],
            alias_row,
        )
    }

    fn list_aliases(
        &self,
        account_id: &AccountId,
        region: &Region,
        key_id: Option<&KeyId>,
        after: Option<&str>,
        n: usize,
    ) -> Result<Vec<AliasRecord>, StoreError> {
        self.rows(
            &format!(
                "SELECT {ALIAS_COLUMNS} FROM aliases WHERE account_id = $1 AND region = $5 \
                 AND ($2::text IS NULL OR target_key_id = $2) AND name > $3 ORDER BY name LIMIT $4"
            ),
            &[
                &account_id.as_str(),
                &key_id.map(KeyId::as_str),
                &after.unwrap_or(""),
                &limit(n),
                &region.as_str(),
            ],
            alias_row,
        )
    }

    fn all_aliases(&self) -> Result<Vec<AliasRecord>, StoreError> {
        self.rows(&format!("SELECT {ALIAS_COLUMNS} FROM aliases"), &[], alias_row)
    }

    fn grant(&self, grant_id: &str) -> Result<Option<GrantRecord>, StoreError> {
        self.row(
            &format!("SELECT {GRANT_COLUMNS} FROM grants WHERE grant_id = $1"),
            &[&grant_id],
            grant_row,
        )
    }

    fn grants(&self, region: &Region, key_id: &KeyId) -> Result<Vec<GrantRecord>, StoreError> {
        self.rows(
            &format!("SELECT {GRANT_COLUMNS} FROM grants WHERE key_id = $1 AND region = $2 ORDER BY grant_id"),
            &[&key_id.as_str(), &region.as_str()],
            grant_row,
        )
    }

    fn grants_retirable_by(&self, principal: &str) -> Result<Vec<GrantRecord>, StoreError> {
        self.rows(
            &format!("SELECT {GRANT_COLUMNS} FROM grants WHERE retiring_principal = $1 ORDER BY grant_id"),
            &[&principal],
            grant_row,
        )
    }

    fn audit_chains(&self) -> Result<Vec<String>, StoreError> {
        crate::audit::chains(&mut *self.client()?)
    }

    fn audit_batches_after(&self, chain: &str, after_seq: i64, n: usize) -> Result<Vec<AuditBatchRecord>, StoreError> {
        crate::audit::after(&mut *self.client()?, chain, after_seq, n)
    }

    fn audit_batches_before(
        &self,
        chain: &str,
        before_seq: i64,
        n: usize,
    ) -> Result<Vec<AuditBatchRecord>, StoreError> {
        crate::audit::before(&mut *self.client()?, chain, before_seq, n)
    }

    /// Inside a transaction (`atomically`) this also takes the chain's lock, so that the head
    /// read is still the head when the transaction appends after it.
    fn last_audit(&self, chain: &str) -> Result<Option<AuditHead>, StoreError> {
        let mut c = self.client()?;
        if self.in_transaction_view() {
            crate::audit::lock(&mut c, chain)?;
        }
        crate::audit::head(&mut c, chain)
    }

    fn audit_anchor(&self, chain: &str) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
        crate::audit::anchor(&mut *self.client()?, chain)
    }

    fn watch(&self, sink: trent_store::ChangeSink) -> Result<bool, StoreError> {
        self.start_watching(sink)
    }

    fn try_lead(&self) -> Result<bool, StoreError> {
        self.lead()
    }

    fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.row("SELECT value FROM meta WHERE name = $1", &[&name], |r| col(r, 0))
    }

    fn tags(&self, region: &Region, key_id: &KeyId) -> Result<Vec<TagRecord>, StoreError> {
        self.rows(
            "SELECT tag_key, tag_value FROM tags WHERE key_id = $1 AND region = $2 ORDER BY tag_key",
            &[&key_id.as_str(), &region.as_str()],
            |r| {
                Ok(TagRecord {
                    key: col(r, 0)?,
                    value: col(r, 1)?,
                })
            },
        )
    }
}

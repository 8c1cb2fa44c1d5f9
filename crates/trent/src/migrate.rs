//! `trent migrate --from <data dir> --to <postgres URL>`: copies an embedded (SQLite) deployment
//! into PostgreSQL — accounts, IAM identities, access keys, keys with every material version
//! (still sealed: the root key does not change), aliases, grants, tags, last usage and the audit
//! trail — printing progress, then checks the copy: counts per table, the audit chain, and a
//! sample of keys whose material must unseal on the new store and decrypt a ciphertext made
//! with the old one. Re-running is safe: what is already there is updated in place (keys, aliases,
//! identities, access key status) or skipped (grants, audit events already copied). Stop the
//! server first; rows deleted from the source after a first run are not deleted from the copy.

use std::path::Path;
use std::sync::Arc;

use trent_crypto::envelope::{self, KeyIdBytes};
use trent_store::{EntityKind, Store, StoreError};
use trent_store_postgres::{PgOptions, PgStore};
use trent_types::{Arn, KeySpec};

use crate::datadir::{self, Location};

/// Keys whose material is checked end to end after the copy.
const SAMPLE: usize = 25;

fn step(what: &str, done: usize, total: usize) {
    if done == total || done.is_multiple_of(100) {
        eprint!("\rtrent migrate: {what} {done}/{total}");
        if done == total {
            eprintln!();
        }
    }
}

/// Inserts, or on a unique violation runs `update` (already copied by an earlier run).
fn upsert(insert: Result<(), StoreError>, update: impl FnOnce() -> Result<(), StoreError>) -> Result<(), StoreError> {
    match insert {
        Err(StoreError::UniqueViolation) => update(),
        other => other,
    }
}

fn skip_existing(r: Result<(), StoreError>) -> Result<(), StoreError> {
    match r {
        Err(StoreError::UniqueViolation) => Ok(()),
        other => other,
    }
}

pub fn run(from: &Path, to: &str, seals: &crate::seals::SealArgs) -> Result<(), String> {
    let source_at = Location {
        data_dir: from.to_owned(),
        database: None,
        database_pool_size: 1,
        database_timeout_secs: 5,
        seals: seals.clone(),
    };
    let (source, root) = datadir::open_store(&source_at)?;
    if !to.starts_with("postgres://") && !to.starts_with("postgresql://") {
        return Err("--to: expected a postgres:// URL".into());
    }
    let target: Arc<dyn Store> =
        Arc::new(PgStore::connect(to, &PgOptions::default()).map_err(|e| format!("--to: {e}"))?);
    copy(source.as_ref(), target.as_ref()).map_err(|e| format!("copy failed (re-running is safe): {e}"))?;
    check(source.as_ref(), target.as_ref(), &root)?;
    println!(
        "trent migrate: done. Serve it with: trent serve --data-dir {} --database <the URL>",
        from.display()
    );
    Ok(())
}

fn copy(s: &dyn Store, t: &dyn Store) -> Result<(), StoreError> {
    let accounts = s.accounts()?;
    for (i, a) in accounts.iter().enumerate() {
        skip_existing(t.insert_account(a))?;
        step("accounts", i + 1, accounts.len());
    }
    for a in &accounts {
        for kind in [
            EntityKind::Policy,
            EntityKind::User,
            EntityKind::Role,
            EntityKind::Group,
            EntityKind::CustomKeyStore,
        ] {
            for e in s.entities(&a.account_id, kind)? {
                t.put_entity(&e, true)?;
            }
        }
    }
    eprintln!("trent migrate: IAM identities copied");
    let access_keys = s.access_keys()?;
    for (i, k) in access_keys.iter().enumerate() {
        upsert(t.insert_access_key(k), || {
            t.set_access_key_status(&k.access_key_id, k.status)
        })?;
        step("access keys", i + 1, access_keys.len());
    }
    let mut keys = Vec::new();
    let regions = s.key_regions()?;
    for a in &accounts {
        for region in &regions {
            let mut after: Option<String> = None;
            loop {
                let page = s.list_keys(&a.account_id, region, after.as_deref(), 1000)?;
                let Some(last) = page.last() else { break };
                after = Some(last.key_id.as_str().to_owned());
                keys.extend(page);
            }
        }
    }
    for (i, k) in keys.iter().enumerate() {
        let materials = s.materials(&k.key_id)?;
        let tags = s.tags(&k.region, &k.key_id)?;
        let (first, rest) = match materials.split_first() {
            Some((f, r)) => (Some(f), r),
            None => (None, &[][..]),
        };
        upsert(t.create_key(k, first, &tags), || {
            // Copied before: write the source's fields over whatever version the copy is at.
            let mut current = k.clone();
            current.version = t.key(&k.region, &k.key_id)?.map_or(0, |c| c.version);
            t.update_key(&current)?;
            if let Some(f) = first {
                t.put_material(k, f)?;
            }
            t.put_tags(&k.region, &k.key_id, &tags)
        })?;
        for m in rest {
            t.put_material(k, m)?;
        }
        for g in s.grants(&k.region, &k.key_id)? {
            skip_existing(t.create_grant(&g))?;
        }
        if let Some(u) = s.usage(&k.region, &k.key_id)? {
            t.record_usage(&[u])?;
        }
        step("keys", i + 1, keys.len());
    }
    let aliases = s.all_aliases()?;
    for (i, a) in aliases.iter().enumerate() {
        upsert(t.create_alias(a), || t.update_alias(a))?;
        step("aliases", i + 1, aliases.len());
    }
    copy_audit(s, t)
}

/// Appends, chain by chain, the source's batches the target does not have yet, continuing each
/// chain (from the source's anchor when the source was pruned).
fn copy_audit(s: &dyn Store, t: &dyn Store) -> Result<(), StoreError> {
    for chain in s.audit_chains()? {
        copy_chain(s, t, &chain)?;
    }
    Ok(())
}

fn copy_chain(s: &dyn Store, t: &dyn Store, chain: &str) -> Result<(), StoreError> {
    let mut after = match t.last_audit(chain)? {
        Some(h) => h.seq,
        None => match s.audit_anchor(chain)? {
            Some((seq, hash)) if t.audit_anchor(chain)?.is_none() => {
                t.set_audit_anchor(chain, seq, &hash)?;
                seq
            }
            Some((seq, _)) => seq,
            None => 0,
        },
    };
    let total = s.last_audit(chain)?.map_or(0, |h| h.seq);
    let what = format!("audit events of chain {chain}");
    loop {
        let batches: Vec<_> = s
            .audit_batches_after(chain, after, 500)?
            .into_iter()
            .filter(|b| b.first_seq > after)
            .collect();
        let Some(last) = batches.last() else { break };
        let next = last.last_seq;
        t.append_audit_batches(chain, &batches)?;
        after = next;
        step(
            &what,
            usize::try_from(after).unwrap_or(0),
            usize::try_from(total).unwrap_or(0),
        );
    }
    Ok(())
}

fn check(s: &dyn Store, t: &dyn Store, root: &trent_crypto::RootKey) -> Result<(), String> {
    let e = |e: StoreError| e.to_string();
    let mut problems = Vec::new();
    let mut compare = |what: &str, a: usize, b: usize| {
        println!("trent migrate: {what}: {a} in the source, {b} in the copy");
        if b < a {
            problems.push(format!("{what}: {b} copied of {a}"));
        }
    };
    compare(
        "accounts",
        s.accounts().map_err(e)?.len(),
        t.accounts().map_err(e)?.len(),
    );
    compare(
        "access keys",
        s.access_keys().map_err(e)?.len(),
        t.access_keys().map_err(e)?.len(),
    );
    compare(
        "aliases",
        s.all_aliases().map_err(e)?.len(),
        t.all_aliases().map_err(e)?.len(),
    );
    let (mut sk, mut tk, mut sm, mut tm, mut sg, mut tg) = (0, 0, 0, 0, 0, 0);
    let mut sampled = 0usize;
    let regions = s.key_regions().map_err(e)?;
    let pairs: Vec<_> = s
        .accounts()
        .map_err(e)?
        .into_iter()
        .flat_map(|a| regions.iter().map(move |r| (a.account_id, r.clone())))
        .collect();
    for (account, region) in pairs {
        let source_keys = s.list_keys(&account, &region, None, usize::MAX).map_err(e)?;
        sk += source_keys.len();
        tk += t.list_keys(&account, &region, None, usize::MAX).map_err(e)?.len();
        for k in &source_keys {
            let (smat, tmat) = (s.materials(&k.key_id).map_err(e)?, t.materials(&k.key_id).map_err(e)?);
            sm += smat.len();
            tm += tmat.len();
            sg += s.grants(&k.region, &k.key_id).map_err(e)?.len();
            tg += t.grants(&k.region, &k.key_id).map_err(e)?.len();
            if sampled < SAMPLE && k.key_spec == KeySpec::SymmetricDefault {
                let (Some(old), Some(new)) = (
                    smat.iter().find(|m| m.is_present()),
                    tmat.iter().find(|m| m.is_present()),
                ) else {
                    continue;
                };
                decrypts_on_copy(root, k, old, new).map_err(|why| format!("key {}: {why}", k.key_id.as_str()))?;
                sampled += 1;
            }
        }
    }
    compare("keys", sk, tk);
    compare("key material versions", sm, tm);
    compare("grants", sg, tg);
    let chains = s.audit_chains().map_err(e)?;
    for chain in &chains {
        let head = |st: &dyn Store| st.last_audit(chain).map(|h| h.map_or(0, |h| h.seq));
        compare(
            &format!("audit events of chain {chain} (newest sequence number)"),
            usize::try_from(head(s).map_err(e)?).unwrap_or(0),
            usize::try_from(head(t).map_err(e)?).unwrap_or(0),
        );
    }
    match trent_core::verify_trail(t, root, &[]).map_err(|e| e.to_string())? {
        trent_core::trail::Verification::Intact { events, chains, .. } => {
            println!(
                "trent migrate: the copied audit trail verifies ({events} events in {} chains)",
                chains.len()
            );
        }
        trent_core::trail::Verification::Broken { chain, seq, reason } => {
            problems.push(format!(
                "the copied audit trail is broken in chain {chain} at {seq}: {reason}"
            ));
        }
    }
    println!(
        "trent migrate: {sampled} keys' material unsealed on the copy and decrypted a ciphertext made with the source"
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// A ciphertext made with the source's sealed material decrypts with the copy's.
fn decrypts_on_copy(
    root: &trent_crypto::RootKey,
    k: &trent_store::KeyRecord,
    old: &trent_store::MaterialRecord,
    new: &trent_store::MaterialRecord,
) -> Result<(), String> {
    let arn = Arn::key(&k.material_region, k.account_id, k.key_id);
    let ring = trent_crypto::seal::Keyring::new(trent_crypto::RootKey::from_bytes(*root.expose()));
    let old_material = trent_core::open_material(&ring, &arn, old).map_err(|e| e.to_string())?;
    let new_material = trent_core::open_material(&ring, &arn, new).map_err(|e| e.to_string())?;
    let material_id: [u8; 32] = hex::decode(&old.material_id)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or("bad material id")?;
    let key = KeyIdBytes {
        multi_region: false,
        id: [0; 16],
    };
    let probe = b"trent migrate check";
    let blob =
        envelope::encrypt(key, material_id, &old_material, b"", probe).map_err(|_| "cannot encrypt the probe")?;
    let opened = envelope::decrypt(&blob, &new_material, b"").map_err(|_| "the copy does not decrypt it")?;
    if opened.expose() != probe {
        return Err("the copy decrypts it to something else".into());
    }
    Ok(())
}

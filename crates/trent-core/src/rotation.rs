//! Root-key rotation (`trent operator rotate-root-key`): every record sealed under the root key
//! — key material versions and access-key secrets — is opened with the old key and sealed again
//! under the new one, in batches, each batch one transaction of compare-and-swap writes.
//!
//! **Resumable.** A record that already opens under the new key is skipped, so a rotation
//! killed at any point is finished by running it again with the same two keys (the binary keeps
//! the new key staged in a seal file beside the old one until the end).
//!
//! **Derived keys survive.** The audit chain key, the grant-token key and the material-id key
//! are derived (HKDF) from a *derivation secret*. Until the first rotation that secret is the
//! root key itself; the first rotation stores it, sealed under the new root key, as the store's
//! `derivation-key` value. So an audit trail written before a rotation still verifies, grant
//! tokens issued before it still work, and material imported again gets the same id. The cost:
//! the derivation secret is not rotated — whoever held the old root key can still compute those
//! MACs (not open any sealed record). See ARCHITECTURE.md, "Key hierarchy".
//!
//! Import tokens are sealed under the root key and held by clients, not stored: those issued
//! before a rotation no longer open (`InvalidImportTokenException`; GetParametersForImport
//! again). Ciphertexts held by clients are untouched: they are encrypted under key material,
//! not the root key.

use trent_api::KmsError;
use trent_crypto::seal::{self, Keyring, Purpose};
use trent_crypto::{RootKey, SecretBytes};
use trent_store::{Store, StoreError, StoreRead};
use trent_types::{Arn, KeyId};

/// The store's name for the sealed derivation secret.
pub const DERIVATION_META: &str = "derivation-key";

/// The secret derived keys come from: the stored `derivation-key` opened with `root`, else (a
/// store whose root key was never rotated) the root key itself.
pub fn derivation_base(store: &dyn StoreRead, root: &Keyring) -> Result<RootKey, KmsError> {
    match store.meta(DERIVATION_META).map_err(KmsError::internal)? {
        // Never rotated: the first root key, which is the previous one while the first rotation runs.
        None => Ok(RootKey::from_bytes(*root.previous().unwrap_or(root.current()).expose())),
        Some(sealed) => {
            let s = root
                .unseal(Purpose::Derivation, DERIVATION_META, &sealed)
                .map_err(|_| KmsError::internal("the derivation secret does not unseal under this root key"))?;
            RootKey::from_slice(s.expose()).ok_or_else(|| KmsError::internal("the derivation secret is not 32 bytes"))
        }
    }
}

impl crate::Kms {
    /// Starts an online root-key rotation to `new`: from now on new records are sealed under it,
    /// and the current key only opens what is not re-sealed yet. `Err` while one runs.
    pub fn begin_root_rotation(&self, new: RootKey) -> Result<(), KmsError> {
        let ring = self.root();
        if ring.previous().is_some() {
            return Err(KmsError::internal("a root-key rotation is already running"));
        }
        if &new == ring.current() {
            return Err(KmsError::internal("the new root key is the current one"));
        }
        let old = RootKey::from_bytes(*ring.current().expose());
        self.set_root(Keyring::rotating(new, old));
        Ok(())
    }

    /// Whether a root-key rotation is under way (begun, or resumed at start).
    pub fn root_rotating(&self) -> bool {
        self.root().previous().is_some()
    }

    /// The running rotation's (records done, records in all), once it has counted them.
    pub fn root_rotation_progress(&self) -> Option<(usize, usize)> {
        self.root_rotation.lock().ok().and_then(|g| *g)
    }

    /// Re-seals every record under the new key on the blocking pool, `batch` records per
    /// transaction (pausing `pause_ms` after each: tests), then forgets the old key.
    pub async fn run_root_rotation(&self, batch: usize, pause_ms: u64) -> Result<Report, KmsError> {
        let ring = self.root();
        if ring.previous().is_none() {
            return Err(KmsError::internal("no root-key rotation was begun"));
        }
        let store = std::sync::Arc::clone(&self.store);
        let progress = std::sync::Arc::clone(&self.root_rotation);
        let job = std::sync::Arc::clone(&ring);
        let report = tokio::task::spawn_blocking(move || {
            let old = job
                .previous()
                .ok_or_else(|| KmsError::internal("no previous root key"))?;
            rotate(store.as_ref(), old, job.current(), batch, &mut |done, total| {
                if let Ok(mut g) = progress.lock() {
                    *g = Some((done, total));
                }
                if pause_ms > 0 && done < total {
                    std::thread::sleep(std::time::Duration::from_millis(pause_ms));
                }
            })
        })
        .await
        .map_err(KmsError::internal)??;
        self.set_root(Keyring::new(RootKey::from_bytes(*ring.current().expose())));
        if let Ok(mut g) = self.root_rotation.lock() {
            *g = None;
        }
        Ok(report)
    }
}

/// One record to re-seal.
enum Item {
    AccessKey {
        id: String,
    },
    Material {
        key_id: KeyId,
        arn: String,
        material_id: String,
    },
    /// An external key store's proxy secret, inside its document.
    CustomKeyStore {
        account: trent_types::AccountId,
        id: String,
    },
}

/// What a rotation did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Records sealed again under the new key by this run.
    pub resealed: usize,
    /// Records that already opened under the new key (a resumed run).
    pub already: usize,
    /// Records in all.
    pub total: usize,
}

/// Re-seals everything `old` sealed under `new`, `batch` records per transaction, calling
/// `progress(done, total)` after each batch.
pub fn rotate(
    store: &dyn Store,
    old: &RootKey,
    new: &RootKey,
    batch: usize,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Report, KmsError> {
    let internal = |e: StoreError| KmsError::internal(e);
    // 1. The derivation secret first: from now on it no longer depends on which root key opens.
    let current = store.meta(DERIVATION_META).map_err(internal)?;
    let base = match &current {
        None => SecretBytes::new(old.expose().to_vec()),
        Some(sealed) => match seal::unseal(new, Purpose::Derivation, DERIVATION_META, sealed) {
            Ok(s) => s,
            Err(_) => seal::unseal(old, Purpose::Derivation, DERIVATION_META, sealed)
                .map_err(|_| KmsError::internal("the derivation secret opens under neither root key"))?,
        },
    };
    let opens_new = current
        .as_deref()
        .is_some_and(|s| seal::unseal(new, Purpose::Derivation, DERIVATION_META, s).is_ok());
    if !opens_new {
        let sealed = seal::seal(new, Purpose::Derivation, DERIVATION_META, &base).map_err(KmsError::internal)?;
        store
            .put_meta(DERIVATION_META, current.as_deref(), &sealed)
            .map_err(internal)?;
    }

    // 2. Everything else, listed first so progress has a total.
    let mut items = Vec::new();
    for ak in store.access_keys().map_err(internal)? {
        items.push(Item::AccessKey { id: ak.access_key_id });
    }
    let regions = store.key_regions().map_err(internal)?;
    let accounts = store.accounts().map_err(internal)?;
    for a in &accounts {
        for e in store
            .entities(&a.account_id, trent_store::EntityKind::CustomKeyStore)
            .map_err(internal)?
        {
            items.push(Item::CustomKeyStore {
                account: a.account_id,
                id: e.name,
            });
        }
    }
    let pairs = accounts
        .iter()
        .flat_map(|a| regions.iter().map(move |r| (a.account_id, r.clone())));
    for (account, region) in pairs {
        let mut after: Option<String> = None;
        loop {
            let page = store
                .list_keys(&account, &region, after.as_deref(), 1000)
                .map_err(internal)?;
            let Some(last) = page.last() else { break };
            after = Some(last.key_id.as_str().to_owned());
            // Related multi-Region keys share their materials: each is resealed once, with
            // the record that made it.
            for k in page.iter().filter(|k| k.material_region == k.region) {
                let arn = Arn::key(&k.material_region, k.account_id, k.key_id);
                for m in store.materials(&k.key_id).map_err(internal)? {
                    if m.is_present() {
                        items.push(Item::Material {
                            key_id: k.key_id,
                            arn: arn.clone(),
                            material_id: m.material_id,
                        });
                    }
                }
            }
        }
    }
    let mut report = Report {
        total: items.len(),
        ..Report::default()
    };
    progress(0, report.total);
    let mut done = 0;
    for chunk in items.chunks(batch.max(1)) {
        let mut counts = (0usize, 0usize);
        store
            .atomically(&mut |tx| {
                counts = (0, 0);
                for item in chunk {
                    if reseal(tx, item, old, new)? {
                        counts.0 += 1;
                    } else {
                        counts.1 += 1;
                    }
                }
                Ok(())
            })
            .map_err(internal)?;
        report.resealed += counts.0;
        report.already += counts.1;
        done += chunk.len();
        progress(done, report.total);
    }
    Ok(report)
}

/// Re-seals one record; `false` when it already opened under `new`.
fn reseal(tx: &dyn Store, item: &Item, old: &RootKey, new: &RootKey) -> Result<bool, StoreError> {
    let fail = |what: &str| StoreError::Backend(format!("{what} opens under neither root key"));
    match item {
        Item::AccessKey { id } => {
            let Some(r) = tx.access_key(id)? else { return Ok(false) };
            if seal::unseal(new, Purpose::AccessKeySecret, id, &r.sealed_secret).is_ok() {
                return Ok(false);
            }
            let secret = seal::unseal(old, Purpose::AccessKeySecret, id, &r.sealed_secret)
                .map_err(|_| fail(&format!("access key {id}")))?;
            let sealed = seal::seal(new, Purpose::AccessKeySecret, id, &secret)
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            tx.reseal_access_key(id, &r.sealed_secret, &sealed)?;
            Ok(true)
        }
        Item::Material {
            key_id,
            arn,
            material_id,
        } => {
            let Some(m) = tx
                .materials(key_id)?
                .into_iter()
                .find(|m| &m.material_id == material_id)
            else {
                return Ok(false);
            };
            let record = crate::keys::material_record_id(arn, material_id);
            if seal::unseal(new, Purpose::KeyMaterial, &record, &m.sealed).is_ok() {
                return Ok(false);
            }
            let secret = seal::unseal(old, Purpose::KeyMaterial, &record, &m.sealed)
                .map_err(|_| fail(&format!("material {material_id} of {arn}")))?;
            let sealed = seal::seal(new, Purpose::KeyMaterial, &record, &secret)
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            tx.reseal_material(key_id, material_id, &m.sealed, &sealed)?;
            Ok(true)
        }
        Item::CustomKeyStore { account, id } => {
            let Some(e) = tx.entity(account, trent_store::EntityKind::CustomKeyStore, id)? else {
                return Ok(false);
            };
            let mut doc =
                crate::xks::stores::StoreDoc::parse(&e.body).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let sealed = doc.sealed_secret().map_err(|e| StoreError::Corrupt(e.to_string()))?;
            if seal::unseal(new, Purpose::XksProxySecret, id, &sealed).is_ok() {
                return Ok(false);
            }
            let secret = seal::unseal(old, Purpose::XksProxySecret, id, &sealed)
                .map_err(|_| fail(&format!("the proxy secret of custom key store {id}")))?;
            let resealed = seal::seal(new, Purpose::XksProxySecret, id, &secret)
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            doc.sealed_secret = crate::xks::stores::encode_sealed(&resealed);
            let body = doc.to_body().map_err(|e| StoreError::Backend(e.to_string()))?;
            let record = trent_store::EntityRecord { body, ..e.clone() };
            tx.replace_entity(&record, &e.body)?;
            Ok(true)
        }
    }
}

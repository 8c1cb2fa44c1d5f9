//! Callers and their credentials. Access-key secrets are stored sealed under the root key; the
//! cache holds them unsealed in zeroizing memory so SigV4 verification never reads the database.

use std::collections::HashMap;
use std::sync::RwLock;

use trent_api::KmsError;
use trent_crypto::seal::{self, Purpose};
use trent_crypto::{RootKey, SecretBytes};
use trent_store::{AccessKeyRecord, Store};
use zeroize::Zeroizing;

/// The authenticated principal of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account_id: String,
    /// `arn:aws:iam::<account>:root`, a user, role or assumed-role ARN.
    pub principal_arn: String,
    pub access_key_id: String,
}

struct Entry {
    secret: SecretBytes,
    caller: Caller,
}

/// Access key id → (secret, caller), for active keys.
#[derive(Default)]
pub struct CredentialCache {
    map: RwLock<HashMap<String, Entry>>,
}

impl CredentialCache {
    /// Loads and unseals every active access key.
    pub fn load(&self, store: &dyn Store, root: &RootKey) -> Result<(), KmsError> {
        let records = store.access_keys().map_err(KmsError::internal)?;
        let mut map = self
            .map
            .write()
            .map_err(|_| KmsError::internal("credential cache poisoned"))?;
        for r in records {
            if r.status != "Active" {
                continue;
            }
            let secret = seal::unseal(root, Purpose::AccessKeySecret, &r.access_key_id, &r.sealed_secret)
                .map_err(|_| KmsError::internal(format!("access key {} does not unseal", r.access_key_id)))?;
            map.insert(
                r.access_key_id.clone(),
                Entry {
                    secret,
                    caller: caller_of(&r),
                },
            );
        }
        Ok(())
    }

    /// The secret (as the UTF-8 string SigV4 needs) and the caller for an access key id.
    pub fn lookup(&self, access_key_id: &str) -> Option<(Zeroizing<String>, Caller)> {
        let map = self.map.read().ok()?;
        let e = map.get(access_key_id)?;
        let secret = Zeroizing::new(String::from_utf8(e.secret.expose().to_vec()).ok()?);
        Some((secret, e.caller.clone()))
    }

    fn insert(&self, r: &AccessKeyRecord, secret: SecretBytes) -> Result<(), KmsError> {
        let mut map = self
            .map
            .write()
            .map_err(|_| KmsError::internal("credential cache poisoned"))?;
        map.insert(
            r.access_key_id.clone(),
            Entry {
                secret,
                caller: caller_of(r),
            },
        );
        Ok(())
    }
}

fn caller_of(r: &AccessKeyRecord) -> Caller {
    Caller {
        account_id: r.account_id.clone(),
        principal_arn: r.principal_arn.clone(),
        access_key_id: r.access_key_id.clone(),
    }
}

/// A newly issued access key. The secret is shown once, to whoever asked for it.
pub struct IssuedAccessKey {
    pub access_key_id: String,
    pub secret_access_key: SecretBytes,
}

impl std::fmt::Debug for IssuedAccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedAccessKey")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Issues an access key for `principal_arn`: `AKIA` + 16 base32 characters, a 40-character
/// secret (AWS's shapes), sealed under the root key before it is stored.
pub fn issue_access_key(
    store: &dyn Store,
    root: &RootKey,
    cache: Option<&CredentialCache>,
    account_id: &str,
    principal_arn: &str,
    now_ms: i64,
) -> Result<IssuedAccessKey, KmsError> {
    let rnd = trent_crypto::random::secret(16 + 40).map_err(KmsError::internal)?;
    let r = rnd.expose();
    let mut id = String::from("AKIA");
    id.extend(r[..16].iter().map(|b| BASE32[(*b as usize) % 32] as char));
    let secret = SecretBytes::new(r[16..].iter().map(|b| SECRET_ALPHABET[(*b as usize) % 64]).collect());
    let sealed = seal::seal(root, Purpose::AccessKeySecret, &id, &secret).map_err(KmsError::internal)?;
    let record = AccessKeyRecord {
        access_key_id: id.clone(),
        account_id: account_id.to_owned(),
        principal_arn: principal_arn.to_owned(),
        sealed_secret: sealed,
        status: "Active".to_owned(),
        created_ms: now_ms,
    };
    store.insert_access_key(&record).map_err(KmsError::internal)?;
    if let Some(c) = cache {
        c.insert(&record, secret.clone())?;
    }
    Ok(IssuedAccessKey {
        access_key_id: id,
        secret_access_key: secret,
    })
}

/// Unseals the stored secret of an access key (used to re-write a lost `admin.env`).
pub fn unseal_access_key(root: &RootKey, r: &AccessKeyRecord) -> Result<SecretBytes, KmsError> {
    seal::unseal(root, Purpose::AccessKeySecret, &r.access_key_id, &r.sealed_secret)
        .map_err(|_| KmsError::internal("access key does not unseal"))
}

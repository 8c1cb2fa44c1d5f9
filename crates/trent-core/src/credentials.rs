//! Callers and their credentials. Access-key secrets are stored sealed under the root key; the
//! cache holds them unsealed in zeroizing memory so SigV4 verification never reads the database
//! for a known key. Keys created elsewhere (another server, `trent admin create-account`) are
//! loaded on first sight. STS session keys also carry the SHA-256 of their session token and an
//! expiry.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};

use subtle::ConstantTimeEq;
use trent_api::KmsError;
use trent_crypto::seal::{self, Purpose};
use trent_crypto::{RootKey, SecretBytes};
use trent_policy::{Principal, PrincipalKind};
use trent_store::{AccessKeyRecord, Store};
use zeroize::Zeroizing;

use crate::iam::model::{self, Session, User};

/// Per-request facts the authorization stage needs, filled by the dispatcher.
#[derive(Debug, Default)]
pub struct RequestInfo {
    pub request_id: String,
    pub source_ip: Option<String>,
    /// Condition keys derived from the request parameters.
    pub context: trent_policy::Context,
    /// `kms:EncryptionContext*` of a ReEncrypt destination (the source's are in `context`).
    pub destination_context: Option<trent_policy::Context>,
    /// The request's encryption context (the source's, for ReEncrypt), for grant constraints.
    pub encryption_context: std::collections::BTreeMap<String, String>,
    pub destination_encryption_context: std::collections::BTreeMap<String, String>,
    /// Set by every authorization decision; the dispatcher refuses a success without one.
    pub authorized: AtomicBool,
}

/// The authenticated principal of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: String,
    /// Root, user or assumed-role session ARN.
    pub principal_arn: String,
    pub access_key_id: String,
    pub principal: Arc<Principal>,
    pub request: Arc<RequestInfo>,
}

impl PartialEq for Caller {
    fn eq(&self, other: &Self) -> bool {
        self.principal_arn == other.principal_arn && self.access_key_id == other.access_key_id
    }
}

impl Caller {
    /// The account root, as the bootstrap credentials and tests use it.
    pub fn root(account_id: &str, access_key_id: &str) -> Caller {
        let arn = crate::bootstrap::root_principal(account_id);
        Caller {
            account_id: account_id.to_owned(),
            principal_arn: arn.clone(),
            access_key_id: access_key_id.to_owned(),
            principal: Arc::new(Principal {
                arn,
                account: account_id.to_owned(),
                kind: PrincipalKind::Account,
                role_arn: None,
                user_id: account_id.to_owned(),
                user_name: None,
                tags: BTreeMap::new(),
            }),
            request: Arc::new(RequestInfo::default()),
        }
    }

    pub fn with_request(&self, request: RequestInfo) -> Caller {
        Caller {
            request: Arc::new(request),
            ..self.clone()
        }
    }

    pub fn is_root(&self) -> bool {
        self.principal.kind == PrincipalKind::Account
    }
}

struct Entry {
    secret: SecretBytes,
    caller: Caller,
    session_token_hash: Option<String>,
    expires_ms: Option<i64>,
}

/// What a credential lookup finds.
pub enum CredentialLookup {
    Found(Zeroizing<String>, Caller),
    Unknown,
    Expired,
}

/// Access key id → (secret, caller), for active keys.
#[derive(Default)]
pub struct CredentialCache {
    map: RwLock<HashMap<String, Arc<Entry>>>,
}

fn poisoned() -> KmsError {
    KmsError::internal("credential cache poisoned")
}

/// SHA-256 (hex) of a session token: only the hash is stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()).as_ref())
}

impl CredentialCache {
    /// Loads and unseals every active access key.
    pub fn load(&self, store: &dyn Store, root: &RootKey) -> Result<(), KmsError> {
        for r in store.access_keys().map_err(KmsError::internal)? {
            if r.status == "Active" {
                self.insert_record(store, root, &r)?;
            }
        }
        Ok(())
    }

    /// Unseals one record and caches it (status `Active` only).
    pub(crate) fn insert_record(&self, store: &dyn Store, root: &RootKey, r: &AccessKeyRecord) -> Result<(), KmsError> {
        let principal = principal_of(store, r)?;
        self.insert_with_principal(root, r, principal)
    }

    /// Caches a record whose principal was already resolved.
    pub(crate) fn insert_with_principal(
        &self,
        root: &RootKey,
        r: &AccessKeyRecord,
        principal: Principal,
    ) -> Result<(), KmsError> {
        let secret = seal::unseal(root, Purpose::AccessKeySecret, &r.access_key_id, &r.sealed_secret)
            .map_err(|_| KmsError::internal(format!("access key {} does not unseal", r.access_key_id)))?;
        let caller = Caller {
            account_id: r.account_id.clone(),
            principal_arn: principal.arn.clone(),
            access_key_id: r.access_key_id.clone(),
            principal: Arc::new(principal),
            request: Arc::new(RequestInfo::default()),
        };
        let entry = Entry {
            secret,
            caller,
            session_token_hash: r.session_token_hash.clone(),
            expires_ms: r.expires_ms,
        };
        self.map
            .write()
            .map_err(|_| poisoned())?
            .insert(r.access_key_id.clone(), Arc::new(entry));
        Ok(())
    }

    pub(crate) fn remove(&self, access_key_id: &str) {
        if let Ok(mut m) = self.map.write() {
            m.remove(access_key_id);
        }
    }

    pub fn contains(&self, access_key_id: &str) -> bool {
        self.map.read().is_ok_and(|m| m.contains_key(access_key_id))
    }

    /// The secret and caller for an access key id, checking the session token and its expiry.
    pub fn lookup(&self, access_key_id: &str, session_token: Option<&str>, now_ms: i64) -> CredentialLookup {
        let Some(e) = self.map.read().ok().and_then(|m| m.get(access_key_id).cloned()) else {
            return CredentialLookup::Unknown;
        };
        if let Some(expected) = &e.session_token_hash {
            let Some(token) = session_token else {
                return CredentialLookup::Unknown;
            };
            if !bool::from(token_hash(token).as_bytes().ct_eq(expected.as_bytes())) {
                return CredentialLookup::Unknown;
            }
            if e.expires_ms.is_some_and(|t| now_ms >= t) {
                return CredentialLookup::Expired;
            }
        }
        let Ok(secret) = String::from_utf8(e.secret.expose().to_vec()) else {
            return CredentialLookup::Unknown;
        };
        CredentialLookup::Found(Zeroizing::new(secret), e.caller.clone())
    }
}

pub(crate) fn principal_of(store: &dyn Store, r: &AccessKeyRecord) -> Result<Principal, KmsError> {
    if let Some(session) = &r.session {
        let s: Session = serde_json::from_str(session).map_err(KmsError::internal)?;
        return Ok(Principal {
            arn: model::assumed_role_arn(&r.account_id, &s.role_name, &s.session_name),
            account: r.account_id.clone(),
            kind: PrincipalKind::AssumedRole,
            role_arn: Some(s.role_arn),
            user_id: format!("{}:{}", s.role_id, s.session_name),
            user_name: None,
            tags: s.tags,
        });
    }
    if let Some(name) = &r.user_name {
        let rec = store
            .entity(&r.account_id, model::USER, name)
            .map_err(KmsError::internal)?
            .ok_or_else(|| KmsError::internal(format!("access key {} names a missing user", r.access_key_id)))?;
        // (A key whose user is gone is never loaded: DeleteUser refuses users with keys.)
        let u: User = model::from_record(&rec)?;
        return Ok(Principal {
            arn: model::user_arn(&r.account_id, &u.path, &u.name),
            account: r.account_id.clone(),
            kind: PrincipalKind::User,
            role_arn: None,
            user_id: u.id,
            user_name: Some(u.name),
            tags: u.tags,
        });
    }
    Ok((*Caller::root(&r.account_id, &r.access_key_id).principal).clone())
}

/// A newly issued access key. The secret is shown once, to whoever asked for it.
pub struct IssuedAccessKey {
    pub access_key_id: String,
    pub secret_access_key: SecretBytes,
    pub record: AccessKeyRecord,
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

/// Who an access key is for.
pub enum KeyOwner<'a> {
    Root,
    User(&'a str),
    Session {
        session: &'a Session,
        token_hash: String,
        expires_ms: i64,
    },
}

/// Issues an access key: `AKIA` (long-term) or `ASIA` (STS) + 16 base32 characters and a
/// 40-character secret (AWS's shapes), sealed under the root key before it is stored.
pub fn issue_access_key(
    store: &dyn Store,
    root: &RootKey,
    cache: Option<&CredentialCache>,
    account_id: &str,
    owner: KeyOwner<'_>,
    now_ms: i64,
) -> Result<IssuedAccessKey, KmsError> {
    let rnd = trent_crypto::random::secret(16 + 40).map_err(KmsError::internal)?;
    let r = rnd.expose();
    let mut id = String::from(if matches!(owner, KeyOwner::Session { .. }) {
        "ASIA"
    } else {
        "AKIA"
    });
    id.extend(r[..16].iter().map(|b| BASE32[(*b as usize) % 32] as char));
    let secret = SecretBytes::new(r[16..].iter().map(|b| SECRET_ALPHABET[(*b as usize) % 64]).collect());
    let sealed = seal::seal(root, Purpose::AccessKeySecret, &id, &secret).map_err(KmsError::internal)?;
    let mut record = AccessKeyRecord {
        access_key_id: id.clone(),
        account_id: account_id.to_owned(),
        principal_arn: crate::bootstrap::root_principal(account_id),
        sealed_secret: sealed,
        status: "Active".to_owned(),
        created_ms: now_ms,
        user_name: None,
        session_token_hash: None,
        expires_ms: None,
        session: None,
    };
    match owner {
        KeyOwner::Root => {}
        KeyOwner::User(name) => record.user_name = Some(name.to_owned()),
        KeyOwner::Session {
            session,
            token_hash,
            expires_ms,
        } => {
            record.principal_arn = model::assumed_role_arn(account_id, &session.role_name, &session.session_name);
            record.session = Some(serde_json::to_string(session).map_err(KmsError::internal)?);
            record.session_token_hash = Some(token_hash);
            record.expires_ms = Some(expires_ms);
        }
    }
    store.insert_access_key(&record).map_err(KmsError::internal)?;
    if let Some(c) = cache {
        c.insert_record(store, root, &record)?;
    }
    Ok(IssuedAccessKey {
        access_key_id: id,
        secret_access_key: secret,
        record,
    })
}

/// Unseals the stored secret of an access key (used to re-write a lost `admin.env`).
pub fn unseal_access_key(root: &RootKey, r: &AccessKeyRecord) -> Result<SecretBytes, KmsError> {
    seal::unseal(root, Purpose::AccessKeySecret, &r.access_key_id, &r.sealed_secret)
        .map_err(|_| KmsError::internal("access key does not unseal"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::model::Session;

    #[test]
    fn session_credentials_need_their_token_and_expire() {
        let store = trent_store::sqlite::SqliteStore::in_memory().expect("store");
        store
            .insert_account(&trent_store::AccountRecord {
                account_id: "111122223333".into(),
                created_ms: 0,
            })
            .expect("account");
        let root = RootKey::generate().expect("rng");
        let cache = CredentialCache::default();
        let session = Session {
            v: 1,
            role_name: "app".into(),
            role_id: "AROAEXAMPLE".into(),
            role_arn: "arn:aws:iam::111122223333:role/app".into(),
            session_name: "s".into(),
            tags: Default::default(),
        };
        let owner = KeyOwner::Session {
            session: &session,
            token_hash: token_hash("tok"),
            expires_ms: 1_000,
        };
        let issued = issue_access_key(&store, &root, Some(&cache), "111122223333", owner, 0).expect("issue");
        assert!(issued.access_key_id.starts_with("ASIA"));
        match cache.lookup(&issued.access_key_id, Some("tok"), 999) {
            CredentialLookup::Found(_, caller) => {
                assert_eq!(caller.principal_arn, "arn:aws:sts::111122223333:assumed-role/app/s");
                assert_eq!(caller.principal.kind, PrincipalKind::AssumedRole);
            }
            _ => panic!("valid session"),
        }
        assert!(matches!(
            cache.lookup(&issued.access_key_id, Some("tok"), 1_000),
            CredentialLookup::Expired
        ));
        assert!(matches!(
            cache.lookup(&issued.access_key_id, Some("other"), 999),
            CredentialLookup::Unknown
        ));
        assert!(matches!(
            cache.lookup(&issued.access_key_id, None, 999),
            CredentialLookup::Unknown
        ));
        // The stored record has the token's hash, never the token.
        let rec = store.access_key(&issued.access_key_id).expect("get").expect("exists");
        assert_eq!(rec.session_token_hash.as_deref(), Some(token_hash("tok").as_str()));
    }
}

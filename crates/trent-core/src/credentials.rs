//! Callers and their credentials. Access-key secrets are stored sealed under the root key; the
//! cache holds them unsealed in zeroizing memory and hands out only the SigV4 signing key derived
//! for a scope (kept per key for the day, so a request costs no key derivation), never the
//! secret. Keys created elsewhere (another server, `trent admin create-account`) are loaded on
//! first sight. STS session keys also carry the SHA-256 of their session token and an expiry.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock};

use subtle::ConstantTimeEq;
use trent_api::KmsError;
use trent_audit::{Identity, IdentityType};
use trent_crypto::seal::Keyring;
use trent_crypto::seal::{self, Purpose};
use trent_crypto::{RootKey, SecretBytes};
use trent_policy::{Principal, PrincipalKind};
use trent_sigv4::{derive_signing_key, Scope, SigningKey};
use trent_store::{AccessKeyRecord, EntityKind, Store, StoreError, StoreRead};
use trent_types::{AccessKeyStatus, AccountId, Arn};

use crate::iam::model::{self, Role, Session, User};

struct CallerInner {
    account: AccountId,
    access_key_id: String,
    principal: Principal,
    audit: Arc<Identity>,
}

/// The authenticated principal of a request. Cheap to clone (one reference count).
#[derive(Clone)]
pub struct Caller(Arc<CallerInner>);

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("arn", &self.arn())
            .field("access_key_id", &self.access_key_id())
            .finish()
    }
}

impl PartialEq for Caller {
    fn eq(&self, other: &Self) -> bool {
        self.arn() == other.arn() && self.access_key_id() == other.access_key_id()
    }
}

impl Caller {
    fn new(account: AccountId, access_key_id: &str, principal: Principal) -> Caller {
        let kind = match principal.kind {
            PrincipalKind::Account => IdentityType::Root,
            PrincipalKind::User => IdentityType::IamUser,
            PrincipalKind::AssumedRole => IdentityType::AssumedRole,
        };
        let audit = Arc::new(Identity {
            kind,
            arn: principal.arn.clone(),
            account_id: account.to_string(),
            access_key_id: access_key_id.to_owned(),
        });
        Caller(Arc::new(CallerInner {
            account,
            access_key_id: access_key_id.to_owned(),
            principal,
            audit,
        }))
    }

    /// The account root, as the bootstrap credentials and tests use it.
    pub fn root(account: &AccountId, access_key_id: &str) -> Caller {
        Caller::new(*account, access_key_id, root_principal(*account))
    }

    /// A caller acting as `principal` (`trent policy simulate`).
    pub(crate) fn simulated(principal: Principal, account: AccountId) -> Caller {
        Caller::new(account, "simulated", principal)
    }

    pub fn account(&self) -> AccountId {
        self.0.account
    }

    /// Root, user or assumed-role session ARN.
    pub fn arn(&self) -> &str {
        &self.0.principal.arn
    }

    pub fn access_key_id(&self) -> &str {
        &self.0.access_key_id
    }

    pub fn principal(&self) -> &Principal {
        &self.0.principal
    }

    pub fn is_root(&self) -> bool {
        self.0.principal.kind == PrincipalKind::Account
    }

    /// The IAM user name, for users.
    pub fn user_name(&self) -> Option<&str> {
        self.0.principal.user_name.as_deref()
    }

    pub(crate) fn audit_identity(&self) -> &Arc<Identity> {
        &self.0.audit
    }
}

/// The principal of an account's root user.
pub(crate) fn root_principal(account: AccountId) -> Principal {
    Principal {
        arn: Arn::root(account),
        account: account.to_string(),
        kind: PrincipalKind::Account,
        role_arn: None,
        user_id: account.to_string(),
        user_name: None,
        tags: BTreeMap::new(),
    }
}

/// How long a cached credential is trusted before the store is read again: a key deleted or
/// made inactive, or a user or role deleted, by another server (or `trent admin`) stops
/// authenticating here within this time. (On this server such changes take effect at once.)
pub(crate) const RECHECK_MS: i64 = 5_000;

/// A cached credential: the unsealed secret and the signing key of the last scope it signed.
pub(crate) struct Entry {
    access_key_id: String,
    secret: SecretBytes,
    caller: Caller,
    session_token_hash: Option<String>,
    expires_ms: Option<i64>,
    signing: RwLock<Option<CachedSigning>>,
    /// When the key and its principal were last read from the store.
    checked_ms: AtomicI64,
}

/// The signing key of one scope (date, Region, service).
struct CachedSigning {
    date: String,
    region: String,
    service: String,
    key: Arc<SigningKey>,
}

impl Entry {
    fn signing_key(&self, scope: &Scope<'_>) -> Arc<SigningKey> {
        if let Ok(g) = self.signing.read() {
            if let Some(c) = g.as_ref() {
                if c.date == scope.date && c.region == scope.region && c.service == scope.service {
                    return Arc::clone(&c.key);
                }
            }
        }
        let key = Arc::new(derive_signing_key(self.secret.expose(), scope));
        if let Ok(mut g) = self.signing.write() {
            *g = Some(CachedSigning {
                date: scope.date.to_owned(),
                region: scope.region.to_owned(),
                service: scope.service.to_owned(),
                key: Arc::clone(&key),
            });
        }
        key
    }
}

/// What a credential lookup finds.
pub enum CredentialLookup {
    Found(Arc<SigningKey>, Caller),
    Unknown,
    Expired,
}

/// Access key id → (secret, caller), for active keys.
#[derive(Default)]
pub struct CredentialCache {
    map: RwLock<HashMap<String, Arc<Entry>>>,
}

/// SHA-256 (hex) of a session token: only the hash is stored.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()).as_ref())
}

impl CredentialCache {
    /// Loads and unseals every active access key.
    pub fn load(&self, store: &dyn StoreRead, root: &Keyring, now_ms: i64) -> Result<(), KmsError> {
        for r in store.access_keys().map_err(KmsError::internal)? {
            if let Some(e) = prepare(store, root, &r)? {
                self.insert(e, now_ms);
            }
        }
        Ok(())
    }

    /// Caches a credential just read from the store.
    pub(crate) fn insert(&self, e: Entry, now_ms: i64) {
        e.checked_ms.store(now_ms, Ordering::Relaxed);
        if let Ok(mut m) = self.map.write() {
            m.insert(e.access_key_id.clone(), Arc::new(e));
        }
    }

    /// Drops every cached session of the role `role_arn` (the role was deleted).
    pub(crate) fn remove_sessions_of(&self, role_arn: &str) {
        if let Ok(mut m) = self.map.write() {
            m.retain(|_, e| e.caller.principal().role_arn.as_deref() != Some(role_arn));
        }
    }

    /// Drops every cached credential of an account (its IAM identities changed elsewhere).
    pub(crate) fn remove_account(&self, account: AccountId) {
        if let Ok(mut m) = self.map.write() {
            m.retain(|_, e| e.caller.account() != account);
        }
    }

    /// Drops every cached credential.
    pub(crate) fn clear(&self) {
        if let Ok(mut m) = self.map.write() {
            m.clear();
        }
    }

    pub(crate) fn remove(&self, access_key_id: &str) {
        if let Ok(mut m) = self.map.write() {
            m.remove(access_key_id);
        }
    }

    pub fn contains(&self, access_key_id: &str) -> bool {
        self.map.read().is_ok_and(|m| m.contains_key(access_key_id))
    }

    /// Whether the store must be read for this credential now: it is not cached, or it was read
    /// [`RECHECK_MS`] ago or more and no other request has started reading it again (the first
    /// to see it stale claims the re-read; the others use the cached entry meanwhile).
    pub(crate) fn needs_read(&self, access_key_id: &str, now_ms: i64) -> bool {
        let Some(e) = self.map.read().ok().and_then(|m| m.get(access_key_id).cloned()) else {
            return true;
        };
        let checked = e.checked_ms.load(Ordering::Relaxed);
        now_ms.saturating_sub(checked) >= RECHECK_MS
            && e.checked_ms
                .compare_exchange(checked, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }

    /// The caller an access key authenticates as.
    pub fn caller(&self, access_key_id: &str) -> Option<Caller> {
        self.map.read().ok()?.get(access_key_id).map(|e| e.caller.clone())
    }

    /// The signing key and caller for an access key id, checking the session token and expiry.
    pub fn lookup(
        &self,
        access_key_id: &str,
        session_token: Option<&str>,
        scope: &Scope<'_>,
        now_ms: i64,
    ) -> CredentialLookup {
        let Some(e) = self.map.read().ok().and_then(|m| m.get(access_key_id).cloned()) else {
            return CredentialLookup::Unknown;
        };
        // An XKS proxy credential signs XKS proxy requests only, and nothing else signs them
        // (its secret is configured in another service, so it must not reach the KMS API).
        let xks = access_key_id.starts_with(crate::xks::proxy::XKS_KEY_PREFIX);
        if xks != (scope.service == trent_api::xks::SIGNING_NAME) {
            return CredentialLookup::Unknown;
        }
        // A session token with long-term credentials is refused, as AWS does (the token is part
        // of what the caller claims, so it must be right or absent).
        if e.session_token_hash.is_none() && session_token.is_some() {
            return CredentialLookup::Unknown;
        }
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
        CredentialLookup::Found(e.signing_key(scope), e.caller.clone())
    }
}

/// Unseals an active access key and resolves its principal; `None` for inactive keys and for
/// keys whose user no longer exists (a key must never outlive its user).
pub(crate) fn prepare(store: &dyn StoreRead, root: &Keyring, r: &AccessKeyRecord) -> Result<Option<Entry>, KmsError> {
    if r.status != AccessKeyStatus::Active {
        return Ok(None);
    }
    let Some(principal) = principal_of(store, r)? else {
        return Ok(None);
    };
    let secret = root
        .unseal(Purpose::AccessKeySecret, &r.access_key_id, &r.sealed_secret)
        .map_err(|_| KmsError::internal(format!("access key {} does not unseal", r.access_key_id)))?;
    Ok(Some(Entry {
        access_key_id: r.access_key_id.clone(),
        secret,
        caller: Caller::new(r.account_id, &r.access_key_id, principal),
        session_token_hash: r.session_token_hash.clone(),
        expires_ms: r.expires_ms,
        signing: RwLock::new(None),
        checked_ms: AtomicI64::new(0),
    }))
}

/// The principal an access key belongs to; `None` when its user is gone.
fn principal_of(store: &dyn StoreRead, r: &AccessKeyRecord) -> Result<Option<Principal>, KmsError> {
    if let Some(session) = &r.session {
        let s: Session = serde_json::from_str(session).map_err(KmsError::internal)?;
        // The session's role must still exist and be the same role (a role created again under
        // the name has another id, and inherits no session).
        let Some(rec) = store
            .entity(&r.account_id, EntityKind::Role, &s.role_name)
            .map_err(KmsError::internal)?
        else {
            return Ok(None);
        };
        let role: Role = model::from_record(&rec)?;
        if role.id != s.role_id {
            return Ok(None);
        }
        return Ok(Some(Principal {
            arn: model::assumed_role_arn(r.account_id, &s.role_name, &s.session_name),
            account: r.account_id.to_string(),
            kind: PrincipalKind::AssumedRole,
            role_arn: Some(s.role_arn),
            user_id: format!("{}:{}", s.role_id, s.session_name),
            user_name: None,
            tags: s.tags,
        }));
    }
    if let Some(name) = &r.user_name {
        let Some(rec) = store
            .entity(&r.account_id, EntityKind::User, name)
            .map_err(KmsError::internal)?
        else {
            return Ok(None);
        };
        let u: User = model::from_record(&rec)?;
        // A key belongs to one user: a user created again under the name is another user.
        if r.owner_id.as_ref().is_some_and(|id| *id != u.id) {
            return Ok(None);
        }
        return Ok(Some(Principal {
            arn: model::user_arn(r.account_id, &u.path, &u.name),
            account: r.account_id.to_string(),
            kind: PrincipalKind::User,
            role_arn: None,
            user_id: u.id,
            user_name: Some(u.name),
            tags: u.tags,
        }));
    }
    Ok(Some(root_principal(r.account_id)))
}

/// A newly issued access key. The secret is shown once, to whoever asked for it.
pub(crate) struct IssuedAccessKey {
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

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `ALPHABET[b mod N]` without indexing.
fn pick<const N: usize>(alphabet: &[u8; N], b: u8) -> u8 {
    alphabet.get(usize::from(b) % N).copied().unwrap_or(b'A')
}

/// A new XKS proxy credential: `XKS` and 23 base32 characters (26 in all, of `A-Z2-7`: the XKS
/// specification's Appendix A wants 20–30), and as secret 32 random bytes in Base64 (44
/// characters, 256 bits of entropy, Appendix A's recommendation).
fn new_xks_credential() -> Result<(String, SecretBytes), KmsError> {
    use base64::Engine as _;
    let rnd = trent_crypto::random::secret(23 + 32).map_err(KmsError::internal)?;
    let (id_bytes, secret_bytes) = rnd.expose().split_at(23);
    let mut id = String::from(crate::xks::proxy::XKS_KEY_PREFIX);
    id.extend(id_bytes.iter().map(|b| char::from(pick(BASE32, *b))));
    let secret = zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(secret_bytes));
    Ok((id, SecretBytes::new(secret.as_bytes().to_vec())))
}

/// Who an access key is for.
pub(crate) enum KeyOwner {
    Root,
    /// A user, by name and unique id.
    User {
        name: String,
        id: String,
    },
    /// A user's XKS proxy credential (`new_xks_credential`'s shape; signs only
    /// `kms-xks-proxy` requests).
    XksUser {
        name: String,
        id: String,
    },
    Session {
        session: Session,
        token_hash: String,
        expires_ms: i64,
    },
}

/// Issues an access key: `AKIA` (long-term) or `ASIA` (STS) + 16 base32 characters and a
/// 40-character secret (AWS's shapes), sealed under the root key before it is stored. `None` when
/// the owner no longer exists (checked in the key's own transaction).
pub(crate) fn issue_access_key(
    store: &dyn Store,
    root: &RootKey,
    account: AccountId,
    owner: KeyOwner,
    now_ms: i64,
) -> Result<Option<IssuedAccessKey>, KmsError> {
    let (id, secret) = if matches!(owner, KeyOwner::XksUser { .. }) {
        new_xks_credential()?
    } else {
        let rnd = trent_crypto::random::secret(16 + 40).map_err(KmsError::internal)?;
        let (id_bytes, secret_bytes) = rnd.expose().split_at(16);
        let mut id = String::from(if matches!(owner, KeyOwner::Session { .. }) {
            "ASIA"
        } else {
            "AKIA"
        });
        id.extend(id_bytes.iter().map(|b| char::from(pick(BASE32, *b))));
        let secret = SecretBytes::new(secret_bytes.iter().map(|b| pick(SECRET_ALPHABET, *b)).collect());
        (id, secret)
    };
    let sealed = seal::seal(root, Purpose::AccessKeySecret, &id, &secret).map_err(KmsError::internal)?;
    let mut record = AccessKeyRecord {
        access_key_id: id.clone(),
        account_id: account,
        principal_arn: Arn::root(account),
        sealed_secret: sealed,
        status: AccessKeyStatus::Active,
        created_ms: now_ms,
        user_name: None,
        session_token_hash: None,
        expires_ms: None,
        session: None,
        owner_id: None,
    };
    match owner {
        KeyOwner::Root => {}
        KeyOwner::User { name, id } | KeyOwner::XksUser { name, id } => {
            record.user_name = Some(name);
            record.owner_id = Some(id);
        }
        KeyOwner::Session {
            session,
            token_hash,
            expires_ms,
        } => {
            record.principal_arn = model::assumed_role_arn(account, &session.role_name, &session.session_name);
            record.session = Some(serde_json::to_string(&session).map_err(KmsError::internal)?);
            record.owner_id = Some(session.role_id.clone());
            record.session_token_hash = Some(token_hash);
            record.expires_ms = Some(expires_ms);
        }
    }
    match store.insert_access_key(&record) {
        Ok(()) => {}
        // The owner is gone (or is another user or role of the same name now).
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(KmsError::internal(e)),
    }
    Ok(Some(IssuedAccessKey {
        access_key_id: id,
        secret_access_key: secret,
        record,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::model::Session;

    #[test]
    fn session_credentials_need_their_token_and_expire() {
        let store = trent_store::sqlite::SqliteStore::in_memory().expect("store");
        let account = AccountId::parse("111122223333").expect("account");
        store
            .insert_account(&trent_store::AccountRecord {
                account_id: account,
                created_ms: 0,
            })
            .expect("account");
        let root = RootKey::generate().expect("rng");
        let cache = CredentialCache::default();
        let role = Role {
            v: 1,
            name: "app".into(),
            id: "AROAEXAMPLE".into(),
            path: "/".into(),
            created_ms: 0,
            trust_policy: "{}".into(),
            description: None,
            max_session_secs: 3600,
            tags: Default::default(),
            inline: Default::default(),
            attached: Vec::new(),
        };
        store
            .put_entity(
                &model::to_record(account, EntityKind::Role, "app", &role).expect("record"),
                false,
            )
            .expect("role");
        let session = Session {
            v: 1,
            role_name: "app".into(),
            role_id: "AROAEXAMPLE".into(),
            role_arn: "arn:aws:iam::111122223333:role/app".into(),
            session_name: "s".into(),
            tags: Default::default(),
        };
        let owner = KeyOwner::Session {
            session,
            token_hash: token_hash("tok"),
            expires_ms: 1_000,
        };
        let issued = issue_access_key(&store, &root, account, owner, 0)
            .expect("issue")
            .expect("the role exists");
        cache.insert(
            prepare(
                &store,
                &Keyring::new(RootKey::from_bytes(*root.expose())),
                &issued.record,
            )
            .expect("prepare")
            .expect("active"),
            0,
        );
        assert!(issued.access_key_id.starts_with("ASIA"));
        let scope = Scope {
            date: "20261203",
            region: "us-east-1",
            service: "kms",
        };
        match cache.lookup(&issued.access_key_id, Some("tok"), &scope, 999) {
            CredentialLookup::Found(_, caller) => {
                assert_eq!(caller.arn(), "arn:aws:sts::111122223333:assumed-role/app/s");
                assert_eq!(caller.principal().kind, PrincipalKind::AssumedRole);
            }
            _ => panic!("valid session"),
        }
        assert!(matches!(
            cache.lookup(&issued.access_key_id, Some("tok"), &scope, 1_000),
            CredentialLookup::Expired
        ));
        assert!(matches!(
            cache.lookup(&issued.access_key_id, Some("other"), &scope, 999),
            CredentialLookup::Unknown
        ));
        assert!(matches!(
            cache.lookup(&issued.access_key_id, None, &scope, 999),
            CredentialLookup::Unknown
        ));
        // The stored record has the token's hash, never the token.
        let rec = store.access_key(&issued.access_key_id).expect("get").expect("exists");
        assert_eq!(rec.session_token_hash.as_deref(), Some(token_hash("tok").as_str()));
    }
}

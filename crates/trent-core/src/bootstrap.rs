//! First-start initialisation of a store: the first account and the bootstrap access key of its
//! root principal (`arn:aws:iam::<account>:root`). Idempotent: later starts find the account and
//! return the same credentials. Runs before the service exists, with the store the binary
//! opened (the binary is the service's composition root).

use trent_api::KmsError;
use trent_crypto::{RootKey, SecretBytes};
use trent_store::{AccountRecord, Store};
use trent_types::{AccountId, Arn};

use crate::credentials::{issue_access_key, KeyOwner};

/// The account and its root credentials.
pub struct AdminCredentials {
    pub account_id: AccountId,
    pub access_key_id: String,
    pub secret_access_key: SecretBytes,
    /// Whether this call created the account.
    pub created: bool,
}

impl std::fmt::Debug for AdminCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminCredentials")
            .field("account_id", &self.account_id)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// A random 12-digit account id that does not start with 0.
pub fn random_account_id() -> Result<AccountId, KmsError> {
    let r = trent_crypto::random::array::<12>().map_err(KmsError::internal)?;
    let digits: String = r
        .iter()
        .enumerate()
        .map(|(i, b)| char::from(b'0' + if i == 0 { 1 + b % 9 } else { b % 10 }))
        .collect();
    AccountId::parse(&digits).ok_or_else(|| KmsError::internal("random account id"))
}

fn account_of(given: Option<&str>) -> Result<Option<AccountId>, KmsError> {
    given
        .map(|a| AccountId::parse(a).ok_or_else(|| KmsError::Validation(format!("account id '{a}' is not 12 digits"))))
        .transpose()
}

/// Creates the first account (with `account_id` or a random one) and its root access key if the
/// store has no account yet; otherwise returns the existing first account's root credentials.
pub fn initialise(
    store: &dyn Store,
    root: &RootKey,
    account_id: Option<&str>,
    now_ms: i64,
) -> Result<AdminCredentials, KmsError> {
    let ring = trent_crypto::seal::Keyring::new(RootKey::from_bytes(*root.expose()));
    initialise_with(store, &ring, account_id, now_ms)
}

/// [`initialise`] with a keyring: during a root-key rotation the root access key may still be
/// sealed under the old key.
pub fn initialise_with(
    store: &dyn Store,
    root: &trent_crypto::seal::Keyring,
    account_id: Option<&str>,
    now_ms: i64,
) -> Result<AdminCredentials, KmsError> {
    let wanted = account_of(account_id)?;
    let accounts = store.accounts().map_err(KmsError::internal)?;
    if let Some(first) = accounts.first() {
        if let Some(wanted) = wanted.filter(|w| *w != first.account_id) {
            return Err(KmsError::internal(format!(
                "data directory belongs to account {}, not {wanted}",
                first.account_id
            )));
        }
        let principal = Arn::root(first.account_id);
        let keys = store.access_keys().map_err(KmsError::internal)?;
        let Some(rec) = keys
            .iter()
            .find(|k| k.account_id == first.account_id && k.principal_arn == principal)
        else {
            return Err(KmsError::internal("the account has no root access key"));
        };
        return Ok(AdminCredentials {
            account_id: first.account_id,
            access_key_id: rec.access_key_id.clone(),
            secret_access_key: root
                .unseal(
                    trent_crypto::seal::Purpose::AccessKeySecret,
                    &rec.access_key_id,
                    &rec.sealed_secret,
                )
                .map_err(|_| KmsError::internal(format!("access key {} does not unseal", rec.access_key_id)))?,
            created: false,
        });
    }
    create_account(store, root.current(), account_id, now_ms)
}

/// Creates another account with its root access key (`trent admin create-account`).
pub fn create_account(
    store: &dyn Store,
    root: &RootKey,
    account_id: Option<&str>,
    now_ms: i64,
) -> Result<AdminCredentials, KmsError> {
    let account_id = match account_of(account_id)? {
        Some(a) => a,
        None => random_account_id()?,
    };
    store
        .insert_account(&AccountRecord {
            account_id,
            created_ms: now_ms,
        })
        .map_err(|e| match e {
            trent_store::StoreError::UniqueViolation => KmsError::AlreadyExists(format!("account {account_id} exists")),
            other => KmsError::internal(other),
        })?;
    // The root user always exists: a root key is never refused for its owner.
    let issued = issue_access_key(store, root, account_id, KeyOwner::Root, now_ms)?
        .ok_or_else(|| KmsError::internal("the root user's access key was refused"))?;
    Ok(AdminCredentials {
        account_id,
        access_key_id: issued.access_key_id,
        secret_access_key: issued.secret_access_key,
        created: true,
    })
}

/// An XKS proxy credential (`trent admin create-xks-credential`): the access key id and secret
/// an external key store signs its requests to this Trent's XKS proxy with.
pub struct XksCredential {
    pub account_id: AccountId,
    pub access_key_id: String,
    pub secret_access_key: SecretBytes,
}

impl std::fmt::Debug for XksCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XksCredential")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Issues an XKS proxy credential for the IAM user `user_name` of the account (the first
/// account when none is named). Requests signed with it are that user's; its keys' policies say
/// which keys it may use. A user has at most two access keys of either kind, as in IAM, which is
/// what rotating a credential needs (the specification's "SigV4 credentials rotation").
pub fn create_xks_credential(
    store: &dyn Store,
    root: &RootKey,
    account_id: Option<&str>,
    user_name: &str,
    now_ms: i64,
) -> Result<XksCredential, KmsError> {
    let account_id = match account_of(account_id)? {
        Some(a) => a,
        None => store
            .accounts()
            .map_err(KmsError::internal)?
            .into_iter()
            .min_by_key(|a| a.created_ms)
            .map(|a| a.account_id)
            .ok_or_else(|| KmsError::NotFound("the data directory has no account".into()))?,
    };
    let user = store
        .entity(&account_id, trent_store::EntityKind::User, user_name)
        .map_err(KmsError::internal)?
        .ok_or_else(|| KmsError::NotFound(format!("account {account_id} has no IAM user {user_name}")))?;
    let id = serde_json::from_str::<serde_json::Value>(&user.body)
        .ok()
        .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_owned))
        .ok_or_else(|| KmsError::internal(format!("user {user_name} has no id")))?;
    let keys = store
        .access_keys()
        .map_err(KmsError::internal)?
        .into_iter()
        .filter(|k| k.account_id == account_id && k.user_name.as_deref() == Some(user_name))
        .count();
    if keys >= 2 {
        return Err(KmsError::LimitExceeded(format!(
            "user {user_name} already has 2 access keys: delete one (aws iam delete-access-key) first"
        )));
    }
    let issued = issue_access_key(
        store,
        root,
        account_id,
        KeyOwner::XksUser {
            name: user_name.to_owned(),
            id,
        },
        now_ms,
    )?
    .ok_or_else(|| KmsError::NotFound(format!("account {account_id} has no IAM user {user_name}")))?;
    Ok(XksCredential {
        account_id,
        access_key_id: issued.access_key_id,
        secret_access_key: issued.secret_access_key,
    })
}

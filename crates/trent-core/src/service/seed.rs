//! Dev mode (`trent serve --dev`): the account every access key stands for, and seeding keys from
//! a file so tests find the keys they expect — given ids, specs, descriptions, aliases, tags,
//! policies and, for symmetric keys, given material, so that ciphertexts a test suite made with
//! an earlier seeded server still decrypt. Keys are created through the service (sealed like any
//! other); aliases and policies through the ordinary request path as the account root, so they
//! are validated as a client's would be. Seeding is idempotent: a key or alias already there is
//! left as it is.

use std::collections::BTreeMap;

use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use trent_api::{KmsError, Operation};
use trent_crypto::SecretBytes;
use trent_types::{AccountId, KeyId, KeyManager, KeySpec, KeyUsage, Origin};

use super::{Kms, RequestMeta, System};
use crate::credentials::Caller;
use crate::lifecycle::{new_key_id, NewKey};

/// A seed file's contents.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    #[serde(default)]
    pub keys: Vec<SeedKey>,
}

/// One key to have.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedKey {
    /// The key id (a UUID); new if absent.
    pub id: Option<String>,
    /// `SYMMETRIC_DEFAULT` unless given.
    pub spec: Option<String>,
    /// The spec's first usage unless given.
    pub usage: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// A key policy (JSON text); the default key policy if absent.
    pub policy: Option<String>,
    /// Base64 of 32 bytes: the material of a `SYMMETRIC_DEFAULT` key.
    pub material: Option<String>,
}

fn invalid(i: usize, why: impl std::fmt::Display) -> KmsError {
    KmsError::Validation(format!("seed key {}: {why}", i + 1))
}

impl Kms {
    /// Dev mode: every request with a well-formed signature is the root of `account`.
    pub fn enable_dev_mode(&self, account: AccountId) {
        let _ = self.dev_account.set(account);
    }

    /// The account every caller is in dev mode.
    pub fn dev_account(&self) -> Option<AccountId> {
        self.dev_account.get().copied()
    }

    /// Creates what `seed` names that does not exist yet; returns the key ids.
    pub async fn seed(&self, account: AccountId, seed: Seed) -> Result<Vec<KeyId>, KmsError> {
        let root = Caller::root(&account, "seed");
        let meta = RequestMeta {
            request_id: "seed".into(),
            ..RequestMeta::default()
        };
        let mut ids = Vec::new();
        for (i, k) in seed.keys.into_iter().enumerate() {
            let key_id = match &k.id {
                Some(id) => KeyId::parse(id).ok_or_else(|| invalid(i, format!("{id} is not a key id (a UUID)")))?,
                None => new_key_id()?,
            };
            let spec = match &k.spec {
                Some(s) => KeySpec::parse(s).ok_or_else(|| invalid(i, format!("{s} is not a key spec")))?,
                None => KeySpec::SymmetricDefault,
            };
            let usage = match &k.usage {
                Some(u) => KeyUsage::parse(u).ok_or_else(|| invalid(i, format!("{u} is not a key usage")))?,
                None => *spec
                    .allowed_usages()
                    .first()
                    .ok_or_else(|| invalid(i, "no usage for that spec"))?,
            };
            if !spec.allowed_usages().contains(&usage) {
                return Err(invalid(i, format!("{spec} keys cannot be {usage}")));
            }
            let material = match &k.material {
                None => None,
                Some(_) if spec != KeySpec::SymmetricDefault => {
                    return Err(invalid(i, "material can be given for SYMMETRIC_DEFAULT keys only"))
                }
                Some(b64) => {
                    let bytes = base64::engine::general_purpose::STANDARD
                        .decode(b64.trim())
                        .map_err(|e| invalid(i, format!("material is not base64: {e}")))?;
                    if bytes.len() != 32 {
                        return Err(invalid(i, format!("material must be 32 bytes, not {}", bytes.len())));
                    }
                    // A KeyMaterialId that is a function of the key and its material (a PRF
                    // output: it says nothing about the material), so that every server seeded
                    // alike names the material alike and decrypts the others' ciphertexts.
                    let id = trent_crypto::symmetric::hkdf_sha256(
                        &bytes,
                        b"trent-seed-material",
                        key_id.as_str().as_bytes(),
                    )
                    .map_err(KmsError::internal)?;
                    Some((SecretBytes::new(bytes), hex::encode(id.expose())))
                }
            };
            if self.load_key(self.region(), &key_id).await?.is_none() {
                let created = self
                    .insert_key(
                        &System::new(),
                        NewKey {
                            key_id,
                            account_id: account,
                            region: self.region().clone(),
                            description: k.description.clone(),
                            key_spec: spec,
                            key_usage: usage,
                            origin: Origin::AwsKms,
                            key_manager: KeyManager::Customer,
                            policy: crate::policy::default_policy(account),
                            tags: k.tags.clone().into_iter().collect(),
                            rotation_period_days: None,
                            material,
                            external: None,
                        },
                    )
                    .await?;
                // Known now (the lookup above remembered it as missing).
                self.cache_key(created);
                if let Some(policy) = &k.policy {
                    let body = json!({"KeyId": key_id.as_str(), "Policy": policy, "PolicyName": "default"});
                    self.handle(&root, Operation::PutKeyPolicy, body.to_string().as_bytes(), &meta)
                        .await
                        .map_err(|e| invalid(i, format!("policy: {e}")))?;
                }
            }
            for alias in &k.aliases {
                let body = json!({"AliasName": alias, "TargetKeyId": key_id.as_str()});
                match self
                    .handle(&root, Operation::CreateAlias, body.to_string().as_bytes(), &meta)
                    .await
                {
                    Ok(_) | Err(KmsError::AlreadyExists(_)) => {}
                    Err(e) => return Err(invalid(i, format!("alias {alias}: {e}"))),
                }
            }
            ids.push(key_id);
        }
        Ok(ids)
    }
}

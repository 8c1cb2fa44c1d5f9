//! The caller's identity policies (inline and attached, of its user and the user's groups, or of
//! its session's role), parsed once and cached per principal; any IAM change drops the cache, so
//! a decision never uses a stale policy and costs a hash lookup when warm.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use trent_api::KmsError;
use trent_policy::{PolicyDocument, Principal, PrincipalKind};
use trent_store::{EntityKind, StoreError};
use trent_types::{AccountId, Arn};

use crate::iam::model::{Group, ManagedPolicy, Role, User};
use crate::service::Kms;

/// Parsed identity policies by principal ARN (the role ARN for sessions).
#[derive(Default)]
pub(crate) struct IdentityCache(RwLock<HashMap<String, Arc<Vec<PolicyDocument>>>>);

impl IdentityCache {
    pub(crate) fn clear(&self) {
        if let Ok(mut m) = self.0.write() {
            m.clear();
        }
    }
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl Kms {
    /// The caller's identity policies (none for the account root).
    pub(crate) async fn identity_policies(&self, p: &Principal) -> Result<Arc<Vec<PolicyDocument>>, KmsError> {
        if p.kind == PrincipalKind::Account {
            return Ok(Arc::new(Vec::new()));
        }
        let cache_key = p.principal_arn();
        if let Some(hit) = self.identities.0.read().ok().and_then(|m| m.get(cache_key).cloned()) {
            return Ok(hit);
        }
        let account = AccountId::parse(&p.account).ok_or_else(|| KmsError::internal("principal without account"))?;
        let (kind, name) = match (&p.kind, &p.user_name, &p.role_arn) {
            (PrincipalKind::User, Some(u), _) => (EntityKind::User, u.clone()),
            (_, _, Some(role)) => match Arn::parse(role) {
                Ok(Arn::Role { name, .. }) => (EntityKind::Role, name),
                _ => return Ok(Arc::new(Vec::new())),
            },
            _ => return Ok(Arc::new(Vec::new())),
        };
        // The entity must be the one the caller is (its unique id): a user or role created again
        // under the same name is another principal and lends it nothing.
        let unique_id = p.user_id.split(':').next().unwrap_or_default().to_owned();
        let texts = self
            .read(move |s| {
                let Some(rec) = s.entity(&account, kind, &name)? else {
                    return Ok(Vec::new());
                };
                let (id, inline, attached): (String, Vec<String>, Vec<String>) = if kind == EntityKind::User {
                    let u: User = serde_json::from_str(&rec.body).map_err(corrupt)?;
                    let (mut inline, mut attached): (Vec<String>, Vec<String>) =
                        (u.inline.into_values().collect(), u.attached);
                    // The policies of the user's groups are the user's too (IAM policy
                    // evaluation: identity-based policies attached to the user or its groups).
                    for g in s.entities(&account, EntityKind::Group)? {
                        let g: Group = serde_json::from_str(&g.body).map_err(corrupt)?;
                        if g.members.contains(&u.name) {
                            inline.extend(g.inline.into_values());
                            attached.extend(g.attached);
                        }
                    }
                    (u.id, inline, attached)
                } else {
                    let r: Role = serde_json::from_str(&rec.body).map_err(corrupt)?;
                    (r.id, r.inline.into_values().collect(), r.attached)
                };
                if id != unique_id {
                    return Ok(Vec::new());
                }
                let mut texts = inline;
                for arn in attached {
                    let Ok(Arn::Policy { name, .. }) = Arn::parse(&arn) else {
                        continue;
                    };
                    if let Some(p) = s.entity(&account, EntityKind::Policy, &name)? {
                        let mp: ManagedPolicy = serde_json::from_str(&p.body).map_err(corrupt)?;
                        texts.push(mp.document);
                    }
                }
                Ok(texts)
            })
            .await?;
        let docs: Vec<PolicyDocument> = texts
            .iter()
            .filter_map(|t| trent_policy::parse_identity(t).ok())
            .collect();
        let docs = Arc::new(docs);
        if let Ok(mut m) = self.identities.0.write() {
            m.insert(cache_key.to_owned(), Arc::clone(&docs));
        }
        Ok(docs)
    }
}

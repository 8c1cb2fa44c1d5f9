//! Loading and saving IAM entities, with AWS's NoSuchEntity / EntityAlreadyExists texts, and
//! dropping cached identity policies whenever identities change. Saving and deleting take the
//! action's authorization (the write authority).

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde::Serialize;
use trent_api::KmsError;
use trent_store::{EntityKind, StoreError};
use trent_types::{AccountId, Arn};

use super::model::{self, Group, ManagedPolicy, Role, User};
use super::protocol::IamError;
use crate::credentials::{issue_access_key, prepare, IssuedAccessKey, KeyOwner};
use crate::service::{Authority, Kms};

fn noun(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::User => "user",
        EntityKind::Role => "role",
        EntityKind::Policy => "policy",
        EntityKind::Group => "group",
        EntityKind::CustomKeyStore => "custom key store",
    }
}

impl Kms {
    pub(crate) async fn iam_load<T: DeserializeOwned + Send + 'static>(
        &self,
        account: AccountId,
        kind: EntityKind,
        name: &str,
    ) -> Result<T, IamError> {
        self.iam_load_stored(account, kind, name).await.map(|(v, _)| v)
    }

    /// [`Self::iam_load`], with the stored text a later [`Self::iam_save`] must replace.
    pub(crate) async fn iam_load_stored<T: DeserializeOwned + Send + 'static>(
        &self,
        account: AccountId,
        kind: EntityKind,
        name: &str,
    ) -> Result<(T, String), IamError> {
        let n = name.to_owned();
        let rec = self.read(move |s| s.entity(&account, kind, &n)).await?;
        match rec {
            Some(r) => Ok((model::from_record(&r)?, r.body)),
            None if kind == EntityKind::Policy => Err(IamError::no_such_entity(format!(
                "Policy {} does not exist or is not attachable.",
                model::policy_arn(account, "/", name)
            ))),
            None => Err(IamError::no_such_entity(format!(
                "The {} with name {name} cannot be found.",
                noun(kind)
            ))),
        }
    }

    pub(crate) async fn iam_save<T: Serialize, A: Authority>(
        &self,
        authority: &A,
        account: AccountId,
        kind: EntityKind,
        name: &str,
        value: &T,
        replacing: Option<&str>,
    ) -> Result<(), IamError> {
        let rec = model::to_record(account, kind, name, value)?;
        let expected = replacing.map(str::to_owned);
        let write = move |s: &dyn trent_store::Store| match &expected {
            None => s.put_entity(&rec, false),
            Some(old) => s.replace_entity(&rec, old),
        };
        let stored = match self.try_write(authority, write).await? {
            Ok(()) => true,
            Err(StoreError::UniqueViolation) => false,
            // Another server changed it since it was read (IAM's answer, HTTP 409).
            Err(StoreError::Conflict) => {
                return Err(IamError::new(
                    super::protocol::IamErrorCode::ConcurrentModification,
                    "The request was rejected because multiple requests to change this object were submitted simultaneously. Wait a few minutes and submit your request again.",
                ))
            }
            Err(StoreError::NotFound) => {
                return Err(IamError::no_such_entity(format!(
                    "The {} with name {name} cannot be found.",
                    noun(kind)
                )))
            }
            Err(e) => return Err(KmsError::internal(e).into()),
        };
        self.identities.clear();
        if stored {
            return Ok(());
        }
        Err(IamError::exists(match kind {
            EntityKind::User => format!("User with name {name} already exists."),
            EntityKind::Role => format!("Role with name {name} already exists."),
            EntityKind::Group => format!("Group with name {name} already exists."),
            EntityKind::Policy => format!("A policy called {name} already exists. Duplicate names are not allowed."),
            EntityKind::CustomKeyStore => format!("Custom key store {name} already exists."),
        }))
    }

    /// Renames an entity (`UpdateGroup`): `value` is stored under `new_name` and the entity
    /// stored as `stored` under `name` goes, in the action's transaction (the write runs in its
    /// audit scope). Ordered so that even alone each step leaves a valid state: the old body is
    /// checked first (another server's change is `ConcurrentModification`), the new name is
    /// inserted (taken: `EntityAlreadyExists`, nothing changed), then the old name deleted.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn iam_rename<T: Serialize, A: Authority>(
        &self,
        authority: &A,
        account: AccountId,
        kind: EntityKind,
        name: &str,
        stored: &str,
        new_name: &str,
        value: &T,
    ) -> Result<(), IamError> {
        let old = trent_store::EntityRecord {
            account_id: account,
            kind,
            name: name.to_owned(),
            body: stored.to_owned(),
        };
        let new = model::to_record(account, kind, new_name, value)?;
        let expected = stored.to_owned();
        let result = self
            .try_write(authority, move |s| {
                s.replace_entity(&old, &expected)?;
                s.put_entity(&new, false)?;
                s.delete_entity(&old.account_id, old.kind, &old.name)
            })
            .await?;
        self.identities.clear();
        match result {
            Ok(()) => Ok(()),
            Err(StoreError::UniqueViolation) => Err(IamError::exists(format!(
                "{} with name {new_name} already exists.",
                match kind {
                    EntityKind::Group => "Group",
                    EntityKind::Role => "Role",
                    EntityKind::User => "User",
                    EntityKind::Policy => "Policy",
                    EntityKind::CustomKeyStore => "Custom key store",
                }
            ))),
            Err(StoreError::Conflict) => Err(IamError::new(
                super::protocol::IamErrorCode::ConcurrentModification,
                "The request was rejected because multiple requests to change this object were submitted simultaneously. Wait a few minutes and submit your request again.",
            )),
            Err(StoreError::NotFound) => Err(IamError::no_such_entity(format!(
                "The {} with name {name} cannot be found.",
                noun(kind)
            ))),
            Err(e) => Err(KmsError::internal(e).into()),
        }
    }

    pub(crate) async fn iam_delete<A: Authority>(
        &self,
        authority: &A,
        account: AccountId,
        kind: EntityKind,
        name: &str,
    ) -> Result<(), IamError> {
        let n = name.to_owned();
        let conflict = match self
            .try_write(authority, move |s| s.delete_entity(&account, kind, &n))
            .await?
        {
            // Gone already: what was asked holds.
            Ok(()) | Err(StoreError::NotFound) => false,
            Err(StoreError::Conflict) => true,
            Err(e) => return Err(KmsError::internal(e).into()),
        };
        self.identities.clear();
        if conflict {
            // An access key was created for the user since the check (another server).
            return Err(IamError::delete_conflict(
                "Cannot delete entity, must delete access keys first.",
            ));
        }
        Ok(())
    }

    pub(crate) async fn iam_list<T: DeserializeOwned + Send + 'static>(
        &self,
        account: AccountId,
        kind: EntityKind,
    ) -> Result<Vec<T>, IamError> {
        let recs = self.read(move |s| s.entities(&account, kind)).await?;
        recs.iter()
            .map(|r| model::from_record(r).map_err(IamError::from))
            .collect()
    }

    /// How many users, groups and roles attach each managed policy ARN (DeletePolicy refuses
    /// attached policies; GetPolicy and ListPolicies report the count).
    pub(crate) async fn attachment_counts(&self, account: AccountId) -> Result<HashMap<String, usize>, IamError> {
        let users: Vec<User> = self.iam_list(account, EntityKind::User).await?;
        let roles: Vec<Role> = self.iam_list(account, EntityKind::Role).await?;
        let groups: Vec<Group> = self.iam_list(account, EntityKind::Group).await?;
        let mut counts = HashMap::new();
        for arn in users
            .iter()
            .flat_map(|u| &u.attached)
            .chain(roles.iter().flat_map(|r| &r.attached))
            .chain(groups.iter().flat_map(|g| &g.attached))
        {
            *counts.entry(arn.clone()).or_insert(0) += 1;
        }
        Ok(counts)
    }

    /// How many users, groups and roles attach `policy_arn`.
    pub(crate) async fn attachment_count(&self, account: AccountId, policy_arn: &str) -> Result<usize, IamError> {
        Ok(self
            .attachment_counts(account)
            .await?
            .get(policy_arn)
            .copied()
            .unwrap_or(0))
    }

    /// Issues an access key for `owner`, stores it (sealed) and makes it usable at once.
    pub(crate) async fn issue_key<A: Authority>(
        &self,
        authority: &A,
        account: AccountId,
        owner: KeyOwner,
    ) -> Result<IssuedAccessKey, IamError> {
        let root = self.root();
        let now = self.now_ms();
        let user = match &owner {
            KeyOwner::User { name, .. } | KeyOwner::XksUser { name, .. } => Some(name.clone()),
            KeyOwner::Root | KeyOwner::Session { .. } => None,
        };
        let outcome = self
            .try_write(authority, move |s| {
                // The owner may have gone (or been replaced) since it was checked: the key's own
                // transaction checks again, and then nothing is written.
                let issued = match issue_access_key(s, root.current(), account, owner, now) {
                    Ok(Some(issued)) => issued,
                    Ok(None) => return Err(StoreError::NotFound),
                    Err(e) => return Err(StoreError::Backend(e.to_string())),
                };
                let entry = prepare(s, &root, &issued.record).map_err(|e| StoreError::Backend(e.to_string()))?;
                Ok((issued, entry))
            })
            .await?;
        let (issued, entry) = match outcome {
            Ok(v) => v,
            Err(StoreError::NotFound) => {
                return Err(match user {
                    Some(name) => IamError::no_such_entity(format!("The user with name {name} cannot be found.")),
                    None => IamError::no_such_entity("The role to assume no longer exists."),
                })
            }
            Err(e) => return Err(KmsError::internal(e).into()),
        };
        if let Some(e) = entry {
            self.credentials().insert(e, self.now_ms());
        }
        Ok(issued)
    }

    /// A managed policy by ARN (in the caller's account).
    pub(crate) async fn policy_by_arn(&self, account: AccountId, arn: &str) -> Result<ManagedPolicy, IamError> {
        self.policy_by_arn_stored(account, arn).await.map(|(p, _)| p)
    }

    /// [`Self::policy_by_arn`], with the stored text a later [`Self::iam_save`] must replace.
    pub(crate) async fn policy_by_arn_stored(
        &self,
        account: AccountId,
        arn: &str,
    ) -> Result<(ManagedPolicy, String), IamError> {
        let missing = || IamError::no_such_entity(format!("Policy {arn} does not exist or is not attachable."));
        let Ok(Arn::Policy { name, .. }) = Arn::parse(arn) else {
            return Err(missing());
        };
        let (p, stored): (ManagedPolicy, String) = self
            .iam_load_stored(account, EntityKind::Policy, &name)
            .await
            .map_err(|_| missing())?;
        if model::policy_arn(account, &p.path, &p.name) != arn {
            return Err(missing());
        }
        Ok((p, stored))
    }
}

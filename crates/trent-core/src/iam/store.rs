//! Loading and saving IAM entities, with AWS's NoSuchEntity / EntityAlreadyExists texts, and
//! dropping cached identity policies whenever identities change.

use serde::de::DeserializeOwned;
use serde::Serialize;
use trent_store::StoreError;

use super::model::{self, ManagedPolicy, Role, User, POLICY, ROLE, USER};
use super::protocol::IamError;
use crate::Kms;

fn noun(kind: &str) -> &'static str {
    match kind {
        USER => "user",
        ROLE => "role",
        _ => "policy",
    }
}

impl Kms {
    pub(crate) async fn iam_load<T: DeserializeOwned + Send + 'static>(
        &self,
        account: &str,
        kind: &'static str,
        name: &str,
    ) -> Result<T, IamError> {
        let (a, n) = (account.to_owned(), name.to_owned());
        let rec = self.db(move |s| s.entity(&a, kind, &n)).await?;
        match rec {
            Some(r) => Ok(model::from_record(&r)?),
            None if kind == POLICY => Err(IamError::no_such_entity(format!(
                "Policy {} does not exist or is not attachable.",
                model::policy_arn(account, "/", name)
            ))),
            None => Err(IamError::no_such_entity(format!(
                "The {} with name {name} cannot be found.",
                noun(kind)
            ))),
        }
    }

    pub(crate) async fn iam_save<T: Serialize>(
        &self,
        account: &str,
        kind: &'static str,
        name: &str,
        value: &T,
        create: bool,
    ) -> Result<(), IamError> {
        let rec = model::to_record(account, kind, name, value)?;
        let outcome = self
            .db(move |s| match s.put_entity(&rec, !create) {
                Err(StoreError::UniqueViolation) => Ok(false),
                other => other.map(|()| true),
            })
            .await?;
        self.identities.clear();
        if outcome {
            return Ok(());
        }
        Err(IamError::exists(match kind {
            USER => format!("User with name {name} already exists."),
            ROLE => format!("Role with name {name} already exists."),
            _ => format!("A policy called {name} already exists. Duplicate names are not allowed."),
        }))
    }

    pub(crate) async fn iam_delete(&self, account: &str, kind: &'static str, name: &str) -> Result<(), IamError> {
        let (a, n) = (account.to_owned(), name.to_owned());
        self.db(move |s| match s.delete_entity(&a, kind, &n) {
            Err(StoreError::NotFound) => Ok(()),
            other => other,
        })
        .await?;
        self.identities.clear();
        Ok(())
    }

    pub(crate) async fn iam_list<T: DeserializeOwned + Send + 'static>(
        &self,
        account: &str,
        kind: &'static str,
    ) -> Result<Vec<T>, IamError> {
        let a = account.to_owned();
        let recs = self.db(move |s| s.entities(&a, kind)).await?;
        recs.iter()
            .map(|r| model::from_record(r).map_err(IamError::from))
            .collect()
    }

    /// Users, roles: how many attach `policy_arn` (DeletePolicy refuses attached policies).
    pub(crate) async fn attachment_count(&self, account: &str, policy_arn: &str) -> Result<usize, IamError> {
        let users: Vec<User> = self.iam_list(account, USER).await?;
        let roles: Vec<Role> = self.iam_list(account, ROLE).await?;
        Ok(users
            .iter()
            .filter(|u| u.attached.iter().any(|a| a == policy_arn))
            .count()
            + roles
                .iter()
                .filter(|r| r.attached.iter().any(|a| a == policy_arn))
                .count())
    }

    /// A managed policy by ARN (in the caller's account).
    pub(crate) async fn policy_by_arn(&self, account: &str, arn: &str) -> Result<ManagedPolicy, IamError> {
        let name = arn.rsplit('/').next().unwrap_or_default();
        let p: ManagedPolicy = self
            .iam_load(account, POLICY, name)
            .await
            .map_err(|_| IamError::no_such_entity(format!("Policy {arn} does not exist or is not attachable.")))?;
        if model::policy_arn(account, &p.path, &p.name) != arn {
            return Err(IamError::no_such_entity(format!(
                "Policy {arn} does not exist or is not attachable."
            )));
        }
        Ok(p)
    }
}

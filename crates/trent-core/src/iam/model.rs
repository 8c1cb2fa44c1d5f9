//! IAM entities as stored: versioned JSON documents (`"v": 1`) in the store's entity table.
//! Users, groups and roles carry their inline policies and attached managed-policy ARNs; a group
//! carries its members (user names: a user in a group cannot be deleted, so a name never outlives
//! its user).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use trent_api::KmsError;
use trent_store::{EntityKind, EntityRecord};
use trent_types::{AccountId, Arn};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct User {
    pub v: u32,
    pub name: String,
    pub id: String,
    pub path: String,
    pub created_ms: i64,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub inline: BTreeMap<String, String>,
    #[serde(default)]
    pub attached: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Role {
    pub v: u32,
    pub name: String,
    pub id: String,
    pub path: String,
    pub created_ms: i64,
    pub trust_policy: String,
    #[serde(default)]
    pub description: Option<String>,
    pub max_session_secs: i64,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub inline: BTreeMap<String, String>,
    #[serde(default)]
    pub attached: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Group {
    pub v: u32,
    pub name: String,
    pub id: String,
    pub path: String,
    pub created_ms: i64,
    #[serde(default)]
    pub inline: BTreeMap<String, String>,
    #[serde(default)]
    pub attached: Vec<String>,
    /// Member user names, in the order they were added.
    #[serde(default)]
    pub members: Vec<String>,
}

/// A customer managed policy. `document` is its default version's; the others are kept in
/// `other_versions` (IAM keeps at most five versions of a policy).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManagedPolicy {
    pub v: u32,
    pub name: String,
    pub id: String,
    pub path: String,
    pub created_ms: i64,
    pub document: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The default version's id (`v1` for a policy never given another).
    #[serde(default = "first_version")]
    pub default_version: String,
    /// When the default version was made (`created_ms` when absent).
    #[serde(default)]
    pub default_created_ms: Option<i64>,
    /// The number of the newest version ever made (ids are never reused).
    #[serde(default = "one")]
    pub last_version: u32,
    /// When the policy last changed (`UpdateDate`).
    #[serde(default)]
    pub updated_ms: Option<i64>,
    #[serde(default)]
    pub other_versions: Vec<PolicyVersion>,
}

/// A version of a managed policy that is not the default.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PolicyVersion {
    pub id: String,
    pub document: String,
    pub created_ms: i64,
}

fn first_version() -> String {
    "v1".to_owned()
}

fn one() -> u32 {
    1
}

/// STS session details kept with a temporary access key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Session {
    pub v: u32,
    pub role_name: String,
    pub role_id: String,
    pub role_arn: String,
    pub session_name: String,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

pub(crate) fn user_arn(account: AccountId, path: &str, name: &str) -> String {
    Arn::User {
        account,
        path: path.to_owned(),
        name: name.to_owned(),
    }
    .to_string()
}

pub(crate) fn role_arn(account: AccountId, path: &str, name: &str) -> String {
    Arn::Role {
        account,
        path: path.to_owned(),
        name: name.to_owned(),
    }
    .to_string()
}

pub(crate) fn group_arn(account: AccountId, path: &str, name: &str) -> String {
    Arn::Group {
        account,
        path: path.to_owned(),
        name: name.to_owned(),
    }
    .to_string()
}

pub(crate) fn policy_arn(account: AccountId, path: &str, name: &str) -> String {
    Arn::Policy {
        account,
        path: path.to_owned(),
        name: name.to_owned(),
    }
    .to_string()
}

pub(crate) fn assumed_role_arn(account: AccountId, role: &str, session: &str) -> String {
    Arn::AssumedRole {
        account,
        role: role.to_owned(),
        session: session.to_owned(),
    }
    .to_string()
}

pub(crate) fn to_record<T: Serialize>(
    account: AccountId,
    kind: EntityKind,
    name: &str,
    v: &T,
) -> Result<EntityRecord, KmsError> {
    Ok(EntityRecord {
        account_id: account,
        kind,
        name: name.to_owned(),
        body: serde_json::to_string(v).map_err(KmsError::internal)?,
    })
}

pub(crate) fn from_record<T: for<'de> Deserialize<'de>>(r: &EntityRecord) -> Result<T, KmsError> {
    serde_json::from_str(&r.body)
        .map_err(|e| KmsError::internal(format!("corrupt {} {}: {e}", r.kind.as_str(), r.name)))
}

/// An IAM-style unique id: 4-letter prefix + 17 base32 characters (`AIDA…`, `AROA…`, `ANPA…`).
pub(crate) fn unique_id(prefix: &str) -> Result<String, KmsError> {
    const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let r = trent_crypto::random::array::<17>().map_err(KmsError::internal)?;
    let mut s = prefix.to_owned();
    s.extend(
        r.iter()
            .map(|b| char::from(B32.get(usize::from(*b) % 32).copied().unwrap_or(b'A'))),
    );
    Ok(s)
}

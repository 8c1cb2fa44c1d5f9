//! IAM entities as stored: versioned JSON documents (`"v": 1`) in the store's entity table.
//! Users and roles carry their inline policies and attached managed-policy ARNs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use trent_api::KmsError;
use trent_store::EntityRecord;

pub const USER: &str = "user";
pub const ROLE: &str = "role";
pub const POLICY: &str = "policy";

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
pub struct ManagedPolicy {
    pub v: u32,
    pub name: String,
    pub id: String,
    pub path: String,
    pub created_ms: i64,
    pub document: String,
    #[serde(default)]
    pub description: Option<String>,
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

pub fn user_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:user{path}{name}")
}

pub fn role_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role{path}{name}")
}

pub fn policy_arn(account: &str, path: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:policy{path}{name}")
}

pub fn assumed_role_arn(account: &str, role: &str, session: &str) -> String {
    format!("arn:aws:sts::{account}:assumed-role/{role}/{session}")
}

pub(crate) fn to_record<T: Serialize>(account: &str, kind: &str, name: &str, v: &T) -> Result<EntityRecord, KmsError> {
    Ok(EntityRecord {
        account_id: account.to_owned(),
        kind: kind.to_owned(),
        name: name.to_owned(),
        body: serde_json::to_string(v).map_err(KmsError::internal)?,
    })
}

pub(crate) fn from_record<T: for<'de> Deserialize<'de>>(r: &EntityRecord) -> Result<T, KmsError> {
    serde_json::from_str(&r.body).map_err(|e| KmsError::internal(format!("corrupt {} {}: {e}", r.kind, r.name)))
}

/// An IAM-style unique id: 4-letter prefix + 17 base32 characters (`AIDA…`, `AROA…`, `ANPA…`).
pub fn unique_id(prefix: &str) -> Result<String, KmsError> {
    const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let r = trent_crypto::random::array::<17>().map_err(KmsError::internal)?;
    let mut s = prefix.to_owned();
    s.extend(r.iter().map(|b| B32[(*b as usize) % 32] as char));
    Ok(s)
}

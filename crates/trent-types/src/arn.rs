//! The one ARN type: every Amazon Resource Name Trent builds or reads (KMS keys and aliases, IAM
//! roots, users, groups, roles and policies, STS assumed-role sessions), formatted and parsed in one
//! place (AWS General Reference, "Amazon Resource Names": `arn:partition:service:region:
//! account-id:resource`).

use std::fmt;

use crate::ids::{AccountId, AliasName, KeyId, Region};

/// The partition Trent serves.
pub const PARTITION: &str = "aws";

/// A parsed ARN of a kind Trent knows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Arn {
    /// `arn:aws:kms:<region>:<account>:key/<key-id>`
    Key {
        region: Region,
        account: AccountId,
        key_id: KeyId,
    },
    /// `arn:aws:kms:<region>:<account>:alias/<name>`
    Alias {
        region: Region,
        account: AccountId,
        name: AliasName,
    },
    /// `arn:aws:iam::<account>:root`
    Root { account: AccountId },
    /// `arn:aws:iam::<account>:user<path><name>`
    User {
        account: AccountId,
        path: String,
        name: String,
    },
    /// `arn:aws:iam::<account>:role<path><name>`
    Role {
        account: AccountId,
        path: String,
        name: String,
    },
    /// `arn:aws:iam::<account>:group<path><name>`
    Group {
        account: AccountId,
        path: String,
        name: String,
    },
    /// `arn:aws:iam::<account>:policy<path><name>`
    Policy {
        account: AccountId,
        path: String,
        name: String,
    },
    /// `arn:aws:sts::<account>:assumed-role/<role>/<session>`
    AssumedRole {
        account: AccountId,
        role: String,
        session: String,
    },
}

/// Why a string is not an ARN Trent can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArnError {
    /// Not `arn:<partition>:<service>:<region>:<account>:<resource>` with a known partition,
    /// service, account and resource shape.
    Malformed,
    /// A KMS ARN whose Region field is not a Region Trent could serve (the raw field is kept:
    /// AWS answers `Invalid arn <region>`).
    Region(String),
}

/// `user/a/b/name` → (`/a/b/`, `name`).
fn path_and_name(rest: &str) -> Option<(String, String)> {
    let (path, name) = match rest.rsplit_once('/') {
        Some((p, n)) => (format!("/{p}/"), n),
        None => ("/".to_owned(), rest),
    };
    (!name.is_empty()).then(|| (path, name.to_owned()))
}

impl Arn {
    pub fn parse(s: &str) -> Result<Arn, ArnError> {
        Arn::parse_inner(s, None)
    }

    /// Like [`Arn::parse`], for a KMS endpoint serving `region`: a KMS ARN of any other Region is
    /// `ArnError::Region` before its resource is looked at (AWS: `Invalid arn <region>`).
    pub fn parse_for_region(s: &str, region: &Region) -> Result<Arn, ArnError> {
        Arn::parse_inner(s, Some(region))
    }

    fn parse_inner(s: &str, expected: Option<&Region>) -> Result<Arn, ArnError> {
        let mut parts = s.splitn(6, ':');
        let (Some("arn"), Some(partition), Some(service), Some(region), Some(account), Some(resource)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(ArnError::Malformed);
        };
        if partition != PARTITION {
            return Err(ArnError::Malformed);
        }
        let account = AccountId::parse(account).ok_or(ArnError::Malformed)?;
        match service {
            "kms" => {
                if expected.is_some_and(|e| e.as_str() != region) {
                    return Err(ArnError::Region(region.to_owned()));
                }
                let region = Region::parse(region).ok_or_else(|| ArnError::Region(region.to_owned()))?;
                if let Some(id) = resource.strip_prefix("key/") {
                    let key_id = KeyId::parse(id).ok_or(ArnError::Malformed)?;
                    return Ok(Arn::Key {
                        region,
                        account,
                        key_id,
                    });
                }
                let name = AliasName::parse(resource).ok_or(ArnError::Malformed)?;
                Ok(Arn::Alias { region, account, name })
            }
            "iam" if region.is_empty() => {
                if resource == "root" {
                    return Ok(Arn::Root { account });
                }
                let (kind, rest) = resource.split_once('/').ok_or(ArnError::Malformed)?;
                let (path, name) = path_and_name(rest).ok_or(ArnError::Malformed)?;
                match kind {
                    "user" => Ok(Arn::User { account, path, name }),
                    "role" => Ok(Arn::Role { account, path, name }),
                    "policy" => Ok(Arn::Policy { account, path, name }),
                    "group" => Ok(Arn::Group { account, path, name }),
                    _ => Err(ArnError::Malformed),
                }
            }
            "sts" if region.is_empty() => {
                let rest = resource.strip_prefix("assumed-role/").ok_or(ArnError::Malformed)?;
                let (role, session) = rest.split_once('/').ok_or(ArnError::Malformed)?;
                if role.is_empty() || session.is_empty() || session.contains('/') {
                    return Err(ArnError::Malformed);
                }
                Ok(Arn::AssumedRole {
                    account,
                    role: role.to_owned(),
                    session: session.to_owned(),
                })
            }
            _ => Err(ArnError::Malformed),
        }
    }

    /// The account the resource belongs to.
    pub fn account(&self) -> AccountId {
        match self {
            Arn::Key { account, .. }
            | Arn::Alias { account, .. }
            | Arn::Root { account }
            | Arn::User { account, .. }
            | Arn::Role { account, .. }
            | Arn::Policy { account, .. }
            | Arn::Group { account, .. }
            | Arn::AssumedRole { account, .. } => *account,
        }
    }

    /// `arn:aws:kms:<region>:<account>:key/<id>` as a string (the hot path caches it per key).
    pub fn key(region: &Region, account: AccountId, key_id: KeyId) -> String {
        Arn::Key {
            region: region.clone(),
            account,
            key_id,
        }
        .to_string()
    }

    pub fn alias(region: &Region, account: AccountId, name: &AliasName) -> String {
        Arn::Alias {
            region: region.clone(),
            account,
            name: name.clone(),
        }
        .to_string()
    }

    pub fn root(account: AccountId) -> String {
        Arn::Root { account }.to_string()
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arn::Key {
                region,
                account,
                key_id,
            } => write!(f, "arn:{PARTITION}:kms:{region}:{account}:key/{key_id}"),
            Arn::Alias { region, account, name } => write!(f, "arn:{PARTITION}:kms:{region}:{account}:{name}"),
            Arn::Root { account } => write!(f, "arn:{PARTITION}:iam::{account}:root"),
            Arn::User { account, path, name } => write!(f, "arn:{PARTITION}:iam::{account}:user{path}{name}"),
            Arn::Role { account, path, name } => write!(f, "arn:{PARTITION}:iam::{account}:role{path}{name}"),
            Arn::Policy { account, path, name } => write!(f, "arn:{PARTITION}:iam::{account}:policy{path}{name}"),
            Arn::Group { account, path, name } => write!(f, "arn:{PARTITION}:iam::{account}:group{path}{name}"),
            Arn::AssumedRole { account, role, session } => {
                write!(f, "arn:{PARTITION}:sts::{account}:assumed-role/{role}/{session}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips() {
        for s in [
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:eu-west-1:111122223333:alias/app/prod",
            "arn:aws:iam::111122223333:root",
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:iam::111122223333:user/team/a/alice",
            "arn:aws:iam::111122223333:role/app",
            "arn:aws:iam::111122223333:policy/p",
            "arn:aws:iam::111122223333:group/ops/admins",
            "arn:aws:sts::111122223333:assumed-role/app/session-1",
        ] {
            let arn = Arn::parse(s).unwrap_or_else(|e| panic!("{s}: {e:?}"));
            assert_eq!(arn.to_string(), s);
            assert_eq!(arn.account().as_str(), "111122223333");
        }
        assert_eq!(
            Arn::parse("arn:aws:iam::111122223333:user/team/a/alice"),
            Ok(Arn::User {
                account: AccountId::parse("111122223333").expect("acct"),
                path: "/team/a/".into(),
                name: "alice".into()
            })
        );
    }

    #[test]
    fn malformed_and_foreign_arns_are_rejected() {
        for s in [
            "",
            "arn:",
            "arn:aws-cn:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:s3:::bucket",
            "arn:aws:kms:us-east-1:1111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:us-east-1:111122223333:key/nope",
            "arn:aws:iam::111122223333:user/",
            "arn:aws:sts::111122223333:assumed-role/app",
            "arn:aws:iam::111122223333:instance-profile/p",
            "arn:aws:kms:us-east-1:111122223333:alias/日本語キー",
        ] {
            assert_eq!(Arn::parse(s), Err(ArnError::Malformed), "{s}");
        }
        assert_eq!(
            Arn::parse("arn:aws:kms:日本:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
            Err(ArnError::Region("日本".into()))
        );
    }
}

//! The four forms a `KeyId` member can take (reference §4.2): key id, key ARN, alias name, alias
//! ARN. Parse, don't validate: a [`KeyRef`] is well-formed by construction; resolving it to a key
//! is the authorizer's job. The error texts are AWS's recorded ones, in AWS's order of checks.

use trent_api::KmsError;
use trent_types::{AccountId, AliasName, Arn, KeyId, Region, PARTITION};

/// A syntactically valid reference to a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyRef {
    /// A bare key id, in the caller's account.
    Id(KeyId),
    /// A key ARN naming its account.
    Arn { account: AccountId, key_id: KeyId },
    /// `alias/<name>`, in the caller's account.
    Alias(AliasName),
    /// An alias ARN naming its account.
    AliasArn { account: AccountId, name: AliasName },
    /// An alias that cannot exist (characters no alias may have): resolution answers
    /// `Alias <arn> is not found.` as for any unknown alias.
    NoSuchAlias { account: Option<AccountId>, name: String },
}

/// Which forms an operation accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Forms {
    /// Key id or key ARN (management operations).
    IdOrArn,
    /// Also alias name and alias ARN (cryptographic operations, DescribeKey, GetPublicKey).
    Any,
}

fn invalid_key_id(raw: &str) -> KmsError {
    KmsError::NotFound(format!("Invalid keyId '{raw}'"))
}

/// `NotFoundException: Key '<arn>' does not exist` (the ARN in the request Region).
pub(crate) fn key_not_found(region: &Region, account: AccountId, key_id: KeyId) -> KmsError {
    KmsError::NotFound(format!("Key '{}' does not exist", Arn::key(region, account, key_id)))
}

/// `NotFoundException: Alias <alias ARN> is not found.`
pub(crate) fn alias_not_found(region: &Region, account: AccountId, name: &str) -> KmsError {
    KmsError::NotFound(format!(
        "Alias arn:{PARTITION}:kms:{region}:{account}:{name} is not found."
    ))
}

/// Parses a `KeyId` member. An ARN of another Region is `NotFoundException: Invalid arn
/// <region>` (AWS-recorded), checked before the resource part.
pub(crate) fn parse_key_ref(raw: &str, forms: Forms, region: &Region) -> Result<KeyRef, KmsError> {
    if let Some(rest) = raw.strip_prefix("arn:") {
        let mut parts = rest.splitn(5, ':');
        let (Some(partition), Some(service), Some(arn_region), Some(account), Some(resource)) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid_key_id(raw));
        };
        let account = AccountId::parse(account).filter(|_| service == "kms" && partition == PARTITION);
        let Some(account) = account else {
            return Err(invalid_key_id(raw));
        };
        if arn_region != region.as_str() {
            return Err(KmsError::NotFound(format!("Invalid arn {arn_region}")));
        }
        if let Some(id) = resource.strip_prefix("key/") {
            return KeyId::parse(id)
                .map(|key_id| KeyRef::Arn { account, key_id })
                .ok_or_else(|| invalid_key_id(raw));
        }
        if resource.starts_with(AliasName::PREFIX) && forms == Forms::Any {
            return Ok(match AliasName::parse(resource) {
                Some(name) => KeyRef::AliasArn { account, name },
                None => KeyRef::NoSuchAlias {
                    account: Some(account),
                    name: resource.to_owned(),
                },
            });
        }
        return Err(invalid_key_id(raw));
    }
    if raw.starts_with(AliasName::PREFIX) && forms == Forms::Any {
        return Ok(match AliasName::parse(raw) {
            Some(name) => KeyRef::Alias(name),
            None => KeyRef::NoSuchAlias {
                account: None,
                name: raw.to_owned(),
            },
        });
    }
    KeyId::parse(raw).map(KeyRef::Id).ok_or_else(|| invalid_key_id(raw))
}

/// `kms:RequestAlias`: the alias a `KeyId` member names, if any.
pub(crate) fn request_alias(raw: &str) -> Option<&str> {
    if raw.starts_with(AliasName::PREFIX) {
        return Some(raw);
    }
    if !raw.starts_with("arn:") {
        return None;
    }
    raw.find(":alias/").and_then(|i| raw.get(i + 1..))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

    fn region() -> Region {
        Region::parse("us-east-1").expect("region")
    }

    #[test]
    fn parses_every_form() {
        let acct = AccountId::parse("111122223333").expect("acct");
        let id = KeyId::parse(ID).expect("id");
        let arn = format!("arn:aws:kms:us-east-1:111122223333:key/{ID}");
        assert_eq!(
            parse_key_ref(ID, Forms::IdOrArn, &region()).expect("id"),
            KeyRef::Id(id)
        );
        assert_eq!(
            parse_key_ref(&arn, Forms::IdOrArn, &region()).expect("arn"),
            KeyRef::Arn {
                account: acct,
                key_id: id
            }
        );
        assert_eq!(
            parse_key_ref("alias/x", Forms::Any, &region()).expect("alias"),
            KeyRef::Alias(AliasName::parse("alias/x").expect("name"))
        );
        assert_eq!(
            parse_key_ref("arn:aws:kms:us-east-1:111122223333:alias/x", Forms::Any, &region()).expect("alias arn"),
            KeyRef::AliasArn {
                account: acct,
                name: AliasName::parse("alias/x").expect("name")
            }
        );
        assert!(matches!(
            parse_key_ref("alias/日本語キー", Forms::Any, &region()),
            Ok(KeyRef::NoSuchAlias { .. })
        ));
    }

    #[test]
    fn errors_match_aws_texts() {
        let e = parse_key_ref("fake-key-id", Forms::Any, &region()).expect_err("bad");
        assert_eq!(e.to_string(), "Invalid keyId 'fake-key-id'");
        let e = parse_key_ref("134f2428cec14b25a1ae9048164dba47", Forms::Any, &region()).expect_err("bad");
        assert_eq!(e.to_string(), "Invalid keyId '134f2428cec14b25a1ae9048164dba47'");
        let e = parse_key_ref(
            &format!("arn:aws:kms:us-west-2:111122223333:key/{ID}"),
            Forms::Any,
            &region(),
        )
        .expect_err("region");
        assert_eq!(e.to_string(), "Invalid arn us-west-2");
        assert!(parse_key_ref("alias/x", Forms::IdOrArn, &region()).is_err());
        for hostile in ["aéé", "日本語キー", "a💡b", "arn:aws:kms:日本:1:key/x", "arn:💡"] {
            assert!(parse_key_ref(hostile, Forms::Any, &region()).is_err(), "{hostile}");
        }
    }

    #[test]
    fn request_alias_forms() {
        assert_eq!(request_alias("alias/a"), Some("alias/a"));
        assert_eq!(
            request_alias("arn:aws:kms:us-east-1:111122223333:alias/a"),
            Some("alias/a")
        );
        assert_eq!(request_alias(ID), None);
    }
}

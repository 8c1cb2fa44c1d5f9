//! Key identifiers, ARNs and the four forms a `KeyId` member can take (reference §4.2): key id,
//! key ARN, alias name, alias ARN. Parse, don't validate: a [`KeyRef`] is well-formed by
//! construction; resolving it to a key is the service's job.

use trent_api::KmsError;
use trent_crypto::envelope::KeyIdBytes;

pub const PARTITION: &str = "aws";

/// Where this server is: its Region.
#[derive(Debug, Clone)]
pub struct Location {
    pub region: String,
}

impl Location {
    pub fn key_arn(&self, account: &str, key_id: &str) -> String {
        format!("arn:{PARTITION}:kms:{}:{account}:key/{key_id}", self.region)
    }
    pub fn alias_arn(&self, account: &str, alias_name: &str) -> String {
        format!("arn:{PARTITION}:kms:{}:{account}:{alias_name}", self.region)
    }
}

/// A syntactically valid reference to a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRef {
    /// A bare key id, in the caller's account.
    Id(String),
    /// A key ARN naming its account.
    Arn { account: String, key_id: String },
    /// `alias/<name>`, in the caller's account.
    Alias(String),
    /// An alias ARN naming its account; the name includes `alias/`.
    AliasArn { account: String, name: String },
}

/// Which forms an operation accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forms {
    /// Key id or key ARN (management operations).
    IdOrArn,
    /// Also alias name and alias ARN (cryptographic operations, DescribeKey, GetPublicKey).
    Any,
}

/// `1234abcd-12ab-34cd-56ef-1234567890ab` (8-4-4-4-12 hex).
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `mrk-` followed by 32 hex digits.
pub fn is_mrk_id(s: &str) -> bool {
    s.strip_prefix("mrk-")
        .is_some_and(|h| h.len() == 32 && h.bytes().all(|c| c.is_ascii_hexdigit()))
}

fn invalid_key_id(raw: &str) -> KmsError {
    KmsError::NotFound(format!("Invalid keyId '{raw}'"))
}

/// Parses a `KeyId` member. `region` is the server's: an ARN of another Region is
/// `NotFoundException: Invalid arn <region>` (AWS-recorded).
pub fn parse_key_ref(raw: &str, forms: Forms, region: &str) -> Result<KeyRef, KmsError> {
    if let Some(rest) = raw.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let [partition, service, arn_region, account, resource] = parts.as_slice() else {
            return Err(invalid_key_id(raw));
        };
        if *service != "kms" || *partition != PARTITION || !is_account_id(account) {
            return Err(invalid_key_id(raw));
        }
        if *arn_region != region {
            return Err(KmsError::NotFound(format!("Invalid arn {arn_region}")));
        }
        if let Some(id) = resource.strip_prefix("key/") {
            if is_uuid(id) || is_mrk_id(id) {
                return Ok(KeyRef::Arn {
                    account: (*account).to_owned(),
                    key_id: id.to_owned(),
                });
            }
            return Err(invalid_key_id(raw));
        }
        if resource.starts_with("alias/") && forms == Forms::Any {
            return Ok(KeyRef::AliasArn {
                account: (*account).to_owned(),
                name: (*resource).to_owned(),
            });
        }
        return Err(invalid_key_id(raw));
    }
    if raw.starts_with("alias/") && forms == Forms::Any {
        return Ok(KeyRef::Alias(raw.to_owned()));
    }
    if is_uuid(raw) || is_mrk_id(raw) {
        return Ok(KeyRef::Id(raw.to_owned()));
    }
    Err(invalid_key_id(raw))
}

pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|c| c.is_ascii_digit())
}

/// A key id as the 16+1 bytes the ciphertext blob carries.
pub fn key_id_bytes(key_id: &str) -> Option<KeyIdBytes> {
    let (multi_region, hex_digits) = match key_id.strip_prefix("mrk-") {
        Some(h) => (true, h.to_owned()),
        None => (false, key_id.replace('-', "")),
    };
    let v = hex::decode(hex_digits).ok()?;
    Some(KeyIdBytes {
        multi_region,
        id: v.try_into().ok()?,
    })
}

/// The inverse of [`key_id_bytes`].
pub fn key_id_string(b: &KeyIdBytes) -> String {
    let h = hex::encode(b.id);
    if b.multi_region {
        format!("mrk-{h}")
    } else {
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn parses_every_form() {
        let arn = format!("arn:aws:kms:us-east-1:111122223333:key/{ID}");
        assert_eq!(
            parse_key_ref(ID, Forms::IdOrArn, "us-east-1").expect("id"),
            KeyRef::Id(ID.into())
        );
        assert_eq!(
            parse_key_ref(&arn, Forms::IdOrArn, "us-east-1").expect("arn"),
            KeyRef::Arn {
                account: "111122223333".into(),
                key_id: ID.into()
            }
        );
        assert_eq!(
            parse_key_ref("alias/x", Forms::Any, "us-east-1").expect("alias"),
            KeyRef::Alias("alias/x".into())
        );
        assert_eq!(
            parse_key_ref("arn:aws:kms:us-east-1:111122223333:alias/x", Forms::Any, "us-east-1").expect("alias arn"),
            KeyRef::AliasArn {
                account: "111122223333".into(),
                name: "alias/x".into()
            }
        );
    }

    #[test]
    fn errors_match_aws_texts() {
        let e = parse_key_ref("fake-key-id", Forms::Any, "us-east-1").expect_err("bad");
        assert_eq!(e.to_string(), "Invalid keyId 'fake-key-id'");
        let e = parse_key_ref("134f2428cec14b25a1ae9048164dba47", Forms::Any, "us-east-1").expect_err("bad");
        assert_eq!(e.to_string(), "Invalid keyId '134f2428cec14b25a1ae9048164dba47'");
        let e = parse_key_ref(
            &format!("arn:aws:kms:us-west-2:111122223333:key/{ID}"),
            Forms::Any,
            "us-east-1",
        )
        .expect_err("region");
        assert_eq!(e.to_string(), "Invalid arn us-west-2");
        assert!(parse_key_ref("alias/x", Forms::IdOrArn, "us-east-1").is_err());
    }

    #[test]
    fn key_id_bytes_round_trip() {
        for id in [ID, "mrk-1234abcd12ab34cd56ef1234567890ab"] {
            assert_eq!(key_id_string(&key_id_bytes(id).expect("bytes")), id);
        }
    }
}

//! Identifiers with checked constructors: a value of these types is well-formed (reference §0
//! "Key ID formats", "Shape constraints"). Key ids and account ids are fixed-size and `Copy`,
//! so the hot path hashes and compares them without allocating.

use std::fmt;
use std::sync::Arc;

/// A 12-digit AWS account id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId([u8; 12]);

impl AccountId {
    /// Exactly 12 ASCII digits.
    pub fn parse(s: &str) -> Option<AccountId> {
        let bytes: [u8; 12] = s.as_bytes().try_into().ok()?;
        bytes.iter().all(u8::is_ascii_digit).then_some(AccountId(bytes))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// A KMS key id: a UUID (`1234abcd-12ab-34cd-56ef-1234567890ab`) or a multi-Region key id (`mrk-`
/// and 32 hex digits). Both are 36 ASCII characters; the case the client used is kept, so an
/// upper-case id names no stored key (AWS stores and returns lower case).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; 36]);

/// The lower-case hex digit of a nibble.
fn hex_digit(v: u8) -> u8 {
    match v & 0x0f {
        d @ 0..=9 => b'0' + d,
        d => b'a' + d - 10,
    }
}

impl KeyId {
    /// A UUID (8-4-4-4-12 hex digits) or `mrk-` followed by 32 hex digits.
    pub fn parse(s: &str) -> Option<KeyId> {
        let bytes: [u8; 36] = s.as_bytes().try_into().ok()?;
        let ok = if let Some(hex) = bytes.strip_prefix(b"mrk-") {
            hex.iter().all(u8::is_ascii_hexdigit)
        } else {
            bytes.iter().enumerate().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => *c == b'-',
                _ => c.is_ascii_hexdigit(),
            })
        };
        ok.then_some(KeyId(bytes))
    }

    /// The id of a new single-Region key from 16 random bytes (a version-4 UUID).
    pub fn from_random(mut b: [u8; 16]) -> KeyId {
        if let Some(v) = b.get_mut(6) {
            *v = (*v & 0x0f) | 0x40;
        }
        if let Some(v) = b.get_mut(8) {
            *v = (*v & 0x3f) | 0x80;
        }
        KeyId::from_bytes(false, b)
    }

    /// The key id a ciphertext blob names: 16 bytes and whether it is multi-Region (lower case).
    pub fn from_bytes(multi_region: bool, b: [u8; 16]) -> KeyId {
        let mut out = [0u8; 36];
        let mut pos = 0;
        let mut put = |c: u8| {
            if let Some(slot) = out.get_mut(pos) {
                *slot = c;
            }
            pos += 1;
        };
        if multi_region {
            b"mrk-".iter().for_each(|c| put(*c));
        }
        for (i, byte) in b.iter().enumerate() {
            if !multi_region && matches!(i, 4 | 6 | 8 | 10) {
                put(b'-');
            }
            put(hex_digit(byte >> 4));
            put(hex_digit(*byte));
        }
        KeyId(out)
    }

    /// The 16 bytes and the multi-Region flag, for the ciphertext blob.
    pub fn to_bytes(&self) -> (bool, [u8; 16]) {
        let mrk = self.is_multi_region();
        let digits = self.0.iter().skip(if mrk { 4 } else { 0 }).filter(|c| **c != b'-');
        let mut out = [0u8; 16];
        let mut high = None;
        let mut i = 0;
        for c in digits {
            let v = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                _ => c.to_ascii_lowercase().wrapping_sub(b'a').wrapping_add(10),
            };
            match high.take() {
                None => high = Some(v),
                Some(h) => {
                    if let Some(slot) = out.get_mut(i) {
                        *slot = (h << 4) | v;
                    }
                    i += 1;
                }
            }
        }
        (mrk, out)
    }

    pub fn is_multi_region(&self) -> bool {
        self.0.starts_with(b"mrk-")
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// An AWS Region name (`RegionType`: `^([a-z]+-){2,3}\d+$`), cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Region(Arc<str>);

impl Region {
    pub fn parse(s: &str) -> Option<Region> {
        (Region::is_name(s) && s.len() <= 32).then(|| Region(Arc::from(s)))
    }

    /// Whether `s` has the shape of the model's `RegionType` pattern, `^([a-z]+-){2,3}\d+$`
    /// (its length aside: the model checks that as a constraint of its own).
    pub fn is_name(s: &str) -> bool {
        let mut parts = s.split('-');
        let Some(last) = parts.next_back() else {
            return false;
        };
        let words: Vec<&str> = parts.collect();
        (2..=3).contains(&words.len())
            && words
                .iter()
                .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
            && !last.is_empty()
            && last.bytes().all(|b| b.is_ascii_digit())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name, shared (audit events hold it without copying).
    pub fn shared(&self) -> Arc<str> {
        Arc::clone(&self.0)
    }
}

/// An alias name: `alias/` and 1–250 characters of `[a-zA-Z0-9/_-]` (AliasNameType without the
/// `:` AWS rejects as "contains invalid characters for an alias"). Cheap to clone.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AliasName(Arc<str>);

impl AliasName {
    pub const PREFIX: &'static str = "alias/";
    /// AWS managed keys' aliases: reserved for AWS.
    pub const AWS_PREFIX: &'static str = "alias/aws/";

    pub fn parse(s: &str) -> Option<AliasName> {
        let rest = s.strip_prefix(Self::PREFIX)?;
        let ok = !rest.is_empty()
            && s.len() <= 256
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-'));
        ok.then(|| AliasName(Arc::from(s)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `alias/aws/…`: names only AWS may create.
    pub fn is_aws_reserved(&self) -> bool {
        self.0.starts_with(Self::AWS_PREFIX)
    }
}

macro_rules! string_like {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.as_str(), f)
            }
        }
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                <$t>::parse(&s).ok_or_else(|| {
                    serde::de::Error::invalid_value(serde::de::Unexpected::Str(&s), &stringify!($t))
                })
            }
        }
        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }
    )*};
}

string_like!(AccountId, KeyId, Region, AliasName);

#[cfg(test)]
mod region_tests {
    use super::Region;

    #[test]
    fn region_names_follow_the_model_pattern() {
        for ok in ["us-east-1", "eu-west-3", "us-gov-west-1", "ap-southeast-12"] {
            assert!(Region::is_name(ok) && Region::parse(ok).is_some(), "{ok}");
        }
        for bad in [
            "",
            "us",
            "us-east",
            "us-east-",
            "US-east-1",
            "us-east-1a",
            "a-b-c-d-1",
            "-east-1",
        ] {
            assert!(!Region::is_name(bad) && Region::parse(bad).is_none(), "{bad}");
        }
        let long = format!("{}-east-1", "a".repeat(40));
        assert!(
            Region::is_name(&long) && Region::parse(&long).is_none(),
            "length is checked apart"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn key_ids_parse_and_round_trip_through_bytes() {
        for s in [ID, "mrk-1234abcd12ab34cd56ef1234567890ab"] {
            let id = KeyId::parse(s).expect("valid");
            assert_eq!(id.as_str(), s);
            let (mrk, b) = id.to_bytes();
            assert_eq!(KeyId::from_bytes(mrk, b), id);
        }
        for bad in [
            "fake-key-id",
            "134f2428cec14b25a1ae9048164dba47",
            "mrk-fake-key-id",
            "1234abcd-12ab-34cd-56ef-1234567890a日",
            "",
        ] {
            assert!(KeyId::parse(bad).is_none(), "{bad}");
        }
        let random = KeyId::from_random([0xff; 16]);
        assert_eq!(random.as_str(), "ffffffff-ffff-4fff-bfff-ffffffffffff");
    }

    #[test]
    fn accounts_regions_aliases() {
        assert!(AccountId::parse("111122223333").is_some());
        assert!(AccountId::parse("11112222333").is_none());
        assert!(AccountId::parse("11112222333a").is_none());
        assert!(AccountId::parse("١١١١٢٢٢٢٣٣٣٣").is_none(), "Unicode digits");
        assert!(Region::parse("us-east-1").is_some());
        assert!(Region::parse("us-gov-west-1").is_some());
        assert!(Region::parse("useast1").is_none());
        assert!(Region::parse("us-east-").is_none());
        assert!(AliasName::parse("alias/app").is_some());
        assert!(AliasName::parse("alias/aws/s3").is_some_and(|a| a.is_aws_reserved()));
        for bad in ["alias/", "app", "alias/a:b", "alias/aéé", "alias/日本語キー"] {
            assert!(AliasName::parse(bad).is_none(), "{bad}");
        }
    }
}

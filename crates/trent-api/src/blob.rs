//! Base64 blob members (`"type":"blob"` in the KMS model): AWS JSON 1.1 carries them as standard
//! base64 strings. [`SensitiveBlob`] is for members the model marks `sensitive` (plaintexts, data
//! keys): zeroized on drop and never printed by `Debug`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

/// A non-secret blob (ciphertexts, public keys, signatures).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Blob(pub Vec<u8>);

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Blob({} bytes)", self.0.len())
    }
}

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Zeroizing::new(String::deserialize(d)?);
        STANDARD
            .decode(s.as_bytes())
            .map(Blob)
            .map_err(|_| serde::de::Error::custom("Base64 encoded value is invalid"))
    }
}

/// A secret blob (plaintext, data key). Zeroized on drop; `Debug` is redacted.
#[derive(Clone, Default)]
pub struct SensitiveBlob(Zeroizing<Vec<u8>>);

impl SensitiveBlob {
    pub fn new(bytes: Zeroizing<Vec<u8>>) -> Self {
        Self(bytes)
    }
    /// Explicit access to the secret bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for SensitiveBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SensitiveBlob([REDACTED])")
    }
}

impl Serialize for SensitiveBlob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let encoded = Zeroizing::new(STANDARD.encode(self.0.as_slice()));
        s.serialize_str(&encoded)
    }
}

impl<'de> Deserialize<'de> for SensitiveBlob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Zeroizing::new(String::deserialize(d)?);
        STANDARD
            .decode(s.as_bytes())
            .map(|v| SensitiveBlob(Zeroizing::new(v)))
            .map_err(|_| serde::de::Error::custom("Base64 encoded value is invalid"))
    }
}

/// A secret string (a password, an XKS proxy secret access key). Zeroized on drop; `Debug` is
/// redacted.
#[derive(Clone, Default)]
pub struct SensitiveString(Zeroizing<String>);

impl SensitiveString {
    pub fn new(s: String) -> Self {
        Self(Zeroizing::new(s))
    }
    /// Explicit access to the secret text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SensitiveString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SensitiveString([REDACTED])")
    }
}

impl<'de> Deserialize<'de> for SensitiveString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(SensitiveString(Zeroizing::new(String::deserialize(d)?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_round_trips_base64() {
        let b: Blob = serde_json::from_str("\"AAEC\"").expect("valid");
        assert_eq!(b.0, vec![0, 1, 2]);
        assert_eq!(serde_json::to_string(&b).expect("ser"), "\"AAEC\"");
        assert!(serde_json::from_str::<Blob>("\"!!\"").is_err());
    }

    #[test]
    fn sensitive_blob_debug_is_redacted() {
        let b: SensitiveBlob = serde_json::from_str("\"c2VjcmV0\"").expect("valid");
        assert_eq!(b.expose(), b"secret");
        assert!(!format!("{b:?}").contains("secret"));
    }
}

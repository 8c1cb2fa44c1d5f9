//! The encryption context (reference §4.3): non-secret string pairs bound to a symmetric
//! ciphertext as AAD. Kept sorted by key bytes, which is the canonical order the ciphertext
//! format hashes, so the pairs' order on the wire never matters.

use std::collections::BTreeMap;

/// An encryption context: a map of UTF-8 strings (JSON strings on the wire; anything else is a
/// `SerializationException` at decode).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct EncryptionContext(BTreeMap<String, String>);

impl EncryptionContext {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Condition keys are case-insensitive (`kms:EncryptionContext:<key>`), so policy
    /// evaluation looks context keys up ignoring ASCII case; the first match in key order wins.
    pub fn get_ignore_ascii_case(&self, key: &str) -> Option<&str> {
        self.get(key).or_else(|| {
            self.0
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.as_str())
        })
    }

    /// Grant constraints compare keys case-insensitively and values exactly (reference §10).
    pub fn lowercase_keys(&self) -> BTreeMap<String, &str> {
        self.0.iter().map(|(k, v)| (k.to_lowercase(), v.as_str())).collect()
    }

    pub fn as_map(&self) -> &BTreeMap<String, String> {
        &self.0
    }

    pub fn into_map(self) -> BTreeMap<String, String> {
        self.0
    }
}

impl From<BTreeMap<String, String>> for EncryptionContext {
    fn from(m: BTreeMap<String, String>) -> Self {
        EncryptionContext(m)
    }
}

impl FromIterator<(String, String)> for EncryptionContext {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        EncryptionContext(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_does_not_matter_and_lookup_ignores_case() {
        let a: EncryptionContext = serde_json::from_str(r#"{"b":"2","A":"1"}"#).expect("ec");
        let b: EncryptionContext = serde_json::from_str(r#"{"A":"1","b":"2"}"#).expect("ec");
        assert_eq!(a, b);
        assert_eq!(a.get_ignore_ascii_case("a"), Some("1"));
        assert_eq!(a.get("a"), None);
        assert!(serde_json::from_str::<EncryptionContext>(r#"{"a":1}"#).is_err());
        let u: EncryptionContext = serde_json::from_str(r#"{"日本語キー":"a💡b"}"#).expect("unicode");
        assert_eq!(u.get("日本語キー"), Some("a💡b"));
    }
}

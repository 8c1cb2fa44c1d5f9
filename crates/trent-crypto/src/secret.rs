//! Secret newtypes: zeroized on drop, redacted `Debug`, constant-time equality, explicit
//! `expose()`. No type holding a raw secret derives `Debug`.

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

/// Variable-length secret bytes (key material, plaintext, data keys, access-key secrets).
#[derive(Clone)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }
    pub fn from_zeroizing(bytes: Zeroizing<Vec<u8>>) -> Self {
        Self(bytes)
    }
    /// Explicit, greppable access to the secret.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
    pub fn into_zeroizing(self) -> Zeroizing<Vec<u8>> {
        self.0
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_slice().ct_eq(other.0.as_slice()).into()
    }
}
impl Eq for SecretBytes {}

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBytes([REDACTED])")
    }
}

/// The 256-bit root key that seals every stored secret.
pub struct RootKey([u8; 32]);

impl RootKey {
    pub const LEN: usize = 32;

    pub fn from_bytes(mut bytes: [u8; 32]) -> Self {
        let k = Self(bytes);
        bytes.zeroize();
        k
    }

    /// Parses exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(Self::from_bytes(arr))
    }

    /// A fresh random root key.
    pub fn generate() -> Result<Self, crate::CryptoError> {
        let mut b = [0u8; 32];
        crate::random::fill(&mut b)?;
        Ok(Self::from_bytes(b))
    }

    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl Drop for RootKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl PartialEq for RootKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl std::fmt::Debug for RootKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RootKey([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_secret_bytes() {
        let s = SecretBytes::new(b"hunter2-material".to_vec());
        let r = RootKey::from_bytes([0x41; 32]);
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{r:?}").contains("41"));
        assert!(!format!("{r:?}").contains('A'.to_string().repeat(4).as_str()));
    }

    #[test]
    fn equality_is_by_value() {
        assert_eq!(SecretBytes::new(vec![1, 2]), SecretBytes::new(vec![1, 2]));
        assert_ne!(SecretBytes::new(vec![1, 2]), SecretBytes::new(vec![1, 3]));
        assert_ne!(SecretBytes::new(vec![1]), SecretBytes::new(vec![1, 0]));
    }
}

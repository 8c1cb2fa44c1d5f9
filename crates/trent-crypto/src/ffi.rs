//! The one module of Trent allowed `unsafe` code: two AWS-LC primitives that aws-lc-rs does not
//! expose, called through `aws-lc-sys` (the same library aws-lc-rs links).
//!
//! - Ed25519ph (RFC 8032 §5.1, HashEdDSA with SHA-512, empty context): `ED25519ph_sign` /
//!   `ED25519ph_verify`.
//! - ML-DSA "external mu" (FIPS 204 §6.2, Algorithm 7 line 6 computed by the caller): AWS-LC's
//!   `EVP_PKEY_sign` / `EVP_PKEY_verify` on an ML-DSA key take μ in place of a digest.
//!
//! Review notes (keep true when editing):
//! - Every pointer passed is derived from a live Rust slice or array of the length passed with it;
//!   output buffers are sized to the maximum the C function writes (64-byte Ed25519 signatures,
//!   the signature length AWS-LC reports for ML-DSA).
//! - Every `EVP_PKEY` / `EVP_PKEY_CTX` is owned by a guard that frees it exactly once on drop.
//! - AWS-LC functions return 1 on success; any other value becomes the detail-free `CryptoError`.
//! - Private key bytes copied into local buffers are zeroized before return.
#![allow(unsafe_code)]

use aws_lc_sys as sys;
use zeroize::Zeroize;

use crate::CryptoError;

struct Pkey(*mut sys::EVP_PKEY);
impl Drop for Pkey {
    fn drop(&mut self) {
        // SAFETY: the pointer came from a successful d2i_* call and is freed only here.
        unsafe { sys::EVP_PKEY_free(self.0) }
    }
}

struct Ctx(*mut sys::EVP_PKEY_CTX);
impl Drop for Ctx {
    fn drop(&mut self) {
        // SAFETY: the pointer came from a successful EVP_PKEY_CTX_new and is freed only here.
        unsafe { sys::EVP_PKEY_CTX_free(self.0) }
    }
}

fn private_key(pkcs8: &[u8]) -> Result<Pkey, CryptoError> {
    let mut p = pkcs8.as_ptr();
    let len = std::os::raw::c_long::try_from(pkcs8.len()).map_err(|_| CryptoError)?;
    // SAFETY: `p` points at `len` readable bytes; d2i advances a local copy only.
    let k = unsafe { sys::d2i_AutoPrivateKey(std::ptr::null_mut(), &mut p, len) };
    if k.is_null() {
        return Err(CryptoError);
    }
    Ok(Pkey(k))
}

fn public_key(spki: &[u8]) -> Result<Pkey, CryptoError> {
    let mut p = spki.as_ptr();
    let len = std::os::raw::c_long::try_from(spki.len()).map_err(|_| CryptoError)?;
    // SAFETY: as above.
    let k = unsafe { sys::d2i_PUBKEY(std::ptr::null_mut(), &mut p, len) };
    if k.is_null() {
        return Err(CryptoError);
    }
    Ok(Pkey(k))
}

fn ctx(k: &Pkey) -> Result<Ctx, CryptoError> {
    // SAFETY: `k.0` is a valid EVP_PKEY; the context takes its own reference.
    let c = unsafe { sys::EVP_PKEY_CTX_new(k.0, std::ptr::null_mut()) };
    if c.is_null() {
        return Err(CryptoError);
    }
    Ok(Ctx(c))
}

/// ML-DSA signature of the 64-byte message representative μ (FIPS 204 external-mu signing).
pub fn ml_dsa_sign_mu(pkcs8: &[u8], mu: &[u8; 64]) -> Result<Vec<u8>, CryptoError> {
    let key = private_key(pkcs8)?;
    let c = ctx(&key)?;
    // SAFETY: `c.0` is a valid context.
    if unsafe { sys::EVP_PKEY_sign_init(c.0) } != 1 {
        return Err(CryptoError);
    }
    let mut len = 0usize;
    // SAFETY: a null output asks for the maximum signature length only.
    if unsafe { sys::EVP_PKEY_sign(c.0, std::ptr::null_mut(), &mut len, mu.as_ptr(), mu.len()) } != 1 {
        return Err(CryptoError);
    }
    let mut sig = vec![0u8; len];
    // SAFETY: `sig` has `len` writable bytes; `mu` has 64 readable bytes.
    if unsafe { sys::EVP_PKEY_sign(c.0, sig.as_mut_ptr(), &mut len, mu.as_ptr(), mu.len()) } != 1 {
        return Err(CryptoError);
    }
    sig.truncate(len);
    Ok(sig)
}

/// Verifies an ML-DSA signature over μ against a DER SubjectPublicKeyInfo.
pub fn ml_dsa_verify_mu(spki: &[u8], mu: &[u8; 64], sig: &[u8]) -> Result<bool, CryptoError> {
    let key = public_key(spki)?;
    let c = ctx(&key)?;
    // SAFETY: `c.0` is a valid context.
    if unsafe { sys::EVP_PKEY_verify_init(c.0) } != 1 {
        return Err(CryptoError);
    }
    // SAFETY: both slices are live for the call with the lengths passed.
    let ok = unsafe { sys::EVP_PKEY_verify(c.0, sig.as_ptr(), sig.len(), mu.as_ptr(), mu.len()) };
    Ok(ok == 1)
}

/// Ed25519ph signature (RFC 8032 §5.1, empty context) of `message`, which AWS-LC pre-hashes with
/// SHA-512. `seed` is the 32-byte private key, `public` the 32-byte public key.
pub fn ed25519ph_sign(seed: &[u8; 32], public: &[u8; 32], message: &[u8]) -> Result<[u8; 64], CryptoError> {
    let mut private = [0u8; 64];
    private[..32].copy_from_slice(seed);
    private[32..].copy_from_slice(public);
    let mut sig = [0u8; 64];
    // SAFETY: `sig` has 64 writable bytes, `private` 64 readable bytes, `message` its length; the
    // context pointer is unused with length 0.
    let ok = unsafe {
        sys::ED25519ph_sign(
            sig.as_mut_ptr(),
            message.as_ptr(),
            message.len(),
            private.as_ptr(),
            std::ptr::null(),
            0,
        )
    };
    private.zeroize();
    if ok != 1 {
        return Err(CryptoError);
    }
    Ok(sig)
}

/// Verifies an Ed25519ph signature (empty context).
pub fn ed25519ph_verify(public: &[u8; 32], message: &[u8], sig: &[u8]) -> bool {
    let Ok(sig) = <&[u8; 64]>::try_from(sig) else {
        return false;
    };
    // SAFETY: fixed-size arrays and a live slice with its length; no context.
    let ok = unsafe {
        sys::ED25519ph_verify(
            message.as_ptr(),
            message.len(),
            sig.as_ptr(),
            public.as_ptr(),
            std::ptr::null(),
            0,
        )
    };
    ok == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8032 §7.3, "TEST abc" (Ed25519ph).
    #[test]
    fn ed25519ph_rfc8032_vector() {
        let seed: [u8; 32] = hex::decode("833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42")
            .expect("hex")
            .try_into()
            .expect("32");
        let public: [u8; 32] = hex::decode("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf")
            .expect("hex")
            .try_into()
            .expect("32");
        let sig = ed25519ph_sign(&seed, &public, b"abc").expect("sign");
        assert_eq!(
            hex::encode(sig),
            "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae4131f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406"
        );
        assert!(ed25519ph_verify(&public, b"abc", &sig));
        assert!(!ed25519ph_verify(&public, b"abd", &sig));
        assert!(!ed25519ph_verify(&public, b"abc", &sig[..63]));
    }
}

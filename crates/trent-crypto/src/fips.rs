//! FIPS mode. Built with the `fips` feature, aws-lc-rs runs on the AWS-LC FIPS module
//! (`aws-lc-fips-sys`) and [`enabled`] is true once its power-on self tests passed. The module
//! does not refuse non-approved algorithms itself (it computes secp256k1 or SHA-1 as readily);
//! enforcing what FIPS mode offers is the application's job (dependencies.md §1), so the service
//! asks [`refused_key_spec`] and [`refused_signing`] and answers `UnsupportedOperationException`
//! naming FIPS mode — as AWS does on its FIPS endpoints for what they do not offer.

/// Whether the FIPS module is in use and in FIPS mode.
pub fn enabled() -> bool {
    cfg!(feature = "fips") && aws_lc_rs::try_fips_mode().is_ok()
}

/// The cryptographic module and mode, for `trent version`.
pub fn describe() -> String {
    if cfg!(feature = "fips") {
        match aws_lc_rs::try_fips_mode() {
            Ok(()) => "AWS-LC FIPS module (aws-lc-fips-sys), FIPS mode on".to_owned(),
            Err(e) => format!("AWS-LC FIPS module (aws-lc-fips-sys), FIPS mode OFF: {e}"),
        }
    } else {
        "AWS-LC (aws-lc-sys), not the FIPS module: FIPS mode off (build with --features fips)".to_owned()
    }
}

/// Why a key spec is not offered in FIPS mode, or `None` when it is. secp256k1 is not among
/// the curves SP 800-186 approves for ECDSA; every other spec Trent builds is an approved
/// algorithm of the module (AES-GCM, HMAC-SHA-2, RSA ≥ 2048, ECDSA/ECDH on P-256/384/521,
/// ML-DSA per FIPS 204, EdDSA per FIPS 186-5).
pub fn refused_key_spec(spec: &str) -> Option<&'static str> {
    match spec {
        "ECC_SECG_P256K1" => Some("the secp256k1 curve is not approved by SP 800-186"),
        _ => None,
    }
}

/// Why a signing algorithm / message type is not offered in FIPS mode, or `None`. Ed25519ph and
/// ML-DSA over an external μ are computed through `ffi.rs` in the non-FIPS AWS-LC: outside the
/// module's boundary.
pub fn refused_signing(algorithm: &str, message_type: &str) -> Option<&'static str> {
    if algorithm == "ED25519_PH_SHA_512" {
        return Some("Ed25519ph is computed outside the FIPS module in this build");
    }
    if message_type == "EXTERNAL_MU" {
        return Some("ML-DSA signing of an external mu is computed outside the FIPS module in this build");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_follows_the_build() {
        assert_eq!(enabled(), cfg!(feature = "fips"), "{}", describe());
        assert!(refused_key_spec("ECC_SECG_P256K1").is_some());
        assert!(refused_key_spec("ECC_NIST_P256").is_none());
        assert!(refused_signing("ED25519_PH_SHA_512", "DIGEST").is_some());
        assert!(refused_signing("ML_DSA_SHAKE_256", "EXTERNAL_MU").is_some());
        assert!(refused_signing("ECDSA_SHA_256", "RAW").is_none());
    }
}

//! The sealed-record parser: `seal::unseal` of any bytes for each purpose under a fixed root
//! key. Invariants: no panic; a record sealed by nobody never unseals.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trent_crypto::seal::{unseal, Purpose};
use trent_crypto::RootKey;

fuzz_target!(|data: &[u8]| {
    let root = RootKey::from_bytes([7; 32]);
    for purpose in [Purpose::KeyMaterial, Purpose::AccessKeySecret, Purpose::ImportToken] {
        if unseal(&root, purpose, "arn:aws:kms:us-east-1:111122223333:key/fuzz", data).is_ok() {
            panic!("a record nobody sealed unsealed");
        }
    }
});

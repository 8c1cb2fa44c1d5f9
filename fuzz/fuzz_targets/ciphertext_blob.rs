//! The ciphertext blob parser: `envelope::header` on any bytes, then `envelope::decrypt` under a
//! fixed key material under three encryption contexts. Invariants: no panic; no blob decrypts
//! under a material that never sealed anything.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trent_crypto::envelope;
use trent_crypto::SecretBytes;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = envelope::header(data) else {
        return;
    };
    let _ = (header.material_id, header.key.id, header.key.multi_region);
    let material = SecretBytes::new(vec![0x42; 32]);
    for context in [&b""[..], b"{}", data.get(..data.len().min(16)).unwrap_or_default()] {
        if envelope::decrypt(data, &material, context).is_ok() {
            panic!("a blob this target never sealed decrypted");
        }
    }
});

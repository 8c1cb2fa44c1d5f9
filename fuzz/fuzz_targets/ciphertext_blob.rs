//! The ciphertext blob parsers: `envelope::header` on any bytes, then `envelope::decrypt` under a
//! fixed key material under three encryption contexts; and `xks::parse_blob` (the version-2 blob of
//! keys in external key stores). Invariants: no panic; no blob decrypts under a material that never
//! sealed anything; a version-2 blob never decrypts as a version-1 one; the parts of a parsed
//! version-2 blob are exactly its bytes, in order.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trent_crypto::envelope;
use trent_crypto::xks;
use trent_crypto::SecretBytes;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = envelope::header(data) else {
        assert!(xks::parse_blob(data).is_err(), "a version-2 blob without a header parsed");
        return;
    };
    let _ = (header.material_id, header.key.id, header.key.multi_region);
    let material = SecretBytes::new(vec![0x42; 32]);
    for context in [&b""[..], b"{}", data.get(..data.len().min(16)).unwrap_or_default()] {
        if envelope::decrypt(data, &material, context).is_ok() {
            panic!("a blob this target never sealed decrypted");
        }
    }
    if let Ok(parts) = xks::parse_blob(data) {
        assert!(header.external, "parse_blob took a version-1 blob");
        let len = parts.aad.len() + 1 + parts.iv.len() + parts.tag.len() + 1 + parts.metadata.len() + parts.ciphertext.len();
        assert_eq!(len, data.len(), "the parts are not the blob");
        assert!(matches!(parts.iv.len(), 12 | 16) && parts.tag.len() == 16 && parts.metadata.len() <= 20);
    }
});

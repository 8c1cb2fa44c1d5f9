//! Canonical encoding of an encryption context, bound as AAD (reference §4.3: exact,
//! case-sensitive match; only the order of pairs may differ).
//!
//! Encoding: `u32be(count)` then, for each pair sorted by key bytes, `u32be(len) key u32be(len)
//! value`. Length prefixes make the encoding injective (no two contexts encode alike).

use std::collections::BTreeMap;

pub fn canonical(ctx: &BTreeMap<String, String>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(ctx.len() as u32).to_be_bytes());
    // BTreeMap<String, _> iterates in byte order of the keys.
    for (k, v) in ctx {
        out.extend_from_slice(&(k.len() as u32).to_be_bytes());
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(&(v.len() as u32).to_be_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn order_independent_but_injective() {
        assert_eq!(
            canonical(&m(&[("a", "1"), ("b", "2")])),
            canonical(&m(&[("b", "2"), ("a", "1")]))
        );
        assert_ne!(canonical(&m(&[("ab", "c")])), canonical(&m(&[("a", "bc")])));
        assert_ne!(canonical(&m(&[("A", "1")])), canonical(&m(&[("a", "1")])));
        assert_ne!(canonical(&m(&[])), canonical(&m(&[("", "")])));
    }
}

//! Validation of members shared by many operations (KeyId, enumerations, GrantTokens,
//! Limit/Marker, Tags), producing AWS's `ValidationException` texts through
//! `trent_api::validate::Violations`, and the parsing of valid members into domain types.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use std::collections::BTreeMap;
use trent_api::dto::Tag;
use trent_api::validate::{is_marker_charset, Violations};
use trent_api::KmsError;

use trent_types::{EncryptionContext, Region};

use crate::ids::{parse_key_ref, Forms, KeyRef};

/// An enumeration member: AWS's "enum value set" message when it is not one of `names`; the
/// parsed value otherwise.
/// Largest encryption context accepted, in bytes of keys and values. AWS documents no figure;
/// this one is far above what clients send (the AWS Encryption SDK's whole serialized context
/// must fit 65,535 bytes) and keeps a request from carrying a megabyte of context into policy
/// evaluation and the audit trail.
pub(crate) const MAX_CONTEXT_BYTES: usize = 8192;

/// An encryption context member, within [`MAX_CONTEXT_BYTES`].
pub(crate) fn encryption_context(
    v: &mut Violations,
    field: &str,
    value: Option<BTreeMap<String, String>>,
) -> Option<EncryptionContext> {
    let m = value?;
    let bytes: usize = m.iter().map(|(k, v)| k.len() + v.len()).sum();
    if bytes > MAX_CONTEXT_BYTES {
        v.push(format!(
            "Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to {MAX_CONTEXT_BYTES}"
        ));
    }
    Some(EncryptionContext::from(m))
}

pub(crate) fn enum_member<T>(
    v: &mut Violations,
    field: &str,
    value: &Option<String>,
    names: &[&str],
    parse: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    let s = value.as_deref()?;
    if v.one_of(field, s, names) {
        parse(s)
    } else {
        None
    }
}

/// A required enumeration member.
pub(crate) fn required_enum<T>(
    v: &mut Violations,
    field: &str,
    value: &Option<String>,
    names: &[&str],
    parse: impl Fn(&str) -> Option<T>,
) -> Option<T> {
    if value.is_none() {
        v.not_null(field);
        return None;
    }
    enum_member(v, field, value, names, parse)
}

/// Parses a validated `KeyId` member (`NotFoundException` texts for malformed ids).
pub(crate) fn key_ref(raw: Option<&str>, forms: Forms, region: &Region) -> Result<KeyRef, KmsError> {
    parse_key_ref(raw.unwrap_or_default(), forms, region)
}

/// `KeyIdType`: required, 1–2048 characters.
pub(crate) fn key_id<'a>(v: &mut Violations, field: &str, value: &'a Option<String>) -> Option<&'a str> {
    match value {
        None => {
            v.not_null(field);
            None
        }
        Some(s) => {
            let before = v.is_empty();
            v.str_length(field, s, 1, 2048);
            (before == v.is_empty()).then_some(s.as_str())
        }
    }
}

/// Length of a blob member. AWS prints blob values as the Java buffer that held them
/// (`Value 'java.nio.HeapByteBuffer[pos=0 lim=6145 cap=6145]' at 'ciphertextBlob' ...`).
pub(crate) fn blob_length(v: &mut Violations, field: &str, len: usize, min: usize, max: usize) {
    let shown = format!("java.nio.HeapByteBuffer[pos=0 lim={len} cap={len}]");
    v.length(field, Some(&shown), len, min, max);
}

/// `DryRunModifiers`: each must be `IGNORE_CIPHERTEXT`; returns whether it is present.
pub(crate) fn dry_run_modifiers(v: &mut Violations, mods: &Option<Vec<String>>) -> bool {
    let mut ignore = false;
    for m in mods.iter().flatten() {
        ignore |= v.one_of("dryRunModifiers.member", m, &["IGNORE_CIPHERTEXT"]);
    }
    ignore
}

/// `GrantTokenList`: at most 10 tokens of 1–8192 characters.
pub(crate) fn grant_tokens(v: &mut Violations, tokens: &Option<Vec<String>>) {
    let Some(tokens) = tokens else { return };
    if tokens.len() > 10 {
        v.push(format!(
            "Value '[{}]' at 'grantTokens' failed to satisfy constraint: Member must have length less than or equal to 10",
            tokens.join(", ")
        ));
    }
    for t in tokens {
        v.str_length("grantTokens.member", t, 1, 8192);
    }
}

/// `Limit`: 1–`max` (the service-enforced bound of each List operation).
pub(crate) fn limit(v: &mut Violations, value: Option<i64>, max: i64, default: i64) -> usize {
    match value {
        None => default as usize,
        Some(n) => {
            v.range("limit", n, 1, max);
            n.clamp(1, max) as usize
        }
    }
}

/// `MarkerType`: 1–1024 characters of `[\u0020-\u00FF]`.
pub(crate) fn marker(v: &mut Violations, value: &Option<String>) {
    if let Some(m) = value {
        v.str_length("marker", m, 1, 1024);
        if !is_marker_charset(m) {
            v.pattern("marker", m, "[\\u0020-\\u00FF]*");
        }
    }
}

fn invalid_marker() -> KmsError {
    KmsError::InvalidMarker(
        "The request was rejected because the marker that specifies where pagination should next begin is not valid."
            .to_owned(),
    )
}

/// Opaque pagination marker: the last item's sort key, base64url-encoded.
pub(crate) fn encode_marker(last: &str) -> String {
    URL_SAFE_NO_PAD.encode(last.as_bytes())
}

/// Cuts `rows` (sorted, fetched with one extra row) to one page of `limit`: returns
/// (`NextMarker`, `Truncated`), the marker naming the last row kept by `sort_key`.
pub(crate) fn cut_page<T>(rows: &mut Vec<T>, limit: usize, sort_key: impl Fn(&T) -> &str) -> (Option<String>, bool) {
    let truncated = rows.len() > limit;
    rows.truncate(limit);
    let next_marker = truncated
        .then(|| rows.last().map(|r| encode_marker(sort_key(r))))
        .flatten();
    (next_marker, truncated)
}

pub(crate) fn decode_marker(m: &Option<String>) -> Result<Option<String>, KmsError> {
    let Some(m) = m else { return Ok(None) };
    let bytes = URL_SAFE_NO_PAD.decode(m.as_bytes()).map_err(|_| invalid_marker())?;
    String::from_utf8(bytes).map(Some).map_err(|_| invalid_marker())
}

/// Validates a `Tags` list: AWS's length messages first, then the `TagException` rules
/// (reference §11: reserved `aws:` prefix in any case, duplicate keys). Returns (key, value) pairs.
pub(crate) fn tags(v: &mut Violations, tags: &[Tag]) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(tags.len());
    for (i, t) in tags.iter().enumerate() {
        let n = i + 1;
        let key_field = format!("tags.{n}.member.tagKey");
        let value_field = format!("tags.{n}.member.tagValue");
        match &t.tag_key {
            None => v.not_null(&key_field),
            Some(k) => v.str_length(&key_field, k, 1, 128),
        }
        match &t.tag_value {
            None => v.not_null(&value_field),
            Some(val) => v.str_length(&value_field, val, 0, 256),
        }
        if let (Some(k), Some(val)) = (&t.tag_key, &t.tag_value) {
            out.push((k.clone(), val.clone()));
        }
    }
    out
}

/// `aws:` in any case: the prefix reserved for AWS tags. Compared as bytes, so a key whose
/// fourth byte falls inside a character ("aéé", "日本語キー") is simply not reserved.
pub(crate) fn is_reserved_tag_key(k: &str) -> bool {
    k.as_bytes().get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"aws:"))
}

/// The `TagException` checks that follow successful validation.
pub(crate) fn tag_rules<'a>(keys: impl Iterator<Item = &'a str>) -> Result<(), KmsError> {
    let mut seen = std::collections::HashSet::new();
    for k in keys {
        if is_reserved_tag_key(k) {
            return Err(KmsError::Tag("Tags beginning with aws: are reserved".to_owned()));
        }
        if !seen.insert(k) {
            return Err(KmsError::Tag("Duplicate tag keys".to_owned()));
        }
    }
    Ok(())
}

/// At most 50 tags per key (reference §11).
pub const MAX_TAGS: usize = 50;

pub(crate) fn too_many_tags() -> KmsError {
    KmsError::Tag("Too many tags".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_and_reject_garbage() {
        let m = encode_marker("1234");
        assert_eq!(decode_marker(&Some(m)).expect("ok"), Some("1234".into()));
        assert!(decode_marker(&Some("***".into())).is_err());
    }

    #[test]
    fn tag_rules_match_aws() {
        assert_eq!(
            tag_rules(["AWS:x"].into_iter()).expect_err("reserved").to_string(),
            "Tags beginning with aws: are reserved"
        );
        assert_eq!(
            tag_rules(["a", "a"].into_iter()).expect_err("dup").to_string(),
            "Duplicate tag keys"
        );
        assert!(tag_rules(["a", "A"].into_iter()).is_ok());
        // Multi-byte characters around the fourth byte panicked before.
        assert!(tag_rules(["aéé", "日本語キー", "a💡b", "é", "aws"].into_iter()).is_ok());
        assert!(is_reserved_tag_key("Aws:x"));
    }
}

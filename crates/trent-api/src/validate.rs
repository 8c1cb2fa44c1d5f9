//! AWS's `ValidationException` texts for model constraints (length, range, pattern, enum, null).
//!
//! AWS collects every violated constraint of a request and answers
//! `N validation error(s) detected: <v1>; <v2>` where each item reads
//! `Value '<v>' at '<memberPath>' failed to satisfy constraint: Member must ...` (reference §2.1,
//! §4.10). Sensitive members omit the value (`Value at 'plaintext' ...`). Member paths are lower
//! camel case (`keyId`, `numberOfBytes`, `tags.1.member.tagKey`).

use crate::KmsError;

/// Collects constraint violations of one request.
#[derive(Debug, Default)]
pub struct Violations(Vec<String>);

fn quoted(value: Option<&str>) -> String {
    match value {
        Some(v) => format!("Value '{v}' at"),
        None => "Value at".to_owned(),
    }
}

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, text: String) {
        self.0.push(text);
    }

    pub fn not_null(&mut self, field: &str) {
        self.push(format!(
            "Value null at '{field}' failed to satisfy constraint: Member must not be null"
        ));
    }

    /// Length bounds (in characters for strings, bytes for blobs). `shown` is `None` for
    /// sensitive members and blobs.
    pub fn length(&mut self, field: &str, shown: Option<&str>, len: usize, min: usize, max: usize) {
        if len < min {
            self.push(format!(
                "{} '{field}' failed to satisfy constraint: Member must have length greater than or equal to {min}",
                quoted(shown)
            ));
        } else if len > max {
            self.push(format!(
                "{} '{field}' failed to satisfy constraint: Member must have length less than or equal to {max}",
                quoted(shown)
            ));
        }
    }

    /// Length bounds of a string member shown in the message.
    pub fn str_length(&mut self, field: &str, value: &str, min: usize, max: usize) {
        self.length(field, Some(value), value.chars().count(), min, max);
    }

    pub fn range(&mut self, field: &str, value: i64, min: i64, max: i64) {
        if value < min {
            self.push(format!(
                "Value '{value}' at '{field}' failed to satisfy constraint: Member must have value greater than or equal to {min}"
            ));
        } else if value > max {
            self.push(format!(
                "Value '{value}' at '{field}' failed to satisfy constraint: Member must have value less than or equal to {max}"
            ));
        }
    }

    pub fn pattern(&mut self, field: &str, value: &str, pattern: &str) {
        self.push(format!(
            "Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
        ));
    }

    /// Checks `value` against an enum; returns whether it is a member.
    pub fn one_of(&mut self, field: &str, value: &str, set: &[&str]) -> bool {
        if set.contains(&value) {
            return true;
        }
        self.push(format!(
            "Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
            set.join(", ")
        ));
        false
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` when nothing was violated, else the combined `ValidationException`.
    pub fn finish(self) -> Result<(), KmsError> {
        match self.0.as_slice() {
            [] => Ok(()),
            [one] => Err(KmsError::Validation(format!("1 validation error detected: {one}"))),
            all => Err(KmsError::Validation(format!(
                "{} validation errors detected: {}",
                all.len(),
                all.join("; ")
            ))),
        }
    }
}

/// `^[a-zA-Z0-9:/_-]+$` (AliasNameType, GrantNameType).
pub fn is_alias_charset(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '_' | '-'))
}

/// `[\u0020-\u00FF]*` (MarkerType).
pub fn is_marker_charset(s: &str) -> bool {
    s.chars().all(|c| ('\u{20}'..='\u{ff}').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_and_multiple_messages_match_aws() {
        let mut v = Violations::new();
        v.range("numberOfBytes", 1025, 1, 1024);
        let e = v.finish().expect_err("violated");
        assert_eq!(
            e.to_string(),
            "1 validation error detected: Value '1025' at 'numberOfBytes' failed to satisfy constraint: Member must have value less than or equal to 1024"
        );
        let mut v = Violations::new();
        v.length("plaintext", None, 4097, 1, 4096);
        v.not_null("keyId");
        let e = v.finish().expect_err("violated");
        assert!(e
            .to_string()
            .starts_with("2 validation errors detected: Value at 'plaintext'"));
        assert!(e.to_string().contains("; Value null at 'keyId'"));
    }

    #[test]
    fn enum_message_lists_set() {
        let mut v = Violations::new();
        assert!(!v.one_of("keySpec", "AES", &["AES_256", "AES_128"]));
        assert!(v.finish().expect_err("bad").to_string().ends_with("[AES_256, AES_128]"));
    }
}

//! Parsing of `Authorization: AWS4-HMAC-SHA256 Credential=AK/DATE/REGION/SERVICE/aws4_request,
//! SignedHeaders=a;b, Signature=hex` (AWS General Reference, "Signature Version 4 signing process").
//! The parsed header borrows from the request: parsing allocates only on error.

use crate::SigV4Error;

/// The parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationHeader<'a> {
    pub access_key_id: &'a str,
    pub scope_date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    /// `SignedHeaders` as sent (`;`-separated names).
    signed_headers: &'a str,
    /// 64 hex digits.
    pub signature: &'a str,
}

impl<'a> AuthorizationHeader<'a> {
    /// The signed header names, lower-cased by the caller's comparison (names are ASCII).
    pub fn signed_headers(&self) -> impl Iterator<Item = &'a str> + Clone {
        self.signed_headers.split(';').map(str::trim)
    }

    /// Whether `name` (lower case) is among the signed headers.
    pub fn signs(&self, name: &str) -> bool {
        self.signed_headers().any(|h| h.eq_ignore_ascii_case(name))
    }
}

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

pub fn parse_authorization(header: &str) -> Result<AuthorizationHeader<'_>, SigV4Error> {
    let header = header.trim();
    let (algorithm, rest) = header.split_once(' ').unwrap_or((header, ""));
    if algorithm != ALGORITHM {
        return Err(SigV4Error::Incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'"
        )));
    }
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some((k, v)) = part.split_once('=') {
            match k.trim() {
                "Credential" => credential = Some(v.trim()),
                "SignedHeaders" => signed = Some(v.trim()),
                "Signature" => signature = Some(v.trim()),
                _ => {}
            }
        }
    }
    let mut missing = Vec::new();
    for (name, v) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed),
    ] {
        if v.is_none_or(str::is_empty) {
            missing.push(format!("Authorization header requires '{name}' parameter."));
        }
    }
    let (Some(credential), Some(signed), Some(signature), true) = (credential, signed, signature, missing.is_empty())
    else {
        return Err(SigV4Error::Incomplete(format!(
            "{} Authorization={header}",
            missing.join(" ")
        )));
    };
    let mut parts = credential.split('/');
    let (Some(ak), Some(date), Some(region), Some(service), Some(terminator), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(SigV4Error::Incomplete(format!(
            "Credential should be scoped to a valid region. Authorization={header}"
        )));
    };
    if terminator != "aws4_request" {
        return Err(SigV4Error::Incomplete(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
        )));
    }
    if ak.is_empty() {
        return Err(SigV4Error::Incomplete(format!(
            "Authorization header requires 'Credential' parameter. Authorization={header}"
        )));
    }
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(SigV4Error::SignatureMismatch);
    }
    Ok(AuthorizationHeader {
        access_key_id: ak,
        scope_date: date,
        region,
        service,
        signed_headers: signed,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_aws_example_header() {
        // AWS SigV4 test suite, get-vanilla.
        let h = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        let a = parse_authorization(h).expect("valid");
        assert_eq!(a.access_key_id, "AKIDEXAMPLE");
        assert_eq!(a.scope_date, "20150830");
        assert_eq!(a.region, "us-east-1");
        assert_eq!(a.service, "service");
        assert_eq!(a.signed_headers().collect::<Vec<_>>(), vec!["host", "x-amz-date"]);
    }

    #[test]
    fn missing_parts_are_incomplete() {
        let e = parse_authorization("AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/kms/aws4_request")
            .expect_err("incomplete");
        let SigV4Error::Incomplete(m) = e else {
            panic!("wrong kind")
        };
        assert!(m.contains("requires 'Signature' parameter"));
        assert!(m.contains("requires 'SignedHeaders' parameter"));
        assert!(matches!(
            parse_authorization("Basic abc"),
            Err(SigV4Error::Incomplete(_))
        ));
        assert!(matches!(parse_authorization(""), Err(SigV4Error::Incomplete(_))));
        assert!(matches!(
            parse_authorization("AWS4-HMAC-SHA256 Credential=AK/x, SignedHeaders=host, Signature=00"),
            Err(SigV4Error::Incomplete(_))
        ));
        // Multi-byte characters anywhere in the header never panic.
        for h in [
            "AWS4-HMAC-SHA256 Credential=日本/語/キ/ー/aws4_request, SignedHeaders=h, Signature=é",
            "AWS4-HMAC-SHA256 Credential=a💡b, SignedHeaders=💡, Signature=💡",
            "日本語キー",
        ] {
            assert!(parse_authorization(h).is_err(), "{h}");
        }
    }
}

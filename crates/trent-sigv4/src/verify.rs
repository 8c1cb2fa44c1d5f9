//! Signature verification: recompute with `aws-sigv4`, compare in constant time, enforce the
//! ±5-minute window AWS applies ("Signature expired: ... is now earlier than ... (... - 5 min.)").

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SessionTokenMode, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use subtle::ConstantTimeEq;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};
use zeroize::Zeroizing;

use crate::parse::parse_authorization;

/// Allowed clock difference between client and server, either direction (AWS: 5 minutes).
pub const MAX_SKEW_SECS: u64 = 300;

/// Why a request is not authenticated. Each maps to one AWS error type in the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// No `Authorization` header (`MissingAuthenticationTokenException`).
    #[error("Missing Authentication Token")]
    Missing,
    /// Malformed header (`IncompleteSignatureException`).
    #[error("{0}")]
    Incomplete(String),
    /// Unknown access key (`UnrecognizedClientException`).
    #[error("The security token included in the request is invalid.")]
    UnknownAccessKey,
    /// Temporary credentials past their expiry (`ExpiredTokenException`).
    #[error("The security token included in the request is expired")]
    ExpiredToken,
    /// Signature does not match (`InvalidSignatureException`).
    #[error("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")]
    SignatureMismatch,
    /// Outside the skew window, or a scope that is not ours (`InvalidSignatureException`).
    #[error("{0}")]
    Invalid(String),
}

/// What a credential lookup finds.
pub enum Lookup<I> {
    Found { secret: Zeroizing<String>, identity: I },
    Unknown,
    Expired,
}

/// The narrow view of the credential store that verification needs.
pub trait CredentialLookup {
    type Identity;
    fn lookup(&self, access_key_id: &str, session_token: Option<&str>) -> Lookup<Self::Identity>;
}

/// One request as received.
pub struct VerifyInput<'a> {
    pub method: &'a str,
    /// The request target exactly as received (already percent-encoded).
    pub path_and_query: &'a str,
    pub headers: &'a http::HeaderMap,
    pub body: &'a [u8],
    pub region: &'a str,
    pub service: &'a str,
    pub now: SystemTime,
}

fn amz_time(s: &str) -> Option<SystemTime> {
    let fmt = format_description!("[year][month][day]T[hour][minute][second]Z");
    let t = PrimitiveDateTime::parse(s, fmt).ok()?.assume_utc();
    Some(SystemTime::from(t))
}

fn amz_format(t: SystemTime) -> String {
    let fmt = format_description!("[year][month][day]T[hour][minute][second]Z");
    OffsetDateTime::from(t).format(fmt).unwrap_or_default()
}

/// Verifies the request and returns the caller's identity.
pub fn verify<L: CredentialLookup>(input: &VerifyInput<'_>, creds: &L) -> Result<L::Identity, SigV4Error> {
    let header = |name: &str| input.headers.get(name).and_then(|v| v.to_str().ok());
    let Some(authz) = header("authorization") else {
        return Err(SigV4Error::Missing);
    };
    let auth = parse_authorization(authz)?;
    let Some(date_str) = header("x-amz-date") else {
        return Err(SigV4Error::Incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.".to_owned(),
        ));
    };
    let Some(signed_at) = amz_time(date_str) else {
        return Err(SigV4Error::Incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{date_str}'. See http://en.wikipedia.org/wiki/ISO_8601"
        )));
    };
    if auth.scope_date != date_str[..8] {
        return Err(SigV4Error::Invalid(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from 'X-Amz-Date'.",
            auth.scope_date,
            &date_str[..8]
        )));
    }
    let skew = Duration::from_secs(MAX_SKEW_SECS);
    if signed_at + skew < input.now {
        return Err(SigV4Error::Invalid(format!(
            "Signature expired: {date_str} is now earlier than {} ({} - 5 min.)",
            amz_format(input.now - skew),
            amz_format(input.now)
        )));
    }
    if signed_at > input.now + skew {
        return Err(SigV4Error::Invalid(format!(
            "Signature not yet current: {date_str} is still later than {} ({} + 5 min.)",
            amz_format(input.now + skew),
            amz_format(input.now)
        )));
    }
    if auth.region != input.region {
        return Err(SigV4Error::Invalid(format!(
            "Credential should be scoped to a valid region, not '{}'. ",
            auth.region
        )));
    }
    if auth.service != input.service {
        return Err(SigV4Error::Invalid(format!(
            "Credential should be scoped to correct service: '{}'. ",
            input.service
        )));
    }
    if !auth.signed_headers.iter().any(|h| h == "host") {
        return Err(SigV4Error::Invalid(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".to_owned(),
        ));
    }
    let token = header("x-amz-security-token");
    let (secret, identity) = match creds.lookup(&auth.access_key_id, token) {
        Lookup::Found { secret, identity } => (secret, identity),
        Lookup::Unknown => return Err(SigV4Error::UnknownAccessKey),
        Lookup::Expired => return Err(SigV4Error::ExpiredToken),
    };
    let expected = recompute(
        input,
        &auth.access_key_id,
        &secret,
        token,
        &auth.signed_headers,
        signed_at,
    )?;
    if bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
        Ok(identity)
    } else {
        Err(SigV4Error::SignatureMismatch)
    }
}

fn recompute(
    input: &VerifyInput<'_>,
    access_key_id: &str,
    secret: &str,
    token: Option<&str>,
    signed_headers: &[String],
    signed_at: SystemTime,
) -> Result<String, SigV4Error> {
    // aws-sigv4 panics when it cannot find a host: make sure one is there.
    if input.headers.get("host").is_none() {
        return Err(SigV4Error::SignatureMismatch);
    }
    let mut headers: Vec<(&str, &str)> = Vec::new();
    for name in signed_headers {
        for v in input.headers.get_all(name.as_str()) {
            let Ok(v) = v.to_str() else {
                return Err(SigV4Error::SignatureMismatch);
            };
            headers.push((name.as_str(), v));
        }
    }
    let token_signed = signed_headers.iter().any(|h| h == "x-amz-security-token");
    let identity: Identity = Credentials::new(
        access_key_id,
        secret,
        token.filter(|_| token_signed).map(str::to_owned),
        None,
        "trent",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.excluded_headers = Some(Vec::new());
    settings.session_token_mode = if token_signed {
        SessionTokenMode::Include
    } else {
        SessionTokenMode::Exclude
    };
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(input.region)
        .name(input.service)
        .time(signed_at)
        .settings(settings)
        .build()
        .map_err(|_| SigV4Error::SignatureMismatch)?
        .into();
    let signable = SignableRequest::new(
        input.method,
        input.path_and_query,
        headers.into_iter(),
        SignableBody::Bytes(input.body),
    )
    .map_err(|_| SigV4Error::SignatureMismatch)?;
    let out = sign(signable, &params).map_err(|_| SigV4Error::SignatureMismatch)?;
    Ok(out.signature().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct One(&'static str, &'static str);
    impl CredentialLookup for One {
        type Identity = &'static str;
        fn lookup(&self, ak: &str, _t: Option<&str>) -> Lookup<&'static str> {
            if ak == self.0 {
                Lookup::Found {
                    secret: Zeroizing::new(self.1.to_owned()),
                    identity: "principal",
                }
            } else {
                Lookup::Unknown
            }
        }
    }

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn vanilla_headers(sig: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert("host", "example.amazonaws.com".parse().expect("hv"));
        h.insert("x-amz-date", "20150830T123600Z".parse().expect("hv"));
        h.insert(
            "authorization",
            format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature={sig}")
                .parse()
                .expect("hv"),
        );
        h
    }

    fn input<'a>(h: &'a http::HeaderMap, now: SystemTime) -> VerifyInput<'a> {
        VerifyInput {
            method: "GET",
            path_and_query: "/",
            headers: h,
            body: b"",
            region: "us-east-1",
            service: "service",
            now,
        }
    }

    fn at(s: &str) -> SystemTime {
        amz_time(s).expect("time")
    }

    /// AWS SigV4 test suite vector `get-vanilla` (independent of aws-sigv4's signer).
    #[test]
    fn aws_test_suite_get_vanilla_verifies() {
        let good = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        let h = vanilla_headers(good);
        let creds = One("AKIDEXAMPLE", SECRET);
        assert_eq!(verify(&input(&h, at("20150830T123600Z")), &creds), Ok("principal"));
        let bad = vanilla_headers(&good.replace('5', "6"));
        assert_eq!(
            verify(&input(&bad, at("20150830T123600Z")), &creds),
            Err(SigV4Error::SignatureMismatch)
        );
        let wrong = One("AKIDEXAMPLE", "not-the-secret");
        assert_eq!(
            verify(&input(&h, at("20150830T123600Z")), &wrong),
            Err(SigV4Error::SignatureMismatch)
        );
        let unknown = One("OTHER", SECRET);
        assert_eq!(
            verify(&input(&h, at("20150830T123600Z")), &unknown),
            Err(SigV4Error::UnknownAccessKey)
        );
    }

    #[test]
    fn skew_window_is_five_minutes_both_ways() {
        let good = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        let h = vanilla_headers(good);
        let creds = One("AKIDEXAMPLE", SECRET);
        assert!(verify(&input(&h, at("20150830T124100Z")), &creds).is_ok());
        let Err(SigV4Error::Invalid(m)) = verify(&input(&h, at("20150830T124101Z")), &creds) else {
            panic!("expected expiry")
        };
        assert_eq!(
            m,
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T124101Z - 5 min.)"
        );
        assert!(verify(&input(&h, at("20150830T123100Z")), &creds).is_ok());
        let Err(SigV4Error::Invalid(m)) = verify(&input(&h, at("20150830T123059Z")), &creds) else {
            panic!("expected not yet current")
        };
        assert!(m.starts_with("Signature not yet current: 20150830T123600Z is still later than"));
    }

    #[test]
    fn missing_header_and_wrong_scope() {
        let h = http::HeaderMap::new();
        assert_eq!(
            verify(&input(&h, SystemTime::now()), &One("a", "b")),
            Err(SigV4Error::Missing)
        );
        let good = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
        let h = vanilla_headers(good);
        let mut i = input(&h, at("20150830T123600Z"));
        i.region = "eu-west-1";
        assert!(matches!(
            verify(&i, &One("AKIDEXAMPLE", SECRET)),
            Err(SigV4Error::Invalid(_))
        ));
    }
}

//! AWS's own signer (`aws-sigv4`, what the AWS SDK for Rust signs with) is the oracle: requests
//! of many shapes — percent-encoded and dot-segment paths, unsorted and repeated query
//! parameters, header values with runs of spaces, repeated headers, session tokens, arbitrary
//! bodies — are signed by it and must verify here; any change to what was signed must not.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use trent_sigv4::{derive_signing_key, verify, CredentialLookup, Lookup, Scope, SigV4Error, VerifyInput};

const AK: &str = "AKIAORACLEEXAMPLE123";
const SECRET: &str = "oracle/secret+KEY/0123456789abcdefghijklm";

struct Creds;
impl CredentialLookup for Creds {
    type Identity = ();
    fn lookup(&self, ak: &str, _: Option<&str>, scope: &Scope<'_>) -> Lookup<()> {
        if ak != AK {
            return Lookup::Unknown;
        }
        Lookup::Found {
            key: std::sync::Arc::new(derive_signing_key(SECRET.as_bytes(), scope)),
            identity: (),
        }
    }
}

/// xorshift64*: a deterministic generator, so a failure reproduces.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let i = (self.next() % items.len() as u64) as usize;
        items.get(i).expect("non-empty")
    }
}

struct Case {
    method: &'static str,
    target: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    token: Option<String>,
}

fn signed(case: &Case, time: SystemTime, region: &str) -> http::HeaderMap {
    let identity: Identity = Credentials::new(AK, SECRET, case.token.clone(), None, "oracle").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("kms")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .expect("params")
        .into();
    let signable = SignableRequest::new(
        case.method,
        &case.target,
        case.headers.iter().map(|(k, v)| (*k, v.as_str())),
        SignableBody::Bytes(&case.body),
    )
    .expect("signable");
    let (instructions, _) = sign(signable, &params).expect("sign").into_parts();
    let mut h = http::HeaderMap::new();
    for (k, v) in &case.headers {
        h.append(*k, v.parse().expect("hv"));
    }
    let (headers, _) = instructions.into_parts();
    for header in headers {
        h.insert(header.name(), header.value().parse().expect("hv"));
    }
    h
}

fn input<'a>(case: &'a Case, h: &'a http::HeaderMap, body: &'a [u8], now: SystemTime) -> VerifyInput<'a> {
    VerifyInput {
        method: case.method,
        path_and_query: &case.target,
        headers: h,
        body,
        region: "eu-west-1",
        service: "kms",
        now,
    }
}

#[test]
fn everything_aws_sigv4_signs_verifies_and_tampering_does_not() {
    let paths = [
        "/",
        "/a%20b",
        "/%E1%88%B4",
        "/a/b/../c",
        "/x//y/",
        "/./z",
        "/~user/-._",
        "/%2F%25",
    ];
    let queries = [
        "",
        "b=2&a=1",
        "a=1&a=0",
        "x=%20y+z",
        "empty=",
        "k",
        "%E1%88%B4=%F0%9F%92%A1",
    ];
    let values = [
        "plain",
        "  leading",
        "trailing  ",
        "in   side  runs",
        "quoted \"a   b\"",
        "application/x-amz-json-1.1",
    ];
    let mut rng = Rng(0x5eed_1234_5678_9abc);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000);
    for round in 0..400 {
        let path = *rng.pick(&paths);
        let query = *rng.pick(&queries);
        let target = if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{query}")
        };
        let mut headers = vec![("host", "kms.eu-west-1.amazonaws.com".to_owned())];
        for _ in 0..(rng.next() % 3) {
            headers.push(("x-amz-target", (*rng.pick(&values)).to_owned()));
        }
        if rng.next().is_multiple_of(2) {
            headers.push(("content-type", (*rng.pick(&values)).to_owned()));
        }
        let body: Vec<u8> = (0..(rng.next() % 2048)).map(|_| (rng.next() & 0xff) as u8).collect();
        let token = rng.next().is_multiple_of(3).then(|| format!("token-{round}/+=="));
        let case = Case {
            method: rng.pick::<&str>(&["GET", "POST"]),
            target,
            headers,
            body,
            token,
        };
        let h = signed(&case, now, "eu-west-1");
        assert_eq!(
            verify(&input(&case, &h, &case.body, now), &Creds),
            Ok(()),
            "round {round}: {} {:?}",
            case.target,
            case.headers
        );
        // One changed body byte, or a body of a different length, must fail.
        let mut tampered = case.body.clone();
        match tampered.first_mut() {
            Some(b) => *b ^= 1,
            None => tampered.push(0),
        }
        assert_eq!(
            verify(&input(&case, &h, &tampered, now), &Creds),
            Err(SigV4Error::SignatureMismatch),
            "round {round}"
        );
    }
}

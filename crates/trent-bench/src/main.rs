//! `trent-bench`: a load generator for Trent (or any AWS KMS endpoint). Sends SigV4-signed
//! Encrypt, Decrypt or GenerateDataKey requests from N concurrent workers over keep-alive HTTP/1.1
//! connections for a fixed time, then reports requests/s and p50/p99/max latency.
//!
//! ```text
//! trent-bench --env-file trent-data/admin.env --op encrypt --concurrency 32 --seconds 10
//! ```

#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use base64::Engine as _;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use trent_crypto::asymmetric::{AsymmetricKey, KeyKind, MessageKind, Purpose, SigningAlg};

#[derive(Parser, Clone)]
#[command(about = "Load generator for Trent's KMS API")]
struct Args {
    /// A file of KEY=VALUE lines (Trent's admin.env) giving credentials, region and endpoint.
    #[arg(long)]
    env_file: Option<std::path::PathBuf>,
    #[arg(long)]
    endpoint: Option<String>,
    #[arg(long)]
    access_key_id: Option<String>,
    #[arg(long)]
    secret_access_key: Option<String>,
    #[arg(long)]
    region: Option<String>,
    /// encrypt | decrypt | generate-data-key | sign | verify
    #[arg(long, default_value = "encrypt")]
    op: String,
    /// Key spec for sign/verify (a SIGN_VERIFY key is created): RSA_2048, ECC_NIST_P256, ...
    #[arg(long, default_value = "ECC_NIST_P256")]
    key_spec: String,
    /// Grants to create on the key before the run (to measure grant lookups on the hot path).
    #[arg(long, default_value_t = 0)]
    grants: usize,
    /// Run as a new IAM user with no policy that may use the key only through a grant.
    #[arg(long)]
    as_grantee: bool,
    /// Measure the raw trent-crypto (aws-lc-rs) rate of sign/verify on one thread instead.
    #[arg(long)]
    raw: bool,
    /// Key to use; a new symmetric key is created when absent.
    #[arg(long)]
    key_id: Option<String>,
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Plaintext size for encrypt/decrypt.
    #[arg(long, default_value_t = 256)]
    plaintext_bytes: usize,
    /// Encryption context pairs sent with each request.
    #[arg(long, default_value_t = 1)]
    context_pairs: usize,
}

struct Target {
    endpoint: String,
    host: String,
    access_key_id: String,
    secret: String,
    region: String,
}

type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

fn env_lookup(text: &str, name: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}=")))
        .map(str::to_owned)
}

fn target(args: &Args) -> Result<Target, String> {
    let env = match &args.env_file {
        Some(p) => std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?,
        None => String::new(),
    };
    let pick = |flag: &Option<String>, name: &str| {
        flag.clone()
            .or_else(|| env_lookup(&env, name))
            .or_else(|| std::env::var(name).ok())
            .ok_or_else(|| format!("missing {name}"))
    };
    let endpoint = pick(&args.endpoint, "AWS_ENDPOINT_URL_KMS")?;
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/').to_owned();
    Ok(Target {
        host,
        endpoint,
        access_key_id: pick(&args.access_key_id, "AWS_ACCESS_KEY_ID")?,
        secret: pick(&args.secret_access_key, "AWS_SECRET_ACCESS_KEY")?,
        region: pick(&args.region, "AWS_REGION")?,
    })
}

async fn call(client: &HttpClient, t: &Target, op: &str, body: &str) -> Result<(u16, Vec<u8>), String> {
    send(client, t, "kms", op, body).await
}

/// One signed request: JSON 1.1 with `X-Amz-Target` for `kms`, form-encoded for `iam`.
async fn send(client: &HttpClient, t: &Target, service: &str, op: &str, body: &str) -> Result<(u16, Vec<u8>), String> {
    let identity: Identity = Credentials::new(&t.access_key_id, &t.secret, None, None, "bench").into();
    let region = if service == "kms" {
        t.region.as_str()
    } else {
        "us-east-1"
    };
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let target = format!("TrentService.{op}");
    let headers: Vec<(&str, &str)> = if service == "kms" {
        vec![
            ("host", t.host.as_str()),
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", target.as_str()),
        ]
    } else {
        vec![
            ("host", t.host.as_str()),
            ("content-type", "application/x-www-form-urlencoded"),
        ]
    };
    let signable = SignableRequest::new(
        "POST",
        "/",
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _) = sign(signable, &params).map_err(|e| e.to_string())?.into_parts();
    let mut req = http::Request::builder().method("POST").uri(format!("{}/", t.endpoint));
    for (k, v) in headers {
        req = req.header(k, v);
    }
    for (k, v) in instructions.headers() {
        req = req.header(k, v);
    }
    let req = req
        .body(Full::new(Bytes::from(body.to_owned())))
        .map_err(|e| e.to_string())?;
    let resp = client.request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok((status, bytes.to_vec()))
}

/// Creates `n` grants on the key for principals that never call (grant-index size).
async fn create_grants(client: &HttpClient, t: &Target, key_id: &str, n: usize) -> Result<(), String> {
    for i in 0..n {
        let body = serde_json::json!({
            "KeyId": key_id,
            "GranteePrincipal": format!("arn:aws:iam::111122223333:user/bench-{i}"),
            "Operations": ["Encrypt", "Decrypt"],
        });
        let (status, out) = call(client, t, "CreateGrant", &body.to_string()).await?;
        if status != 200 {
            return Err(format!("CreateGrant failed: {}", String::from_utf8_lossy(&out)));
        }
    }
    Ok(())
}

/// A new IAM user with no policy, allowed to use the key only by a grant; its credentials.
async fn grantee(client: &HttpClient, t: &Target, key_id: &str) -> Result<Target, String> {
    let name = format!(
        "bench-grantee-{}",
        SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_millis()
    );
    let (status, xml) = send(
        client,
        t,
        "iam",
        "",
        &format!("Action=CreateUser&Version=2010-05-08&UserName={name}"),
    )
    .await?;
    let xml = String::from_utf8_lossy(&xml).into_owned();
    if status != 200 {
        return Err(format!("CreateUser failed: {xml}"));
    }
    let arn = between(&xml, "<Arn>", "</Arn>")?;
    let (_, keys) = send(
        client,
        t,
        "iam",
        "",
        &format!("Action=CreateAccessKey&Version=2010-05-08&UserName={name}"),
    )
    .await?;
    let keys = String::from_utf8_lossy(&keys).into_owned();
    let body = serde_json::json!({"KeyId": key_id, "GranteePrincipal": arn, "Operations": ["Encrypt", "Decrypt", "GenerateDataKey"]});
    let (status, out) = call(client, t, "CreateGrant", &body.to_string()).await?;
    if status != 200 {
        return Err(format!("CreateGrant failed: {}", String::from_utf8_lossy(&out)));
    }
    Ok(Target {
        endpoint: t.endpoint.clone(),
        host: t.host.clone(),
        access_key_id: between(&keys, "<AccessKeyId>", "</AccessKeyId>")?,
        secret: between(&keys, "<SecretAccessKey>", "</SecretAccessKey>")?,
        region: t.region.clone(),
    })
}

fn between(text: &str, start: &str, end: &str) -> Result<String, String> {
    let (_, rest) = text.split_once(start).ok_or_else(|| format!("{start} missing"))?;
    let (inner, _) = rest.split_once(end).ok_or_else(|| format!("{end} missing"))?;
    Ok(inner.to_owned())
}

fn json_field(body: &[u8], field: &str) -> Result<String, String> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    v.get(field)
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("no {field} in {v}"))
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).or(sorted.last()).copied().unwrap_or(0)
}

fn signing_setup(spec: &str) -> Result<(KeyKind, SigningAlg, &'static str), String> {
    Ok(match spec {
        "RSA_2048" => (KeyKind::Rsa2048, SigningAlg::RsaPssSha256, "RSASSA_PSS_SHA_256"),
        "RSA_3072" => (KeyKind::Rsa3072, SigningAlg::RsaPssSha256, "RSASSA_PSS_SHA_256"),
        "RSA_4096" => (KeyKind::Rsa4096, SigningAlg::RsaPssSha256, "RSASSA_PSS_SHA_256"),
        "ECC_NIST_P256" => (KeyKind::P256, SigningAlg::EcdsaSha256, "ECDSA_SHA_256"),
        "ECC_NIST_P384" => (KeyKind::P384, SigningAlg::EcdsaSha384, "ECDSA_SHA_384"),
        "ECC_NIST_EDWARDS25519" => (KeyKind::Ed25519, SigningAlg::Ed25519Sha512, "ED25519_SHA_512"),
        "ML_DSA_65" => (KeyKind::MlDsa65, SigningAlg::MlDsaShake256, "ML_DSA_SHAKE_256"),
        other => return Err(format!("unsupported --key-spec {other}")),
    })
}

/// The raw rate of the same primitive through trent-crypto on this thread only.
fn raw_rate(args: &Args) -> Result<(), String> {
    let (kind, alg, name) = signing_setup(&args.key_spec)?;
    let (key, _) = AsymmetricKey::generate(kind, Purpose::Sign).map_err(|e| e.to_string())?;
    let msg = vec![0x42u8; args.plaintext_bytes];
    let sig = key.sign(alg, MessageKind::Raw, &msg).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut n = 0u64;
    while Instant::now() < deadline {
        match args.op.as_str() {
            "sign" => {
                key.sign(alg, MessageKind::Raw, &msg).map_err(|e| e.to_string())?;
            }
            "verify" => {
                if !key
                    .verify(alg, MessageKind::Raw, &msg, &sig)
                    .map_err(|e| e.to_string())?
                {
                    return Err("verify failed".into());
                }
            }
            other => return Err(format!("--raw supports sign and verify, not {other}")),
        }
        n += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "raw op={} alg={name} threads=1 seconds={elapsed:.1} ops={n} ops_per_s={:.0}",
        args.op,
        n as f64 / elapsed
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = Args::parse();
    if args.raw {
        return raw_rate(&args);
    }
    let t = Arc::new(target(&args)?);
    let client: HttpClient = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(args.concurrency)
        .build_http();
    let signing = matches!(args.op.as_str(), "sign" | "verify");
    let key_id = match &args.key_id {
        Some(k) => k.clone(),
        None => {
            let create = if signing {
                serde_json::json!({"Description": "trent-bench", "KeySpec": args.key_spec, "KeyUsage": "SIGN_VERIFY"})
            } else {
                serde_json::json!({"Description": "trent-bench"})
            };
            let (status, body) = call(&client, &t, "CreateKey", &create.to_string()).await?;
            if status != 200 {
                return Err(format!("CreateKey failed: {}", String::from_utf8_lossy(&body)));
            }
            let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
            v.pointer("/KeyMetadata/Arn")
                .and_then(serde_json::Value::as_str)
                .ok_or("no Arn")?
                .to_owned()
        }
    };
    create_grants(&client, &t, &key_id, args.grants).await?;
    let t = if args.as_grantee {
        Arc::new(grantee(&client, &t, &key_id).await?)
    } else {
        t
    };
    let plaintext = base64::engine::general_purpose::STANDARD.encode(vec![0x42u8; args.plaintext_bytes]);
    let context: serde_json::Map<String, serde_json::Value> = (0..args.context_pairs)
        .map(|i| (format!("k{i}"), serde_json::Value::from(format!("v{i}"))))
        .collect();
    let (op, body) = match args.op.as_str() {
        "encrypt" => (
            "Encrypt",
            serde_json::json!({"KeyId": key_id, "Plaintext": plaintext, "EncryptionContext": context}).to_string(),
        ),
        "generate-data-key" => (
            "GenerateDataKey",
            serde_json::json!({"KeyId": key_id, "KeySpec": "AES_256", "EncryptionContext": context}).to_string(),
        ),
        "decrypt" => {
            let enc =
                serde_json::json!({"KeyId": key_id, "Plaintext": plaintext, "EncryptionContext": context}).to_string();
            let (status, out) = call(&client, &t, "Encrypt", &enc).await?;
            if status != 200 {
                return Err(format!("Encrypt failed: {}", String::from_utf8_lossy(&out)));
            }
            let ct = json_field(&out, "CiphertextBlob")?;
            (
                "Decrypt",
                serde_json::json!({"CiphertextBlob": ct, "EncryptionContext": context}).to_string(),
            )
        }
        "sign" | "verify" => {
            let (_, _, alg) = signing_setup(&args.key_spec)?;
            let message = base64::engine::general_purpose::STANDARD.encode(vec![0x42u8; args.plaintext_bytes]);
            let sign = serde_json::json!({"KeyId": key_id, "Message": message, "SigningAlgorithm": alg});
            if args.op == "sign" {
                ("Sign", sign.to_string())
            } else {
                let (status, out) = call(&client, &t, "Sign", &sign.to_string()).await?;
                if status != 200 {
                    return Err(format!("Sign failed: {}", String::from_utf8_lossy(&out)));
                }
                let sig = json_field(&out, "Signature")?;
                let verify =
                    serde_json::json!({"KeyId": key_id, "Message": message, "SigningAlgorithm": alg, "Signature": sig});
                ("Verify", verify.to_string())
            }
        }
        other => return Err(format!("unknown --op {other}")),
    };
    let body = Arc::new(body);
    let deadline = Instant::now() + Duration::from_secs(args.seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let (client, t, body) = (client.clone(), Arc::clone(&t), Arc::clone(&body));
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let s = Instant::now();
                match call(&client, &t, op, &body).await {
                    Ok((200, _)) => latencies.push(s.elapsed().as_micros() as u64),
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.await.map_err(|e| e.to_string())?;
        all.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    println!(
        "op={op} concurrency={} seconds={:.1} requests={} errors={errors} rps={:.0} p50_ms={:.2} p99_ms={:.2} max_ms={:.2}",
        args.concurrency,
        elapsed,
        all.len(),
        all.len() as f64 / elapsed,
        percentile(&all, 0.50) as f64 / 1000.0,
        percentile(&all, 0.99) as f64 / 1000.0,
        all.last().copied().unwrap_or(0) as f64 / 1000.0,
    );
    if errors > 0 && all.is_empty() {
        return Err("every request failed".into());
    }
    Ok(())
}

//! GenerateMac and VerifyMac (RFC 2104 HMAC with the key's hash; reference §2.2): the algorithm
//! must match the key spec ("Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224.").
//! VerifyMac recomputes and compares in constant time; a mismatch is `KMSInvalidMacException`
//! with no message.

use trent_api::dto::{GenerateMacResponse, MacRequest, VerifyMacResponse};
use trent_api::validate::Violations;
use trent_api::{Blob, KmsError, Operation, SensitiveBlob};
use trent_crypto::hmac::MacAlg;
use trent_policy::Values;
use trent_types::{KeyUsage, MacAlgorithm};

use crate::authz::facts::{self, RequestFacts};
use crate::authz::{KeySpec, OneKey};
use crate::ids::{Forms, KeyRef};
use crate::keys::LoadedKey;
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::{spec, validate};

pub(crate) struct Req {
    key_id: String,
    key: KeyRef,
    message: SensitiveBlob,
    algorithm: MacAlgorithm,
    mac: Blob,
    grant_tokens: Vec<String>,
    dry_run: bool,
}

impl RequestFacts for Req {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        match key {
            "kms:macalgorithm" => facts::one(self.algorithm.as_str()),
            _ => facts::request_alias(&self.key_id, key),
        }
    }
}

fn validate_request(req: MacRequest, checks: &Checks<'_>, verify: bool) -> Result<Req, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    match &req.message {
        None => v.not_null("message"),
        Some(m) => v.length("message", None, m.len(), 1, 4096),
    }
    // AWS lists this set in its own order in the message (AWS-recorded).
    let algorithm = validate::required_enum(
        &mut v,
        "macAlgorithm",
        &req.mac_algorithm,
        MacAlgorithm::MESSAGE_ORDER,
        MacAlgorithm::parse,
    );
    validate::grant_tokens(&mut v, &req.grant_tokens);
    if verify {
        match &req.mac {
            None => v.not_null("mac"),
            Some(m) => validate::blob_length(&mut v, "mac", m.0.len(), 1, 6144),
        }
    }
    v.finish()?;
    let key = validate::key_ref(key_id, Forms::Any, checks.region)?;
    Ok(Req {
        key,
        key_id: req.key_id.unwrap_or_default(),
        message: req.message.unwrap_or_default(),
        algorithm: algorithm.ok_or_else(|| KmsError::internal("validated MAC algorithm"))?,
        mac: req.mac.unwrap_or_default(),
        grant_tokens: req.grant_tokens.unwrap_or_default(),
        dry_run: req.dry_run == Some(true),
    })
}

fn check_mac(key: &LoadedKey, alg: MacAlgorithm) -> Result<MacAlg, KmsError> {
    let wanted = spec::mac_alg(alg);
    match spec::mac_of_spec(key.spec()) {
        Some(k) if k == wanted => Ok(wanted),
        _ => Err(super::asymmetric::incompatible(alg.as_str(), key)),
    }
}

pub(crate) struct GenerateMac;

impl KmsOp for GenerateMac {
    const OP: Operation = Operation::GenerateMac;
    const TRACK_USAGE: bool = true;
    type Input = MacRequest;
    type Req = Req;
    type Target = OneKey;
    type Output = GenerateMacResponse;

    fn validate(req: MacRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        validate_request(req, checks, false)
    }

    fn grant_tokens(req: &Req) -> &[String] {
        &req.grant_tokens
    }

    fn target(req: &Req) -> KeySpec<'_> {
        KeySpec {
            key: &req.key,
            facts: req,
        }
    }

    async fn run(cx: Ctx<'_, OneKey>, req: Req) -> Result<GenerateMacResponse, KmsError> {
        let key = &cx.auth.key;
        super::require_usage(key, KeyUsage::GenerateVerifyMac, Self::OP)?;
        let alg = check_mac(key, req.algorithm)?;
        super::finish_dry_run(req.dry_run)?;
        let mac = trent_crypto::hmac::mac(alg, &key.current()?.secret, req.message.expose());
        Ok(GenerateMacResponse {
            mac: Blob(mac),
            mac_algorithm: req.algorithm.as_str().to_owned(),
            key_id: key.arn.to_string(),
        })
    }
}

pub(crate) struct VerifyMac;

impl KmsOp for VerifyMac {
    const OP: Operation = Operation::VerifyMac;
    const TRACK_USAGE: bool = true;
    type Input = MacRequest;
    type Req = Req;
    type Target = OneKey;
    type Output = VerifyMacResponse;

    fn validate(req: MacRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        validate_request(req, checks, true)
    }

    fn grant_tokens(req: &Req) -> &[String] {
        &req.grant_tokens
    }

    fn target(req: &Req) -> KeySpec<'_> {
        KeySpec {
            key: &req.key,
            facts: req,
        }
    }

    async fn run(cx: Ctx<'_, OneKey>, req: Req) -> Result<VerifyMacResponse, KmsError> {
        let key = &cx.auth.key;
        super::require_usage(key, KeyUsage::GenerateVerifyMac, Self::OP)?;
        let alg = check_mac(key, req.algorithm)?;
        super::finish_dry_run(req.dry_run)?;
        trent_crypto::hmac::verify(alg, &key.current()?.secret, req.message.expose(), &req.mac.0)
            .map_err(|_| KmsError::InvalidMac)?;
        Ok(VerifyMacResponse {
            key_id: key.arn.to_string(),
            mac_valid: true,
            mac_algorithm: req.algorithm.as_str().to_owned(),
        })
    }
}

//! GenerateMac (RFC 2104 HMAC with the key's hash; reference §2.2): the algorithm must match the
//! key spec ("Algorithm HMAC_SHA_256 is incompatible with key spec HMAC_224.").

use trent_api::dto::{GenerateMacResponse, MacRequest};
use trent_api::validate::Violations;
use trent_api::{Blob, KmsError, Operation};
use trent_crypto::hmac::MacAlg;

use crate::credentials::Caller;
use crate::ids::Forms;
use crate::keys::LoadedKey;
use crate::{spec, validate, Kms};

pub(crate) fn validate_request<'a>(v: &mut Violations, req: &'a MacRequest) -> (Option<&'a str>, Option<&'a str>) {
    let key_id = validate::key_id(v, "keyId", &req.key_id);
    match &req.message {
        None => v.not_null("message"),
        Some(m) => v.length("message", None, m.len(), 1, 4096),
    }
    let alg = match &req.mac_algorithm {
        None => {
            v.not_null("macAlgorithm");
            None
        }
        Some(a) => v.one_of("macAlgorithm", a, spec::MAC_ALGORITHMS).then_some(a.as_str()),
    };
    validate::grant_tokens(v, &req.grant_tokens);
    (key_id, alg)
}

pub(crate) fn check_mac(key: &LoadedKey, alg_name: &str) -> Result<MacAlg, KmsError> {
    match (spec::mac_of_spec(&key.record.key_spec), spec::mac_alg(alg_name)) {
        (Some(k), Some(a)) if k == a => Ok(a),
        _ => Err(super::asymmetric::incompatible(alg_name, key)),
    }
}

pub async fn run(kms: &Kms, caller: &Caller, req: MacRequest) -> Result<GenerateMacResponse, KmsError> {
    let mut v = Violations::new();
    let (key_id, alg_name) = validate_request(&mut v, &req);
    v.finish()?;
    let op = Operation::GenerateMac;
    let key = super::key_for(kms, caller, key_id.unwrap_or_default(), Forms::Any, op).await?;
    super::require_usage(&key, "GENERATE_VERIFY_MAC", op)?;
    let alg_name = alg_name.unwrap_or_default().to_owned();
    let alg = check_mac(&key, &alg_name)?;
    super::finish_dry_run(req.dry_run)?;
    let message = req.message.unwrap_or_default();
    let mac = trent_crypto::hmac::mac(alg, &key.current()?.secret, message.expose());
    Ok(GenerateMacResponse {
        mac: Blob(mac),
        mac_algorithm: alg_name,
        key_id: key.arn.clone(),
    })
}

//! GetPublicKey: the DER SubjectPublicKeyInfo of an asymmetric key with its spec, usage and
//! algorithm lists (reference §1). Symmetric and HMAC keys have no public key.

use trent_api::dto::{GetPublicKeyResponse, KeyIdRequest};
use trent_api::validate::Violations;
use trent_api::{Blob, KmsError, Operation};
use trent_policy::Values;

use crate::authz::facts::{self, RequestFacts};
use crate::authz::{KeySpec, OneKey};
use crate::ids::{Forms, KeyRef};
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

pub(crate) struct GetPublicKey;

/// A request whose only member is a `KeyId` accepting every form (and grant tokens).
pub(crate) struct AnyKeyReq {
    pub key_id: String,
    pub key: KeyRef,
    pub grant_tokens: Vec<String>,
}

impl RequestFacts for AnyKeyReq {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        facts::request_alias(&self.key_id, key)
    }
}

pub(crate) fn validate_any_key(req: KeyIdRequest, checks: &Checks<'_>) -> Result<AnyKeyReq, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    validate::grant_tokens(&mut v, &req.grant_tokens);
    v.finish()?;
    let key = validate::key_ref(key_id, Forms::Any, checks.region)?;
    Ok(AnyKeyReq {
        key,
        key_id: req.key_id.unwrap_or_default(),
        grant_tokens: req.grant_tokens.unwrap_or_default(),
    })
}

impl KmsOp for GetPublicKey {
    const OP: Operation = Operation::GetPublicKey;
    type Input = KeyIdRequest;
    type Req = AnyKeyReq;
    type Target = OneKey;
    type Output = GetPublicKeyResponse;

    fn validate(req: KeyIdRequest, checks: &Checks<'_>) -> Result<AnyKeyReq, KmsError> {
        validate_any_key(req, checks)
    }

    fn grant_tokens(req: &AnyKeyReq) -> &[String] {
        &req.grant_tokens
    }

    fn target(req: &AnyKeyReq) -> KeySpec<'_> {
        KeySpec {
            key: &req.key,
            facts: req,
        }
    }

    async fn run(cx: Ctx<'_, OneKey>, _req: AnyKeyReq) -> Result<GetPublicKeyResponse, KmsError> {
        let key = &cx.auth.key;
        let Some(pair) = &key.asymmetric else {
            return Err(KmsError::UnsupportedOperation(format!(
                "{} key spec {} is not valid for GetPublicKey.",
                key.arn,
                key.spec()
            )));
        };
        let algs = key.algorithms();
        Ok(GetPublicKeyResponse {
            key_id: key.arn.to_string(),
            public_key: Blob(pair.public_key_der().to_vec()),
            customer_master_key_spec: key.spec(),
            key_spec: key.spec(),
            key_usage: key.usage(),
            encryption_algorithms: algs.encryption,
            signing_algorithms: algs.signing,
            key_agreement_algorithms: algs.key_agreement,
        })
    }
}

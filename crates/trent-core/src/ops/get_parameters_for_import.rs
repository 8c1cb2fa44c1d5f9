//! GetParametersForImport (reference §7): a fresh RSA wrapping key pair and an import token valid
//! for 24 hours, for keys with `Origin=EXTERNAL` (the state table refuses other origins and keys
//! pending deletion). The token carries the wrapping private key sealed under the root key and
//! bound to this key's ARN; nothing is stored.

use trent_api::dto::{GetParametersForImportRequest, GetParametersForImportResponse};
use trent_api::validate::Violations;
use trent_api::{Blob, KmsError, Operation};
use trent_crypto::import::{self, WrappingAlg};
use trent_policy::Values;
use trent_types::{WrappingAlgorithm, WrappingKeySpec};

use super::common::finish;
use crate::authz::facts::{self, RequestFacts};
use crate::authz::{KeySpec, OneKey};
use crate::clock::{epoch_seconds, DAY_MS};
use crate::ids::KeyRef;
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

pub(crate) struct GetParametersForImport;

pub(crate) struct Req {
    key: KeyRef,
    algorithm: WrappingAlgorithm,
    key_spec: WrappingKeySpec,
}

impl RequestFacts for Req {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        match key {
            "kms:wrappingalgorithm" => facts::one(self.algorithm.as_str()),
            "kms:wrappingkeyspec" => facts::one(self.key_spec.as_str()),
            _ => None,
        }
    }
}

impl KmsOp for GetParametersForImport {
    const OP: Operation = Operation::GetParametersForImport;
    type Input = GetParametersForImportRequest;
    type Req = Req;
    type Target = OneKey;
    type Output = GetParametersForImportResponse;

    fn validate(req: GetParametersForImportRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        let raw = validate::key_id(&mut v, "keyId", &req.key_id);
        let algorithm = validate::required_enum(
            &mut v,
            "wrappingAlgorithm",
            &req.wrapping_algorithm,
            WrappingAlgorithm::NAMES,
            WrappingAlgorithm::parse,
        );
        let key_spec = validate::required_enum(
            &mut v,
            "wrappingKeySpec",
            &req.wrapping_key_spec,
            WrappingKeySpec::NAMES,
            WrappingKeySpec::parse,
        );
        let key = finish(v, raw, checks)?;
        Ok(Req {
            key,
            algorithm: algorithm.ok_or_else(|| KmsError::internal("validated algorithm"))?,
            key_spec: key_spec.ok_or_else(|| KmsError::internal("validated key spec"))?,
        })
    }

    fn target(req: &Req) -> KeySpec<'_> {
        KeySpec {
            key: &req.key,
            facts: req,
        }
    }

    async fn run(cx: Ctx<'_, OneKey>, req: Req) -> Result<GetParametersForImportResponse, KmsError> {
        let key = &cx.auth.key;
        let alg = match req.algorithm {
            WrappingAlgorithm::RsaesOaepSha1 => WrappingAlg::OaepSha1,
            WrappingAlgorithm::RsaesOaepSha256 => WrappingAlg::OaepSha256,
            WrappingAlgorithm::RsaAesKeyWrapSha1 => WrappingAlg::RsaAesKeyWrapSha1,
            WrappingAlgorithm::RsaAesKeyWrapSha256 => WrappingAlg::RsaAesKeyWrapSha256,
            other @ (WrappingAlgorithm::RsaesPkcs1V15 | WrappingAlgorithm::Sm2Pke) => {
                return Err(KmsError::UnsupportedOperation(format!(
                    "Wrapping algorithm {other} is not supported in this Region."
                )))
            }
        };
        let bits = match req.key_spec {
            WrappingKeySpec::Rsa2048 => 2048,
            WrappingKeySpec::Rsa3072 => 3072,
            WrappingKeySpec::Rsa4096 => 4096,
            WrappingKeySpec::Sm2 => {
                return Err(KmsError::UnsupportedOperation(
                    "Wrapping key spec SM2 is not supported in this Region.".to_owned(),
                ))
            }
        };
        let expires = cx.kms.now_ms() + DAY_MS;
        let root = cx.kms.root();
        let arn = key.arn.to_string();
        let params = tokio::task::spawn_blocking(move || import::parameters(root.current(), &arn, alg, bits, expires))
            .await
            .map_err(KmsError::internal)?
            .map_err(KmsError::internal)?;
        Ok(GetParametersForImportResponse {
            key_id: key.arn.to_string(),
            import_token: Blob(params.token),
            public_key: Blob(params.public_key_der),
            parameters_valid_to: epoch_seconds(expires),
        })
    }
}

//! Encrypt (reference §2.3, §4.1): up to 4096 bytes under a symmetric key with the encryption
//! context bound as AAD, or RSAES-OAEP under an RSA ENCRYPT_DECRYPT key (EncryptionAlgorithm
//! required, AWS's size limits). Output `KeyId` is always the key ARN.

use trent_api::dto::{EncryptRequest, EncryptResponse};
use trent_api::validate::Violations;
use trent_api::{Blob, KmsError, Operation, SensitiveBlob};
use trent_policy::Values;
use trent_types::{EncryptionAlgorithm, EncryptionContext, KeyUsage};

use crate::authz::facts::{self, RequestFacts};
use crate::authz::{KeySpec, OneKey};
use crate::ids::{Forms, KeyRef};
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

pub(crate) struct Encrypt;

pub(crate) struct Req {
    key_id: String,
    key: KeyRef,
    plaintext: SensitiveBlob,
    context: Option<EncryptionContext>,
    algorithm: Option<EncryptionAlgorithm>,
    grant_tokens: Vec<String>,
    dry_run: bool,
}

impl RequestFacts for Req {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        match key {
            "kms:encryptionalgorithm" => {
                facts::one(self.algorithm.unwrap_or(EncryptionAlgorithm::SymmetricDefault).as_str())
            }
            _ => facts::encryption_context(self.context.as_ref(), key)
                .or_else(|| facts::request_alias(&self.key_id, key)),
        }
    }

    fn encryption_context(&self) -> Option<&EncryptionContext> {
        self.context.as_ref()
    }
}

impl KmsOp for Encrypt {
    const OP: Operation = Operation::Encrypt;
    const TRACK_USAGE: bool = true;
    type Input = EncryptRequest;
    type Req = Req;
    type Target = OneKey;
    type Output = EncryptResponse;

    fn validate(mut req: EncryptRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
        match &req.plaintext {
            None => v.not_null("plaintext"),
            Some(p) => v.length("plaintext", None, p.len(), 1, 4096),
        }
        let algorithm = validate::enum_member(
            &mut v,
            "encryptionAlgorithm",
            &req.encryption_algorithm,
            EncryptionAlgorithm::NAMES,
            EncryptionAlgorithm::parse,
        );
        validate::grant_tokens(&mut v, &req.grant_tokens);
        let context = validate::encryption_context(&mut v, "encryptionContext", req.encryption_context.take());
        v.finish()?;
        let key = validate::key_ref(key_id, Forms::Any, checks.region)?;
        Ok(Req {
            key,
            key_id: req.key_id.unwrap_or_default(),
            plaintext: req.plaintext.unwrap_or_default(),
            context,
            algorithm,
            grant_tokens: req.grant_tokens.unwrap_or_default(),
            dry_run: req.dry_run == Some(true),
        })
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

    async fn run(cx: Ctx<'_, OneKey>, req: Req) -> Result<EncryptResponse, KmsError> {
        let key = &cx.auth.key;
        super::require_usage(key, KeyUsage::EncryptDecrypt, Self::OP)?;
        if key.spec().is_symmetric() {
            super::check_symmetric_algorithm(key, req.algorithm)?;
            super::finish_dry_run(req.dry_run)?;
            let (blob, _) =
                super::seal_any(&cx.asker(Self::OP), key, req.context.as_ref(), req.plaintext.expose()).await?;
            return Ok(EncryptResponse {
                ciphertext_blob: Blob(blob),
                key_id: key.arn.to_string(),
                encryption_algorithm: EncryptionAlgorithm::SymmetricDefault.as_str().to_owned(),
            });
        }
        let (alg, alg_name) = super::asymmetric::oaep_for(key, req.algorithm)?;
        super::asymmetric::reject_context(req.context.as_ref(), key)?;
        super::asymmetric::check_oaep_size(key, alg, alg_name, req.plaintext.len())?;
        super::finish_dry_run(req.dry_run)?;
        let ct = key
            .key_pair()?
            .encrypt(alg, req.plaintext.expose())
            .map_err(KmsError::internal)?;
        Ok(EncryptResponse {
            ciphertext_blob: Blob(ct),
            key_id: key.arn.to_string(),
            encryption_algorithm: alg_name.as_str().to_owned(),
        })
    }
}

//! Decrypt (reference §4.1, §4.5): a symmetric blob names its key, so `KeyId` is optional; a
//! `KeyId` naming another key is `IncorrectKeyException`; a damaged blob or a different encryption
//! context is `InvalidCiphertextException` with no message. RSA ciphertext needs `KeyId` and
//! `EncryptionAlgorithm`. `DryRun` with `IGNORE_CIPHERTEXT` checks only key and authorization.

use trent_api::dto::{DecryptRequest, DecryptResponse};
use trent_api::validate::Violations;
use trent_api::{Blob, KmsError, Operation, SensitiveBlob};
use trent_policy::Values;
use trent_types::{EncryptionAlgorithm, EncryptionContext, KeyUsage};

use crate::authz::facts::{self, RequestFacts};
use crate::authz::{CiphertextKey, CiphertextSpec};
use crate::ids::{Forms, KeyRef};
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

pub(crate) struct Decrypt;

pub(crate) struct Req {
    key_id: Option<String>,
    key: Option<KeyRef>,
    blob: Blob,
    ignore_ciphertext: bool,
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
                .or_else(|| self.key_id.as_deref().and_then(|k| facts::request_alias(k, key))),
        }
    }

    fn encryption_context(&self) -> Option<&EncryptionContext> {
        self.context.as_ref()
    }
}

impl KmsOp for Decrypt {
    const OP: Operation = Operation::Decrypt;
    const TRACK_USAGE: bool = true;
    type Input = DecryptRequest;
    type Req = Req;
    type Target = CiphertextKey;
    type Output = DecryptResponse;

    fn validate(mut req: DecryptRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        let ignore_ciphertext =
            validate::dry_run_modifiers(&mut v, &req.dry_run_modifiers) && req.dry_run == Some(true);
        match &req.ciphertext_blob {
            None if !ignore_ciphertext => v.not_null("ciphertextBlob"),
            None => {}
            Some(b) => validate::blob_length(&mut v, "ciphertextBlob", b.0.len(), 1, 6144),
        }
        if let Some(k) = &req.key_id {
            v.str_length("keyId", k, 1, 2048);
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
        super::no_recipient(&req.recipient)?;
        let key = req
            .key_id
            .as_deref()
            .map(|k| validate::key_ref(Some(k), Forms::Any, checks.region))
            .transpose()?;
        Ok(Req {
            key,
            key_id: req.key_id,
            blob: req.ciphertext_blob.unwrap_or_default(),
            ignore_ciphertext,
            context,
            algorithm,
            grant_tokens: req.grant_tokens.unwrap_or_default(),
            dry_run: req.dry_run == Some(true),
        })
    }

    fn grant_tokens(req: &Req) -> &[String] {
        &req.grant_tokens
    }

    fn target(req: &Req) -> CiphertextSpec<'_> {
        CiphertextSpec {
            blob: (!req.ignore_ciphertext).then_some(req.blob.0.as_slice()),
            key: req.key.as_ref(),
            key_member: "KeyId",
            action: trent_api::Action::Decrypt,
            facts: req,
        }
    }

    async fn run(cx: Ctx<'_, CiphertextKey>, req: Req) -> Result<DecryptResponse, KmsError> {
        let key = &cx.auth.key;
        if req.ignore_ciphertext {
            super::require_usage(key, KeyUsage::EncryptDecrypt, Self::OP)?;
            return Err(KmsError::DryRun);
        }
        let Some(header) = &cx.auth.header else {
            super::require_decrypting_key(key)?;
            let (alg, name) = super::asymmetric::oaep_for(key, req.algorithm)?;
            super::asymmetric::reject_context(req.context.as_ref(), key)?;
            super::finish_dry_run(req.dry_run)?;
            let blob = req.blob;
            let plaintext = super::asymmetric::private_op(key, move |k| {
                k.decrypt(alg, &blob.0).map_err(|_| KmsError::InvalidCiphertext)
            })
            .await?;
            return Ok(DecryptResponse {
                key_id: key.arn.to_string(),
                plaintext: SensitiveBlob::new(plaintext.into_zeroizing()),
                encryption_algorithm: name.as_str().to_owned(),
                key_material_id: None,
            });
        };
        super::check_symmetric_algorithm(key, req.algorithm)?;
        let (plaintext, material_id) =
            super::open_any(&cx.asker(Self::OP), key, header, &req.blob.0, req.context.as_ref()).await?;
        super::finish_dry_run(req.dry_run)?;
        Ok(DecryptResponse {
            key_id: key.arn.to_string(),
            plaintext: SensitiveBlob::new(plaintext.into_zeroizing()),
            encryption_algorithm: EncryptionAlgorithm::SymmetricDefault.as_str().to_owned(),
            key_material_id: Some(material_id),
        })
    }
}

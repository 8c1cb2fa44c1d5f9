//! ReEncrypt (reference §4.5): decrypt under the source key and encrypt under the destination key
//! entirely inside Trent; the plaintext never leaves the process. Either side may be an RSA
//! ENCRYPT_DECRYPT key (then its algorithm is required and no context applies). Authorized by
//! `kms:ReEncryptTo` on the destination and `kms:ReEncryptFrom` on the source, each with its own
//! condition keys (each side's encryption context, algorithm and alias).

use trent_api::dto::{ReEncryptRequest, ReEncryptResponse};
use trent_api::validate::Violations;
use trent_api::{Action, Blob, KmsError, Operation};
use trent_crypto::SecretBytes;
use trent_policy::Values;
use trent_types::{EncryptionAlgorithm, EncryptionContext, KeyUsage};

use crate::authz::facts::{self, RequestFacts};
use crate::authz::{CiphertextSpec, ReEncryptKeys, ReEncryptSpec};
use crate::ids::{Forms, KeyRef};
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

pub(crate) struct ReEncrypt;

/// One side of a ReEncrypt: its key reference, context and algorithm.
pub(crate) struct Side {
    key_id: Option<String>,
    context: Option<EncryptionContext>,
    algorithm: Option<EncryptionAlgorithm>,
}

impl RequestFacts for Side {
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

pub(crate) struct Req {
    blob: Blob,
    ignore_ciphertext: bool,
    source_key: Option<KeyRef>,
    source: Side,
    destination_key: KeyRef,
    destination: Side,
    grant_tokens: Vec<String>,
    dry_run: bool,
}

/// The request as a whole answers with the source side's facts.
impl RequestFacts for Req {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        self.source.fact(key)
    }

    fn encryption_context(&self) -> Option<&EncryptionContext> {
        self.source.encryption_context()
    }
}

impl KmsOp for ReEncrypt {
    const OP: Operation = Operation::ReEncrypt;
    const TRACK_USAGE: bool = true;
    type Input = ReEncryptRequest;
    type Req = Req;
    type Target = ReEncryptKeys;
    type Output = ReEncryptResponse;

    fn validate(mut req: ReEncryptRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        let ignore_ciphertext =
            validate::dry_run_modifiers(&mut v, &req.dry_run_modifiers) && req.dry_run == Some(true);
        match &req.ciphertext_blob {
            None if !ignore_ciphertext => v.not_null("ciphertextBlob"),
            None => {}
            Some(b) => validate::blob_length(&mut v, "ciphertextBlob", b.0.len(), 1, 6144),
        }
        let dest_id = validate::key_id(&mut v, "destinationKeyId", &req.destination_key_id);
        if let Some(k) = &req.source_key_id {
            v.str_length("sourceKeyId", k, 1, 2048);
        }
        let names = EncryptionAlgorithm::NAMES;
        let source_alg = validate::enum_member(
            &mut v,
            "sourceEncryptionAlgorithm",
            &req.source_encryption_algorithm,
            names,
            EncryptionAlgorithm::parse,
        );
        let dest_alg = validate::enum_member(
            &mut v,
            "destinationEncryptionAlgorithm",
            &req.destination_encryption_algorithm,
            names,
            EncryptionAlgorithm::parse,
        );
        validate::grant_tokens(&mut v, &req.grant_tokens);
        let source_context =
            validate::encryption_context(&mut v, "sourceEncryptionContext", req.source_encryption_context.take());
        let destination_context = validate::encryption_context(
            &mut v,
            "destinationEncryptionContext",
            req.destination_encryption_context.take(),
        );
        v.finish()?;
        let destination_key = validate::key_ref(dest_id, Forms::Any, checks.region)?;
        let source_key = req
            .source_key_id
            .as_deref()
            .map(|k| validate::key_ref(Some(k), Forms::Any, checks.region))
            .transpose()?;
        Ok(Req {
            blob: req.ciphertext_blob.unwrap_or_default(),
            ignore_ciphertext,
            source_key,
            source: Side {
                key_id: req.source_key_id,
                context: source_context,
                algorithm: source_alg,
            },
            destination_key,
            destination: Side {
                key_id: req.destination_key_id,
                context: destination_context,
                algorithm: dest_alg,
            },
            grant_tokens: req.grant_tokens.unwrap_or_default(),
            dry_run: req.dry_run == Some(true),
        })
    }

    fn grant_tokens(req: &Req) -> &[String] {
        &req.grant_tokens
    }

    fn target(req: &Req) -> ReEncryptSpec<'_> {
        ReEncryptSpec {
            source: CiphertextSpec {
                blob: (!req.ignore_ciphertext).then_some(req.blob.0.as_slice()),
                key: req.source_key.as_ref(),
                key_member: "SourceKeyId",
                action: Action::ReEncryptFrom,
                facts: &req.source,
            },
            destination: &req.destination_key,
            destination_facts: &req.destination,
        }
    }

    async fn run(cx: Ctx<'_, ReEncryptKeys>, req: Req) -> Result<ReEncryptResponse, KmsError> {
        let dest = &cx.auth.destination;
        super::require_usage(dest, KeyUsage::EncryptDecrypt, Self::OP)?;
        let dest_asym = if dest.spec().is_symmetric() {
            super::check_symmetric_algorithm(dest, req.destination.algorithm)?;
            None
        } else {
            super::asymmetric::reject_context(req.destination.context.as_ref(), dest)?;
            Some(super::asymmetric::oaep_for(dest, req.destination.algorithm)?)
        };
        if req.ignore_ciphertext {
            return Err(KmsError::DryRun);
        }
        let src = &cx.auth.source.key;
        let (plaintext, source_alg, source_material): (SecretBytes, EncryptionAlgorithm, Option<String>) =
            match &cx.auth.source.header {
                None => {
                    super::require_decrypting_key(src)?;
                    let (alg, name) = super::asymmetric::oaep_for(src, req.source.algorithm)?;
                    super::asymmetric::reject_context(req.source.context.as_ref(), src)?;
                    let blob = req.blob.clone();
                    let pt = super::asymmetric::private_op(src, move |k| {
                        k.decrypt(alg, &blob.0).map_err(|_| KmsError::InvalidCiphertext)
                    })
                    .await?;
                    (pt, name, None)
                }
                Some(header) => {
                    super::check_symmetric_algorithm(src, req.source.algorithm)?;
                    let (pt, material) = super::open_any(
                        &cx.asker(Self::OP),
                        src,
                        header,
                        &req.blob.0,
                        req.source.context.as_ref(),
                    )
                    .await?;
                    (pt, EncryptionAlgorithm::SymmetricDefault, Some(material))
                }
            };
        let (ciphertext, dest_alg, dest_material) = match dest_asym {
            None => {
                super::finish_dry_run(req.dry_run)?;
                let (ct, m) = super::seal_any(
                    &cx.asker(Self::OP),
                    dest,
                    req.destination.context.as_ref(),
                    plaintext.expose(),
                )
                .await?;
                (ct, EncryptionAlgorithm::SymmetricDefault, Some(m))
            }
            Some((alg, name)) => {
                super::asymmetric::check_oaep_size(dest, alg, name, plaintext.len())?;
                super::finish_dry_run(req.dry_run)?;
                (
                    dest.key_pair()?
                        .encrypt(alg, plaintext.expose())
                        .map_err(KmsError::internal)?,
                    name,
                    None,
                )
            }
        };
        Ok(ReEncryptResponse {
            ciphertext_blob: Blob(ciphertext),
            source_key_id: src.arn.to_string(),
            key_id: dest.arn.to_string(),
            source_encryption_algorithm: source_alg.as_str().to_owned(),
            destination_encryption_algorithm: dest_alg.as_str().to_owned(),
            source_key_material_id: source_material,
            destination_key_material_id: dest_material,
        })
    }
}

//! GenerateDataKey and GenerateDataKeyWithoutPlaintext (reference §4.4): a fresh data key
//! (KeySpec AES_128/AES_256 or NumberOfBytes 1–1024, exactly one), encrypted under a symmetric
//! KMS key and, for GenerateDataKey, also returned in plaintext. Trent never stores data keys.

use trent_api::dto::{GenerateDataKeyRequest, GenerateDataKeyResponse};
use trent_api::validate::Violations;
use trent_api::{Blob, KmsError, Operation, SensitiveBlob};
use trent_policy::Values;
use trent_types::{DataKeySpec, EncryptionContext};

use crate::authz::facts::{self, RequestFacts};
use crate::authz::{KeySpec, OneKey};
use crate::ids::{Forms, KeyRef};
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

pub(crate) struct Req {
    key_id: String,
    key: KeyRef,
    len: usize,
    context: Option<EncryptionContext>,
    grant_tokens: Vec<String>,
    dry_run: bool,
}

impl RequestFacts for Req {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        match key {
            "kms:encryptionalgorithm" => facts::one("SYMMETRIC_DEFAULT"),
            _ => facts::encryption_context(self.context.as_ref(), key)
                .or_else(|| facts::request_alias(&self.key_id, key)),
        }
    }

    fn encryption_context(&self) -> Option<&EncryptionContext> {
        self.context.as_ref()
    }
}

fn validate_request(mut req: GenerateDataKeyRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    if let Some(n) = req.number_of_bytes {
        v.range("numberOfBytes", n, 1, 1024);
    }
    let spec = validate::enum_member(&mut v, "keySpec", &req.key_spec, DataKeySpec::NAMES, DataKeySpec::parse);
    validate::grant_tokens(&mut v, &req.grant_tokens);
    let context = validate::encryption_context(&mut v, "encryptionContext", req.encryption_context.take());
    v.finish()?;
    let len = match (req.number_of_bytes, spec) {
        (Some(n), None) => usize::try_from(n).map_err(KmsError::internal)?,
        (None, Some(s)) => s.byte_len(),
        _ => {
            return Err(KmsError::Validation(
                "Please specify either number of bytes or key spec.".to_owned(),
            ))
        }
    };
    super::no_recipient(&req.recipient)?;
    let key = validate::key_ref(key_id, Forms::Any, checks.region)?;
    Ok(Req {
        key,
        key_id: req.key_id.unwrap_or_default(),
        len,
        context,
        grant_tokens: req.grant_tokens.unwrap_or_default(),
        dry_run: req.dry_run == Some(true),
    })
}

async fn generate(
    cx: Ctx<'_, OneKey>,
    req: Req,
    op: Operation,
    with_plaintext: bool,
) -> Result<GenerateDataKeyResponse, KmsError> {
    let key = &cx.auth.key;
    super::require_symmetric(key, op)?;
    super::finish_dry_run(req.dry_run)?;
    let data_key = trent_crypto::random::secret(req.len).map_err(KmsError::internal)?;
    let (blob, material_id) = super::seal_any(&cx.asker(op), key, req.context.as_ref(), data_key.expose()).await?;
    Ok(GenerateDataKeyResponse {
        ciphertext_blob: Blob(blob),
        plaintext: with_plaintext.then(|| SensitiveBlob::new(data_key.into_zeroizing())),
        key_id: key.arn.to_string(),
        key_material_id: material_id,
    })
}

macro_rules! data_key_op {
    ($name:ident, $op:expr, $plaintext:expr) => {
        pub(crate) struct $name;

        impl KmsOp for $name {
            const OP: Operation = $op;
            const TRACK_USAGE: bool = true;
            type Input = GenerateDataKeyRequest;
            type Req = Req;
            type Target = OneKey;
            type Output = GenerateDataKeyResponse;

            fn validate(mut req: GenerateDataKeyRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
                if !$plaintext {
                    // Not a member of this operation in the model: ignored as an unknown member is.
                    req.recipient = None;
                }
                validate_request(req, checks)
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

            async fn run(cx: Ctx<'_, OneKey>, req: Req) -> Result<GenerateDataKeyResponse, KmsError> {
                generate(cx, req, Self::OP, $plaintext).await
            }
        }
    };
}

data_key_op!(GenerateDataKey, Operation::GenerateDataKey, true);
data_key_op!(
    GenerateDataKeyWithoutPlaintext,
    Operation::GenerateDataKeyWithoutPlaintext,
    false
);

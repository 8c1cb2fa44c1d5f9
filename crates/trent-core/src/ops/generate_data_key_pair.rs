//! GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext (reference §4.4): a fresh key pair
//! of `KeyPairSpec` generated inside Trent (on the blocking pool); the private key (DER PKCS#8)
//! encrypted under a symmetric KMS key with the encryption context bound and, for
//! GenerateDataKeyPair, also in plaintext; the public key as DER SubjectPublicKeyInfo.

use trent_api::dto::{GenerateDataKeyPairRequest, GenerateDataKeyPairResponse};
use trent_api::validate::Violations;
use trent_api::{Blob, KmsError, Operation, SensitiveBlob};
use trent_crypto::asymmetric::{AsymmetricKey, Purpose};
use trent_policy::Values;
use trent_types::{DataKeyPairSpec, EncryptionContext};

use crate::authz::facts::{self, RequestFacts};
use crate::authz::{KeySpec, OneKey};
use crate::ids::{Forms, KeyRef};
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::{spec, validate};

pub(crate) struct Req {
    key_id: String,
    key: KeyRef,
    pair_spec: DataKeyPairSpec,
    context: Option<EncryptionContext>,
    grant_tokens: Vec<String>,
    dry_run: bool,
}

impl RequestFacts for Req {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        match key {
            "kms:encryptionalgorithm" => facts::one("SYMMETRIC_DEFAULT"),
            "kms:datakeypairspec" => facts::one(self.pair_spec.as_str()),
            _ => facts::encryption_context(self.context.as_ref(), key)
                .or_else(|| facts::request_alias(&self.key_id, key)),
        }
    }

    fn encryption_context(&self) -> Option<&EncryptionContext> {
        self.context.as_ref()
    }
}

fn validate_request(mut req: GenerateDataKeyPairRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    let pair_spec = validate::required_enum(
        &mut v,
        "keyPairSpec",
        &req.key_pair_spec,
        DataKeyPairSpec::NAMES,
        DataKeyPairSpec::parse,
    );
    validate::grant_tokens(&mut v, &req.grant_tokens);
    let context = validate::encryption_context(&mut v, "encryptionContext", req.encryption_context.take());
    v.finish()?;
    super::no_recipient(&req.recipient)?;
    let pair_spec = pair_spec.ok_or_else(|| KmsError::internal("validated key pair spec"))?;
    let key = validate::key_ref(key_id, Forms::Any, checks.region)?;
    Ok(Req {
        key,
        key_id: req.key_id.unwrap_or_default(),
        pair_spec,
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
) -> Result<GenerateDataKeyPairResponse, KmsError> {
    let key = &cx.auth.key;
    super::require_symmetric(key, op)?;
    // "You cannot specify an asymmetric KMS key or a KMS key in a custom key store" (the
    // model's KeyId text for the data key pair operations, reference §4).
    if key.record.origin == trent_types::Origin::ExternalKeyStore {
        return Err(KmsError::UnsupportedOperation(format!(
            "{} is in a custom key store; {} does not support KMS keys in custom key stores.",
            key.arn,
            op.name()
        )));
    }
    let Some(kind) = spec::key_kind(req.pair_spec.key_spec()) else {
        return Err(KmsError::UnsupportedOperation(format!(
            "KeyPairSpec {} is not supported in this Region.",
            req.pair_spec
        )));
    };
    super::finish_dry_run(req.dry_run)?;
    let (pair, pkcs8) = tokio::task::spawn_blocking(move || AsymmetricKey::generate(kind, Purpose::Sign))
        .await
        .map_err(KmsError::internal)?
        .map_err(KmsError::internal)?;
    let (blob, material_id) = super::seal_symmetric(key, req.context.as_ref(), pkcs8.expose())?;
    Ok(GenerateDataKeyPairResponse {
        private_key_ciphertext_blob: Blob(blob),
        private_key_plaintext: with_plaintext.then(|| SensitiveBlob::new(pkcs8.into_zeroizing())),
        public_key: Blob(pair.public_key_der().to_vec()),
        key_id: key.arn.to_string(),
        key_pair_spec: req.pair_spec.as_str().to_owned(),
        key_material_id: material_id,
    })
}

macro_rules! key_pair_op {
    ($name:ident, $op:expr, $plaintext:expr) => {
        pub(crate) struct $name;

        impl KmsOp for $name {
            const OP: Operation = $op;
            const TRACK_USAGE: bool = true;
            type Input = GenerateDataKeyPairRequest;
            type Req = Req;
            type Target = OneKey;
            type Output = GenerateDataKeyPairResponse;

            fn validate(mut req: GenerateDataKeyPairRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
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

            async fn run(cx: Ctx<'_, OneKey>, req: Req) -> Result<GenerateDataKeyPairResponse, KmsError> {
                generate(cx, req, Self::OP, $plaintext).await
            }
        }
    };
}

key_pair_op!(GenerateDataKeyPair, Operation::GenerateDataKeyPair, true);
key_pair_op!(
    GenerateDataKeyPairWithoutPlaintext,
    Operation::GenerateDataKeyPairWithoutPlaintext,
    false
);

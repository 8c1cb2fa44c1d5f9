//! GenerateRandom (reference §4.6): 1–1024 random bytes; `NumberOfBytes` is required although the
//! model marks it optional ("NumberOfBytes is required.", AWS-recorded). An identity-policy action.

use trent_api::dto::{GenerateRandomRequest, GenerateRandomResponse};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation, SensitiveBlob};

use crate::authz::facts::NoFacts;
use crate::authz::{Account, AccountSpec};
use crate::pipeline::{Checks, Ctx, KmsOp};

pub(crate) struct GenerateRandom;

pub(crate) struct Req {
    n: usize,
    /// `CustomKeyStoreId`: refused in `run` (it needs the store to say how).
    store: Option<String>,
}

impl crate::authz::facts::RequestFacts for Req {}

impl KmsOp for GenerateRandom {
    const OP: Operation = Operation::GenerateRandom;
    type Input = GenerateRandomRequest;
    type Req = Req;
    type Target = Account;
    type Output = GenerateRandomResponse;

    fn validate(req: GenerateRandomRequest, _checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        if let Some(n) = req.number_of_bytes {
            v.range("numberOfBytes", n, 1, 1024);
        }
        if let Some(c) = &req.custom_key_store_id {
            v.str_length("customKeyStoreId", c, 1, 64);
        }
        v.finish()?;
        let Some(n) = req.number_of_bytes else {
            return Err(KmsError::Validation("NumberOfBytes is required.".to_owned()));
        };
        super::no_recipient(&req.recipient)?;
        Ok(Req {
            n: usize::try_from(n).map_err(KmsError::internal)?,
            store: req.custom_key_store_id,
        })
    }

    fn target(_req: &Req) -> AccountSpec<'_> {
        AccountSpec {
            also: None,
            facts: &NoFacts,
        }
    }

    async fn run(cx: Ctx<'_, Account>, req: Req) -> Result<GenerateRandomResponse, KmsError> {
        // Only a CloudHSM key store can make the bytes, and Trent has none: an external key
        // store's id is UnsupportedOperationException (the model's CustomKeyStoreId text), an
        // unknown id CustomKeyStoreNotFoundException.
        if let Some(id) = &req.store {
            cx.kms
                .existing_custom_key_store(cx.caller.account(), cx.region(), id)
                .await?;
            return Err(KmsError::UnsupportedOperation(format!(
                "{id} is an external key store. GenerateRandom can use only CloudHSM key stores."
            )));
        }
        let bytes = trent_crypto::random::secret(req.n).map_err(KmsError::internal)?;
        Ok(GenerateRandomResponse {
            plaintext: SensitiveBlob::new(bytes.into_zeroizing()),
        })
    }
}

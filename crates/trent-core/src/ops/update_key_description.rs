//! UpdateKeyDescription: replaces the description (0–8192 characters); not while pending deletion.

use trent_api::dto::{Empty, UpdateKeyDescriptionRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use super::common::finish;
use crate::authz::facts::RequestFacts;
use crate::authz::{KeySpec, OneKey};
use crate::ids::KeyRef;
use crate::pipeline::{Checks, Ctx, KmsOp};

pub(crate) struct UpdateKeyDescription;

pub(crate) struct Req {
    key: KeyRef,
    description: String,
}

impl RequestFacts for Req {}

impl KmsOp for UpdateKeyDescription {
    const OP: Operation = Operation::UpdateKeyDescription;
    const SERIAL: bool = true;
    type Input = UpdateKeyDescriptionRequest;
    type Req = Req;
    type Target = OneKey;
    type Output = Empty;

    fn validate(req: UpdateKeyDescriptionRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        let raw = crate::validate::key_id(&mut v, "keyId", &req.key_id);
        match &req.description {
            None => v.not_null("description"),
            Some(d) => v.str_length("description", d, 0, 8192),
        }
        Ok(Req {
            key: finish(v, raw, checks)?,
            description: req.description.unwrap_or_default(),
        })
    }

    fn target(req: &Req) -> KeySpec<'_> {
        KeySpec {
            key: &req.key,
            facts: req,
        }
    }

    async fn run(cx: Ctx<'_, OneKey>, req: Req) -> Result<Empty, KmsError> {
        let mut record = cx.auth.key.record.clone();
        record.description = req.description;
        cx.kms.write_key(&cx.auth, &cx.auth.key, record).await?;
        Ok(Empty {})
    }
}

//! UntagResource (reference §11): removes tags by key; an absent key is not an error. Keys
//! beginning with `aws:` (any case) are `TagException`; the check compares bytes, so any Unicode
//! key is safe.

use trent_api::dto::{Empty, UntagResourceRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};
use trent_policy::Values;

use super::common::finish;
use crate::authz::facts::{self, RequestFacts};
use crate::authz::{KeySpec, OneKey};
use crate::ids::KeyRef;
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

pub(crate) struct UntagResource;

pub(crate) struct Req {
    key: KeyRef,
    tag_keys: Vec<String>,
}

impl RequestFacts for Req {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        (key == "aws:tagkeys").then(|| facts::list(self.tag_keys.iter().map(String::as_str)))?
    }
}

impl KmsOp for UntagResource {
    const OP: Operation = Operation::UntagResource;
    const SERIAL: bool = true;
    type Input = UntagResourceRequest;
    type Req = Req;
    type Target = OneKey;
    type Output = Empty;

    fn validate(req: UntagResourceRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        let raw = validate::key_id(&mut v, "keyId", &req.key_id);
        match &req.tag_keys {
            None => v.not_null("tagKeys"),
            Some(keys) => {
                for (i, k) in keys.iter().enumerate() {
                    v.str_length(&format!("tagKeys.{}.member", i + 1), k, 1, 128);
                }
            }
        }
        v.finish()?;
        let tag_keys = req.tag_keys.unwrap_or_default();
        if tag_keys.iter().any(|k| validate::is_reserved_tag_key(k)) {
            return Err(KmsError::Tag("Tags beginning with aws: are reserved".to_owned()));
        }
        Ok(Req {
            key: finish(Violations::new(), raw, checks)?,
            tag_keys,
        })
    }

    fn target(req: &Req) -> KeySpec<'_> {
        KeySpec {
            key: &req.key,
            facts: req,
        }
    }

    async fn run(cx: Ctx<'_, OneKey>, req: Req) -> Result<Empty, KmsError> {
        let id = *cx.auth.key.id();
        let region = cx.auth.key.record.region.clone();
        let keys = req.tag_keys;
        cx.kms
            .write(&cx.auth, move |s| s.delete_tags(&region, &id, &keys))
            .await?;
        cx.kms.uncache(&id);
        Ok(Empty {})
    }
}

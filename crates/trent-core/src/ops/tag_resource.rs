//! TagResource (reference §11): adds or overwrites tags; 50 per key, `aws:` reserved (in any
//! case), duplicate keys in one request rejected; not while pending deletion. Tag keys and values
//! may be any Unicode (AWS accepts them).

use trent_api::dto::{Empty, TagResourceRequest};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};
use trent_policy::Values;
use trent_store::TagRecord;

use super::common::finish;
use crate::authz::facts::{self, RequestFacts};
use crate::authz::{KeySpec, OneKey};
use crate::ids::KeyRef;
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

pub(crate) struct TagResource;

pub(crate) struct Req {
    key: KeyRef,
    tags: Vec<(String, String)>,
}

impl RequestFacts for Req {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        facts::request_tags(&self.tags, key)
    }
}

impl KmsOp for TagResource {
    const OP: Operation = Operation::TagResource;
    const SERIAL: bool = true;
    type Input = TagResourceRequest;
    type Req = Req;
    type Target = OneKey;
    type Output = Empty;

    fn validate(req: TagResourceRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        let raw = validate::key_id(&mut v, "keyId", &req.key_id);
        let tags = match &req.tags {
            None => {
                v.not_null("tags");
                Vec::new()
            }
            Some(t) => validate::tags(&mut v, t),
        };
        v.finish()?;
        validate::tag_rules(tags.iter().map(|(k, _)| k.as_str()))?;
        Ok(Req {
            key: finish(Violations::new(), raw, checks)?,
            tags,
        })
    }

    fn target(req: &Req) -> KeySpec<'_> {
        KeySpec {
            key: &req.key,
            facts: req,
        }
    }

    async fn run(cx: Ctx<'_, OneKey>, req: Req) -> Result<Empty, KmsError> {
        let key = &cx.auth.key;
        let added = req
            .tags
            .iter()
            .filter(|(k, _)| !key.tags.iter().any(|e| &e.key == k))
            .count();
        if key.tags.len() + added > validate::MAX_TAGS {
            return Err(validate::too_many_tags());
        }
        let records: Vec<TagRecord> = req
            .tags
            .into_iter()
            .map(|(key, value)| TagRecord { key, value })
            .collect();
        let (id, region) = (*key.id(), key.record.region.clone());
        cx.kms
            .write(&cx.auth, move |s| s.put_tags(&region, &id, &records))
            .await?;
        cx.kms.uncache(key.id());
        Ok(Empty {})
    }
}

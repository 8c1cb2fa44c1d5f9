//! UpdateAlias (reference §8): re-points an alias to another customer managed key of the same
//! type and usage; allowed away from a key pending deletion, not to one (the state table).
//! Needs `kms:UpdateAlias` on the alias, the new key and the current key.

use trent_api::dto::{AliasRequest, Empty};
use trent_api::{KmsError, Operation};

use super::create_alias::{validate_alias, AliasReq};
use crate::authz::{AliasChange, AliasSpec};
use crate::pipeline::{Checks, Ctx, KmsOp};

pub(crate) struct UpdateAlias;

impl KmsOp for UpdateAlias {
    const OP: Operation = Operation::UpdateAlias;
    const SERIAL: bool = true;
    type Input = AliasRequest;
    type Req = AliasReq;
    type Target = AliasChange;
    type Output = Empty;

    fn validate(req: AliasRequest, checks: &Checks<'_>) -> Result<AliasReq, KmsError> {
        validate_alias(&req, checks, true)
    }

    fn target(req: &AliasReq) -> AliasSpec<'_> {
        req.spec()
    }

    async fn run(cx: Ctx<'_, AliasChange>, req: AliasReq) -> Result<Empty, KmsError> {
        let new = &cx.auth.new;
        if !new.is_customer_managed() {
            return Err(KmsError::NotAuthorized(String::new()));
        }
        if let Some(current) = &cx.auth.current {
            let same = current.spec().family() == new.spec().family() && current.usage() == new.usage();
            if !same {
                return Err(KmsError::Validation(format!(
                    "Alias {} cannot be changed from a key of type {} and usage {} to key {} of type {} and usage {}.",
                    req.name,
                    current.spec().family().as_str(),
                    current.usage(),
                    new.arn,
                    new.spec().family().as_str(),
                    new.usage()
                )));
            }
        }
        let mut alias = cx.auth.alias.clone();
        alias.target_key_id = *new.id();
        alias.updated_ms = cx.kms.now_ms();
        let a = alias.clone();
        cx.kms.write(&cx.auth, move |s| s.update_alias(&a)).await?;
        cx.kms
            .set_alias_target(alias.account_id, &alias.region, &alias.name, Some(*new.id()));
        Ok(Empty {})
    }
}

//! DeleteAlias (reference §8): deletes only the alias; works in every key state. Needs
//! `kms:DeleteAlias` on the alias and on the key it points at.

use trent_api::dto::{AliasRequest, Empty};
use trent_api::{KmsError, Operation};
use trent_store::StoreError;

use super::create_alias::{validate_alias, AliasReq};
use crate::authz::{AliasRemoval, AliasSpec};
use crate::ids::alias_not_found;
use crate::pipeline::{Checks, Ctx, KmsOp};

pub(crate) struct DeleteAlias;

impl KmsOp for DeleteAlias {
    const OP: Operation = Operation::DeleteAlias;
    const SERIAL: bool = true;
    type Input = AliasRequest;
    type Req = AliasReq;
    type Target = AliasRemoval;
    type Output = Empty;

    fn validate(req: AliasRequest, checks: &Checks<'_>) -> Result<AliasReq, KmsError> {
        validate_alias(&req, checks, false)
    }

    fn target(req: &AliasReq) -> AliasSpec<'_> {
        req.spec()
    }

    async fn run(cx: Ctx<'_, AliasRemoval>, req: AliasReq) -> Result<Empty, KmsError> {
        let (account, name) = (cx.auth.alias.account_id, cx.auth.alias.name.clone());
        let region = cx.auth.alias.region.clone();
        let at = region.clone();
        let deleted = match cx
            .kms
            .try_write(&cx.auth, move |s| s.delete_alias(&account, &at, &name))
            .await?
        {
            Ok(()) => true,
            Err(StoreError::NotFound) => false,
            Err(e) => return Err(KmsError::internal(e)),
        };
        cx.kms.set_alias_target(account, &region, &req.name, None);
        if !deleted {
            // Deleted by another server between authorization and now.
            return Err(alias_not_found(&region, account, req.name.as_str()));
        }
        Ok(Empty {})
    }
}

//! DeleteCustomKeyStore (reference §13): only a `DISCONNECTED` store without keys, whatever
//! their state (`CustomKeyStoreHasCMKsException`; the store checks again in the delete's own
//! transaction). The external keys are not touched. An IAM-policy-only action.

use trent_api::dto::{CustomKeyStoreIdRequest, Empty};
use trent_api::{KmsError, Operation};

use super::connect_custom_key_store::{store_of, target, validate_id, Req};
use crate::authz::{Account, AccountSpec};
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::xks::stores::ConnectionState;

pub(crate) struct DeleteCustomKeyStore;

fn has_keys(id: &str) -> KmsError {
    KmsError::CustomKeyStoreHasCmks(format!(
        "Custom key store {id} contains KMS keys. Schedule the deletion of its KMS keys and wait for them to be deleted before deleting the custom key store."
    ))
}

impl KmsOp for DeleteCustomKeyStore {
    const OP: Operation = Operation::DeleteCustomKeyStore;
    const SERIAL: bool = true;
    type Input = CustomKeyStoreIdRequest;
    type Req = Req;
    type Target = Account;
    type Output = Empty;

    fn validate(req: CustomKeyStoreIdRequest, _checks: &Checks<'_>) -> Result<Req, KmsError> {
        validate_id(req)
    }

    fn target(_req: &Req) -> AccountSpec<'_> {
        target()
    }

    async fn run(cx: Ctx<'_, Account>, req: Req) -> Result<Empty, KmsError> {
        let store = store_of(&cx, req.id()).await?;
        if store.doc.state != ConnectionState::Disconnected {
            return Err(KmsError::CustomKeyStoreInvalidState(format!(
                "You requested the DeleteCustomKeyStore operation on a custom key store that is not disconnected ({} is {}). This operation is valid only when the custom key store ConnectionState is DISCONNECTED.",
                store.doc.id,
                store.doc.state.as_str()
            )));
        }
        let id = store.doc.id.clone();
        let keys = cx.kms.read(move |s| s.keys_in_custom_key_store(&id)).await?;
        if !keys.is_empty() {
            return Err(has_keys(&store.doc.id));
        }
        let account = cx.caller.account();
        let name = store.doc.id.clone();
        let result = cx
            .kms
            .try_write(&cx.auth, move |s| {
                s.delete_entity(&account, trent_store::EntityKind::CustomKeyStore, &name)
            })
            .await?;
        cx.kms.xks.stores.forget(account, &store.doc.id);
        match result {
            Ok(()) | Err(trent_store::StoreError::NotFound) => Ok(Empty {}),
            Err(trent_store::StoreError::Conflict) => Err(has_keys(&store.doc.id)),
            Err(e) => Err(KmsError::internal(e)),
        }
    }
}

//! ConnectCustomKeyStore and DisconnectCustomKeyStore (reference §13). Connecting is
//! asynchronous, as in AWS: the store becomes `CONNECTING` and the answer is `{}`; about a
//! second later the service calls the proxy's GetHealthStatus and the store becomes `CONNECTED`,
//! or `FAILED` with its `ConnectionErrorCode` (clients poll DescribeCustomKeyStores).
//! Disconnecting makes the store's keys `Unavailable` at once. IAM-policy-only actions.

use trent_api::dto::{CustomKeyStoreIdRequest, Empty};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::authz::facts::NoFacts;
use crate::authz::{Account, AccountSpec};
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::xks::stores::{ConnectionState, LoadedStore};

pub(crate) struct ConnectCustomKeyStore;
pub(crate) struct DisconnectCustomKeyStore;

pub(crate) struct Req {
    id: String,
}

impl Req {
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl crate::authz::facts::RequestFacts for Req {}

pub(crate) fn validate_id(req: CustomKeyStoreIdRequest) -> Result<Req, KmsError> {
    let mut v = Violations::new();
    match &req.custom_key_store_id {
        None => v.not_null("customKeyStoreId"),
        Some(id) => v.str_length("customKeyStoreId", id, 1, 64),
    }
    v.finish()?;
    Ok(Req {
        id: req.custom_key_store_id.unwrap_or_default(),
    })
}

/// The account's store in the request's Region, read fresh, or `CustomKeyStoreNotFoundException`.
pub(crate) async fn store_of(cx: &Ctx<'_, Account>, id: &str) -> Result<std::sync::Arc<LoadedStore>, KmsError> {
    let account = cx.caller.account();
    cx.kms.xks.stores.forget(account, id);
    cx.kms.existing_custom_key_store(account, cx.region(), id).await
}

/// Writes a new connection state over the document as read; a store changed meanwhile is
/// answered as AWS answers concurrent changes of a store.
pub(crate) async fn set_state(
    cx: &Ctx<'_, Account>,
    store: &LoadedStore,
    state: ConnectionState,
) -> Result<(), KmsError> {
    let mut doc = store.doc.clone();
    doc.state = state;
    doc.error = None;
    match cx
        .kms
        .put_custom_key_store(&cx.auth, store.account, &doc, Some(store.body.clone()))
        .await?
    {
        Ok(()) => Ok(()),
        Err(trent_store::StoreError::Conflict | trent_store::StoreError::NotFound) => {
            Err(KmsError::CustomKeyStoreInvalidState(format!(
                "The custom key store {} changed while this request ran; retry it.",
                store.doc.id
            )))
        }
        Err(e) => Err(KmsError::internal(e)),
    }
}

pub(crate) fn target() -> AccountSpec<'static> {
    AccountSpec {
        also: None,
        facts: &NoFacts,
    }
}

impl KmsOp for ConnectCustomKeyStore {
    const OP: Operation = Operation::ConnectCustomKeyStore;
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
        let store = store_of(&cx, &req.id).await?;
        match store.doc.state {
            // Connecting a connected (or connecting) store changes nothing.
            ConnectionState::Connected | ConnectionState::Connecting => Ok(Empty {}),
            ConnectionState::Disconnected => {
                set_state(&cx, &store, ConnectionState::Connecting).await?;
                cx.kms.connect_soon();
                Ok(Empty {})
            }
            ConnectionState::Failed | ConnectionState::Disconnecting => Err(KmsError::CustomKeyStoreInvalidState(format!(
                "You requested the ConnectCustomKeyStore operation on a custom key store with a ConnectionState of {} ({}). To reconnect a custom key store in a FAILED state, disconnect it (DisconnectCustomKeyStore), then connect it (ConnectCustomKeyStore).",
                store.doc.state.as_str(),
                store.doc.id
            ))),
        }
    }
}

impl KmsOp for DisconnectCustomKeyStore {
    const OP: Operation = Operation::DisconnectCustomKeyStore;
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
        let store = store_of(&cx, &req.id).await?;
        match store.doc.state {
            ConnectionState::Disconnected | ConnectionState::Disconnecting => Err(KmsError::CustomKeyStoreInvalidState(format!(
                "You requested the DisconnectCustomKeyStore operation on a custom key store with a ConnectionState of {} ({}). This operation is valid for all other ConnectionState values.",
                store.doc.state.as_str(),
                store.doc.id
            ))),
            ConnectionState::Connected | ConnectionState::Connecting | ConnectionState::Failed => {
                set_state(&cx, &store, ConnectionState::Disconnected).await?;
                Ok(Empty {})
            }
        }
    }
}

//! EnableKey and DisableKey: Enabled ⇄ Disabled (reference §3). A key re-enabled after missing its
//! automatic rotation date rotates at once.

use trent_api::dto::{Empty, KeyIdRequest};
use trent_api::{KmsError, Operation};
use trent_types::{KeyState, RotationType};

use super::common::{key_only, IdReq};
use crate::authz::{KeySpec, OneKey};
use crate::pipeline::{Checks, Ctx, KmsOp};

async fn set_enabled(cx: Ctx<'_, OneKey>, enabled: bool) -> Result<Empty, KmsError> {
    let key = &cx.auth.key;
    let state = if enabled { KeyState::Enabled } else { KeyState::Disabled };
    if key.state() != state {
        let mut record = key.record.clone();
        record.key_state = state;
        let key = cx.kms.write_key(&cx.auth, key, record).await?;
        let overdue = key.record.rotation_enabled && key.record.next_rotation_ms.is_some_and(|t| t <= cx.kms.now_ms());
        if enabled && overdue {
            cx.kms.rotate(&cx.auth, &key, RotationType::Automatic).await?;
        }
    }
    Ok(Empty {})
}

macro_rules! state_op {
    ($name:ident, $op:expr, $enabled:expr) => {
        pub(crate) struct $name;

        impl KmsOp for $name {
            const OP: Operation = $op;
            const SERIAL: bool = true;
            type Input = KeyIdRequest;
            type Req = IdReq;
            type Target = OneKey;
            type Output = Empty;

            fn validate(req: KeyIdRequest, checks: &Checks<'_>) -> Result<IdReq, KmsError> {
                Ok(IdReq {
                    key: key_only(&req.key_id, checks)?,
                })
            }

            fn target(req: &IdReq) -> KeySpec<'_> {
                req.spec()
            }

            async fn run(cx: Ctx<'_, OneKey>, _req: IdReq) -> Result<Empty, KmsError> {
                set_enabled(cx, $enabled).await
            }
        }
    };
}

state_op!(EnableKey, Operation::EnableKey, true);
state_op!(DisableKey, Operation::DisableKey, false);

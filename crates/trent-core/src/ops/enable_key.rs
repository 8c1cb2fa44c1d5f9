//! EnableKey: Enabled or Disabled → Enabled (reference §3).

use trent_api::dto::{Empty, KeyIdRequest};
use trent_api::KmsError;

use crate::credentials::Caller;
use crate::Kms;

pub async fn run(kms: &Kms, caller: &Caller, req: KeyIdRequest) -> Result<Empty, KmsError> {
    super::disable_key::set_enabled(kms, caller, req, true).await
}

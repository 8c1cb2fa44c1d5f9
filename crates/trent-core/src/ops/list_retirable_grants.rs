//! ListRetirableGrants: see `list_grants` (shared paging and entry shape).

use trent_api::dto::{ListGrantsRequest, ListGrantsResponse};
use trent_api::KmsError;

use crate::credentials::Caller;
use crate::Kms;

pub async fn run(kms: &Kms, caller: &Caller, req: ListGrantsRequest) -> Result<ListGrantsResponse, KmsError> {
    super::list_grants::retirable(kms, caller, req).await
}

//! ListGrants and ListRetirableGrants (reference §10): grants of a key (filters GrantId,
//! GranteePrincipal), or grants in any account whose retiring principal is the one named.
//! `Limit` 1–100 (default 50).

use trent_api::dto::{GrantListEntry, ListGrantsRequest, ListGrantsResponse};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};

use crate::clock::epoch_seconds;
use crate::credentials::Caller;
use crate::grants::Grant;
use crate::ids::Forms;
use crate::{validate, Kms};

pub(crate) fn is_grant_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

pub(crate) fn invalid_grant_id(id: &str) -> KmsError {
    KmsError::InvalidGrantId(format!("Invalid grant ID: {id}"))
}

fn entry(kms: &Kms, g: &Grant) -> GrantListEntry {
    GrantListEntry {
        key_id: kms.location().key_arn(&g.record.account_id, &g.record.key_id),
        grant_id: g.record.grant_id.clone(),
        name: g.record.name.clone(),
        creation_date: epoch_seconds(g.record.created_ms),
        grantee_principal: g.record.grantee_principal.clone(),
        retiring_principal: g.record.retiring_principal.clone(),
        issuing_account: format!("arn:aws:iam::{}:root", g.record.account_id),
        operations: g.operations.clone(),
        constraints: g.constraints.clone(),
    }
}

fn page(kms: &Kms, mut shown: Vec<&Grant>, limit: usize) -> ListGrantsResponse {
    let (next_marker, truncated) = validate::cut_page(&mut shown, limit, |g| &g.record.grant_id);
    ListGrantsResponse {
        grants: shown.into_iter().map(|g| entry(kms, g)).collect(),
        next_marker,
        truncated,
    }
}

pub async fn run(kms: &Kms, caller: &Caller, req: ListGrantsRequest) -> Result<ListGrantsResponse, KmsError> {
    let mut v = Violations::new();
    let key_id = validate::key_id(&mut v, "keyId", &req.key_id);
    let limit = validate::limit(&mut v, req.limit, 100, 50);
    validate::marker(&mut v, &req.marker);
    if let Some(g) = &req.grant_id {
        v.str_length("grantId", g, 1, 128);
    }
    if let Some(g) = &req.grantee_principal {
        super::create_grant::principal_member(&mut v, "granteePrincipal", g);
    }
    v.finish()?;
    let after = validate::decode_marker(&req.marker)?;
    let key = super::key_for(
        kms,
        caller,
        key_id.unwrap_or_default(),
        Forms::IdOrArn,
        Operation::ListGrants,
    )
    .await?;
    if let Some(id) = &req.grant_id {
        if !is_grant_id(id) {
            return Err(invalid_grant_id(id));
        }
    }
    let grants: Vec<&Grant> = key
        .grants
        .all
        .iter()
        .map(|g| g.as_ref())
        .filter(|g| req.grant_id.as_ref().is_none_or(|id| &g.record.grant_id == id))
        .filter(|g| {
            req.grantee_principal
                .as_ref()
                .is_none_or(|p| &g.record.grantee_principal == p)
        })
        .filter(|g| after.as_ref().is_none_or(|a| g.record.grant_id.as_str() > a.as_str()))
        .collect();
    Ok(page(kms, grants, limit))
}

/// ListRetirableGrants.
pub async fn retirable(kms: &Kms, caller: &Caller, req: ListGrantsRequest) -> Result<ListGrantsResponse, KmsError> {
    let mut v = Violations::new();
    let limit = validate::limit(&mut v, req.limit, 100, 50);
    validate::marker(&mut v, &req.marker);
    match (&req.retiring_principal, &req.retiring_service_principal) {
        (Some(p), _) => super::create_grant::principal_member(&mut v, "retiringPrincipal", p),
        (None, None) => v.not_null("retiringPrincipal"),
        (None, Some(_)) => {}
    }
    v.finish()?;
    let after = validate::decode_marker(&req.marker)?;
    kms.authorize_identity(caller, "kms:ListRetirableGrants", "*").await?;
    let Some(principal) = req.retiring_principal.clone() else {
        return Ok(ListGrantsResponse {
            grants: Vec::new(),
            next_marker: None,
            truncated: false,
        });
    };
    let records = kms.db(move |s| s.grants_retirable_by(&principal)).await?;
    let grants: Vec<Grant> = records.into_iter().map(Grant::from_record).collect::<Result<_, _>>()?;
    let refs: Vec<&Grant> = grants
        .iter()
        .filter(|g| after.as_ref().is_none_or(|a| g.record.grant_id.as_str() > a.as_str()))
        .collect();
    Ok(page(kms, refs, limit))
}

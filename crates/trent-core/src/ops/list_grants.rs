//! ListGrants and ListRetirableGrants (reference §10): grants of a key (filters GrantId,
//! GranteePrincipal), or grants in any account whose retiring principal is the one named.
//! `Limit` 1–100 (default 50).

use trent_api::dto::{GrantListEntry, ListGrantsRequest, ListGrantsResponse};
use trent_api::validate::Violations;
use trent_api::{KmsError, Operation};
use trent_policy::Values;
use trent_types::Arn;

use super::common::finish;
use super::create_grant::principal_member;
use crate::authz::facts::{self, NoFacts, RequestFacts};
use crate::authz::{Account, AccountSpec, KeySpec, OneKey};
use crate::clock::epoch_seconds;
use crate::grants::Grant;
use crate::ids::KeyRef;
use crate::pipeline::{Checks, Ctx, KmsOp};
use crate::validate;

pub(crate) fn is_grant_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

pub(crate) fn invalid_grant_id(id: &str) -> KmsError {
    KmsError::InvalidGrantId(format!("Invalid grant ID: {id}"))
}

fn entry(g: &Grant) -> GrantListEntry {
    GrantListEntry {
        // The grant's own key's Region (related multi-Region keys have grants of their own).
        key_id: Arn::key(&g.record.region, g.record.account_id, g.record.key_id),
        grant_id: g.record.grant_id.clone(),
        name: g.record.name.clone(),
        creation_date: epoch_seconds(g.record.created_ms),
        grantee_principal: g.record.grantee_principal.clone(),
        retiring_principal: g.record.retiring_principal.clone(),
        issuing_account: Arn::root(g.record.account_id),
        operations: g.operations().iter().map(|o| o.as_str().to_owned()).collect(),
        constraints: g.constraints.clone(),
    }
}

fn page(mut shown: Vec<&Grant>, limit: usize) -> ListGrantsResponse {
    let (next_marker, truncated) = validate::cut_page(&mut shown, limit, |g| &g.record.grant_id);
    ListGrantsResponse {
        grants: shown.into_iter().map(entry).collect(),
        next_marker,
        truncated,
    }
}

pub(crate) struct ListGrants;

pub(crate) struct Req {
    key: KeyRef,
    limit: usize,
    after: Option<String>,
    grant_id: Option<String>,
    grantee: Option<String>,
}

impl RequestFacts for Req {
    fn fact(&self, key: &str) -> Option<Values<'_>> {
        (key == "kms:grantisforawsresource").then(|| facts::one("false"))?
    }
}

impl KmsOp for ListGrants {
    const OP: Operation = Operation::ListGrants;
    type Input = ListGrantsRequest;
    type Req = Req;
    type Target = OneKey;
    type Output = ListGrantsResponse;

    fn validate(req: ListGrantsRequest, checks: &Checks<'_>) -> Result<Req, KmsError> {
        let mut v = Violations::new();
        let raw = validate::key_id(&mut v, "keyId", &req.key_id);
        let limit = validate::limit(&mut v, req.limit, 100, 50);
        validate::marker(&mut v, &req.marker);
        if let Some(g) = &req.grant_id {
            v.str_length("grantId", g, 1, 128);
        }
        if let Some(g) = &req.grantee_principal {
            principal_member(&mut v, "granteePrincipal", g);
        }
        v.finish()?;
        let after = validate::decode_marker(&req.marker)?;
        Ok(Req {
            key: finish(Violations::new(), raw, checks)?,
            limit,
            after,
            grant_id: req.grant_id,
            grantee: req.grantee_principal,
        })
    }

    fn target(req: &Req) -> KeySpec<'_> {
        KeySpec {
            key: &req.key,
            facts: req,
        }
    }

    async fn run(cx: Ctx<'_, OneKey>, req: Req) -> Result<ListGrantsResponse, KmsError> {
        if let Some(id) = &req.grant_id {
            if !is_grant_id(id) {
                return Err(invalid_grant_id(id));
            }
        }
        let grants: Vec<&Grant> = cx
            .auth
            .key
            .grants
            .all
            .iter()
            .map(|g| g.as_ref())
            .filter(|g| req.grant_id.as_ref().is_none_or(|id| &g.record.grant_id == id))
            .filter(|g| req.grantee.as_ref().is_none_or(|p| &g.record.grantee_principal == p))
            .filter(|g| {
                req.after
                    .as_ref()
                    .is_none_or(|a| g.record.grant_id.as_str() > a.as_str())
            })
            .collect();
        Ok(page(grants, req.limit))
    }
}

pub(crate) struct ListRetirableGrants;

pub(crate) struct RetirableReq {
    limit: usize,
    after: Option<String>,
    principal: Option<String>,
}

impl RequestFacts for RetirableReq {}

impl KmsOp for ListRetirableGrants {
    const OP: Operation = Operation::ListRetirableGrants;
    type Input = ListGrantsRequest;
    type Req = RetirableReq;
    type Target = Account;
    type Output = ListGrantsResponse;

    fn validate(req: ListGrantsRequest, _checks: &Checks<'_>) -> Result<RetirableReq, KmsError> {
        let mut v = Violations::new();
        let limit = validate::limit(&mut v, req.limit, 100, 50);
        validate::marker(&mut v, &req.marker);
        match (&req.retiring_principal, &req.retiring_service_principal) {
            (Some(p), _) => principal_member(&mut v, "retiringPrincipal", p),
            (None, None) => v.not_null("retiringPrincipal"),
            (None, Some(_)) => {}
        }
        v.finish()?;
        let after = validate::decode_marker(&req.marker)?;
        Ok(RetirableReq {
            limit,
            after,
            principal: req.retiring_principal,
        })
    }

    fn target(_req: &RetirableReq) -> AccountSpec<'_> {
        AccountSpec {
            also: None,
            facts: &NoFacts,
        }
    }

    async fn run(cx: Ctx<'_, Account>, req: RetirableReq) -> Result<ListGrantsResponse, KmsError> {
        let Some(principal) = req.principal else {
            return Ok(ListGrantsResponse {
                grants: Vec::new(),
                next_marker: None,
                truncated: false,
            });
        };
        let records = cx.kms.read(move |s| s.grants_retirable_by(&principal)).await?;
        // ListRetirableGrants is regional: the grants on keys of the request's Region.
        let region = cx.region().clone();
        let grants: Vec<Grant> = records
            .into_iter()
            .filter(|g| g.region == region)
            .map(Grant::from_record)
            .collect();
        let refs: Vec<&Grant> = grants
            .iter()
            .filter(|g| {
                req.after
                    .as_ref()
                    .is_none_or(|a| g.record.grant_id.as_str() > a.as_str())
            })
            .collect();
        Ok(page(refs, req.limit))
    }
}

//! IAM's `SimulatePrincipalPolicy` for KMS keys: the decision `trent policy simulate` makes,
//! over the API, read-only (the web console's "who can do what with this key"). For each action
//! and key ARN it answers IAM's `EvaluationResults`: `EvalDecision` (`allowed`, `explicitDeny`,
//! `implicitDeny`) and the `MatchedStatements` that decided — key policy statements (type
//! `resource`), identity policy statements (type `user`) and the grants that apply (`grant/<id>`,
//! type `resource`), from the same decision the server makes for the request. Authorized by
//! `iam:SimulatePrincipalPolicy` on the simulated principal.
//!
//! Unlike IAM's simulator, which ignores resource policies unless given one, a key's own policy
//! and grants always take part: a KMS key's policy is what decides first (reference §9.3).
//! `ContextEntries` named `kms:EncryptionContext:<key>` form the encryption context. A key ARN is
//! looked up in its own Region (IAM requests are signed for us-east-1 whatever the key's).

use std::collections::BTreeMap;

use trent_api::xml::Xml;
use trent_api::KmsError;

use super::actions::IamCx;
use super::protocol::{IamError, IamErrorCode, IamResult, Params};

/// At most this many (action, key) pairs per call.
const MAX_EVALUATIONS: usize = 100;

fn context(p: &Params) -> Result<BTreeMap<String, String>, IamError> {
    let mut out = BTreeMap::new();
    for n in 1.. {
        let Some(name) = p.get(&format!("ContextEntries.member.{n}.ContextKeyName")) else {
            break;
        };
        let Some(key) = name
            .strip_prefix("kms:EncryptionContext:")
            .or_else(|| name.strip_prefix("kms:encryptioncontext:"))
        else {
            return Err(IamError::validation(format!(
                "Context key {name} is not supported: only kms:EncryptionContext:<key> entries are."
            )));
        };
        let value = p
            .get(&format!("ContextEntries.member.{n}.ContextKeyValues.member.1"))
            .unwrap_or("");
        out.insert(key.to_owned(), value.to_owned());
    }
    Ok(out)
}

pub(crate) async fn simulate_principal_policy(cx: &IamCx<'_>, p: &Params) -> IamResult {
    let source = p.req("PolicySourceArn")?.to_owned();
    cx.authorize(&source).await?;
    let actions = p.members("ActionNames");
    if actions.is_empty() {
        return Err(IamError::validation("ActionNames must name at least one action."));
    }
    let resources = p.members("ResourceArns");
    if resources.is_empty() {
        return Err(IamError::validation(
            "ResourceArns must name the KMS keys to simulate (this simulator evaluates KMS keys).",
        ));
    }
    if actions.len().saturating_mul(resources.len()) > MAX_EVALUATIONS {
        return Err(IamError::limit(format!(
            "At most {MAX_EVALUATIONS} action and resource pairs per call."
        )));
    }
    let ctx = context(p)?;
    let mut results = Vec::new();
    for action in &actions {
        for resource in &resources {
            // IAM is global (SDKs sign it for us-east-1): a key ARN names the Region to look in,
            // when the deployment serves it.
            let region = match trent_types::Arn::parse(resource) {
                Ok(trent_types::Arn::Key { region, .. }) if cx.kms.served_region(region.as_str()).is_some() => region,
                _ => cx.kms.region_of(cx.meta).clone(),
            };
            let sim = cx
                .kms
                .simulate_in(&region, &source, action, resource, &ctx)
                .await
                .map_err(|e| match e {
                    KmsError::NotFound(m) => IamError::no_such_entity(m),
                    KmsError::Validation(m) | KmsError::InvalidArn(m) => IamError::validation(m),
                    other => IamError::new(IamErrorCode::ServiceFailure, other.client_message()),
                })?;
            let decision = if sim.allowed {
                "allowed"
            } else if sim.explicit_deny {
                "explicitDeny"
            } else {
                "implicitDeny"
            };
            let matched = sim
                .matched
                .iter()
                .map(|(id, kind, effect)| {
                    Xml::el(
                        "Statement",
                        vec![
                            Xml::leaf("SourcePolicyId", format!("{id} [{effect}]")),
                            Xml::leaf("SourcePolicyType", *kind),
                        ],
                    )
                })
                .collect();
            results.push(Xml::el(
                "Result",
                vec![
                    Xml::leaf("EvalActionName", action.clone()),
                    Xml::leaf("EvalResourceName", resource.clone()),
                    Xml::leaf("EvalDecision", decision),
                    Xml::members("MatchedStatements", matched),
                    Xml::members("MissingContextValues", Vec::new()),
                    Xml::el(
                        "EvalDecisionDetails",
                        vec![Xml::el(
                            "entry",
                            vec![Xml::leaf("key", "Trent"), Xml::leaf("value", sim.reason.clone())],
                        )],
                    ),
                ],
            ));
        }
    }
    Ok(Some(vec![
        Xml::members("EvaluationResults", results),
        Xml::leaf("IsTruncated", "false"),
    ]))
}

//! The policy language: parsing a document (as a key policy, trust policy and identity policy)
//! and evaluating it against a request whose condition facts come from the input too. Input:
//! `policy JSON` NUL `facts`, where facts are lines `key=value` (repeated keys make multi-valued
//! facts). Invariants: no panic; evaluation stays linear (libFuzzer's `-timeout` reports a slow
//! input); an evaluation gives the same outcome twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trent_policy::{applicable, outcome, Context, PolicyKind, Principal, PrincipalKind, Request};

fn facts(text: &str) -> Context {
    let mut multi: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for line in text.lines() {
        let (k, v) = line.split_once('=').unwrap_or((line, ""));
        multi.entry(k).or_default().push(v.to_owned());
    }
    let mut ctx = Context::new();
    for (k, vs) in multi {
        if vs.len() == 1 {
            ctx.set(k, vs.into_iter().next().unwrap_or_default());
        } else {
            ctx.set_all(k, vs);
        }
    }
    ctx
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (doc, facts_text) = text.split_once('\0').unwrap_or((text, ""));
    let ctx = facts(facts_text);
    let principal = Principal {
        arn: "arn:aws:iam::111122223333:user/alice".into(),
        account: "111122223333".into(),
        kind: PrincipalKind::User,
        role_arn: None,
        user_id: "AIDAEXAMPLEEXAMPLE01".into(),
        user_name: Some("alice".into()),
        tags: Default::default(),
    };
    let req = Request {
        principal: &principal,
        action: "kms:Encrypt",
        resource: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        context: &ctx,
    };
    if let Ok(parsed) = trent_policy::parse(doc) {
        let _ = parsed.weight();
        for kind in [PolicyKind::Resource, PolicyKind::Trust] {
            let first = format!("{:?}", outcome(&parsed, kind, &req));
            assert_eq!(
                first,
                format!("{:?}", outcome(&parsed, kind, &req)),
                "evaluation is not deterministic"
            );
            let _ = applicable(&parsed, kind, &req);
        }
    }
    if let Ok(parsed) = trent_policy::parse_identity(doc) {
        let _ = outcome(&parsed, PolicyKind::Identity, &req);
    }
});

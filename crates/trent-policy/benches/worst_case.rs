//! Worst-case policy evaluation: the largest key policy KMS accepts (32 KB) full of wildcard
//! conditions built to defeat naive matching, against the largest encryption context Trent
//! accepts (8 KiB). Prints µs per evaluation; `BENCHMARKS.md` records the figures.
//!
//! `cargo bench -p trent-policy --bench worst_case`

use std::time::Instant;

use trent_policy::{outcome, Context, PolicyKind, Principal, PrincipalKind, Request};

const POLICY_BYTES: usize = 32 * 1024;
const CONTEXT_BYTES: usize = 8 * 1024;

fn principal() -> Principal {
    Principal {
        arn: "arn:aws:iam::111122223333:user/alice".into(),
        account: "111122223333".into(),
        kind: PrincipalKind::User,
        role_arn: None,
        user_id: "AIDAEXAMPLE".into(),
        user_name: Some("alice".into()),
        tags: Default::default(),
    }
}

fn policy(statement_condition: &str) -> String {
    let head = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}"#;
    let mut doc = String::from(head);
    let mut n = 0;
    loop {
        let st = format!(
            r#",{{"Sid":"D{n}","Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{statement_condition}}}"#
        );
        if doc.len() + st.len() + 2 > POLICY_BYTES {
            break;
        }
        doc.push_str(&st);
        n += 1;
    }
    doc.push_str("]}");
    doc
}

fn time(name: &str, doc: &str, ctx: &Context) {
    let parsed = trent_policy::parse(doc).expect("policy parses");
    let p = principal();
    let req = Request {
        principal: &p,
        action: "kms:Encrypt",
        resource: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        context: ctx,
    };
    let mut runs = 0u32;
    let start = Instant::now();
    while start.elapsed().as_millis() < 2000 || runs < 3 {
        std::hint::black_box(outcome(&parsed, PolicyKind::Resource, &req));
        runs += 1;
    }
    let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(runs);
    println!(
        "{name:<58} {:>6} B policy  {us:>10.1} µs/evaluation ({runs} runs)",
        doc.len()
    );
}

fn main() {
    // One 8 KiB value of 'a's: the text a naive `*a*a*…b` matcher backtracks over.
    let mut one_value = Context::new();
    one_value.set("kms:EncryptionContext:a", "a".repeat(CONTEXT_BYTES - 1));
    one_value.set_all("kms:EncryptionContextKeys", vec!["a".into()]);
    // Many short keys: what ForAnyValue / ForAllValues iterate over.
    let keys: Vec<String> = (0..CONTEXT_BYTES / 8).map(|i| format!("k{i:06}")).collect();
    let mut many_keys = Context::new();
    for k in &keys {
        many_keys.set(&format!("kms:EncryptionContext:{k}"), "v");
    }
    many_keys.set_all("kms:EncryptionContextKeys", keys);

    let long_pattern = format!("*{}b", "a*".repeat(200));
    time(
        "StringLike `*a*a*…*b` (200 stars) vs one 8 KiB value",
        &policy(&format!(
            r#"{{"StringLike":{{"kms:EncryptionContext:a":"{long_pattern}"}}}}"#
        )),
        &one_value,
    );
    time(
        "StringLike `*aaaa…b` (one 15 KB literal) vs one 8 KiB value",
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Deny","Principal":"*","Action":"kms:Encrypt","Resource":"*","Condition":{{"StringLike":{{"kms:EncryptionContext:a":"*{}b"}}}}}}]}}"#,
            "a".repeat(15_000)
        ),
        &one_value,
    );
    time(
        "ForAnyValue:StringLike `?*x*?` vs 1,024 context keys",
        &policy(r#"{"ForAnyValue:StringLike":{"kms:EncryptionContextKeys":["?*x*?","k*z","*q*"]}}"#),
        &many_keys,
    );
    time(
        "ForAllValues:StringEquals vs 1,024 context keys",
        &policy(r#"{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["k000001","k000002","k000003"]}}"#),
        &many_keys,
    );
}

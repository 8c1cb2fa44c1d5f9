//! Table-driven evaluator tests built from AWS's documented policy examples. Each case names the
//! document it comes from (KMS Developer Guide = DG, IAM User Guide = IAM UG).
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

use std::collections::BTreeMap;

use trent_policy::{outcome, parse, parse_identity, Context, PolicyKind, Principal, PrincipalKind, Request};

const ACCT: &str = "111122223333";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

fn user(name: &str) -> Principal {
    Principal {
        arn: format!("arn:aws:iam::{ACCT}:user/{name}"),
        account: ACCT.into(),
        kind: PrincipalKind::User,
        role_arn: None,
        user_id: "AIDAEXAMPLE".into(),
        user_name: Some(name.into()),
        tags: BTreeMap::from([("Department".to_owned(), "IT".to_owned())]),
    }
}

fn root() -> Principal {
    Principal {
        arn: format!("arn:aws:iam::{ACCT}:root"),
        account: ACCT.into(),
        kind: PrincipalKind::Account,
        role_arn: None,
        user_id: ACCT.into(),
        user_name: None,
        tags: BTreeMap::new(),
    }
}

fn session(role: &str) -> Principal {
    Principal {
        arn: format!("arn:aws:sts::{ACCT}:assumed-role/{role}/s1"),
        account: ACCT.into(),
        kind: PrincipalKind::AssumedRole,
        role_arn: Some(format!("arn:aws:iam::{ACCT}:role/{role}")),
        user_id: "AROAEXAMPLE:s1".into(),
        user_name: None,
        tags: BTreeMap::new(),
    }
}

struct Case {
    source: &'static str,
    policy: &'static str,
    kind: PolicyKind,
    principal: Principal,
    action: &'static str,
    context: Vec<(&'static str, Vec<&'static str>)>,
    /// (explicit deny, allows directly, allows via account)
    expect: (bool, bool, bool),
}

fn run(c: &Case) {
    let parsed = match c.kind {
        PolicyKind::Resource | PolicyKind::Trust => parse(c.policy),
        PolicyKind::Identity => parse_identity(c.policy),
    };
    let doc = parsed.unwrap_or_else(|e| panic!("{}: {e}", c.source));
    let mut ctx = Context::new();
    ctx.add_principal(&c.principal);
    for (k, v) in &c.context {
        ctx.set_all(k, v.iter().map(|s| (*s).to_owned()).collect());
    }
    let req = Request {
        principal: &c.principal,
        action: c.action,
        resource: KEY,
        context: &ctx,
    };
    let o = outcome(&doc, c.kind, &req);
    assert_eq!(
        (o.explicit_deny, o.allows_directly, o.allows_account),
        c.expect,
        "{}",
        c.source
    );
}

const DEFAULT_KEY_POLICY: &str = r#"{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;

#[test]
fn documented_examples() {
    use PolicyKind::{Identity, Resource};
    let cases = vec![
        Case {
            source: "DG key-policy-default: the default policy trusts the account, not its users directly",
            policy: DEFAULT_KEY_POLICY,
            kind: Resource,
            principal: user("alice"),
            action: "kms:Encrypt",
            context: vec![],
            expect: (false, false, true),
        },
        Case {
            source: "DG key-policy-default: the account root itself is the account",
            policy: DEFAULT_KEY_POLICY,
            kind: Resource,
            principal: root(),
            action: "kms:PutKeyPolicy",
            context: vec![],
            expect: (false, true, false),
        },
        Case {
            source: "DG key-policy-overview: a key policy may name a user directly; actions are case-insensitive",
            policy: r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:user/alice"]},"Action":["KMS:encrypt","kms:GenerateDataKey*"],"Resource":"*"}]}"#,
            kind: Resource,
            principal: user("alice"),
            action: "kms:GenerateDataKeyWithoutPlaintext",
            context: vec![],
            expect: (false, true, false),
        },
        Case {
            source: "DG key-policy-overview: the same statement does not allow Decrypt",
            policy: r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"kms:Encrypt","Resource":"*"}]}"#,
            kind: Resource,
            principal: user("alice"),
            action: "kms:Decrypt",
            context: vec![],
            expect: (false, false, false),
        },
        Case {
            source: "IAM UG policy-evaluation-logic: an explicit Deny overrides an Allow",
            policy: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"},{"Effect":"Deny","Action":"kms:Decrypt","Resource":"*"}]}"#,
            kind: Identity,
            principal: user("alice"),
            action: "kms:Decrypt",
            context: vec![],
            expect: (true, true, false),
        },
        Case {
            source: "IAM UG reference_policies_elements_notaction: Allow NotAction iam:* allows other services",
            policy: r#"{"Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}"#,
            kind: Identity,
            principal: user("alice"),
            action: "kms:Encrypt",
            context: vec![],
            expect: (false, true, false),
        },
        Case {
            source: "IAM UG reference_policies_elements_notaction: ... but not iam actions",
            policy: r#"{"Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}"#,
            kind: Identity,
            principal: user("alice"),
            action: "iam:CreateUser",
            context: vec![],
            expect: (false, false, false),
        },
        Case {
            source: "IAM UG reference_policies_elements_notprincipal: Deny with NotPrincipal spares the named user",
            policy: r#"{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"kms:*","Resource":"*"}]}"#,
            kind: Resource,
            principal: user("alice"),
            action: "kms:Decrypt",
            context: vec![],
            expect: (false, false, false),
        },
        Case {
            source: "IAM UG reference_policies_elements_notprincipal: ... and denies everyone else",
            policy: r#"{"Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"kms:*","Resource":"*"}]}"#,
            kind: Resource,
            principal: user("bob"),
            action: "kms:Decrypt",
            context: vec![],
            expect: (true, false, false),
        },
        Case {
            source: "DG conditions-kms kms:EncryptionContext:context-key: StringEquals admits the matching context",
            policy: r#"{"Statement":{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:Department":"IT"}}}}"#,
            kind: Identity,
            principal: user("alice"),
            action: "kms:Decrypt",
            context: vec![("kms:EncryptionContext:Department", vec!["IT"])],
            expect: (false, true, false),
        },
        Case {
            source: "DG conditions-kms kms:EncryptionContext:context-key: ... and refuses another value (values are case-sensitive)",
            policy: r#"{"Statement":{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:Department":"IT"}}}}"#,
            kind: Identity,
            principal: user("alice"),
            action: "kms:Decrypt",
            context: vec![("kms:EncryptionContext:Department", vec!["it"])],
            expect: (false, false, false),
        },
        Case {
            source: "DG conditions-kms kms:EncryptionContextKeys: ForAllValues with a subset of the keys",
            policy: r#"{"Statement":{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*","Condition":{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["Department","Project"]}}}}"#,
            kind: Identity,
            principal: user("alice"),
            action: "kms:Encrypt",
            context: vec![("kms:EncryptionContextKeys", vec!["Department"])],
            expect: (false, true, false),
        },
        Case {
            source: "DG conditions-kms kms:EncryptionContextKeys: ForAllValues refuses an extra key",
            policy: r#"{"Statement":{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*","Condition":{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["Department","Project"]}}}}"#,
            kind: Identity,
            principal: user("alice"),
            action: "kms:Encrypt",
            context: vec![("kms:EncryptionContextKeys", vec!["Department", "Other"])],
            expect: (false, false, false),
        },
        Case {
            source: "DG conditions-kms: ForAllValues also matches a request with no encryption context",
            policy: r#"{"Statement":{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*","Condition":{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["Department"]}}}}"#,
            kind: Identity,
            principal: user("alice"),
            action: "kms:Encrypt",
            context: vec![],
            expect: (false, true, false),
        },
        Case {
            source: "DG conditions-kms: Null=false requires an encryption context",
            policy: r#"{"Statement":{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*","Condition":{"ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["Department"]},"Null":{"kms:EncryptionContextKeys":"false"}}}}"#,
            kind: Identity,
            principal: user("alice"),
            action: "kms:Encrypt",
            context: vec![],
            expect: (false, false, false),
        },
        Case {
            source: "DG conditions-kms: ForAnyValue:StringEquals needs one listed key",
            policy: r#"{"Statement":{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"kms:EncryptionContextKeys":["Project"]}}}}"#,
            kind: Identity,
            principal: user("alice"),
            action: "kms:Encrypt",
            context: vec![("kms:EncryptionContextKeys", vec!["Department", "Project"])],
            expect: (false, true, false),
        },
        Case {
            source: "DG conditions-kms kms:ScheduleKeyDeletionPendingWindowInDays: NumericGreaterThanEquals 21",
            policy: r#"{"Statement":{"Effect":"Deny","Action":"kms:ScheduleKeyDeletion","Resource":"*","Condition":{"NumericLessThan":{"kms:ScheduleKeyDeletionPendingWindowInDays":"21"}}}}"#,
            kind: Identity,
            principal: user("alice"),
            action: "kms:ScheduleKeyDeletion",
            context: vec![("kms:ScheduleKeyDeletionPendingWindowInDays", vec!["7"])],
            expect: (true, false, false),
        },
        Case {
            source: "IAM UG reference_policies_elements_condition_operators (Date): DateLessThan on aws:CurrentTime",
            policy: r#"{"Statement":{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2030-06-30T00:00:00Z"}}}}"#,
            kind: Identity,
            principal: user("alice"),
            action: "kms:Encrypt",
            context: vec![("aws:CurrentTime", vec!["2026-11-28T12:00:00Z"])],
            expect: (false, true, false),
        },
        Case {
            source: "IAM UG (Bool): deny requests that are not sent over TLS",
            policy: r#"{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}}"#,
            kind: Identity,
            principal: user("alice"),
            action: "kms:Encrypt",
            context: vec![("aws:SecureTransport", vec!["false"])],
            expect: (true, false, false),
        },
        Case {
            source: "IAM UG (IP address): IpAddress with a CIDR",
            policy: r#"{"Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:DB8:1234:5678::/64"]}}}}"#,
            kind: Identity,
            principal: user("alice"),
            action: "kms:Encrypt",
            context: vec![("aws:SourceIp", vec!["2001:db8:1234:5678::1"])],
            expect: (false, true, false),
        },
        Case {
            source: "IAM UG (IP address): NotIpAddress denies outside the range",
            policy: r#"{"Statement":{"Effect":"Deny","Action":"kms:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}}"#,
            kind: Identity,
            principal: user("alice"),
            action: "kms:Encrypt",
            context: vec![("aws:SourceIp", vec!["198.51.100.7"])],
            expect: (true, false, false),
        },
        Case {
            source: "IAM UG (ARN): ArnLike on aws:PrincipalArn with wildcards",
            policy: r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/admin-*"}}}}"#,
            kind: Resource,
            principal: session("admin-ops"),
            action: "kms:Decrypt",
            context: vec![],
            expect: (false, true, false),
        },
        Case {
            source: "IAM UG (...IfExists): StringEqualsIfExists matches when the key is absent",
            policy: r#"{"Statement":{"Effect":"Allow","Action":"kms:Sign","Resource":"*","Condition":{"StringEqualsIfExists":{"kms:MessageType":"RAW"}}}}"#,
            kind: Identity,
            principal: user("alice"),
            action: "kms:Sign",
            context: vec![],
            expect: (false, true, false),
        },
        Case {
            source: "IAM UG (String): StringNotEquals is true when the key is absent",
            policy: r#"{"Statement":{"Effect":"Deny","Action":"kms:*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalTag/Team":"crypto"}}}}"#,
            kind: Identity,
            principal: user("alice"),
            action: "kms:Encrypt",
            context: vec![],
            expect: (true, false, false),
        },
        Case {
            source: "DG abac (tags): aws:ResourceTag must equal the principal's tag (policy variable)",
            policy: r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:*:111122223333:key/*","Condition":{"StringEquals":{"aws:ResourceTag/Department":"${aws:PrincipalTag/Department}"}}}}"#,
            kind: Identity,
            principal: user("alice"),
            action: "kms:Decrypt",
            context: vec![("aws:ResourceTag/Department", vec!["IT"])],
            expect: (false, true, false),
        },
        Case {
            source: "IAM UG (variables): ${aws:username} in a StringLike condition",
            policy: r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringLike":{"kms:EncryptionContext:Owner":"${aws:username}*"}}}}"#,
            kind: Identity,
            principal: user("alice"),
            action: "kms:Decrypt",
            context: vec![("kms:EncryptionContext:Owner", vec!["alice-team"])],
            expect: (false, true, false),
        },
        Case {
            source: "IAM UG (binary): BinaryEquals compares base64 values",
            policy: r#"{"Statement":{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*","Condition":{"BinaryEquals":{"my:blob":"QmluYXJ5"}}}}"#,
            kind: Identity,
            principal: user("alice"),
            action: "kms:Encrypt",
            context: vec![("my:blob", vec!["QmluYXJ5"])],
            expect: (false, true, false),
        },
        Case {
            source: "DG key-policy-modifying: an account id is the same principal as its root ARN",
            policy: r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"}}"#,
            kind: Resource,
            principal: user("bob"),
            action: "kms:Encrypt",
            context: vec![],
            expect: (false, false, true),
        },
        Case {
            source: "IAM UG reference_policies_elements_principal (roles): a role principal covers its sessions",
            policy: r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/app"},"Action":"kms:Decrypt","Resource":"*"}}"#,
            kind: Resource,
            principal: session("app"),
            action: "kms:Decrypt",
            context: vec![],
            expect: (false, true, false),
        },
        Case {
            source: "DG key-policy-overview: another account's principal is not matched",
            policy: r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"kms:*","Resource":"*"}}"#,
            kind: Resource,
            principal: user("alice"),
            action: "kms:Encrypt",
            context: vec![],
            expect: (false, false, false),
        },
        Case {
            source: "DG key-policy-overview: a statement without Resource has no effect",
            policy: r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*"}}"#,
            kind: Resource,
            principal: user("alice"),
            action: "kms:Encrypt",
            context: vec![],
            expect: (false, false, false),
        },
        Case {
            source: "IAM UG roles_terms-and-concepts (trust policy): no Resource element, the role is the resource",
            policy: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}"#,
            kind: PolicyKind::Trust,
            principal: user("alice"),
            action: "sts:AssumeRole",
            context: vec![],
            expect: (false, false, true),
        },
    ];
    for c in &cases {
        run(c);
    }
    assert!(cases.len() >= 30);
}

#[test]
fn unknown_condition_operators_are_malformed() {
    let e = parse(r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringSorta":{"a":"b"}}}}"#)
        .expect_err("unknown operator");
    assert!(e.0.contains("StringSorta"));
    assert!(parse(r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"ForAnyValue:StringLikeIfExists":{"a":"b"}}}}"#).is_ok());
}

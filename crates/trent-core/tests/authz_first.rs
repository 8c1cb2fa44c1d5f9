//! Authorization happens before the operation runs. An IAM user with no permissions sends every
//! KMS and IAM operation that would change something, naming real keys, aliases, grants and
//! users: each answer is `AccessDenied`, and the store sees not one write.
//!
//! (The other half of the guarantee is structural: an operation receives its keys only inside
//! `authz::Authorized<T>`, whose constructor is private to the authorization step, and
//! `Kms::write` demands a sealed `Authority`, which only that value and the service's own jobs
//! implement — so code that would write without a decision does not compile.)
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::collections::BTreeMap;

use common::{call, try_call};
use serde_json::{json, Value};
use trent_api::{ErrorCode, Operation};
use trent_core::{Caller, Kms, Params, RequestMeta};

fn params(pairs: &[(&str, &str)]) -> Params {
    Params(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    )
}

async fn iam(kms: &Kms, caller: &Caller, pairs: &[(&str, &str)]) -> Result<String, trent_core::IamError> {
    let out = kms
        .handle_query(caller, "iam", &params(pairs), &RequestMeta::default())
        .await?;
    let mut xml = String::new();
    for x in out.unwrap_or_default() {
        x.write(&mut xml);
    }
    Ok(xml)
}

fn between(text: &str, start: &str, end: &str) -> String {
    let (_, rest) = text.split_once(start).unwrap_or_else(|| panic!("{start} in {text}"));
    let (inner, _) = rest.split_once(end).unwrap_or_else(|| panic!("{end} in {text}"));
    inner.to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unauthorized_caller_changes_nothing() {
    let common::Instrumented {
        kms,
        store,
        root,
        account,
        ..
    } = common::instrumented(3);

    // What there is to attack: a key with an alias, a grant and a tag, an external key, a
    // second user with a policy.
    let key = call(&kms, &root, Operation::CreateKey, json!({})).await;
    let id = key["KeyMetadata"]["KeyId"].as_str().expect("id").to_owned();
    let arn = key["KeyMetadata"]["Arn"].as_str().expect("arn").to_owned();
    let other = call(&kms, &root, Operation::CreateKey, json!({})).await;
    let other_id = other["KeyMetadata"]["KeyId"].as_str().expect("id").to_owned();
    let external = call(&kms, &root, Operation::CreateKey, json!({"Origin": "EXTERNAL"})).await;
    let external_id = external["KeyMetadata"]["KeyId"].as_str().expect("id").to_owned();
    call(
        &kms,
        &root,
        Operation::CreateAlias,
        json!({"AliasName": "alias/a", "TargetKeyId": id}),
    )
    .await;
    call(
        &kms,
        &root,
        Operation::TagResource,
        json!({"KeyId": id, "Tags": [{"TagKey": "t", "TagValue": "v"}]}),
    )
    .await;
    let account = account.to_string();
    let grant = call(
        &kms,
        &root,
        Operation::CreateGrant,
        json!({"KeyId": id, "GranteePrincipal": format!("arn:aws:iam::{account}:root"), "Operations": ["Decrypt"]}),
    )
    .await;
    let grant_id = grant["GrantId"].as_str().expect("grant").to_owned();
    iam(&kms, &root, &[("Action", "CreateUser"), ("UserName", "target")])
        .await
        .expect("user");
    iam(&kms, &root, &[("Action", "CreateUser"), ("UserName", "nobody")])
        .await
        .expect("user");
    let xml = iam(&kms, &root, &[("Action", "CreateAccessKey"), ("UserName", "nobody")])
        .await
        .expect("key");
    let nobody = kms
        .caller_of(&between(&xml, "<AccessKeyId>", "</AccessKeyId>"))
        .expect("nobody's credentials");

    let before = store.writes();
    let kms_ops: Vec<(Operation, Value)> = vec![
        (Operation::CreateKey, json!({})),
        (
            Operation::CreateAlias,
            json!({"AliasName": "alias/b", "TargetKeyId": id}),
        ),
        (
            Operation::UpdateAlias,
            json!({"AliasName": "alias/a", "TargetKeyId": other_id}),
        ),
        (Operation::DeleteAlias, json!({"AliasName": "alias/a"})),
        (Operation::DisableKey, json!({"KeyId": id})),
        (Operation::EnableKey, json!({"KeyId": id})),
        (
            Operation::ScheduleKeyDeletion,
            json!({"KeyId": id, "PendingWindowInDays": 7}),
        ),
        (Operation::CancelKeyDeletion, json!({"KeyId": id})),
        (Operation::EnableKeyRotation, json!({"KeyId": id})),
        (Operation::DisableKeyRotation, json!({"KeyId": id})),
        (Operation::RotateKeyOnDemand, json!({"KeyId": id})),
        (
            Operation::PutKeyPolicy,
            json!({"KeyId": id, "Policy": "{}", "PolicyName": "default"}),
        ),
        (
            Operation::TagResource,
            json!({"KeyId": arn, "Tags": [{"TagKey": "x", "TagValue": "y"}]}),
        ),
        (Operation::UntagResource, json!({"KeyId": id, "TagKeys": ["t"]})),
        (
            Operation::UpdateKeyDescription,
            json!({"KeyId": id, "Description": "pwned"}),
        ),
        (
            Operation::CreateGrant,
            json!({"KeyId": id, "GranteePrincipal": nobody.arn(), "Operations": ["Decrypt"]}),
        ),
        (Operation::RevokeGrant, json!({"KeyId": id, "GrantId": grant_id})),
        (Operation::RetireGrant, json!({"KeyId": id, "GrantId": grant_id})),
        (
            Operation::GetParametersForImport,
            json!({"KeyId": external_id, "WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"}),
        ),
        (Operation::DeleteImportedKeyMaterial, json!({"KeyId": external_id})),
        (Operation::Encrypt, json!({"KeyId": id, "Plaintext": "aGk="})),
        (Operation::GenerateDataKey, json!({"KeyId": id, "KeySpec": "AES_256"})),
    ];
    for (op, body) in kms_ops {
        let e = try_call(&kms, &nobody, op, body)
            .await
            .expect_err("an unprivileged user is refused");
        assert_eq!(e.code(), ErrorCode::AccessDenied, "{op:?}: {e}");
        assert_eq!(store.writes(), before, "{op:?} wrote before it was refused");
    }
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let iam_ops: Vec<Vec<(&str, &str)>> = vec![
        vec![("Action", "CreateUser"), ("UserName", "x")],
        vec![("Action", "DeleteUser"), ("UserName", "target")],
        vec![("Action", "CreateAccessKey"), ("UserName", "target")],
        vec![("Action", "CreateAccessKey")],
        vec![
            ("Action", "PutUserPolicy"),
            ("UserName", "nobody"),
            ("PolicyName", "all"),
            ("PolicyDocument", doc),
        ],
        vec![
            ("Action", "PutUserPolicy"),
            ("UserName", "target"),
            ("PolicyName", "all"),
            ("PolicyDocument", doc),
        ],
        vec![
            ("Action", "CreateRole"),
            ("RoleName", "r"),
            ("AssumeRolePolicyDocument", doc),
        ],
        vec![("Action", "CreatePolicy"), ("PolicyName", "p"), ("PolicyDocument", doc)],
        vec![("Action", "DeleteUser"), ("UserName", "no-such-user")],
        vec![("Action", "CreateGroup"), ("GroupName", "g")],
        vec![("Action", "AddUserToGroup"), ("GroupName", "g"), ("UserName", "nobody")],
        vec![("Action", "UpdateGroup"), ("GroupName", "g"), ("NewGroupName", "h")],
        vec![("Action", "DeleteGroup"), ("GroupName", "g")],
        vec![
            ("Action", "PutGroupPolicy"),
            ("GroupName", "g"),
            ("PolicyName", "all"),
            ("PolicyDocument", doc),
        ],
        vec![
            ("Action", "TagUser"),
            ("UserName", "target"),
            ("Tags.member.1.Key", "k"),
            ("Tags.member.1.Value", "v"),
        ],
        vec![
            ("Action", "UntagUser"),
            ("UserName", "target"),
            ("TagKeys.member.1", "k"),
        ],
        vec![
            ("Action", "CreatePolicyVersion"),
            ("PolicyArn", "arn:aws:iam::111122223333:policy/p"),
            ("PolicyDocument", doc),
        ],
    ];
    for pairs in iam_ops {
        let e = iam(&kms, &nobody, &pairs).await.expect_err("refused");
        assert_eq!(e.code, trent_core::IamErrorCode::AccessDenied, "{pairs:?}: {e:?}");
        assert_eq!(store.writes(), before, "{pairs:?} wrote before it was refused");
    }
    // And the same requests from the root user do write (the test can see writes).
    call(&kms, &root, Operation::DisableKey, json!({"KeyId": id})).await;
    assert!(store.writes() > before);
}

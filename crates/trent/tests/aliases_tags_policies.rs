//! Aliases, tags and key policies through the real binary.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use aws_sdk_kms::types::Tag;
use common::{blob, err, Server};

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().tag_key(k).tag_value(v).build().expect("tag")
}

#[tokio::test(flavor = "multi_thread")]
async fn alias_lifecycle_and_rules() {
    let s = Server::start();
    let c = s.client();
    let m = c.create_key().send().await.expect("create").key_metadata.expect("m");
    let m2 = c.create_key().send().await.expect("create").key_metadata.expect("m");
    let account = m.aws_account_id().expect("acct").to_owned();
    c.create_alias()
        .alias_name("alias/app")
        .target_key_id(m.key_id())
        .send()
        .await
        .expect("alias");
    let ct = c
        .encrypt()
        .key_id("alias/app")
        .plaintext(blob(b"hi"))
        .send()
        .await
        .expect("encrypt via alias");
    assert_eq!(ct.key_id(), m.arn());

    let e = c
        .create_alias()
        .alias_name("alias/app")
        .target_key_id(m2.key_id())
        .send()
        .await
        .expect_err("dup");
    assert_eq!(
        err(&e),
        (
            "AlreadyExistsException".into(),
            format!("An alias with the name arn:aws:kms:us-east-1:{account}:alias/app already exists")
        )
    );
    let e = c
        .create_alias()
        .alias_name("app")
        .target_key_id(m.key_id())
        .send()
        .await
        .expect_err("prefix");
    assert_eq!(
        err(&e),
        (
            "ValidationException".into(),
            "Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html".into()
        )
    );
    let e = c
        .create_alias()
        .alias_name("alias/aws/mine")
        .target_key_id(m.key_id())
        .send()
        .await
        .expect_err("reserved");
    assert_eq!(err(&e).0, "NotAuthorizedException");
    let e = c
        .create_alias()
        .alias_name("alias/bad name")
        .target_key_id(m.key_id())
        .send()
        .await
        .expect_err("pattern");
    assert!(err(&e)
        .1
        .contains("Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"));
    let e = c
        .create_alias()
        .alias_name("alias/x")
        .target_key_id("alias/app")
        .send()
        .await
        .expect_err("alias target");
    assert_eq!(err(&e).0, "NotFoundException");

    for i in 0..3 {
        c.create_alias()
            .alias_name(format!("alias/p{i}"))
            .target_key_id(m2.key_id())
            .send()
            .await
            .expect("alias");
    }
    // Pages of two: every alias once, in name order, the predefined AWS ones (no key yet) among
    // them without a target.
    let mut names = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut req = c.list_aliases().limit(2);
        if let Some(m) = &marker {
            req = req.marker(m);
        }
        let page = req.send().await.expect("list");
        assert!(page.aliases().len() <= 2);
        for a in page.aliases() {
            let name = a.alias_name().expect("name").to_owned();
            assert_eq!(a.target_key_id().is_none(), name.starts_with("alias/aws/"), "{name}");
            names.push(name);
        }
        if !page.truncated() {
            break;
        }
        marker = Some(page.next_marker().expect("marker").to_owned());
    }
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(names, sorted, "in order, each once");
    for n in [
        "alias/app",
        "alias/p0",
        "alias/p1",
        "alias/p2",
        "alias/aws/s3",
        "alias/aws/ebs",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
    }
    let by_key = c.list_aliases().key_id(m.key_id()).send().await.expect("by key");
    assert_eq!(by_key.aliases().len(), 1);
    let a = &by_key.aliases()[0];
    assert_eq!(a.alias_name(), Some("alias/app"));
    assert_eq!(
        a.alias_arn(),
        Some(format!("arn:aws:kms:us-east-1:{account}:alias/app").as_str())
    );
    assert_eq!(a.target_key_id(), Some(m.key_id()));
    assert!(a.creation_date().is_some() && a.last_updated_date().is_some());
    let e = c.list_aliases().limit(101).send().await.expect_err("limit");
    assert_eq!(err(&e).0, "ValidationException");

    c.update_alias()
        .alias_name("alias/app")
        .target_key_id(m2.key_id())
        .send()
        .await
        .expect("update");
    let d = c
        .describe_key()
        .key_id("alias/app")
        .send()
        .await
        .expect("d")
        .key_metadata
        .expect("m");
    assert_eq!(d.key_id(), m2.key_id());
    let e = c
        .update_alias()
        .alias_name("alias/nope")
        .target_key_id(m2.key_id())
        .send()
        .await
        .expect_err("missing");
    assert_eq!(
        err(&e),
        (
            "NotFoundException".into(),
            format!("Alias arn:aws:kms:us-east-1:{account}:alias/nope is not found.")
        )
    );

    c.delete_alias().alias_name("alias/app").send().await.expect("delete");
    let e = c
        .encrypt()
        .key_id("alias/app")
        .plaintext(blob(b"x"))
        .send()
        .await
        .expect_err("gone");
    assert_eq!(err(&e).0, "NotFoundException");
    let e = c.delete_alias().alias_name("alias/app").send().await.expect_err("gone");
    assert_eq!(err(&e).0, "NotFoundException");
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_follow_aws_rules() {
    let s = Server::start();
    let c = s.client();
    let m = c
        .create_key()
        .tags(tag("env", "dev"))
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("m");
    let id = m.key_id();
    c.tag_resource()
        .key_id(id)
        .tags(tag("team", "kms"))
        .tags(tag("env", "prod"))
        .send()
        .await
        .expect("tag");
    let t = c.list_resource_tags().key_id(id).send().await.expect("list");
    let pairs: Vec<_> = t
        .tags()
        .iter()
        .map(|t| (t.tag_key().to_owned(), t.tag_value().to_owned()))
        .collect();
    assert_eq!(
        pairs,
        vec![("env".into(), "prod".into()), ("team".into(), "kms".into())]
    );
    assert!(!t.truncated());

    let e = c
        .tag_resource()
        .key_id(id)
        .tags(tag("AWS:x", "v"))
        .send()
        .await
        .expect_err("reserved");
    assert_eq!(
        err(&e),
        ("TagException".into(), "Tags beginning with aws: are reserved".into())
    );
    let e = c
        .tag_resource()
        .key_id(id)
        .tags(tag("d", "1"))
        .tags(tag("d", "2"))
        .send()
        .await
        .expect_err("dup");
    assert_eq!(err(&e), ("TagException".into(), "Duplicate tag keys".into()));
    let e = c
        .tag_resource()
        .key_id(id)
        .tags(tag(&"k".repeat(129), "v"))
        .send()
        .await
        .expect_err("long");
    assert_eq!(err(&e).0, "ValidationException");
    assert!(err(&e).1.contains(
        "at 'tags.1.member.tagKey' failed to satisfy constraint: Member must have length less than or equal to 128"
    ));
    let mut req = c.tag_resource().key_id(id);
    for i in 0..49 {
        req = req.tags(tag(&format!("t{i:02}"), "v"));
    }
    let e = req.send().await.expect_err("51 tags");
    assert_eq!(err(&e), ("TagException".into(), "Too many tags".into()));

    let page = c.list_resource_tags().key_id(id).limit(1).send().await.expect("page");
    assert_eq!(page.tags().len(), 1);
    assert!(page.truncated());
    c.untag_resource()
        .key_id(id)
        .tag_keys("team")
        .tag_keys("absent")
        .send()
        .await
        .expect("untag");
    let t = c.list_resource_tags().key_id(id).send().await.expect("list");
    assert_eq!(t.tags().len(), 1);

    c.schedule_key_deletion().key_id(id).send().await.expect("schedule");
    let e = c
        .tag_resource()
        .key_id(id)
        .tags(tag("x", "y"))
        .send()
        .await
        .expect_err("pd");
    assert_eq!(err(&e).0, "KMSInvalidStateException");
}

#[tokio::test(flavor = "multi_thread")]
async fn put_key_policy_validates() {
    let s = Server::start();
    let c = s.client();
    let m = c.create_key().send().await.expect("create").key_metadata.expect("m");
    let id = m.key_id();
    let account = m.aws_account_id().expect("acct");
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"a","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"kms:*","Resource":"*"}}]}}"#
    );
    c.put_key_policy().key_id(id).policy(&policy).send().await.expect("put");
    let got = c.get_key_policy().key_id(id).send().await.expect("get");
    assert_eq!(got.policy(), Some(policy.as_str()));
    c.put_key_policy()
        .key_id(id)
        .policy_name("default")
        .policy(&policy)
        .send()
        .await
        .expect("named");
    for bad in [
        "not json",
        r#"{"Statement":[]}"#,
        r#"{"Statement":{"Effect":"Allow","Action":"kms:*"}}"#,
    ] {
        let e = c
            .put_key_policy()
            .key_id(id)
            .policy(bad)
            .send()
            .await
            .expect_err("malformed");
        assert_eq!(err(&e).0, "MalformedPolicyDocumentException", "{bad}");
    }
    let big = format!(
        r#"{{"Statement":{{"Sid":"{}","Effect":"Allow","Principal":"*","Action":"kms:*","Resource":"*"}}}}"#,
        "x".repeat(33_000)
    );
    let e = c
        .put_key_policy()
        .key_id(id)
        .policy(big)
        .send()
        .await
        .expect_err("too big");
    assert_eq!(err(&e).0, "LimitExceededException");
    let e = c
        .put_key_policy()
        .key_id(id)
        .policy("{\u{0100}}")
        .send()
        .await
        .expect_err("chars");
    assert_eq!(err(&e).0, "ValidationException");
    let e = c.put_key_policy().key_id(id).send().await.expect_err("null");
    assert!(err(&e).1.contains("Value null at 'policy'"));
    // Nothing changed by the rejected calls.
    assert_eq!(
        c.get_key_policy().key_id(id).send().await.expect("get").policy(),
        Some(policy.as_str())
    );
}

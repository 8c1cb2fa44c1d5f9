//! Credentials are bound to the identity they were issued for (issue 10, finding 3): DeleteUser
//! racing CreateAccessKey, and DeleteRole racing AssumeRole, 100 trials each, on two servers
//! sharing one data directory (so the guarantee comes from the store's transactions, not from one
//! process's lock) — and never an orphan: no key outlives its user, no session its role, and a
//! user or role created again under the same name inherits nothing.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::time::Duration;

use common::{between, Server};

const TRIALS: usize = 100;

fn two_servers() -> (Server, Server, tempfile::TempDir) {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let a = Server::start_in(&dir, &[]);
    let b = Server::start_in(&dir, &[]);
    (a, b, tmp)
}

/// Who a credential authenticates as on `s`, if anyone.
fn whoami(s: &Server, creds: (&str, &str, Option<&str>)) -> Option<String> {
    let (status, xml) = s.query("sts", "2011-06-15", creds, &[("Action", "GetCallerIdentity")]);
    (status == 200).then(|| between(&xml, "<Arn>", "</Arn>"))
}

#[test]
fn delete_user_racing_create_access_key_leaves_no_orphan() {
    let (a, b, _tmp) = two_servers();
    let (mut keys_won, mut deletes_won) = (0, 0);
    for i in 0..TRIALS {
        let name = format!("u{i}");
        let (status, xml) = a.iam(&[("Action", "CreateUser"), ("UserName", &name)]);
        assert_eq!(status, 200, "{xml}");
        let (deleted, created) = std::thread::scope(|s| {
            let d = s.spawn(|| a.iam(&[("Action", "DeleteUser"), ("UserName", &name)]));
            let c = s.spawn(|| b.iam(&[("Action", "CreateAccessKey"), ("UserName", &name)]));
            (d.join().expect("delete"), c.join().expect("create"))
        });
        assert!(
            !(deleted.0 == 200 && created.0 == 200),
            "trial {i}: both succeeded — a key without its user"
        );
        if created.0 == 200 {
            keys_won += 1;
            assert!(deleted.1.contains("<Code>DeleteConflict</Code>"), "{}", deleted.1);
            let ak = between(&created.1, "<AccessKeyId>", "</AccessKeyId>");
            let sk = between(&created.1, "<SecretAccessKey>", "</SecretAccessKey>");
            assert!(
                whoami(&a, (&ak, &sk, None)).is_some_and(|arn| arn.ends_with(&format!(":user/{name}"))),
                "trial {i}: the key works for its (existing) user"
            );
        } else {
            deletes_won += 1;
            assert_eq!(deleted.0, 200, "{}", deleted.1);
            assert!(created.1.contains("<Code>NoSuchEntity</Code>"), "{}", created.1);
            // A new user of the same name starts with no keys.
            let (status, xml) = b.iam(&[("Action", "CreateUser"), ("UserName", &name)]);
            assert_eq!(status, 200, "{xml}");
            let (status, xml) = a.iam(&[("Action", "ListAccessKeys"), ("UserName", &name)]);
            assert_eq!(status, 200, "{xml}");
            assert!(!xml.contains("<AccessKeyId>"), "trial {i}: inherited keys: {xml}");
        }
    }
    println!("CreateAccessKey first: {keys_won}, DeleteUser first: {deletes_won}");
}

#[test]
fn delete_role_racing_assume_role_leaves_no_session() {
    let (a, b, _tmp) = two_servers();
    let account = {
        let env = std::fs::read_to_string(a.dir.join("admin.env")).expect("admin.env");
        let (status, xml) = a.sts(&[("Action", "GetCallerIdentity")]);
        assert_eq!(status, 200, "{xml} {env}");
        between(&xml, "<Account>", "</Account>")
    };
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{account}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let mut sessions = Vec::new();
    for i in 0..TRIALS {
        let name = format!("r{i}");
        let (status, xml) = a.iam(&[
            ("Action", "CreateRole"),
            ("RoleName", &name),
            ("AssumeRolePolicyDocument", &trust),
        ]);
        assert_eq!(status, 200, "{xml}");
        let role_arn = format!("arn:aws:iam::{account}:role/{name}");
        let (deleted, assumed) = std::thread::scope(|s| {
            let d = s.spawn(|| a.iam(&[("Action", "DeleteRole"), ("RoleName", &name)]));
            let r = s.spawn(|| {
                b.sts(&[
                    ("Action", "AssumeRole"),
                    ("RoleArn", &role_arn),
                    ("RoleSessionName", "race"),
                ])
            });
            (d.join().expect("delete"), r.join().expect("assume"))
        });
        assert_eq!(deleted.0, 200, "{}", deleted.1);
        if assumed.0 == 200 {
            sessions.push((
                i,
                between(&assumed.1, "<AccessKeyId>", "</AccessKeyId>"),
                between(&assumed.1, "<SecretAccessKey>", "</SecretAccessKey>"),
                between(&assumed.1, "<SessionToken>", "</SessionToken>"),
            ));
        } else {
            assert!(
                assumed.1.contains("AccessDenied") || assumed.1.contains("NoSuchEntity"),
                "{}",
                assumed.1
            );
        }
        // The name is taken again at once by a new role.
        let (status, xml) = a.iam(&[
            ("Action", "CreateRole"),
            ("RoleName", &name),
            ("AssumeRolePolicyDocument", &trust),
        ]);
        assert_eq!(status, 200, "{xml}");
    }
    // Every server re-reads a cached credential within 5 seconds.
    std::thread::sleep(Duration::from_millis(5_500));
    for (i, ak, sk, token) in &sessions {
        for (server, s) in [("A", &a), ("B", &b)] {
            assert_eq!(
                whoami(s, (ak, sk, Some(token))),
                None,
                "trial {i}: a session of a deleted role still authenticates on {server}"
            );
        }
    }
    println!("sessions issued before their role was deleted: {}", sessions.len());
}

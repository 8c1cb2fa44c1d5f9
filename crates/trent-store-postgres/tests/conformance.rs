//! The store conformance suite on PostgreSQL, in a fresh database created for the run (and
//! dropped after). The server is `TRENT_TEST_POSTGRES` (a libpq URL; default
//! `postgres://postgres@127.0.0.1:5432/postgres`). Without a reachable server the tests say they
//! skipped — unless `TRENT_TEST_POSTGRES_REQUIRED=1` (CI), where that is a failure.

use trent_store::{Store, StoreRead};

#[test]
fn postgres_passes_the_conformance_suite() {
    let Some(db) = trent_store_postgres::testing::TestDb::create("conformance") else {
        return;
    };
    let store = db.store();
    assert_eq!(store.backend(), "postgres");
    trent_store::conformance::run_all(&store);
}

#[test]
fn migrations_apply_once_and_reopen_keeps_data() {
    let Some(db) = trent_store_postgres::testing::TestDb::create("reopen") else {
        return;
    };
    {
        let s = db.store();
        s.insert_account(&trent_store::AccountRecord {
            account_id: trent_types::AccountId::parse("111122223333").expect("account"),
            created_ms: 1,
        })
        .expect("insert");
    }
    let s = db.store();
    assert_eq!(
        s.schema_version().expect("version"),
        trent_store_postgres::migrations::LATEST
    );
    assert_eq!(s.accounts().expect("accounts").len(), 1);
}

/// A database written by schema 1 (one audit chain) upgrades: its events are chain `main`.
#[test]
fn schema_1_audit_rows_become_the_main_chain() {
    use trent_store::{StoreRead, MAIN_CHAIN};
    let Some(db) = trent_store_postgres::testing::TestDb::create("upgrade") else {
        return;
    };
    {
        let mut c = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
        assert_eq!(trent_store_postgres::migrations::apply_until(&mut c, 1).expect("v1"), 1);
        c.batch_execute(
            "INSERT INTO audit_batches VALUES (3, 4, 10, 11, 'x', '\\x04'); \
             INSERT INTO audit_anchor VALUES (1, 2, '\\x02');",
        )
        .expect("v1 rows");
    }
    let s = db.store();
    assert_eq!(s.audit_chains().expect("chains"), vec![MAIN_CHAIN.to_owned()]);
    assert_eq!(s.audit_anchor(MAIN_CHAIN).expect("anchor"), Some((2, vec![2])));
    assert_eq!(s.last_audit(MAIN_CHAIN).expect("head").map(|h| h.seq), Some(4));
    assert_eq!(s.audit_batches_after(MAIN_CHAIN, 0, 10).expect("batches").len(), 1);
}

/// Schema 3's keys, aliases, tags, grants and last use keep the Region their key was made in
/// (schema 4); a multi-Region key becomes its own primary.
#[test]
fn schema_3_rows_keep_their_key_region() {
    let Some(db) = trent_store_postgres::testing::TestDb::create("regions") else {
        return;
    };
    {
        let mut c = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
        assert_eq!(trent_store_postgres::migrations::apply_until(&mut c, 3).expect("v3"), 3);
        c.batch_execute(
            "INSERT INTO keys (key_id, account_id, region, description, key_spec, key_usage, origin, key_manager, key_state, created_ms, policy, current_material_id, multi_region)
               VALUES ('mrk-0000000a00004000800000000000000a', '111122223333', 'eu-west-1', '', 'SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT', 'AWS_KMS', 'CUSTOMER', 'Enabled', 1, '{}', 'm', TRUE);
             INSERT INTO key_materials (key_id, material_id, sealed, created_ms) VALUES ('mrk-0000000a00004000800000000000000a', 'm', '\\x0102', 1);
             INSERT INTO aliases VALUES ('111122223333', 'alias/a', 'mrk-0000000a00004000800000000000000a', 1, 1);
             INSERT INTO tags VALUES ('mrk-0000000a00004000800000000000000a', 't', 'v');
             INSERT INTO grants VALUES ('g', 'mrk-0000000a00004000800000000000000a', '111122223333', NULL, 'p', NULL, '[\"Encrypt\"]', NULL, 1);
             INSERT INTO key_usage VALUES ('mrk-0000000a00004000800000000000000a', 'Encrypt', 5, 'r');",
        )
        .expect("v3 rows");
    }
    let s = db.store();
    let west = trent_types::Region::parse("eu-west-1").expect("region");
    let id = trent_types::KeyId::parse("mrk-0000000a00004000800000000000000a").expect("id");
    let account = trent_types::AccountId::parse("111122223333").expect("account");
    let key = s.key(&west, &id).expect("read").expect("exists");
    assert_eq!(key.primary_region.as_ref(), Some(&west));
    assert_eq!(key.material_region, west);
    assert_eq!(s.materials(&id).expect("materials").len(), 1);
    let alias = trent_types::AliasName::parse("alias/a").expect("alias");
    assert!(s.alias(&account, &west, &alias).expect("alias").is_some());
    assert_eq!(s.tags(&west, &id).expect("tags").len(), 1);
    assert_eq!(s.grants(&west, &id).expect("grants").len(), 1);
    assert_eq!(s.usage(&west, &id).expect("usage").map(|u| u.at_ms), Some(5));
    let east = trent_types::Region::parse("us-east-1").expect("region");
    assert_eq!(s.key(&east, &id).expect("read"), None);
}

/// Schema 4's keys are in no custom key store after schema 5, and keep everything else.
#[test]
fn schema_4_keys_are_in_no_custom_key_store() {
    let Some(db) = trent_store_postgres::testing::TestDb::create("xks") else {
        return;
    };
    {
        let mut c = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
        assert_eq!(trent_store_postgres::migrations::apply_until(&mut c, 4).expect("v4"), 4);
        c.batch_execute(
            "INSERT INTO keys (key_id, account_id, region, description, key_spec, key_usage, origin, key_manager, key_state, created_ms, policy, current_material_id, multi_region, material_region)
               VALUES ('0000000a-0000-4000-8000-000000000000', '111122223333', 'us-east-1', 'old', 'SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT', 'AWS_KMS', 'CUSTOMER', 'Enabled', 1, '{}', 'm', FALSE, 'us-east-1');",
        )
        .expect("v4 rows");
    }
    let s = db.store();
    let east = trent_types::Region::parse("us-east-1").expect("region");
    let id = trent_types::KeyId::parse("0000000a-0000-4000-8000-000000000000").expect("id");
    let key = s.key(&east, &id).expect("read").expect("exists");
    assert_eq!((key.custom_key_store_id, key.xks_key_id), (None, None));
    assert_eq!(key.description, "old");
}

#[test]
fn one_server_leads_the_scheduled_jobs_and_another_takes_over_when_it_goes() {
    let Some(db) = trent_store_postgres::testing::TestDb::create("leader") else {
        return;
    };
    let first = db.store();
    let second = db.store();
    assert!(first.try_lead().expect("first"), "the first to ask leads");
    assert!(!second.try_lead().expect("second"), "one leader at a time");
    assert!(first.try_lead().expect("again"), "leadership is kept");
    drop(first); // its connection, and with it the advisory lock, goes
    assert!(second.try_lead().expect("take over"), "the next to ask takes over");
}

#[test]
fn every_committed_change_is_announced_and_a_rolled_back_one_is_not() {
    use std::sync::mpsc;
    use trent_store::{AccountRecord, Change, Store};
    let Some(db) = trent_store_postgres::testing::TestDb::create("feed") else {
        return;
    };
    let store = db.store();
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    assert!(store
        .watch(std::sync::Arc::new(move |c| {
            let _ = tx.lock().map(|t| t.send(c));
        }))
        .expect("watch"));
    assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(5)), Ok(Change::Resumed));
    let account = trent_types::AccountId::parse("111122223333").expect("account");
    store
        .insert_account(&AccountRecord {
            account_id: account,
            created_ms: 1,
        })
        .expect("account");
    let entity = trent_store::EntityRecord {
        account_id: account,
        kind: trent_store::EntityKind::User,
        name: "alice".into(),
        body: r#"{"id":"AIDAEXAMPLE"}"#.into(),
    };
    // Rolled back: nothing announced.
    let _ = store.atomically(&mut |t| {
        t.put_entity(&entity, false)?;
        Err(trent_store::StoreError::Conflict)
    });
    store.put_entity(&entity, false).expect("entity");
    assert_eq!(
        rx.recv_timeout(std::time::Duration::from_secs(5)),
        Ok(Change::Identity(account)),
        "the committed change, and only it"
    );
    assert!(rx.recv_timeout(std::time::Duration::from_millis(300)).is_err());
}

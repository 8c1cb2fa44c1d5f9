//! The conformance suite every [`Store`] backend must pass (sqlx practice: one suite, every
//! backend). Call [`run_all`] with a freshly migrated, empty store.

use crate::{AccessKeyRecord, AccountRecord, AliasRecord, KeyRecord, MaterialRecord, Store, StoreError, TagRecord};

fn key(id: &str, account: &str) -> KeyRecord {
    KeyRecord {
        key_id: id.into(),
        account_id: account.into(),
        region: "us-east-1".into(),
        description: String::new(),
        key_spec: "SYMMETRIC_DEFAULT".into(),
        key_usage: "ENCRYPT_DECRYPT".into(),
        origin: "AWS_KMS".into(),
        key_manager: "CUSTOMER".into(),
        key_state: "Enabled".into(),
        created_ms: 1_000,
        deletion_ms: None,
        pending_window_days: None,
        policy: "{}".into(),
        current_material_id: Some("m1".into()),
        multi_region: false,
    }
}

fn material(key_id: &str, id: &str) -> MaterialRecord {
    MaterialRecord {
        key_id: key_id.into(),
        material_id: id.into(),
        sealed: vec![1, 2, 3],
        created_ms: 1_000,
    }
}

fn tag(k: &str, v: &str) -> TagRecord {
    TagRecord {
        key: k.into(),
        value: v.into(),
    }
}

/// Runs every conformance check; panics on the first failure.
pub fn run_all(s: &dyn Store) {
    accounts_and_access_keys(s);
    keys_round_trip_and_page(s);
    aliases_are_unique_and_follow_their_key(s);
    tags_upsert_and_delete(s);
    deletion_cascades(s);
}

fn accounts_and_access_keys(s: &dyn Store) {
    s.insert_account(&AccountRecord {
        account_id: "111122223333".into(),
        created_ms: 5,
    })
    .expect("account");
    assert!(matches!(
        s.insert_account(&AccountRecord {
            account_id: "111122223333".into(),
            created_ms: 6
        }),
        Err(StoreError::UniqueViolation)
    ));
    let ak = AccessKeyRecord {
        access_key_id: "AKIA0000000000000001".into(),
        account_id: "111122223333".into(),
        principal_arn: "arn:aws:iam::111122223333:root".into(),
        sealed_secret: vec![9; 40],
        status: "Active".into(),
        created_ms: 5,
    };
    s.insert_access_key(&ak).expect("ak");
    assert_eq!(s.access_keys().expect("aks"), vec![ak]);
}

fn keys_round_trip_and_page(s: &dyn Store) {
    for id in ["k3", "k1", "k2"] {
        s.create_key(&key(id, "A"), &material(id, "m1"), &[]).expect("create");
    }
    s.create_key(&key("other", "B"), &material("other", "m1"), &[])
        .expect("create");
    assert!(matches!(
        s.create_key(&key("k1", "A"), &material("k1", "m9"), &[]),
        Err(StoreError::UniqueViolation)
    ));
    let mut k = s.key("k1").expect("get").expect("exists");
    assert_eq!(k, key("k1", "A"));
    k.description = "changed".into();
    k.key_state = "Disabled".into();
    s.update_key(&k).expect("update");
    assert_eq!(s.key("k1").expect("get").expect("exists").description, "changed");
    assert!(matches!(s.update_key(&key("nope", "A")), Err(StoreError::NotFound)));
    assert_eq!(s.key("nope").expect("get"), None);
    let page1 = s.list_keys("A", None, 2).expect("list");
    assert_eq!(
        page1.iter().map(|k| k.key_id.as_str()).collect::<Vec<_>>(),
        ["k1", "k2"]
    );
    let page2 = s.list_keys("A", Some("k2"), 2).expect("list");
    assert_eq!(page2.iter().map(|k| k.key_id.as_str()).collect::<Vec<_>>(), ["k3"]);
    assert_eq!(s.materials("k1").expect("materials"), vec![material("k1", "m1")]);
}

fn aliases_are_unique_and_follow_their_key(s: &dyn Store) {
    let a = AliasRecord {
        account_id: "A".into(),
        name: "alias/x".into(),
        target_key_id: "k1".into(),
        created_ms: 1,
        updated_ms: 1,
    };
    s.create_alias(&a).expect("alias");
    assert!(matches!(s.create_alias(&a), Err(StoreError::UniqueViolation)));
    let mut other_account = a.clone();
    other_account.account_id = "B".into();
    other_account.target_key_id = "other".into();
    s.create_alias(&other_account).expect("same name, other account");
    let mut b = a.clone();
    b.name = "alias/y".into();
    b.target_key_id = "k2".into();
    s.create_alias(&b).expect("alias y");
    assert_eq!(s.list_aliases("A", None, None, 10).expect("list").len(), 2);
    assert_eq!(
        s.list_aliases("A", Some("k2"), None, 10).expect("list"),
        vec![b.clone()]
    );
    assert_eq!(
        s.list_aliases("A", None, Some("alias/x"), 10).expect("list"),
        vec![b.clone()]
    );
    b.target_key_id = "k3".into();
    b.updated_ms = 2;
    s.update_alias(&b).expect("update");
    assert_eq!(s.alias("A", "alias/y").expect("get"), Some(b));
    s.delete_alias("A", "alias/y").expect("delete");
    assert!(matches!(s.delete_alias("A", "alias/y"), Err(StoreError::NotFound)));
    assert_eq!(s.all_aliases().expect("all").len(), 2);
}

fn tags_upsert_and_delete(s: &dyn Store) {
    s.put_tags("k2", &[tag("b", "1"), tag("a", "2")]).expect("put");
    s.put_tags("k2", &[tag("b", "3")]).expect("overwrite");
    assert_eq!(s.tags("k2").expect("tags"), vec![tag("a", "2"), tag("b", "3")]);
    s.delete_tags("k2", &["a".into(), "missing".into()]).expect("delete");
    assert_eq!(s.tags("k2").expect("tags"), vec![tag("b", "3")]);
}

fn deletion_cascades(s: &dyn Store) {
    let mut k = s.key("k1").expect("get").expect("exists");
    k.key_state = "PendingDeletion".into();
    k.deletion_ms = Some(10_000);
    s.update_key(&k).expect("schedule");
    assert!(s.keys_due_for_deletion(9_999).expect("due").is_empty());
    assert_eq!(s.keys_due_for_deletion(10_000).expect("due").len(), 1);
    s.put_tags("k1", &[tag("t", "v")]).expect("tag");
    s.delete_key("k1").expect("delete");
    assert_eq!(s.key("k1").expect("get"), None);
    assert!(s.materials("k1").expect("materials").is_empty());
    assert!(s.tags("k1").expect("tags").is_empty());
    assert_eq!(s.alias("A", "alias/x").expect("alias"), None);
}

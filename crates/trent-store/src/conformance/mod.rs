//! The conformance suite every [`Store`] backend must pass (sqlx practice: one suite, every
//! backend). Call [`run_all`] with a freshly migrated, empty store. Test code: panics on purpose.
#![allow(clippy::indexing_slicing, clippy::string_slice)]

use trent_types::{
    AccessKeyStatus, AccountId, AliasName, ExpirationModel, GrantOperation, ImportState, KeyId, KeyManager, KeySpec,
    KeyState, KeyUsage, Origin, Region, RotationType,
};

mod custom_key_stores;
mod regions;

use crate::{
    AccessKeyRecord, AccountRecord, AliasRecord, AuditBatchRecord, AuditHead, EntityKind, EntityRecord, GrantRecord,
    KeyRecord, MaterialRecord, Store, StoreError, TagRecord, UsageRecord,
};

/// Test key ids, ordered as their names: `id("k1") < id("k2") < id("k3") < id("other")`.
fn id(name: &str) -> KeyId {
    if name == "mrk" {
        return KeyId::parse("mrk-0000000a00004000800000000000000a").unwrap_or_else(|| unreachable!());
    }
    let n = match name {
        "k1" => 1,
        "k2" => 2,
        "k3" => 3,
        "other" => 4,
        "atomic-1" => 5,
        "atomic-2" => 6,
        "atomic-3" => 7,
        "atomic-4" => 8,
        "x1" => 10,
        "x2" => 11,
        "x3" => 12,
        "x4" => 13,
        _ => 9,
    };
    KeyId::parse(&format!("{n:08x}-0000-4000-8000-000000000000")).unwrap_or_else(|| unreachable!())
}

/// Test accounts `A` and `B`.
fn acct(name: &str) -> AccountId {
    let digits = if name == "A" { "111111111111" } else { "222222222222" };
    AccountId::parse(digits).unwrap_or_else(|| unreachable!())
}

/// The Region test records are in unless a test says otherwise.
fn east() -> Region {
    Region::parse("us-east-1").unwrap_or_else(|| unreachable!())
}

fn region(name: &str) -> Region {
    Region::parse(name).unwrap_or_else(|| unreachable!())
}

fn alias_name(s: &str) -> AliasName {
    AliasName::parse(s).unwrap_or_else(|| unreachable!())
}

fn key(name: &str, account: &str) -> KeyRecord {
    KeyRecord {
        key_id: id(name),
        account_id: acct(account),
        region: east(),
        description: String::new(),
        key_spec: KeySpec::SymmetricDefault,
        key_usage: KeyUsage::EncryptDecrypt,
        origin: Origin::AwsKms,
        key_manager: KeyManager::Customer,
        key_state: KeyState::Enabled,
        created_ms: 1_000,
        deletion_ms: None,
        pending_window_days: None,
        policy: "{}".into(),
        current_material_id: Some("m1".into()),
        multi_region: false,
        primary_region: None,
        material_region: east(),
        rotation_enabled: false,
        rotation_period_days: None,
        next_rotation_ms: None,
        version: 0,
        custom_key_store_id: None,
        xks_key_id: None,
    }
}

fn material(key_name: &str, material_id: &str) -> MaterialRecord {
    MaterialRecord::generated(id(key_name), material_id, vec![1, 2, 3], 1_000)
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
    writes_commit_together_or_not_at_all(s);
    iam_entities(s);
    keys_round_trip_and_page(s);
    aliases_are_unique_and_follow_their_key(s);
    tags_upsert_and_delete(s);
    rotation_is_compare_and_swap(s);
    imported_material_and_expiry(s);
    usage_keeps_the_latest(s);
    audit_is_append_only_and_ordered(s);
    grants_by_key_and_retiree(s);
    reseal_and_meta_are_compare_and_swap(s);
    deletion_cascades(s);
    regions::partition_keys_and_share_materials(s);
    custom_key_stores::keys_name_their_store_and_external_key(s);
}

/// Root-key rotation rewrites sealed bytes only where they are still what it read.
fn reseal_and_meta_are_compare_and_swap(s: &dyn Store) {
    let k = key("reseal", "A");
    s.create_key(&k, Some(&material("reseal", "m1")), &[]).expect("create");
    let m = &s.materials(&k.key_id).expect("materials")[0];
    assert!(matches!(
        s.reseal_material(&k.key_id, "m1", &[9, 9], &[4, 5, 6]),
        Err(StoreError::Conflict)
    ));
    s.reseal_material(&k.key_id, "m1", &m.sealed, &[4, 5, 6])
        .expect("reseal");
    assert_eq!(s.materials(&k.key_id).expect("materials")[0].sealed, vec![4, 5, 6]);
    assert!(matches!(
        s.reseal_material(&k.key_id, "gone", &[4, 5, 6], &[7]),
        Err(StoreError::NotFound)
    ));
    let ak = &s.access_keys().expect("aks")[0];
    let id = ak.access_key_id.clone();
    assert!(matches!(
        s.reseal_access_key(&id, &[1], &[2]),
        Err(StoreError::Conflict)
    ));
    s.reseal_access_key(&id, &ak.sealed_secret, &[8; 40]).expect("reseal");
    assert_eq!(
        s.access_key(&id).expect("read").expect("exists").sealed_secret,
        vec![8; 40]
    );
    assert!(matches!(
        s.reseal_access_key("AKIANOSUCHKEY0000000", &[8; 40], &[1]),
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.meta("derivation-key").expect("meta"), None);
    s.put_meta("derivation-key", None, b"one").expect("put");
    assert!(matches!(
        s.put_meta("derivation-key", None, b"two"),
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        s.put_meta("derivation-key", Some(b"zzz"), b"two"),
        Err(StoreError::Conflict)
    ));
    s.put_meta("derivation-key", Some(b"one"), b"two").expect("swap");
    assert_eq!(s.meta("derivation-key").expect("meta").as_deref(), Some(&b"two"[..]));
}

fn rotation_is_compare_and_swap(s: &dyn Store) {
    let mut k = s.key(&east(), &id("k3")).expect("get").expect("exists");
    k.rotation_enabled = true;
    k.rotation_period_days = Some(90);
    k.next_rotation_ms = Some(5_000);
    s.update_key(&k).expect("enable rotation");
    assert!(s.keys_due_for_rotation(4_999).expect("due").is_empty());
    assert_eq!(s.keys_due_for_rotation(5_000).expect("due").len(), 1);
    let mut rotated = k.clone();
    rotated.current_material_id = Some("m2".into());
    rotated.next_rotation_ms = Some(10_000);
    let mut m2 = material("k3", "m2");
    m2.rotation_type = Some(RotationType::Automatic);
    m2.rotation_ms = Some(5_000);
    s.rotate_key(&rotated, Some("m1"), &m2).expect("rotate");
    // A second server that read the same state loses the race and changes nothing.
    let mut other = k.clone();
    other.current_material_id = Some("m3".into());
    assert!(matches!(
        s.rotate_key(&other, Some("m1"), &material("k3", "m3")),
        Err(StoreError::Conflict)
    ));
    let mats = s.materials(&id("k3")).expect("materials");
    assert_eq!(mats.len(), 2);
    assert_eq!(mats[1], m2);
    assert_eq!(
        s.key(&east(), &id("k3"))
            .expect("get")
            .expect("exists")
            .current_material_id
            .as_deref(),
        Some("m2")
    );
    assert!(s.keys_due_for_rotation(5_000).expect("due").is_empty());
    let mut disabled = s.key(&east(), &id("k3")).expect("get").expect("exists");
    disabled.key_state = KeyState::Disabled;
    s.update_key(&disabled).expect("disable");
    assert!(s
        .keys_due_for_rotation(20_000)
        .expect("disabled keys do not rotate")
        .is_empty());
}

fn imported_material_and_expiry(s: &dyn Store) {
    let k = s.key(&east(), &id("k2")).expect("get").expect("exists");
    let mut m = material("k2", "imp");
    m.import_state = Some(ImportState::Imported);
    m.expiration_model = Some(ExpirationModel::KeyMaterialExpires);
    m.valid_to_ms = Some(7_000);
    m.description = Some("d".into());
    s.put_material(&k, &m).expect("put");
    assert_eq!(
        s.expired_materials(6_999).expect("expired"),
        Vec::<MaterialRecord>::new()
    );
    assert_eq!(s.expired_materials(7_000).expect("expired"), vec![m.clone()]);
    m.sealed = Vec::new();
    m.import_state = Some(ImportState::PendingImport);
    s.put_material(&k, &m).expect("delete material");
    assert!(
        s.expired_materials(8_000).expect("expired").is_empty(),
        "deleted material does not expire again"
    );
    assert!(!s
        .materials(&id("k2"))
        .expect("m")
        .iter()
        .find(|x| x.material_id == "imp")
        .expect("kept")
        .is_present());
}

fn usage_keeps_the_latest(s: &dyn Store) {
    let u = |op: &str, at: i64| UsageRecord {
        key_id: id("k2"),
        region: east(),
        operation: op.into(),
        at_ms: at,
        request_id: format!("r{at}"),
    };
    assert_eq!(s.usage(&east(), &id("k2")).expect("usage"), None);
    s.record_usage(&[u("Encrypt", 10), u("Decrypt", 20)]).expect("record");
    s.record_usage(&[u("Sign", 15)]).expect("older write loses");
    assert_eq!(s.usage(&east(), &id("k2")).expect("usage"), Some(u("Decrypt", 20)));
}

fn audit_is_append_only_and_ordered(s: &dyn Store) {
    // Batch `first..=last`, at time 100 + last.
    let b = |first: i64, last: i64| AuditBatchRecord {
        first_seq: first,
        last_seq: last,
        first_time_ms: 100 + first,
        last_time_ms: 100 + last,
        body: format!("{first}-{last}").into_bytes(),
        last_hash: vec![last as u8; 32],
    };
    let head = |seq: i64| AuditHead {
        seq,
        hash: vec![seq as u8; 32],
    };
    const A: &str = "node-a";
    const B: &str = "node-b";
    assert!(s.audit_chains().expect("chains").is_empty());
    assert_eq!(s.last_audit(A).expect("last"), None);
    s.append_audit_batches(A, &[b(1, 1), b(2, 3)]).expect("append");
    // Appends only continue the chain: a batch that does not start after the head is refused
    // whole (a second writer appended first), and so is a gap.
    for bad in [vec![b(4, 4), b(4, 5)], vec![b(3, 4)], vec![b(5, 5)]] {
        assert!(
            matches!(s.append_audit_batches(A, &bad), Err(StoreError::Conflict)),
            "{bad:?}"
        );
    }
    assert_eq!(s.last_audit(A).expect("last"), Some(head(3)));
    // Chains are independent: another starts at 1 and does not move this one.
    assert!(matches!(
        s.append_audit_batches(B, &[b(4, 4)]),
        Err(StoreError::Conflict)
    ));
    s.append_audit_batches(B, &[b(1, 2)]).expect("second chain");
    assert_eq!(s.last_audit(B).expect("last"), Some(head(2)));
    assert_eq!(s.audit_chains().expect("chains"), vec![A.to_owned(), B.to_owned()]);
    s.append_audit_batches(A, &[b(4, 4)]).expect("append after refusal");
    assert_eq!(
        s.audit_batches_after(A, 0, 10).expect("all"),
        vec![b(1, 1), b(2, 3), b(4, 4)]
    );
    assert_eq!(
        s.audit_batches_after(A, 2, 10).expect("containing 3"),
        vec![b(2, 3), b(4, 4)]
    );
    assert_eq!(s.audit_batches_after(A, 1, 1).expect("page"), vec![b(2, 3)]);
    // Backwards, newest first: batches holding an event before the given sequence number.
    assert_eq!(
        s.audit_batches_before(A, i64::MAX, 10).expect("all"),
        vec![b(4, 4), b(2, 3), b(1, 1)]
    );
    assert_eq!(
        s.audit_batches_before(A, 3, 10).expect("before 3"),
        vec![b(2, 3), b(1, 1)]
    );
    assert_eq!(s.audit_batches_before(A, 4, 1).expect("page"), vec![b(2, 3)]);
    assert!(s.audit_batches_before(A, 1, 10).expect("none").is_empty());
    assert!(s.audit_batches_after(A, 4, 10).expect("none").is_empty());
    assert_eq!(s.audit_batches_after(B, 0, 10).expect("B"), vec![b(1, 2)]);
    assert!(s
        .audit_batches_after("node-c", 0, 10)
        .expect("no such chain")
        .is_empty());
    // Retention: only whole batches older than the cut-off go, oldest first, in chunks of
    // events, leaving an anchor — per chain.
    assert_eq!(s.audit_anchor(A).expect("anchor"), None);
    assert_eq!(s.prune_audit(A, 101, 10).expect("nothing old"), 0);
    assert_eq!(s.prune_audit(A, 104, 1).expect("one chunk"), 1);
    assert_eq!(s.audit_anchor(A).expect("anchor"), Some((1, vec![1; 32])));
    assert_eq!(s.prune_audit(A, 104, 10).expect("rest"), 2);
    assert_eq!(s.audit_anchor(A).expect("anchor"), Some((3, vec![3; 32])));
    assert_eq!(s.audit_batches_after(A, 0, 10).expect("kept"), vec![b(4, 4)]);
    assert_eq!(s.last_audit(A).expect("last"), Some(head(4)));
    assert_eq!(s.audit_anchor(B).expect("B untouched"), None);
    assert_eq!(s.audit_batches_after(B, 0, 10).expect("B"), vec![b(1, 2)]);
    // Everything pruned: the chain continues from the anchor, and is still listed.
    assert_eq!(s.prune_audit(A, 1_000, 10).expect("all"), 1);
    assert_eq!(s.last_audit(A).expect("last"), None);
    assert_eq!(s.audit_chains().expect("chains"), vec![A.to_owned(), B.to_owned()]);
    assert!(matches!(
        s.append_audit_batches(A, &[b(4, 5)]),
        Err(StoreError::Conflict)
    ));
    // A copy of a pruned trail starts from the source's anchor (only while it holds no events).
    s.set_audit_anchor("copy", 4, &[4; 32])
        .expect("anchor of an empty chain");
    assert_eq!(s.audit_anchor("copy").expect("anchor"), Some((4, vec![4; 32])));
    s.append_audit_batches("copy", &[b(5, 6)])
        .expect("continues from the anchor");
    assert_eq!(s.last_audit("copy").expect("last"), Some(head(6)));
    assert!(matches!(
        s.set_audit_anchor("copy", 9, &[9; 32]),
        Err(StoreError::Conflict)
    ));
    assert!(matches!(s.set_audit_anchor(B, 9, &[9; 32]), Err(StoreError::Conflict)));
}

fn accounts_and_access_keys(s: &dyn Store) {
    s.insert_account(&AccountRecord {
        account_id: acct("A"),
        created_ms: 5,
    })
    .expect("account");
    assert!(matches!(
        s.insert_account(&AccountRecord {
            account_id: acct("A"),
            created_ms: 6
        }),
        Err(StoreError::UniqueViolation)
    ));
    let ak = AccessKeyRecord {
        access_key_id: "AKIA0000000000000001".into(),
        account_id: acct("A"),
        principal_arn: "arn:aws:iam::111111111111:root".into(),
        sealed_secret: vec![9; 40],
        status: AccessKeyStatus::Active,
        created_ms: 5,
        user_name: None,
        session_token_hash: None,
        expires_ms: None,
        session: None,
        owner_id: None,
    };
    s.insert_access_key(&ak).expect("ak");
    assert_eq!(s.access_keys().expect("aks"), vec![ak.clone()]);

    // A user's key needs the user, with the id the key names, in the same transaction.
    let mut user_key = ak.clone();
    user_key.access_key_id = "AKIA0000000000000002".into();
    user_key.user_name = Some("alice".into());
    user_key.owner_id = Some("AIDAALICE1".into());
    assert!(
        matches!(s.insert_access_key(&user_key), Err(StoreError::NotFound)),
        "no such user"
    );
    let entity = |kind: EntityKind, name: &str, id: &str| EntityRecord {
        account_id: acct("A"),
        kind,
        name: name.into(),
        body: format!(r#"{{"v":1,"id":"{id}"}}"#),
    };
    s.put_entity(&entity(EntityKind::User, "alice", "AIDAALICE2"), false)
        .expect("another alice");
    assert!(
        matches!(s.insert_access_key(&user_key), Err(StoreError::NotFound)),
        "a user of that name, but not that user"
    );
    s.put_entity(&entity(EntityKind::User, "alice", "AIDAALICE1"), true)
        .expect("alice");
    s.insert_access_key(&user_key).expect("user key");
    assert_eq!(
        s.access_key("AKIA0000000000000002").expect("get"),
        Some(user_key.clone())
    );
    assert!(
        matches!(
            s.delete_entity(&acct("A"), EntityKind::User, "alice"),
            Err(StoreError::Conflict)
        ),
        "a user with keys is not deleted"
    );
    // A session's key needs its role; deleting the role deletes its sessions.
    let mut session_key = ak.clone();
    session_key.access_key_id = "ASIA0000000000000003".into();
    session_key.session_token_hash = Some("ab".into());
    session_key.expires_ms = Some(9);
    session_key.session = Some(r#"{"v":1,"role_name":"app","role_id":"AROAAPP1"}"#.into());
    session_key.owner_id = Some("AROAAPP1".into());
    assert!(
        matches!(s.insert_access_key(&session_key), Err(StoreError::NotFound)),
        "no such role"
    );
    s.put_entity(&entity(EntityKind::Role, "app", "AROAAPP1"), false)
        .expect("role");
    s.insert_access_key(&session_key).expect("session key");
    s.delete_entity(&acct("A"), EntityKind::Role, "app")
        .expect("delete role");
    assert_eq!(
        s.access_key("ASIA0000000000000003").expect("get"),
        None,
        "sessions go with the role"
    );
    s.set_access_key_status("AKIA0000000000000002", AccessKeyStatus::Inactive)
        .expect("status");
    assert_eq!(
        s.access_key("AKIA0000000000000002")
            .expect("get")
            .expect("exists")
            .status,
        AccessKeyStatus::Inactive
    );
    s.delete_access_key("AKIA0000000000000002").expect("delete");
    assert!(matches!(
        s.delete_access_key("AKIA0000000000000002"),
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.access_key("AKIA0000000000000002").expect("get"), None);
    assert!(matches!(
        s.set_access_key_status("nope", AccessKeyStatus::Active),
        Err(StoreError::NotFound)
    ));
    s.delete_entity(&acct("A"), EntityKind::User, "alice")
        .expect("without keys the user goes");
}

fn writes_commit_together_or_not_at_all(s: &dyn Store) {
    // Two writes, then a failure: neither stays.
    let r = s.atomically(&mut |t| {
        t.create_key(&key("atomic-1", "A"), Some(&material("atomic-1", "m1")), &[])?;
        t.put_entity(
            &EntityRecord {
                account_id: acct("A"),
                kind: EntityKind::Policy,
                name: "atomic".into(),
                body: "{}".into(),
            },
            false,
        )?;
        Err(StoreError::Conflict)
    });
    assert!(matches!(r, Err(StoreError::Conflict)));
    assert_eq!(s.key(&east(), &id("atomic-1")).expect("read"), None, "rolled back");
    assert_eq!(s.entity(&acct("A"), EntityKind::Policy, "atomic").expect("read"), None);
    // A write that fails on its own inside keeps the others out too, and the store is usable.
    s.create_key(&key("atomic-2", "A"), Some(&material("atomic-2", "m1")), &[])
        .expect("create");
    let r = s.atomically(&mut |t| {
        t.create_key(&key("atomic-3", "A"), Some(&material("atomic-3", "m1")), &[])?;
        t.create_key(&key("atomic-2", "A"), Some(&material("atomic-2", "m9")), &[])
    });
    assert!(matches!(r, Err(StoreError::UniqueViolation)));
    assert_eq!(s.key(&east(), &id("atomic-3")).expect("read"), None);
    // Both commit, and reads inside see the writes made before them.
    s.atomically(&mut |t| {
        t.create_key(&key("atomic-4", "A"), Some(&material("atomic-4", "m1")), &[])?;
        assert!(t.key(&east(), &id("atomic-4"))?.is_some());
        t.put_tags(
            &east(),
            &id("atomic-4"),
            &[TagRecord {
                key: "k".into(),
                value: "v".into(),
            }],
        )
    })
    .expect("commit");
    assert!(s.key(&east(), &id("atomic-4")).expect("read").is_some());
    assert_eq!(s.tags(&east(), &id("atomic-4")).expect("tags").len(), 1);
    for k in ["atomic-2", "atomic-4"] {
        s.delete_key(&east(), &id(k)).expect("clean up");
    }
}

fn iam_entities(s: &dyn Store) {
    let e = |kind: &str, name: &str, body: &str| EntityRecord {
        account_id: acct("A"),
        kind: EntityKind::parse(kind).unwrap_or_else(|| unreachable!()),
        name: name.into(),
        body: body.into(),
    };
    s.put_entity(&e("user", "bob", "{1}"), false).expect("bob");
    s.put_entity(&e("user", "alice", "{2}"), false).expect("alice");
    s.put_entity(&e("role", "alice", "{3}"), false)
        .expect("a role may share a user's name");
    assert!(matches!(
        s.put_entity(&e("user", "bob", "{x}"), false),
        Err(StoreError::UniqueViolation)
    ));
    s.put_entity(&e("user", "bob", "{4}"), true).expect("replace");
    assert_eq!(
        s.entity(&acct("A"), EntityKind::User, "bob").expect("get"),
        Some(e("user", "bob", "{4}"))
    );
    // A read-modify-write replaces only what it read: a second writer that read "{4}" too loses.
    s.replace_entity(&e("user", "bob", "{5}"), "{4}")
        .expect("compare and swap");
    assert!(matches!(
        s.replace_entity(&e("user", "bob", "{6}"), "{4}"),
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        s.replace_entity(&e("user", "nobody", "{6}"), "{4}"),
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        s.entity(&acct("A"), EntityKind::User, "bob").expect("get"),
        Some(e("user", "bob", "{5}"))
    );
    let users = s.entities(&acct("A"), EntityKind::User).expect("list");
    assert_eq!(
        users.iter().map(|u| u.name.as_str()).collect::<Vec<_>>(),
        ["alice", "bob"]
    );
    s.delete_entity(&acct("A"), EntityKind::User, "bob").expect("delete");
    assert!(matches!(
        s.delete_entity(&acct("A"), EntityKind::User, "bob"),
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.entity(&acct("A"), EntityKind::User, "bob").expect("get"), None);
}

fn keys_round_trip_and_page(s: &dyn Store) {
    for id in ["k3", "k1", "k2"] {
        s.create_key(&key(id, "A"), Some(&material(id, "m1")), &[])
            .expect("create");
    }
    s.create_key(&key("other", "B"), Some(&material("other", "m1")), &[])
        .expect("create");
    assert!(matches!(
        s.create_key(&key("k1", "A"), Some(&material("k1", "m9")), &[]),
        Err(StoreError::UniqueViolation)
    ));
    let mut k = s.key(&east(), &id("k1")).expect("get").expect("exists");
    assert_eq!(k, key("k1", "A"));
    k.description = "changed".into();
    k.key_state = KeyState::Disabled;
    s.update_key(&k).expect("update");
    let stored = s.key(&east(), &id("k1")).expect("get").expect("exists");
    assert_eq!((stored.description.as_str(), stored.version), ("changed", 1));
    // A second writer that read version 0 loses: its change is refused, not applied over ours.
    let mut stale = k.clone();
    stale.description = "stale".into();
    assert!(matches!(s.update_key(&stale), Err(StoreError::Conflict)));
    assert_eq!(
        s.key(&east(), &id("k1")).expect("get").expect("exists").description,
        "changed"
    );
    // Rotation and material writes change only their own fields (and bump the version).
    let mut rotated = stored.clone();
    rotated.description = "not written by a rotation".into();
    rotated.current_material_id = Some("m2".into());
    s.rotate_key(&rotated, Some("m1"), &material("k1", "m2"))
        .expect("rotate");
    let after = s.key(&east(), &id("k1")).expect("get").expect("exists");
    assert_eq!(
        (
            after.description.as_str(),
            after.current_material_id.as_deref(),
            after.version
        ),
        ("changed", Some("m2"), 2)
    );
    let mut back = after.clone();
    back.current_material_id = Some("m1".into());
    back.description = "not written by a material write".into();
    s.put_material(&back, &material("k1", "m1")).expect("material");
    let after = s.key(&east(), &id("k1")).expect("get").expect("exists");
    assert_eq!(
        (
            after.description.as_str(),
            after.current_material_id.as_deref(),
            after.version
        ),
        ("changed", Some("m1"), 3)
    );
    assert!(matches!(s.update_key(&key("nope", "A")), Err(StoreError::NotFound)));
    assert_eq!(s.key(&east(), &id("nope")).expect("get"), None);
    let page1 = s.list_keys(&acct("A"), &east(), None, 2).expect("list");
    assert_eq!(page1.iter().map(|k| k.key_id).collect::<Vec<_>>(), [id("k1"), id("k2")]);
    let page2 = s
        .list_keys(&acct("A"), &east(), Some(id("k2").as_str()), 2)
        .expect("list");
    assert_eq!(page2.iter().map(|k| k.key_id).collect::<Vec<_>>(), [id("k3")]);
    assert_eq!(
        s.materials(&id("k1")).expect("materials"),
        vec![material("k1", "m1"), material("k1", "m2")]
    );
}

fn aliases_are_unique_and_follow_their_key(s: &dyn Store) {
    let a = AliasRecord {
        account_id: acct("A"),
        region: east(),
        name: alias_name("alias/x"),
        target_key_id: id("k1"),
        created_ms: 1,
        updated_ms: 1,
    };
    s.create_alias(&a).expect("alias");
    assert!(matches!(s.create_alias(&a), Err(StoreError::UniqueViolation)));
    let mut other_account = a.clone();
    other_account.account_id = acct("B");
    other_account.target_key_id = id("other");
    s.create_alias(&other_account).expect("same name, other account");
    let mut b = a.clone();
    b.name = alias_name("alias/y");
    b.target_key_id = id("k2");
    s.create_alias(&b).expect("alias y");
    assert_eq!(
        s.list_aliases(&acct("A"), &east(), None, None, 10).expect("list").len(),
        2
    );
    assert_eq!(
        s.list_aliases(&acct("A"), &east(), Some(&id("k2")), None, 10)
            .expect("list"),
        vec![b.clone()]
    );
    assert_eq!(
        s.list_aliases(&acct("A"), &east(), None, Some("alias/x"), 10)
            .expect("list"),
        vec![b.clone()]
    );
    b.target_key_id = id("k3");
    b.updated_ms = 2;
    s.update_alias(&b).expect("update");
    assert_eq!(
        s.alias(&acct("A"), &east(), &alias_name("alias/y")).expect("get"),
        Some(b)
    );
    s.delete_alias(&acct("A"), &east(), &alias_name("alias/y"))
        .expect("delete");
    assert!(matches!(
        s.delete_alias(&acct("A"), &east(), &alias_name("alias/y")),
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.all_aliases().expect("all").len(), 2);
}

fn tags_upsert_and_delete(s: &dyn Store) {
    s.put_tags(&east(), &id("k2"), &[tag("b", "1"), tag("a", "2")])
        .expect("put");
    s.put_tags(&east(), &id("k2"), &[tag("b", "3")]).expect("overwrite");
    assert_eq!(
        s.tags(&east(), &id("k2")).expect("tags"),
        vec![tag("a", "2"), tag("b", "3")]
    );
    s.delete_tags(&east(), &id("k2"), &["a".into(), "missing".into()])
        .expect("delete");
    assert_eq!(s.tags(&east(), &id("k2")).expect("tags"), vec![tag("b", "3")]);
}

fn grants_by_key_and_retiree(s: &dyn Store) {
    let g = |grant: &str, key: &str, retiree: Option<&str>| GrantRecord {
        grant_id: grant.into(),
        key_id: id(key),
        region: east(),
        account_id: acct("A"),
        name: None,
        grantee_principal: "arn:aws:iam::111111111111:user/u".into(),
        retiring_principal: retiree.map(str::to_owned),
        operations: vec![GrantOperation::Decrypt, GrantOperation::Encrypt],
        constraints: None,
        created_ms: 1,
    };
    s.create_grant(&g("g2", "k1", Some("r"))).expect("g2");
    s.create_grant(&g("g1", "k1", None)).expect("g1");
    s.create_grant(&g("g3", "k2", Some("r"))).expect("g3");
    assert!(matches!(
        s.create_grant(&g("g1", "k1", None)),
        Err(StoreError::UniqueViolation)
    ));
    assert_eq!(
        s.grants(&east(), &id("k1"))
            .expect("grants")
            .iter()
            .map(|g| g.grant_id.as_str())
            .collect::<Vec<_>>(),
        ["g1", "g2"]
    );
    assert_eq!(s.grants_retirable_by("r").expect("retirable").len(), 2);
    assert_eq!(s.grant("g3").expect("get"), Some(g("g3", "k2", Some("r"))));
    s.delete_grant("g3").expect("delete");
    assert!(matches!(s.delete_grant("g3"), Err(StoreError::NotFound)));
}

fn deletion_cascades(s: &dyn Store) {
    let mut k = s.key(&east(), &id("k1")).expect("get").expect("exists");
    k.key_state = KeyState::PendingDeletion;
    k.deletion_ms = Some(10_000);
    s.update_key(&k).expect("schedule");
    assert!(s.keys_due_for_deletion(9_999).expect("due").is_empty());
    assert_eq!(s.keys_due_for_deletion(10_000).expect("due").len(), 1);
    s.put_tags(&east(), &id("k1"), &[tag("t", "v")]).expect("tag");
    s.delete_key(&east(), &id("k1")).expect("delete");
    assert_eq!(s.key(&east(), &id("k1")).expect("get"), None);
    assert!(s.materials(&id("k1")).expect("materials").is_empty());
    assert!(s.tags(&east(), &id("k1")).expect("tags").is_empty());
    assert_eq!(
        s.alias(&acct("A"), &east(), &alias_name("alias/x")).expect("alias"),
        None
    );
    assert!(
        s.grants(&east(), &id("k1")).expect("grants").is_empty(),
        "grants go with their key"
    );
}

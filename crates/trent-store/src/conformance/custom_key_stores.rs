//! Conformance: external key stores. A key names its custom key store and external key; one
//! external key backs at most one key of a store; a store's document is not deleted while a key
//! names the store.

use trent_types::Origin;

use super::{acct, east, id, key, material};
use crate::{EntityKind, EntityRecord, Store, StoreError};

pub(super) fn keys_name_their_store_and_external_key(s: &dyn Store) {
    let doc = EntityRecord {
        account_id: acct("A"),
        kind: EntityKind::CustomKeyStore,
        name: "cks-0123456789abcdef0".into(),
        body: "{\"v\":1}".into(),
    };
    s.put_entity(&doc, false).expect("store document");
    assert_eq!(
        s.entities(&acct("A"), EntityKind::CustomKeyStore).expect("list"),
        vec![doc.clone()]
    );
    assert!(s
        .entities(&acct("A"), EntityKind::User)
        .expect("users")
        .iter()
        .all(|u| u.kind == EntityKind::User));
    let xks = |name: &str, store: &str, external: &str| {
        let mut k = key(name, "A");
        k.origin = Origin::ExternalKeyStore;
        k.custom_key_store_id = Some(store.into());
        k.xks_key_id = Some(external.into());
        k
    };
    let first = xks("x1", "cks-0123456789abcdef0", "ext-1");
    s.create_key(&first, Some(&material("x1", "m1")), &[]).expect("x1");
    assert_eq!(s.key(&east(), &id("x1")).expect("read"), Some(first.clone()));
    assert!(
        matches!(
            s.create_key(&xks("x2", "cks-0123456789abcdef0", "ext-1"), None, &[]),
            Err(StoreError::UniqueViolation)
        ),
        "one external key backs one key of a store"
    );
    s.create_key(&xks("x3", "cks-0123456789abcdef0", "ext-2"), None, &[])
        .expect("x3");
    s.create_key(&xks("x4", "cks-fedcba98765432100", "ext-1"), None, &[])
        .expect("another store may use the same external key id");
    let in_store: Vec<String> = s
        .keys_in_custom_key_store("cks-0123456789abcdef0")
        .expect("keys")
        .into_iter()
        .map(|k| k.key_id.to_string())
        .collect();
    assert_eq!(in_store, vec![id("x1").to_string(), id("x3").to_string()]);
    assert!(s.keys_in_custom_key_store("cks-none").expect("none").is_empty());
    assert!(
        matches!(
            s.delete_entity(&acct("A"), EntityKind::CustomKeyStore, &doc.name),
            Err(StoreError::Conflict)
        ),
        "a store with keys stays"
    );
    s.delete_key(&east(), &id("x1")).expect("x1");
    s.delete_key(&east(), &id("x3")).expect("x3");
    s.delete_entity(&acct("A"), EntityKind::CustomKeyStore, &doc.name)
        .expect("an empty store is deleted");
    s.delete_key(&east(), &id("x4")).expect("x4");
}

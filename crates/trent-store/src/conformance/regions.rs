//! Conformance: Regions. A key is (key id, Region); related multi-Region keys share the id and
//! their materials.
#![allow(clippy::indexing_slicing)]

use trent_types::{KeyId, KeyState, Region};

use super::{acct, alias_name, east, id, key, material, region, tag};
use crate::{AliasRecord, Store, StoreError, UsageRecord};

/// A key is (key id, Region): related multi-Region keys share the id and the materials, and
/// have their own state, tags, grants, aliases and last use; rotation moves them all.
pub(super) fn partition_keys_and_share_materials(s: &dyn Store) {
    let west = region("eu-west-1");
    let mut primary = key("mrk", "A");
    primary.multi_region = true;
    primary.primary_region = Some(east());
    s.create_key(&primary, Some(&material("mrk", "m1")), &[tag("side", "primary")])
        .expect("primary");
    assert_eq!(s.key(&west, &id("mrk")).expect("read"), None, "not in another Region");
    let mut replica = primary.clone();
    replica.region = west.clone();
    replica.key_state = KeyState::Creating;
    s.create_key(&replica, None, &[tag("side", "replica")])
        .expect("replica");
    assert!(matches!(
        s.create_key(&replica, None, &[]),
        Err(StoreError::UniqueViolation)
    ));
    let settling: Vec<Region> = s
        .keys_settling()
        .expect("settling")
        .into_iter()
        .map(|k| k.region)
        .collect();
    assert_eq!(settling, vec![west.clone()], "the replica is Creating");
    let stored = s.key(&west, &id("mrk")).expect("read").expect("replica");
    assert!(stored.is_replica() && stored.key_state == KeyState::Creating);
    assert_eq!(stored.material_region, east());
    assert!(!s.key(&east(), &id("mrk")).expect("read").expect("primary").is_replica());
    let related: Vec<Region> = s
        .related_keys(&id("mrk"))
        .expect("related")
        .into_iter()
        .map(|k| k.region)
        .collect();
    assert_eq!(related, vec![west.clone(), east()]);
    assert_eq!(s.key_regions().expect("regions"), vec![west.clone(), east()]);
    assert_eq!(s.materials(&id("mrk")).expect("shared").len(), 1);
    assert_eq!(s.tags(&west, &id("mrk")).expect("tags"), vec![tag("side", "replica")]);
    assert_eq!(s.tags(&east(), &id("mrk")).expect("tags"), vec![tag("side", "primary")]);
    // Listing is per Region.
    let listed = |r: &Region| -> Vec<KeyId> {
        s.list_keys(&acct("A"), r, None, 100)
            .expect("list")
            .into_iter()
            .map(|k| k.key_id)
            .collect()
    };
    assert_eq!(listed(&west), vec![id("mrk")]);
    assert!(listed(&east()).contains(&id("mrk")));
    // The same alias name in two Regions, each pointing at its own Region's key.
    for r in [east(), west.clone()] {
        s.create_alias(&AliasRecord {
            account_id: acct("A"),
            region: r.clone(),
            name: alias_name("alias/mrk"),
            target_key_id: id("mrk"),
            created_ms: 1,
            updated_ms: 1,
        })
        .expect("alias per Region");
    }
    assert_eq!(
        s.list_aliases(&acct("A"), &west, Some(&id("mrk")), None, 10)
            .expect("aliases")
            .len(),
        1
    );
    // An update of one Region's key (UpdatePrimaryRegion included) leaves the other alone.
    let mut updated = stored.clone();
    updated.key_state = KeyState::Enabled;
    updated.primary_region = Some(west.clone());
    s.update_key(&updated).expect("update replica");
    let now_primary = s.key(&west, &id("mrk")).expect("read").expect("exists");
    assert!(!now_primary.is_replica() && now_primary.key_state == KeyState::Enabled);
    assert!(
        s.key(&east(), &id("mrk"))
            .expect("read")
            .expect("exists")
            .primary_region
            == Some(east())
    );
    // Rotation moves every related key to the new material.
    let mut rotated = s.key(&east(), &id("mrk")).expect("read").expect("exists");
    rotated.current_material_id = Some("m2".into());
    s.rotate_key(&rotated, Some("m1"), &material("mrk", "m2"))
        .expect("rotate");
    for r in [east(), west.clone()] {
        let k = s.key(&r, &id("mrk")).expect("read").expect("exists");
        assert_eq!(k.current_material_id.as_deref(), Some("m2"), "{}", r.as_str());
    }
    // Usage and grants are per Region.
    s.record_usage(&[UsageRecord {
        key_id: id("mrk"),
        region: west.clone(),
        operation: "Decrypt".into(),
        at_ms: 5,
        request_id: "r".into(),
    }])
    .expect("usage");
    assert_eq!(s.usage(&east(), &id("mrk")).expect("usage"), None);
    assert!(s.usage(&west, &id("mrk")).expect("usage").is_some());
    // Deleting one Region's key keeps the materials for the other; the last takes them along.
    s.delete_key(&east(), &id("mrk")).expect("delete primary");
    assert_eq!(s.key(&east(), &id("mrk")).expect("read"), None);
    assert_eq!(
        s.alias(&acct("A"), &east(), &alias_name("alias/mrk")).expect("alias"),
        None
    );
    assert!(s
        .alias(&acct("A"), &west, &alias_name("alias/mrk"))
        .expect("alias")
        .is_some());
    assert_eq!(s.materials(&id("mrk")).expect("kept").len(), 2);
    s.delete_key(&west, &id("mrk")).expect("delete replica");
    assert!(s.materials(&id("mrk")).expect("gone").is_empty());
    assert!(s.related_keys(&id("mrk")).expect("none").is_empty());
}

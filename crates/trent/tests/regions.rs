//! Several Regions in one deployment (issue 14): the Region of a request is its SigV4 scope's;
//! keys, aliases and tags belong to a Region; multi-Region keys replicate between the Regions of
//! the deployment, share their material (ciphertext of either decrypts in the other) and their
//! rotation, move their primary, and wait for their replicas before deletion; and a data
//! directory keeps its Regions across restarts with other flags.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::time::{Duration, Instant};

use aws_sdk_kms::types::{KeyState, MultiRegionKeyType, OriginType, Tag};
use common::{blob, decrypt, encrypt, err, import_material as import, Server, Starting};

const EAST: &str = "us-east-1";
const WEST: &str = "eu-west-1";

/// Waits until DescribeKey in `c` shows `state` for `key`.
async fn wait_state(c: &aws_sdk_kms::Client, key: &str, state: KeyState) -> aws_sdk_kms::types::KeyMetadata {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let m = c
            .describe_key()
            .key_id(key)
            .send()
            .await
            .expect("describe")
            .key_metadata
            .expect("m");
        if m.key_state.as_ref() == Some(&state) {
            return m;
        }
        assert!(Instant::now() < deadline, "{key} stays {:?}", m.key_state);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_regions_keep_their_keys_apart_and_multi_region_keys_span_them() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = Server::start_in(&tmp.path().join("data"), &["--regions", "us-east-1,eu-west-1"]);
    assert_eq!(s.region, EAST, "the first Region is the default in admin.env");
    let (east, west) = (s.client_in(EAST), s.client_in(WEST));

    // A key belongs to its Region: its ARN names it, the other Region does not see it.
    let k = east.create_key().send().await.expect("create").key_metadata.expect("m");
    let east_arn = k.arn.clone().expect("arn");
    assert!(east_arn.starts_with("arn:aws:kms:us-east-1:"), "{east_arn}");
    let e = west
        .describe_key()
        .key_id(&k.key_id)
        .send()
        .await
        .expect_err("other Region");
    assert_eq!(err(&e).0, "NotFoundException");
    let e = west
        .describe_key()
        .key_id(&east_arn)
        .send()
        .await
        .expect_err("other Region's ARN");
    assert_eq!(
        err(&e),
        ("NotFoundException".to_owned(), "Invalid arn us-east-1".to_owned())
    );
    let listed = west.list_keys().send().await.expect("list").keys.unwrap_or_default();
    assert!(listed.iter().all(|e| e.key_id.as_deref() != Some(k.key_id.as_str())));
    let w = west.create_key().send().await.expect("create").key_metadata.expect("m");
    assert!(w.arn.as_deref().expect("arn").starts_with("arn:aws:kms:eu-west-1:"));

    // The same alias name in each Region, each on its own Region's key.
    east.create_alias()
        .alias_name("alias/app")
        .target_key_id(&k.key_id)
        .send()
        .await
        .expect("east alias");
    west.create_alias()
        .alias_name("alias/app")
        .target_key_id(&w.key_id)
        .send()
        .await
        .expect("west alias");
    let via_alias = west.describe_key().key_id("alias/app").send().await.expect("describe");
    assert_eq!(via_alias.key_metadata.expect("m").key_id, w.key_id);
    let aliases = west
        .list_aliases()
        .send()
        .await
        .expect("aliases")
        .aliases
        .unwrap_or_default();
    let app = aliases
        .iter()
        .find(|a| a.alias_name() == Some("alias/app"))
        .expect("listed");
    assert!(app.alias_arn().expect("arn").starts_with("arn:aws:kms:eu-west-1:"));
    assert_eq!(app.target_key_id(), Some(w.key_id.as_str()));

    // A Region the deployment does not serve: its signatures do not verify here, as AWS
    // answers a scope for the wrong Region.
    let e = s
        .client_in("ap-south-1")
        .list_keys()
        .send()
        .await
        .expect_err("not served");
    let (code, message) = err(&e);
    assert_eq!(code, "InvalidSignatureException", "{message}");
    assert!(message.contains("ap-south-1"), "{message}");

    // A multi-Region primary in us-east-1, replicated to eu-west-1.
    let m = east
        .create_key()
        .multi_region(true)
        .description("primary")
        .tags(Tag::builder().tag_key("side").tag_value("east").build().expect("tag"))
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("m");
    let before = encrypt(&east, &m.key_id, b"made in the east").await;
    let replicated = east
        .replicate_key()
        .key_id(&m.key_id)
        .replica_region(WEST)
        .description("replica")
        .tags(Tag::builder().tag_key("side").tag_value("west").build().expect("tag"))
        .send()
        .await
        .expect("replicate");
    let r = replicated.replica_key_metadata.expect("metadata");
    assert_eq!(r.key_id, m.key_id, "related keys share the key id");
    let west_arn = r.arn.clone().expect("arn");
    assert_eq!(west_arn, m.arn.as_deref().expect("arn").replace(EAST, WEST));
    assert_eq!(r.key_state, Some(KeyState::Creating));
    assert_eq!(r.description.as_deref(), Some("replica"));
    let conf = r.multi_region_configuration.expect("configuration");
    assert_eq!(conf.multi_region_key_type, Some(MultiRegionKeyType::Replica));
    assert_eq!(conf.primary_key.expect("primary").region.as_deref(), Some(EAST));
    assert!(replicated.replica_policy.expect("policy").contains("kms:*"));
    assert_eq!(replicated.replica_tags.expect("tags").len(), 1);
    // Creating, then Enabled; cryptography waits for it.
    wait_state(&west, &m.key_id, KeyState::Enabled).await;
    let primary = east.describe_key().key_id(&m.key_id).send().await.expect("describe");
    let conf = primary.key_metadata.expect("m").multi_region_configuration.expect("c");
    assert_eq!(conf.multi_region_key_type, Some(MultiRegionKeyType::Primary));
    let replicas = conf.replica_keys.unwrap_or_default();
    assert_eq!(replicas.len(), 1);
    assert_eq!(replicas[0].arn.as_deref(), Some(west_arn.as_str()));

    // Ciphertext of either decrypts under the other.
    assert_eq!(decrypt(&west, &before).await, b"made in the east");
    let west_ct = encrypt(&west, &m.key_id, b"made in the west").await;
    let out = east
        .decrypt()
        .ciphertext_blob(west_ct.clone())
        .send()
        .await
        .expect("decrypt");
    assert_eq!(out.plaintext().expect("pt").as_ref(), b"made in the west");
    assert_eq!(out.key_id.as_deref(), m.arn.as_deref(), "answered by the east key");

    // Tags, descriptions and state are each key's own.
    let tags = west.list_resource_tags().key_id(&m.key_id).send().await.expect("tags");
    let tags = tags.tags.unwrap_or_default();
    assert_eq!(tags.len(), 1);
    assert_eq!(tags[0].tag_value(), "west");
    west.disable_key()
        .key_id(&m.key_id)
        .send()
        .await
        .expect("disable replica");
    encrypt(&east, &m.key_id, b"primary still enabled").await;
    let e = west
        .encrypt()
        .key_id(&m.key_id)
        .plaintext(blob(b"x"))
        .send()
        .await
        .expect_err("disabled");
    assert_eq!(err(&e).0, "DisabledException");
    west.enable_key()
        .key_id(&m.key_id)
        .send()
        .await
        .expect("enable replica");

    // One related key per Region; a replica is not a primary (AWS's recorded message).
    let e = east
        .replicate_key()
        .key_id(&m.key_id)
        .replica_region(WEST)
        .send()
        .await
        .expect_err("again");
    assert_eq!(err(&e).0, "AlreadyExistsException");
    let e = west
        .replicate_key()
        .key_id(&m.key_id)
        .replica_region(EAST)
        .send()
        .await
        .expect_err("from a replica");
    assert_eq!(
        err(&e),
        (
            "UnsupportedOperationException".to_owned(),
            format!("{west_arn} is not a multi-region primary key.")
        )
    );

    // Rotation is shared and happens on the primary.
    let e = west
        .rotate_key_on_demand()
        .key_id(&m.key_id)
        .send()
        .await
        .expect_err("replica");
    assert_eq!(err(&e).0, "UnsupportedOperationException");
    east.enable_key_rotation()
        .key_id(&m.key_id)
        .send()
        .await
        .expect("rotation on");
    let status = west
        .get_key_rotation_status()
        .key_id(&m.key_id)
        .send()
        .await
        .expect("status");
    assert!(status.key_rotation_enabled, "the replica shows the primary's setting");
    east.rotate_key_on_demand()
        .key_id(&m.key_id)
        .send()
        .await
        .expect("rotate");
    let material = |c: aws_sdk_kms::Client| {
        let id = m.key_id.clone();
        async move {
            c.describe_key()
                .key_id(&id)
                .send()
                .await
                .expect("describe")
                .key_metadata
                .expect("m")
                .current_key_material_id
                .expect("material id")
        }
    };
    let (east_material, west_material) = (material(east.clone()).await, material(west.clone()).await);
    assert_eq!(east_material, west_material, "both rotated");
    let rotated = encrypt(&west, &m.key_id, b"after rotation").await;
    assert_eq!(decrypt(&east, &rotated).await, b"after rotation");
    assert_eq!(decrypt(&east, &west_ct).await, b"made in the west", "old versions kept");

    // ReplicateKey needs kms:CreateKey in the replica Region, by IAM.
    let (_, user) = s.user("replicator");
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["kms:ReplicateKey", "kms:DescribeKey"], "Resource": "*"}]
    });
    let (status, xml) = s.iam(&[
        ("Action", "PutUserPolicy"),
        ("UserName", "replicator"),
        ("PolicyName", "replicate-only"),
        ("PolicyDocument", &policy.to_string()),
    ]);
    assert_eq!(status, 200, "{xml}");
    let other = east.create_key().multi_region(true).send().await.expect("create");
    let other = other.key_metadata.expect("m");
    let e = user
        .replicate_key()
        .key_id(&other.key_id)
        .replica_region(WEST)
        .send()
        .await
        .expect_err("no kms:CreateKey");
    let (code, message) = err(&e);
    assert_eq!(code, "AccessDeniedException");
    assert!(message.contains("kms:CreateKey"), "{message}");

    // Grants are each related key's own, and name their key's Region.
    let account = m
        .arn
        .as_deref()
        .expect("arn")
        .split(':')
        .nth(4)
        .expect("account")
        .to_owned();
    let grantee = format!("arn:aws:iam::{account}:root");
    west.create_grant()
        .key_id(&m.key_id)
        .grantee_principal(&grantee)
        .retiring_principal(&grantee)
        .operations(aws_sdk_kms::types::GrantOperation::Decrypt)
        .send()
        .await
        .expect("grant on the replica");
    let grants = west.list_grants().key_id(&m.key_id).send().await.expect("grants");
    let grants = grants.grants.unwrap_or_default();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].key_id.as_deref(), Some(west_arn.as_str()));
    let east_grants = east.list_grants().key_id(&m.key_id).send().await.expect("grants");
    assert!(east_grants.grants.unwrap_or_default().is_empty());
    let retirable = |c: aws_sdk_kms::Client| {
        let p = grantee.clone();
        async move {
            c.list_retirable_grants()
                .retiring_principal(p)
                .send()
                .await
                .expect("retirable")
                .grants
                .unwrap_or_default()
                .len()
        }
    };
    assert_eq!(retirable(west.clone()).await, 1);
    assert_eq!(retirable(east.clone()).await, 0, "ListRetirableGrants is regional");

    // UpdatePrimaryRegion: the roles swap (both keys Updating meanwhile, then Enabled).
    east.update_primary_region()
        .key_id(&m.key_id)
        .primary_region(WEST)
        .send()
        .await
        .expect("move the primary");
    let now_primary = wait_state(&west, &m.key_id, KeyState::Enabled).await;
    wait_state(&east, &m.key_id, KeyState::Enabled).await;
    let conf = now_primary.multi_region_configuration.expect("c");
    assert_eq!(conf.multi_region_key_type, Some(MultiRegionKeyType::Primary));
    assert_eq!(conf.primary_key.expect("p").region.as_deref(), Some(WEST));
    let east_side = east.describe_key().key_id(&m.key_id).send().await.expect("describe");
    let conf = east_side
        .key_metadata
        .expect("m")
        .multi_region_configuration
        .expect("c");
    assert_eq!(conf.multi_region_key_type, Some(MultiRegionKeyType::Replica));
    assert_eq!(decrypt(&east, &rotated).await, b"after rotation");

    // Deletion: the primary waits for its replica (no deletion date yet).
    let scheduled = west
        .schedule_key_deletion()
        .key_id(&m.key_id)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("schedule primary");
    assert_eq!(scheduled.key_state, Some(KeyState::PendingReplicaDeletion));
    assert!(scheduled.deletion_date.is_none());
    let waiting = west.describe_key().key_id(&m.key_id).send().await.expect("describe");
    let waiting = waiting.key_metadata.expect("m");
    assert_eq!(waiting.pending_deletion_window_in_days, Some(7));
    assert!(waiting.deletion_date.is_none());
    let e = west
        .encrypt()
        .key_id(&m.key_id)
        .plaintext(blob(b"x"))
        .send()
        .await
        .expect_err("pending deletion");
    assert_eq!(err(&e).0, "KMSInvalidStateException");
    assert_eq!(
        decrypt(&east, &before).await,
        b"made in the east",
        "the replica still works"
    );
    let scheduled = east
        .schedule_key_deletion()
        .key_id(&m.key_id)
        .pending_window_in_days(7)
        .send()
        .await
        .expect("schedule replica");
    assert_eq!(scheduled.key_state, Some(KeyState::PendingDeletion));
    assert!(scheduled.deletion_date.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_imported_multi_region_key_is_imported_into_each_replica() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = Server::start_in(&tmp.path().join("data"), &["--regions", "us-east-1,eu-west-1"]);
    let (east, west) = (s.client_in(EAST), s.client_in(WEST));
    let m = east
        .create_key()
        .multi_region(true)
        .origin(OriginType::External)
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("m");
    let material = [7u8; 32];
    import(&east, &m.key_id, &material)
        .await
        .expect("import into the primary");
    let ct = encrypt(&east, &m.key_id, b"imported").await;
    east.replicate_key()
        .key_id(&m.key_id)
        .replica_region(WEST)
        .send()
        .await
        .expect("replicate");
    // The replica starts without material (reference §7), then takes the same material only.
    wait_state(&west, &m.key_id, KeyState::PendingImport).await;
    assert_eq!(
        import(&west, &m.key_id, &[8u8; 32]).await,
        Err("IncorrectKeyMaterialException".to_owned())
    );
    import(&west, &m.key_id, &material).await.expect("the same material");
    wait_state(&west, &m.key_id, KeyState::Enabled).await;
    assert_eq!(decrypt(&west, &ct).await, b"imported");
    // The primary still opens the shared record the replica's import rewrote.
    let again = encrypt(&west, &m.key_id, b"both ways").await;
    assert_eq!(decrypt(&east, &again).await, b"both ways");
    // Deleting the replica's material leaves the primary's.
    west.delete_imported_key_material()
        .key_id(&m.key_id)
        .send()
        .await
        .expect("delete");
    wait_state(&west, &m.key_id, KeyState::PendingImport).await;
    assert_eq!(decrypt(&east, &again).await, b"both ways");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_data_directory_keeps_its_regions_across_restarts() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let mut s = Server::start_in(&dir, &[]);
    let c = s.client();
    let k = c.create_key().send().await.expect("create").key_metadata.expect("m");
    c.create_alias()
        .alias_name("alias/kept")
        .target_key_id(&k.key_id)
        .send()
        .await
        .expect("alias");
    let m = c
        .create_key()
        .multi_region(true)
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("m");
    let ct = encrypt(&c, &k.key_id, b"kept").await;
    let mct = encrypt(&c, &m.key_id, b"kept too").await;
    assert!(s.stop(), "clean stop");
    drop(s);

    // Another Region alone would hide every key: refused, naming the Region to keep.
    let log = Starting::spawn(&dir, &["--region", WEST], &[]).fails();
    assert!(
        log.contains("holds keys in Region us-east-1") && log.contains("--regions eu-west-1,us-east-1"),
        "{log}"
    );

    // Adding a Region works; the default moves to the first; old keys work in their own Region.
    let s = Server::start_in(&dir, &["--regions", "eu-west-1,us-east-1"]);
    assert_eq!(s.region, WEST);
    let east = s.client_in(EAST);
    assert_eq!(decrypt(&east, &ct).await, b"kept");
    assert_eq!(decrypt(&east, &mct).await, b"kept too");
    let d = east.describe_key().key_id("alias/kept").send().await.expect("alias");
    assert_eq!(d.key_metadata.expect("m").arn, k.arn);
    let west = s.client_in(WEST);
    // To eu-west-1 it is a foreign ciphertext (its key is not there), as for any unknown key.
    let e = west
        .decrypt()
        .ciphertext_blob(ct.clone())
        .send()
        .await
        .expect_err("not in eu-west-1");
    assert_eq!(err(&e).0, "InvalidCiphertextException");
    // And the multi-Region key replicates into the added Region.
    east.replicate_key()
        .key_id(&m.key_id)
        .replica_region(WEST)
        .send()
        .await
        .expect("replicate");
    wait_state(&west, &m.key_id, KeyState::Enabled).await;
    assert_eq!(decrypt(&west, &mct).await, b"kept too");
}

#[test]
fn boto3_encrypts_in_one_region_and_decrypts_in_the_other() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = Server::start_in(&tmp.path().join("data"), &["--regions", "us-east-1,eu-west-1"]);
    common::run_python(&s, "test_regions.py", &[], "all Region checks passed");
}

#[test]
fn the_encryption_sdk_decrypts_through_a_replica() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = Server::start_in(&tmp.path().join("data"), &["--regions", "us-east-1,eu-west-1"]);
    let rt = tokio::runtime::Runtime::new().expect("rt");
    let (primary, replica) = rt.block_on(async {
        let (east, west) = (s.client_in(EAST), s.client_in(WEST));
        let m = east.create_key().multi_region(true).send().await.expect("create");
        let m = m.key_metadata.expect("m");
        let r = east
            .replicate_key()
            .key_id(&m.key_id)
            .replica_region(WEST)
            .send()
            .await
            .expect("replicate");
        wait_state(&west, &m.key_id, KeyState::Enabled).await;
        (
            m.arn.expect("arn"),
            r.replica_key_metadata.expect("m").arn.expect("arn"),
        )
    });
    common::run_python(
        &s,
        "test_esdk_mrk.py",
        &[("PRIMARY_ARN", &primary), ("REPLICA_ARN", &replica)],
        "all MRK ESDK checks passed",
    );
}

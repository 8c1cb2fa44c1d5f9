//! Scheduler-driven lifecycle with an injected clock: automatic rotation (once, even with two
//! servers on one store), catch-up after re-enabling, and expiry of imported material.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::sync::Arc;

use common::try_call as call;
use serde_json::json;
use trent_api::Operation;
use trent_core::clock::DAY_MS;
use trent_core::{bootstrap, Caller, Clock, Config, Kms, ManualClock};
use trent_crypto::RootKey;
use trent_store::sqlite::SqliteStore;

struct Node {
    kms: Arc<Kms>,
}

struct Fixture {
    a: Node,
    b: Node,
    clock: Arc<ManualClock>,
    caller: Caller,
    _dir: tempfile::TempDir,
}

/// Two service instances ("servers") sharing one SQLite database and one clock.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("trent.db");
    let clock = Arc::new(ManualClock::now());
    let store = Arc::new(SqliteStore::open(&path).expect("open"));
    let admin = bootstrap::initialise(
        store.as_ref(),
        &RootKey::from_bytes([3; 32]),
        Some("111122223333"),
        clock.now_ms(),
    )
    .expect("init");
    let node = |store: Arc<SqliteStore>| Node {
        kms: Arc::new(
            Kms::open(
                store,
                RootKey::from_bytes([3; 32]),
                clock.clone(),
                Config {
                    regions: vec!["us-east-1".into()],
                },
            )
            .expect("kms"),
        ),
    };
    let a = node(store);
    let b = node(Arc::new(SqliteStore::open(&path).expect("second connection")));
    let caller = Caller::root(&admin.account_id, &admin.access_key_id);
    Fixture {
        a,
        b,
        clock,
        caller,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn automatic_rotation_happens_once_across_two_servers() {
    let f = fixture();
    let (a, b, c) = (&f.a.kms, &f.b.kms, &f.caller);
    let key = call(a, c, Operation::CreateKey, json!({})).await.expect("create");
    let id = key["KeyMetadata"]["KeyId"].as_str().expect("id").to_owned();
    let first = key["KeyMetadata"]["CurrentKeyMaterialId"]
        .as_str()
        .expect("m")
        .to_owned();
    let old_ct = call(a, c, Operation::Encrypt, json!({"KeyId": id, "Plaintext": "b2xk"}))
        .await
        .expect("encrypt");
    call(
        a,
        c,
        Operation::EnableKeyRotation,
        json!({"KeyId": id, "RotationPeriodInDays": 90}),
    )
    .await
    .expect("enable");
    let st = call(b, c, Operation::GetKeyRotationStatus, json!({"KeyId": id}))
        .await
        .expect("status");
    assert_eq!(st["KeyRotationEnabled"], true);
    assert_eq!(st["RotationPeriodInDays"], 90);

    f.clock.advance_ms(90 * DAY_MS - 1000);
    assert_eq!(a.run_due_rotations().await.expect("run"), 0);
    f.clock.advance_ms(2000);
    // Both servers find the key due; the store's compare-and-swap lets exactly one rotate.
    let (ra, rb) = tokio::join!(a.run_due_rotations(), b.run_due_rotations());
    assert_eq!(ra.expect("a") + rb.expect("b"), 1, "exactly one rotation");
    let rotations = call(a, c, Operation::ListKeyRotations, json!({"KeyId": id}))
        .await
        .expect("list");
    let list = rotations["Rotations"].as_array().expect("rotations");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["RotationType"], "AUTOMATIC");
    let d = call(b, c, Operation::DescribeKey, json!({"KeyId": id}))
        .await
        .expect("describe");
    assert_ne!(d["KeyMetadata"]["CurrentKeyMaterialId"], json!(first));
    let dec = call(
        b,
        c,
        Operation::Decrypt,
        json!({"CiphertextBlob": old_ct["CiphertextBlob"]}),
    )
    .await
    .expect("old");
    assert_eq!(dec["KeyMaterialId"], json!(first));
    let st = call(a, c, Operation::GetKeyRotationStatus, json!({"KeyId": id}))
        .await
        .expect("status");
    let next = st["NextRotationDate"].as_f64().expect("next");
    let expect = (f.clock.now_ms() + 90 * DAY_MS) as f64 / 1000.0;
    assert!(
        (next - expect).abs() < 5.0,
        "next rotation one period after the rotation"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn disabled_keys_do_not_rotate_and_catch_up_when_enabled() {
    let f = fixture();
    let (a, c) = (&f.a.kms, &f.caller);
    let key = call(a, c, Operation::CreateKey, json!({})).await.expect("create");
    let id = key["KeyMetadata"]["KeyId"].as_str().expect("id").to_owned();
    call(a, c, Operation::EnableKeyRotation, json!({"KeyId": id}))
        .await
        .expect("enable");
    call(a, c, Operation::DisableKey, json!({"KeyId": id}))
        .await
        .expect("disable");
    f.clock.advance_ms(400 * DAY_MS);
    assert_eq!(
        a.run_due_rotations().await.expect("run"),
        0,
        "disabled keys do not rotate"
    );
    call(a, c, Operation::EnableKey, json!({"KeyId": id}))
        .await
        .expect("enable key");
    let list = call(a, c, Operation::ListKeyRotations, json!({"KeyId": id}))
        .await
        .expect("list");
    assert_eq!(
        list["Rotations"].as_array().expect("r").len(),
        1,
        "rotated on re-enable"
    );
    assert_eq!(a.run_due_rotations().await.expect("run"), 0, "and only once");
}

#[tokio::test(flavor = "multi_thread")]
async fn imported_material_expires_back_to_pending_import() {
    use base64::Engine as _;
    let f = fixture();
    let (a, c) = (&f.a.kms, &f.caller);
    let key = call(a, c, Operation::CreateKey, json!({"Origin": "EXTERNAL"}))
        .await
        .expect("create");
    assert_eq!(key["KeyMetadata"]["KeyState"], "PendingImport");
    let id = key["KeyMetadata"]["KeyId"].as_str().expect("id").to_owned();
    let p = call(
        a,
        c,
        Operation::GetParametersForImport,
        json!({"KeyId": id, "WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"}),
    )
    .await
    .expect("params");
    let b64 = base64::engine::general_purpose::STANDARD;
    let spki = b64.decode(p["PublicKey"].as_str().expect("pk")).expect("b64");
    let wrapped = trent_crypto::import::wrap_for_test(&spki, trent_crypto::import::WrappingAlg::OaepSha256, &[9u8; 32])
        .expect("wrap");
    let valid_to = (f.clock.now_ms() + 2 * DAY_MS) as f64 / 1000.0;
    call(
        a,
        c,
        Operation::ImportKeyMaterial,
        json!({"KeyId": id, "ImportToken": p["ImportToken"], "EncryptedKeyMaterial": b64.encode(&wrapped), "ValidTo": valid_to}),
    )
    .await
    .expect("import");
    let d = call(a, c, Operation::DescribeKey, json!({"KeyId": id}))
        .await
        .expect("describe");
    assert_eq!(d["KeyMetadata"]["KeyState"], "Enabled");
    assert_eq!(d["KeyMetadata"]["ExpirationModel"], "KEY_MATERIAL_EXPIRES");
    f.clock.advance_ms(DAY_MS);
    assert_eq!(a.run_material_expiry().await.expect("run"), 0);
    f.clock.advance_ms(DAY_MS + 1000);
    assert_eq!(a.run_material_expiry().await.expect("run"), 1);
    let d = call(a, c, Operation::DescribeKey, json!({"KeyId": id}))
        .await
        .expect("describe");
    assert_eq!(d["KeyMetadata"]["KeyState"], "PendingImport");
    assert!(d["KeyMetadata"].get("ExpirationModel").is_none());
    assert!(
        d["KeyMetadata"]["CurrentKeyMaterialId"].is_string(),
        "the material id stays"
    );
    let e = call(a, c, Operation::Encrypt, json!({"KeyId": id, "Plaintext": "eA=="}))
        .await
        .expect_err("pending");
    assert_eq!(
        e.to_string(),
        format!("{} is pending import.", d["KeyMetadata"]["Arn"].as_str().expect("arn"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_in_the_middle_of_a_scheduled_rotation_rotates_exactly_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("trent.db");
    let clock = Arc::new(ManualClock::now());
    let root = || RootKey::from_bytes([4; 32]);
    let crashing = Arc::new(common::InstrumentedStore::new(SqliteStore::open(&path).expect("open")));
    let admin = bootstrap::initialise(crashing.as_ref(), &root(), None, clock.now_ms()).expect("init");
    let caller = Caller::root(&admin.account_id, &admin.access_key_id);
    let first = Kms::open(
        crashing.clone(),
        root(),
        clock.clone(),
        Config {
            regions: vec!["us-east-1".into()],
        },
    )
    .expect("kms");
    let key = call(&first, &caller, Operation::CreateKey, json!({}))
        .await
        .expect("create");
    let id = key["KeyMetadata"]["KeyId"].as_str().expect("id").to_owned();
    let ct = call(
        &first,
        &caller,
        Operation::Encrypt,
        json!({"KeyId": id, "Plaintext": "aGk="}),
    )
    .await
    .expect("enc");
    call(
        &first,
        &caller,
        Operation::EnableKeyRotation,
        json!({"KeyId": id, "RotationPeriodInDays": 90}),
    )
    .await
    .expect("enable");
    clock.advance_ms(91 * DAY_MS);
    crashing
        .crash_next_rotation
        .store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(first.run_due_rotations().await.is_err(), "the server dies mid-rotation");
    drop(first);

    // The restarted server finds the rotation still due (nothing was half-written) and does it once.
    let second = Kms::open(
        Arc::new(SqliteStore::open(&path).expect("reopen")),
        root(),
        clock.clone(),
        Config {
            regions: vec!["us-east-1".into()],
        },
    )
    .expect("restart");
    let before = call(&second, &caller, Operation::ListKeyRotations, json!({"KeyId": id}))
        .await
        .expect("list");
    assert_eq!(
        before["Rotations"].as_array().expect("r").len(),
        0,
        "no partial rotation survived"
    );
    assert_eq!(second.run_due_rotations().await.expect("run"), 1);
    assert_eq!(second.run_due_rotations().await.expect("run"), 0);
    let after = call(&second, &caller, Operation::ListKeyRotations, json!({"KeyId": id}))
        .await
        .expect("list");
    assert_eq!(after["Rotations"].as_array().expect("r").len(), 1);
    let d = call(
        &second,
        &caller,
        Operation::Decrypt,
        json!({"CiphertextBlob": ct["CiphertextBlob"]}),
    )
    .await
    .expect("dec");
    assert_eq!(d["Plaintext"], "aGk=");
}

#[tokio::test(flavor = "multi_thread")]
async fn import_tokens_expire_after_24_hours() {
    use base64::Engine as _;
    let f = fixture();
    let (a, c) = (&f.a.kms, &f.caller);
    let key = call(a, c, Operation::CreateKey, json!({"Origin": "EXTERNAL"}))
        .await
        .expect("create");
    let id = key["KeyMetadata"]["KeyId"].as_str().expect("id").to_owned();
    let p = call(
        a,
        c,
        Operation::GetParametersForImport,
        json!({"KeyId": id, "WrappingAlgorithm": "RSAES_OAEP_SHA_1", "WrappingKeySpec": "RSA_2048"}),
    )
    .await
    .expect("params");
    let b64 = base64::engine::general_purpose::STANDARD;
    let spki = b64.decode(p["PublicKey"].as_str().expect("pk")).expect("b64");
    let wrapped = trent_crypto::import::wrap_for_test(&spki, trent_crypto::import::WrappingAlg::OaepSha1, &[5u8; 32])
        .expect("wrap");
    f.clock.advance_ms(DAY_MS + 1000);
    let e = call(
        a,
        c,
        Operation::ImportKeyMaterial,
        json!({"KeyId": id, "ImportToken": p["ImportToken"], "EncryptedKeyMaterial": b64.encode(&wrapped),
               "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"}),
    )
    .await
    .expect_err("expired token");
    assert_eq!(e.code().as_str(), "ExpiredImportTokenException");
}

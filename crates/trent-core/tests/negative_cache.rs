//! An unknown key id in a ciphertext, or an unknown access key id, costs one database query per
//! few seconds, not one per request (issue 10: a client repeating them must not be able to load
//! the database at will).
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use base64::Engine as _;
use common::{call, try_call};
use serde_json::json;
use trent_api::Operation;

#[tokio::test(flavor = "multi_thread")]
async fn unknown_key_ids_and_access_keys_are_looked_up_once() {
    let common::Instrumented {
        kms,
        store,
        clock,
        root: caller,
        ..
    } = common::instrumented(4);
    let key = call(&kms, &caller, Operation::CreateKey, json!({})).await;
    let id = key["KeyMetadata"]["KeyId"].as_str().expect("id").to_owned();
    let ct = call(
        &kms,
        &caller,
        Operation::Encrypt,
        json!({"KeyId": id, "Plaintext": "aGk="}),
    )
    .await;
    let mut blob = base64::engine::general_purpose::STANDARD
        .decode(ct["CiphertextBlob"].as_str().expect("blob"))
        .expect("b64");
    // Name a key that does not exist (bytes 2..18 of the blob are the key id).
    for b in &mut blob[2..18] {
        *b ^= 0x5a;
    }
    let forged = json!({"CiphertextBlob": base64::engine::general_purpose::STANDARD.encode(&blob)});

    let before = store.calls();
    try_call(&kms, &caller, Operation::Decrypt, forged.clone())
        .await
        .expect_err("unknown key");
    let first = store.calls() - before;
    assert!(first > 0, "the first miss reads the store");
    for _ in 0..50 {
        try_call(&kms, &caller, Operation::Decrypt, forged.clone())
            .await
            .expect_err("unknown key");
    }
    assert_eq!(store.calls() - before, first, "repeated misses read nothing");
    // After the memory of the miss expires, the store is asked again.
    clock.advance_ms(6_000);
    try_call(&kms, &caller, Operation::Decrypt, forged)
        .await
        .expect_err("unknown key");
    assert!(store.calls() - before > first);

    let before = store.calls();
    for _ in 0..50 {
        kms.ensure_credential("AKIAUNKNOWNUNKNOWN00").await.expect("lookup");
    }
    assert_eq!(
        store.calls() - before,
        1,
        "one query for fifty unknown access key lookups"
    );
}

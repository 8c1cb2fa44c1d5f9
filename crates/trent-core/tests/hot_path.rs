//! The hot path reads no database: once a key is warm, Encrypt, Decrypt and GenerateDataKey make
//! no store call at all (brief: "must not touch the database when the key is cached"). A store
//! wrapper counts every call; usage records are batched by `flush_usage` and excluded.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use common::call;
use serde_json::json;
use trent_api::Operation;

#[tokio::test(flavor = "multi_thread")]
async fn warm_key_operations_make_no_store_calls() {
    let common::Instrumented {
        kms,
        store,
        root: caller,
        ..
    } = common::instrumented(9);
    let key = call(&kms, &caller, Operation::CreateKey, json!({})).await;
    let id = key["KeyMetadata"]["KeyId"].as_str().expect("id").to_owned();
    let alias = "alias/hot";
    call(
        &kms,
        &caller,
        Operation::CreateAlias,
        json!({"AliasName": alias, "TargetKeyId": id}),
    )
    .await;
    // Warm-up: the first use of each form of the key id may load it.
    let ct = call(
        &kms,
        &caller,
        Operation::Encrypt,
        json!({"KeyId": id, "Plaintext": "aGk=", "EncryptionContext": {"a": "b"}}),
    )
    .await;
    call(
        &kms,
        &caller,
        Operation::Encrypt,
        json!({"KeyId": alias, "Plaintext": "aGk="}),
    )
    .await;
    let before = store.calls();
    for _ in 0..50 {
        call(
            &kms,
            &caller,
            Operation::Encrypt,
            json!({"KeyId": id, "Plaintext": "aGk="}),
        )
        .await;
        call(
            &kms,
            &caller,
            Operation::Encrypt,
            json!({"KeyId": alias, "Plaintext": "aGk="}),
        )
        .await;
        let d = call(
            &kms,
            &caller,
            Operation::Decrypt,
            json!({"CiphertextBlob": ct["CiphertextBlob"], "EncryptionContext": {"a": "b"}}),
        )
        .await;
        assert_eq!(d["Plaintext"], "aGk=");
        call(
            &kms,
            &caller,
            Operation::GenerateDataKey,
            json!({"KeyId": id, "KeySpec": "AES_256"}),
        )
        .await;
    }
    assert_eq!(store.calls(), before, "hot path touched the store");
    // Control: a control-plane read does reach the store, so the counter is live.
    call(&kms, &caller, Operation::ListKeys, json!({})).await;
    assert!(store.calls() > before);
}

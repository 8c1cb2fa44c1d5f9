//! Request quotas: with `--quota cryptographic-symmetric=5` a burst of Encrypts without retries is
//! partly refused with `ThrottlingException` (HTTP 400, AWS's message), other quotas and accounts
//! are untouched, and the Rust SDK's standard retry with backoff gets every request through.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use std::time::Duration;

use aws_sdk_kms::config::retry::RetryConfig;
use common::{blob, err, Server};

#[tokio::test(flavor = "multi_thread")]
async fn a_low_quota_throttles_and_the_sdk_retries_through_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let s = Server::start_in(
        &tmp.path().join("data"),
        &["--quota", "cryptographic-symmetric=5,CreateKey=2"],
    );
    let c = s.client();
    let key = c
        .create_key()
        .send()
        .await
        .expect("create")
        .key_metadata
        .expect("m")
        .key_id;
    // Retries off: past the burst of 5, Encrypt is refused as AWS refuses it.
    let conf = c.config().to_builder().retry_config(RetryConfig::disabled()).build();
    let bare = aws_sdk_kms::Client::from_conf(conf);
    let mut throttled = 0;
    for _ in 0..20 {
        match bare.encrypt().key_id(&key).plaintext(blob(b"x")).send().await {
            Ok(_) => {}
            Err(e) => {
                let (code, message) = err(&e);
                assert_eq!(code, "ThrottlingException");
                assert_eq!(
                    message,
                    "You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls."
                );
                assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(400));
                throttled += 1;
            }
        }
    }
    assert!((10..=16).contains(&throttled), "{throttled} of 20 throttled");
    // Another quota: DescribeKey is not limited; CreateKey has its own bucket.
    bare.describe_key().key_id(&key).send().await.expect("not throttled");
    bare.create_key()
        .send()
        .await
        .expect("second CreateKey within its quota");
    let e = bare.create_key().send().await.expect_err("third CreateKey at once");
    assert_eq!(err(&e).0, "ThrottlingException");

    // The SDK's standard retry (exponential backoff with jitter) gets every request through.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let retrying = aws_sdk_kms::Client::from_conf(
        c.config()
            .to_builder()
            .retry_config(RetryConfig::standard().with_max_attempts(10))
            .build(),
    );
    let started = std::time::Instant::now();
    for i in 0..15 {
        retrying
            .encrypt()
            .key_id(&key)
            .plaintext(blob(b"x"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("request {i} failed despite retries: {e:?}"));
    }
    // 15 requests at 5 per second (after a burst of 5) need about two seconds.
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

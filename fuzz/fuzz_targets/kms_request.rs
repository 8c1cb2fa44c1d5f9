//! Every KMS operation's JSON request path — decode, audit members, validation, grant tokens,
//! authorization, the operation itself — as the account root. The first byte picks the
//! operation, the rest is the body. Invariants: no panic; a 500 (`KMSInternalException`) is
//! never the answer to client input; a success is JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trent_api::{KmsError, Operation};

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let op = Operation::ALL[usize::from(which) % Operation::ALL.len()];
    match trent_fuzz::service().kms(op, body) {
        Ok(out) => {
            if let Err(e) = std::str::from_utf8(&out) {
                panic!("{op:?}: answer is not UTF-8: {e}");
            }
        }
        Err(KmsError::Internal(detail)) => panic!("{op:?}: internal error for client input: {detail}"),
        Err(_) => {}
    }
});

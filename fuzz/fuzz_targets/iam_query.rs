//! The IAM and STS Query path: form decoding, `Action` dispatch, parameter validation and the
//! action itself, as the account root. The first byte picks the service (IAM or STS), the rest
//! is an `application/x-www-form-urlencoded` body. Invariants: no panic; no `ServiceFailure`
//! (500) for client input; the XML answer and the rendered error carry only characters XML
//! allows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trent_api::xml::{is_xml_char, Xml};
use trent_core::{IamErrorCode, Params};

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let service = if which % 2 == 0 { "iam" } else { "sts" };
    let params = Params(form_urlencoded::parse(body).into_owned().collect());
    match trent_fuzz::service().query(service, &params) {
        Ok(xml) => {
            if let Some(c) = xml.chars().find(|&c| !is_xml_char(c)) {
                panic!("{service}: answer carries {c:?}, which XML forbids");
            }
        }
        Err(e) => {
            assert!(
                e.code != IamErrorCode::ServiceFailure,
                "{service}: ServiceFailure for client input: {}",
                e.message
            );
            // The message may echo input (as AWS's does); the server renders it through the
            // same writer, which must leave only characters XML allows.
            let mut xml = String::new();
            Xml::leaf("Message", &e.message).write(&mut xml);
            if let Some(c) = xml.chars().find(|&c| !is_xml_char(c)) {
                panic!("{service}: rendered error message carries {c:?}, which XML forbids");
            }
        }
    }
});

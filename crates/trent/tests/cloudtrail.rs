//! CloudTrail's LookupEvents over the audit trail (issue 15: the console's audit view reads
//! it), driven by boto3 (tests/py/test_cloudtrail.py) against the real binary.
#![allow(clippy::indexing_slicing, clippy::string_slice)] // tests index and slice freely

mod common;

use common::Server;

#[test]
fn boto3_looks_up_the_audit_trail() {
    let s = Server::start();
    common::run_python(&s, "test_cloudtrail.py", &[], "all CloudTrail checks passed");
}

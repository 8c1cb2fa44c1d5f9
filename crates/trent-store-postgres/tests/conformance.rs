//! The store conformance suite on PostgreSQL, in a fresh database created for the run (and
//! dropped after). The server is `TRENT_TEST_POSTGRES` (a libpq URL; default
//! `postgres://postgres@127.0.0.1:5432/postgres`). Without a reachable server the tests say they
//! skipped — unless `TRENT_TEST_POSTGRES_REQUIRED=1` (CI), where that is a failure.

use trent_store::{Store, StoreRead};

#[test]
fn postgres_passes_the_conformance_suite() {
    let Some(db) = trent_store_postgres::testing::TestDb::create("conformance") else {
        return;
    };
    let store = db.store();
    assert_eq!(store.backend(), "postgres");
    trent_store::conformance::run_all(&store);
}

#[test]
fn migrations_apply_once_and_reopen_keeps_data() {
    let Some(db) = trent_store_postgres::testing::TestDb::create("reopen") else {
        return;
    };
    {
        let s = db.store();
        s.insert_account(&trent_store::AccountRecord {
            account_id: trent_types::AccountId::parse("111122223333").expect("account"),
            created_ms: 1,
        })
        .expect("insert");
    }
    let s = db.store();
    assert_eq!(
        s.schema_version().expect("version"),
        trent_store_postgres::migrations::LATEST
    );
    assert_eq!(s.accounts().expect("accounts").len(), 1);
}

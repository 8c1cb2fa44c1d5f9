//! The change feed: every write announces what it changed with `pg_notify('trent_changes', …)`
//! in its own transaction (so the notice is delivered exactly when the change commits, and not
//! at all if it rolls back), and [`watch`] listens on a dedicated connection and hands each
//! notice to the service, which drops what it cached. When the listening connection fails the
//! service hears [`Change::Lost`] at once and [`Change::Resumed`] once it listens again
//! (reconnecting every 500 ms), so it never trusts its caches across a gap.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::Client;
use trent_store::{Change, ChangeSink, StoreError};
use trent_types::{AccountId, AliasName, KeyId, Region};

use crate::classify;

pub(crate) const CHANNEL: &str = "trent_changes";

/// How long the listener waits for a notice before it checks the connection and the stop flag.
const POLL: Duration = Duration::from_millis(250);
/// How often an idle listener proves its connection is alive.
const HEARTBEAT: Duration = Duration::from_secs(2);

/// The notice text of a change (`k:<key id>`, `a:<account>:<Region>:<alias>`, `c:<access key
/// id>`, `i:<account>`).
pub(crate) fn payload(change: &Change) -> Option<String> {
    Some(match change {
        Change::Key(k) => format!("k:{}", k.as_str()),
        Change::Alias(a, r, n) => format!("a:{}:{}:{}", a.as_str(), r.as_str(), n.as_str()),
        Change::AccessKey(id) => format!("c:{id}"),
        Change::Identity(a) => format!("i:{}", a.as_str()),
        Change::Lost | Change::Resumed => return None,
    })
}

pub(crate) fn parse(text: &str) -> Option<Change> {
    let (kind, rest) = text.split_once(':')?;
    Some(match kind {
        "k" => Change::Key(KeyId::parse(rest)?),
        "a" => {
            let (account, rest) = rest.split_once(':')?;
            let (region, name) = rest.split_once(':')?;
            Change::Alias(
                AccountId::parse(account)?,
                Region::parse(region)?,
                AliasName::parse(name)?,
            )
        }
        "c" => Change::AccessKey(rest.to_owned()),
        "i" => Change::Identity(AccountId::parse(rest)?),
        _ => return None,
    })
}

/// Inside a write's transaction: announces `change` to every listener on commit.
pub(crate) fn notify(c: &mut Client, change: &Change) -> Result<(), StoreError> {
    if let Some(p) = payload(change) {
        c.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &p])
            .map_err(classify)?;
    }
    Ok(())
}

/// Starts the listener thread; it ends when `stop` is set.
pub(crate) fn watch(
    config: postgres::Config,
    tls: crate::tls::Connector,
    sink: ChangeSink,
    stop: Arc<AtomicBool>,
) -> Result<(), StoreError> {
    std::thread::Builder::new()
        .name("trent-pg-changes".into())
        .spawn(move || {
            let mut live = false;
            while !stop.load(Ordering::Relaxed) {
                match config.connect(tls.clone()) {
                    Ok(mut client) => {
                        if client.batch_execute(&format!("LISTEN {CHANNEL}")).is_ok() {
                            if live {
                                sink(Change::Lost);
                            }
                            sink(Change::Resumed);
                            live = true;
                            listen(&mut client, &sink, &stop);
                        }
                        if !stop.load(Ordering::Relaxed) {
                            sink(Change::Lost);
                            live = false;
                        }
                    }
                    Err(_) => {
                        if live {
                            sink(Change::Lost);
                            live = false;
                        }
                        std::thread::sleep(Duration::from_millis(500));
                    }
                }
            }
        })
        .map_err(|e| StoreError::Backend(format!("cannot start the change listener: {e}")))?;
    Ok(())
}

/// Delivers notices until the connection fails or `stop` is set.
fn listen(client: &mut Client, sink: &ChangeSink, stop: &AtomicBool) {
    let mut idle = Duration::ZERO;
    while !stop.load(Ordering::Relaxed) {
        let mut got = 0usize;
        {
            let mut notices = client.notifications();
            let mut it = notices.timeout_iter(POLL);
            loop {
                match it.next() {
                    Ok(Some(n)) => {
                        got += 1;
                        if let Some(change) = parse(n.payload()) {
                            sink(change);
                        }
                    }
                    Ok(None) => break,
                    Err(_) => return,
                }
            }
        }
        if client.is_closed() {
            return;
        }
        idle = if got == 0 { idle + POLL } else { Duration::ZERO };
        if idle >= HEARTBEAT {
            idle = Duration::ZERO;
            if client.simple_query("").is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip() {
        let account = AccountId::parse("111122223333").expect("account");
        for c in [
            Change::Key(KeyId::parse("1234abcd-12ab-34cd-56ef-1234567890ab").expect("id")),
            Change::Alias(
                account,
                Region::parse("eu-west-1").expect("region"),
                AliasName::parse("alias/a-b_c").expect("alias"),
            ),
            Change::AccessKey("AKIAEXAMPLE".into()),
            Change::Identity(account),
        ] {
            assert_eq!(parse(&payload(&c).expect("payload")), Some(c));
        }
        assert_eq!(parse("x:1"), None);
    }
}

//! The compact encoding of events inside a version-2 batch: every string that repeats across
//! requests (operation name, Region, caller identity, source address, key ARNs, parameter names
//! and values) is written once per batch and referred to by index afterwards; a canonical UUID
//! request id is 16 bytes instead of 36 characters. A typical Encrypt event is about 90 bytes
//! instead of about 270, which is what the chain hashes and the database stores.
//!
//! The tables are implicit: decoding a batch's events in order rebuilds them (`New(v)` appends
//! `v`, `Ref(i)` names the `i`-th value so far). Each event's chain hash covers exactly its own
//! compact bytes, so an edited `New` value breaks that event's hash and verification names it;
//! events after it that refer to it are unchanged bytes and keep their hashes. Verification
//! never needs to decode; reading the trail decodes a batch from its first event.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::event::{Event, Identity, Parameters, Source, Value};

/// A value written in full the first time a batch uses it, then by index.
#[derive(Serialize, Deserialize)]
enum Interned<T> {
    New(T),
    Ref(u32),
}

/// A request id: 16 bytes when it is a canonical lower-case UUID (what the server issues).
#[derive(Serialize, Deserialize)]
enum RequestId<'a> {
    Uuid([u8; 16]),
    #[serde(borrow)]
    Text(Cow<'a, str>),
}

#[derive(Serialize, Deserialize)]
enum CompactValue<'a> {
    #[serde(borrow)]
    Str(Interned<Cow<'a, str>>),
    Int(i64),
    Float(f64),
    Bool(bool),
    List(Vec<CompactValue<'a>>),
    Map(Vec<(Interned<Cow<'a, str>>, CompactValue<'a>)>),
}

#[derive(Serialize, Deserialize)]
struct CompactIdentity<'a> {
    kind: crate::event::IdentityType,
    #[serde(borrow)]
    arn: Cow<'a, str>,
    #[serde(borrow)]
    account_id: Cow<'a, str>,
    #[serde(borrow)]
    access_key_id: Cow<'a, str>,
}

#[derive(Serialize, Deserialize)]
struct CompactEvent<'a> {
    time_ms: i64,
    source: Source,
    #[serde(borrow)]
    name: Interned<Cow<'a, str>>,
    #[serde(borrow)]
    region: Interned<Cow<'a, str>>,
    #[serde(borrow)]
    identity: Option<Interned<CompactIdentity<'a>>>,
    #[serde(borrow)]
    source_ip: Option<Interned<Cow<'a, str>>>,
    #[serde(borrow)]
    request_id: RequestId<'a>,
    #[serde(borrow)]
    parameters: Vec<(Interned<Cow<'a, str>>, CompactValue<'a>)>,
    #[serde(borrow)]
    resources: Vec<Interned<Cow<'a, str>>>,
    #[serde(borrow)]
    error: Option<(Cow<'a, str>, Cow<'a, str>)>,
    read_only: bool,
    additional: Option<Value>,
    #[serde(borrow)]
    origin: Option<Interned<Cow<'a, str>>>,
}

/// The tables of one batch while it is written. A batch repeats a handful of distinct values
/// (callers, keys, operations), so the first tables are scanned linearly (cheaper than hashing);
/// past [`SCAN_MAX`] values a map takes over.
#[derive(Default)]
pub(crate) struct Encoder<'e> {
    strings: Table<&'e str>,
    identities: Table<(&'e str, &'e str)>,
}

const SCAN_MAX: usize = 32;

struct Table<K> {
    scan: Vec<K>,
    map: HashMap<K, u32>,
}

impl<K> Default for Table<K> {
    fn default() -> Self {
        Table {
            scan: Vec::new(),
            map: HashMap::new(),
        }
    }
}

impl<K: std::hash::Hash + Eq + Copy> Table<K> {
    /// The index of `key` if the batch already holds it; otherwise records it (its index is
    /// the number of values before it) and answers `None`.
    fn intern(&mut self, key: K) -> Option<u32> {
        if let Some(i) = self.scan.iter().position(|k| *k == key) {
            return u32::try_from(i).ok();
        }
        if let Some(i) = self.map.get(&key) {
            return Some(*i);
        }
        let next = u32::try_from(self.scan.len() + self.map.len()).unwrap_or(u32::MAX);
        if self.scan.len() < SCAN_MAX {
            self.scan.push(key);
        } else {
            self.map.insert(key, next);
        }
        None
    }
}

impl<'e> Encoder<'e> {
    fn string(&mut self, s: &'e str) -> Interned<Cow<'e, str>> {
        match self.strings.intern(s) {
            Some(i) => Interned::Ref(i),
            None => Interned::New(Cow::Borrowed(s)),
        }
    }

    fn value(&mut self, v: &'e Value) -> CompactValue<'e> {
        match v {
            Value::Str(s) => CompactValue::Str(self.string(s)),
            Value::Int(n) => CompactValue::Int(*n),
            Value::Float(f) => CompactValue::Float(*f),
            Value::Bool(b) => CompactValue::Bool(*b),
            Value::List(items) => CompactValue::List(items.iter().map(|i| self.value(i)).collect()),
            Value::Map(members) => {
                CompactValue::Map(members.iter().map(|(k, v)| (self.string(k), self.value(v))).collect())
            }
        }
    }

    /// Appends the compact encoding of `e` to `out`.
    pub(crate) fn encode(&mut self, e: &'e Event, out: Vec<u8>) -> Result<Vec<u8>, postcard::Error> {
        let identity = e.identity.as_deref().map(|id| {
            match self.identities.intern((id.arn.as_str(), id.access_key_id.as_str())) {
                Some(i) => Interned::Ref(i),
                None => Interned::New(CompactIdentity {
                    kind: id.kind,
                    arn: Cow::Borrowed(&id.arn),
                    account_id: Cow::Borrowed(&id.account_id),
                    access_key_id: Cow::Borrowed(&id.access_key_id),
                }),
            }
        });
        let compact = CompactEvent {
            time_ms: e.time_ms,
            source: e.source,
            name: self.string(&e.name),
            region: self.string(&e.region),
            identity,
            source_ip: e.source_ip.as_deref().map(|ip| self.string(ip)),
            request_id: match uuid_bytes(&e.request_id) {
                Some(b) => RequestId::Uuid(b),
                None => RequestId::Text(Cow::Borrowed(&e.request_id)),
            },
            parameters: e
                .parameters
                .0
                .iter()
                .map(|(k, v)| (self.string(k), self.value(v)))
                .collect(),
            resources: e.resources.iter().map(|r| self.string(r)).collect(),
            error: e
                .error
                .as_ref()
                .map(|(c, m)| (Cow::Borrowed(c.as_ref()), Cow::Borrowed(m.as_str()))),
            read_only: e.read_only,
            additional: e.additional.clone(),
            origin: e.origin.as_deref().map(|o| self.string(o)),
        };
        postcard::to_extend(&compact, out)
    }
}

/// The tables of one batch while it is read.
#[derive(Default)]
pub(crate) struct Decoder {
    strings: Vec<Arc<str>>,
    identities: Vec<Arc<Identity>>,
}

fn corrupt() -> String {
    "a compact audit event refers to a value its batch does not hold".to_owned()
}

impl Decoder {
    fn string(&mut self, s: Interned<Cow<'_, str>>) -> Result<Arc<str>, String> {
        match s {
            Interned::New(v) => {
                let a: Arc<str> = Arc::from(v.as_ref());
                self.strings.push(Arc::clone(&a));
                Ok(a)
            }
            Interned::Ref(i) => self
                .strings
                .get(usize::try_from(i).unwrap_or(usize::MAX))
                .cloned()
                .ok_or_else(corrupt),
        }
    }

    fn value(&mut self, v: CompactValue<'_>) -> Result<Value, String> {
        Ok(match v {
            CompactValue::Str(s) => Value::Str(self.string(s)?.to_string()),
            CompactValue::Int(n) => Value::Int(n),
            CompactValue::Float(f) => Value::Float(f),
            CompactValue::Bool(b) => Value::Bool(b),
            CompactValue::List(items) => {
                Value::List(items.into_iter().map(|i| self.value(i)).collect::<Result<_, _>>()?)
            }
            CompactValue::Map(members) => Value::Map(
                members
                    .into_iter()
                    .map(|(k, v)| Ok((self.string(k)?.to_string(), self.value(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
        })
    }

    /// Decodes the next event of the batch (events must be decoded in order).
    pub(crate) fn decode(&mut self, bytes: &[u8]) -> Result<Event, String> {
        let c: CompactEvent<'_> = postcard::from_bytes(bytes).map_err(|e| e.to_string())?;
        let identity = match c.identity {
            None => None,
            Some(Interned::New(id)) => {
                let id = Arc::new(Identity {
                    kind: id.kind,
                    arn: id.arn.into_owned(),
                    account_id: id.account_id.into_owned(),
                    access_key_id: id.access_key_id.into_owned(),
                });
                self.identities.push(Arc::clone(&id));
                Some(id)
            }
            Some(Interned::Ref(i)) => Some(
                self.identities
                    .get(usize::try_from(i).unwrap_or(usize::MAX))
                    .cloned()
                    .ok_or_else(corrupt)?,
            ),
        };
        let name = self.string(c.name)?;
        let region = self.string(c.region)?;
        let source_ip = c.source_ip.map(|s| self.string(s)).transpose()?;
        let mut parameters = Parameters::new();
        for (k, v) in c.parameters {
            let k = self.string(k)?;
            parameters.0.push((Cow::Owned(k.to_string()), self.value(v)?));
        }
        let resources = c
            .resources
            .into_iter()
            .map(|r| self.string(r))
            .collect::<Result<_, _>>()?;
        Ok(Event {
            time_ms: c.time_ms,
            source: c.source,
            name: Cow::Owned(name.to_string()),
            region,
            identity,
            source_ip: source_ip.map(|s| s.to_string()),
            request_id: match c.request_id {
                RequestId::Uuid(b) => uuid_text(&b),
                RequestId::Text(t) => t.into_owned(),
            },
            parameters,
            resources,
            error: c.error.map(|(code, m)| (Cow::Owned(code.into_owned()), m.into_owned())),
            read_only: c.read_only,
            additional: c.additional,
            origin: c.origin.map(|o| self.string(o)).transpose()?,
        })
    }
}

/// The 16 bytes of a canonical lower-case hyphenated UUID (`8-4-4-4-12`), else `None`.
fn uuid_bytes(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    if b.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut hex = b.iter().enumerate().filter(|(i, _)| !matches!(i, 8 | 13 | 18 | 23));
    if [8usize, 13, 18, 23].iter().any(|i| b.get(*i) != Some(&b'-')) {
        return None;
    }
    for byte in out.iter_mut() {
        let (_, hi) = hex.next()?;
        let (_, lo) = hex.next()?;
        *byte = (nibble(*hi)? << 4) | nibble(*lo)?;
    }
    Some(out)
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn uuid_text(b: &[u8; 16]) -> String {
    let h = hex::encode(b);
    let part = |r: std::ops::Range<usize>| h.get(r).unwrap_or_default();
    format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(n: usize) -> Event {
        let mut parameters = Parameters::new();
        parameters.push("keyId", format!("key-{}", n % 50));
        parameters.push(
            "encryptionContext",
            Value::Map(vec![("日本語キー".to_owned(), Value::Str(format!("v{n}")))]),
        );
        Event {
            time_ms: 1_700_000_000_000 + i64::try_from(n).unwrap_or(0),
            source: Source::Kms,
            name: Cow::Borrowed(if n.is_multiple_of(3) { "Decrypt" } else { "Encrypt" }),
            region: Arc::from("eu-west-1"),
            identity: Some(Arc::new(Identity {
                kind: crate::event::IdentityType::IamUser,
                arn: format!("arn:aws:iam::111122223333:user/u{}", n % 40),
                account_id: "111122223333".to_owned(),
                access_key_id: format!("AKIA{:016}", n % 40),
            })),
            source_ip: (!n.is_multiple_of(7)).then(|| "10.0.0.1".to_owned()),
            request_id: if n.is_multiple_of(5) {
                format!("custom-{n}")
            } else {
                format!("8b82c25b-baa1-4aab-84d3-{n:012x}")
            },
            parameters,
            resources: vec![Arc::from(format!("arn:aws:kms:eu-west-1:111122223333:key/k{}", n % 60))],
            error: n
                .is_multiple_of(11)
                .then(|| (Cow::Borrowed("AccessDeniedException"), format!("no {n}"))),
            read_only: n.is_multiple_of(2),
            additional: None,
            origin: Some(Arc::from(if n < 250 { "boot-1" } else { "boot-2" })),
        }
    }

    /// More distinct values than the linear tables hold: the map takes over and indices stay
    /// consistent between writer and reader.
    #[test]
    fn a_batch_round_trips_through_its_tables() {
        let events: Vec<Event> = (0..500).map(event).collect();
        let mut enc = Encoder::default();
        let encoded: Vec<Vec<u8>> = events
            .iter()
            .map(|e| enc.encode(e, Vec::new()).expect("encode"))
            .collect();
        let mut dec = Decoder::default();
        for (e, bytes) in events.iter().zip(&encoded) {
            assert_eq!(&dec.decode(bytes).expect("decode"), e);
        }
        let compact: usize = encoded.iter().map(Vec::len).sum();
        let plain: usize = events
            .iter()
            .map(|e| postcard::to_allocvec(e).map(|v| v.len()).unwrap_or(0))
            .sum();
        assert!(compact * 2 < plain, "compact {compact} vs plain {plain}");
        // A reference to a value the batch does not hold is an error, not a panic.
        assert!(Decoder::default().decode(encoded.last().expect("last")).is_err());
    }

    #[test]
    fn uuids_round_trip_and_other_ids_stay_text() {
        let id = "8b82c25b-baa1-4aab-84d3-0ae37c2dccda";
        let b = uuid_bytes(id).expect("canonical");
        assert_eq!(uuid_text(&b), id);
        for other in [
            "",
            "8B82C25B-BAA1-4AAB-84D3-0AE37C2DCCDA",
            "8b82c25bbaa14aab84d30ae37c2dccda",
            "日本語",
        ] {
            assert_eq!(uuid_bytes(other), None, "{other}");
        }
    }
}

//! The condition context of a request (reference §9.4), answered lazily: the evaluator asks only
//! for the keys a policy's conditions and variables name, so the common policy without conditions
//! costs nothing here.
//!
//! Three sources, in this order: the key (`kms:KeySpec`, `kms:KeyUsage`, `kms:KeyOrigin`,
//! `kms:MultiRegion`, `aws:ResourceTag/*`, `kms:ResourceAliases`); the typed request
//! ([`RequestFacts`], implemented by each operation's validated request: `kms:EncryptionContext:*`,
//! `kms:EncryptionAlgorithm`, `kms:RequestAlias`, `kms:GrantOperations`, `aws:RequestTag/*`, …,
//! with AWS's rule that a parameter's default applies when it is absent); and the caller and
//! transport (`aws:PrincipalArn`, `aws:PrincipalTag/*`, `kms:CallerAccount`, `aws:SourceIp`,
//! `aws:CurrentTime`, …).

use std::borrow::Cow;

use trent_policy::{strip_prefix_ignore_ascii_case, Facts, Values};
use trent_types::EncryptionContext;

use trent_store::{KeyRecord, TagRecord};

use crate::credentials::Caller;
use crate::keys::LoadedKey;
use crate::service::Kms;

/// What conditions can see of a key (an existing one, or one being created).
#[derive(Clone, Copy)]
pub(crate) struct KeyView<'a> {
    pub record: &'a KeyRecord,
    pub tags: &'a [TagRecord],
}

impl<'a> KeyView<'a> {
    pub fn of(key: &'a LoadedKey) -> Self {
        KeyView {
            record: &key.record,
            tags: &key.tags,
        }
    }
}

/// The condition keys a typed request supplies. `key` is lower-case.
pub(crate) trait RequestFacts: Sync {
    fn fact(&self, _key: &str) -> Option<Values<'_>> {
        None
    }

    /// The encryption context grant constraints are checked against.
    fn encryption_context(&self) -> Option<&EncryptionContext> {
        None
    }
}

/// A request with no condition keys of its own.
pub(crate) struct NoFacts;

impl RequestFacts for NoFacts {}

pub(crate) fn one(v: &str) -> Option<Values<'_>> {
    Some(Values::one(Cow::Borrowed(v)))
}

pub(crate) fn owned(v: String) -> Option<Values<'static>> {
    Some(Values::one(Cow::Owned(v)))
}

pub(crate) fn list<'a>(v: impl Iterator<Item = &'a str>) -> Option<Values<'a>> {
    Some(Values::many(v.map(Cow::Borrowed).collect()))
}

/// `kms:EncryptionContext:<key>` (context keys match ignoring case, as condition keys do) and
/// `kms:EncryptionContextKeys`.
pub(crate) fn encryption_context<'a>(ec: Option<&'a EncryptionContext>, key: &str) -> Option<Values<'a>> {
    let ec = ec?;
    if key == "kms:encryptioncontextkeys" {
        return list(ec.keys());
    }
    let k = strip_prefix_ignore_ascii_case(key, "kms:encryptioncontext:")?;
    one(ec.get_ignore_ascii_case(k)?)
}

/// `kms:RequestAlias`: the alias the request's `KeyId` names, if it names one.
pub(crate) fn request_alias<'a>(key_id: &'a str, key: &str) -> Option<Values<'a>> {
    (key == "kms:requestalias")
        .then(|| crate::ids::request_alias(key_id))
        .flatten()
        .and_then(one)
}

/// `aws:RequestTag/<key>` and `aws:TagKeys` of a request carrying tags.
pub(crate) fn request_tags<'a>(tags: &'a [(String, String)], key: &str) -> Option<Values<'a>> {
    if key == "aws:tagkeys" {
        return list(tags.iter().map(|(k, _)| k.as_str()));
    }
    let k = strip_prefix_ignore_ascii_case(key, "aws:requesttag/")?;
    tags.iter()
        .find(|(t, _)| t.eq_ignore_ascii_case(k))
        .and_then(|(_, v)| one(v))
}

fn key_fact<'a>(kms: &Kms, k: KeyView<'a>, key: &str) -> Option<Values<'a>> {
    let r = k.record;
    match key {
        "kms:keyspec" | "kms:customermasterkeyspec" => one(r.key_spec.as_str()),
        "kms:keyusage" | "kms:customermasterkeyusage" => one(r.key_usage.as_str()),
        "kms:keyorigin" => one(r.origin.as_str()),
        "kms:multiregion" => one(if r.multi_region { "true" } else { "false" }),
        "kms:multiregionkeytype" if r.multi_region => one(if r.is_replica() { "REPLICA" } else { "PRIMARY" }),
        "kms:primaryregion" if r.multi_region => one(r.primary_region.as_ref().unwrap_or(&r.region).as_str()),
        "kms:resourcealiases" => {
            let names = kms.aliases_of(&r.region, &r.key_id);
            Some(Values::many(
                names.iter().map(|n| Cow::Owned(n.as_str().to_owned())).collect(),
            ))
        }
        _ => {
            let tag = strip_prefix_ignore_ascii_case(key, "aws:resourcetag/")?;
            k.tags
                .iter()
                .find(|t| t.key.eq_ignore_ascii_case(tag))
                .and_then(|t| one(&t.value))
        }
    }
}

/// The whole context of one evaluation.
pub(crate) struct EvalFacts<'a> {
    pub kms: &'a Kms,
    pub caller: &'a Caller,
    pub source_ip: Option<&'a str>,
    pub secure: bool,
    pub now_ms: i64,
    pub request: &'a dyn RequestFacts,
    pub key: Option<KeyView<'a>>,
}

impl Facts for EvalFacts<'_> {
    fn values(&self, key: &str) -> Option<Values<'_>> {
        if let Some(v) = self.key.and_then(|k| key_fact(self.kms, k, key)) {
            return Some(v);
        }
        if let Some(v) = self.request.fact(key) {
            return Some(v);
        }
        match key {
            "kms:calleraccount" => owned(self.caller.account().to_string()),
            "aws:epochtime" => owned((self.now_ms / 1000).to_string()),
            "aws:currenttime" => {
                let t = time::OffsetDateTime::from_unix_timestamp(self.now_ms / 1000)
                    .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
                owned(
                    t.format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                )
            }
            "aws:securetransport" => one(if self.secure { "true" } else { "false" }),
            "aws:sourceip" => self.source_ip.and_then(one),
            _ => self.caller.principal().fact(key),
        }
    }
}

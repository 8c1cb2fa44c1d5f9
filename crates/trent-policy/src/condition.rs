//! Condition operators (IAM User Guide, "IAM JSON policy elements: Condition operators"): String*,
//! Numeric*, Date*, Bool, BinaryEquals, IpAddress/NotIpAddress, Arn*, Null, the `…IfExists`
//! suffix and the `ForAnyValue:` / `ForAllValues:` set qualifiers.
//!
//! Missing keys: a positive operator is false, a negated operator (`…Not…`) is true, `…IfExists`
//! is true, `ForAllValues` is true and `ForAnyValue` is false; `Null` tests presence.

use std::net::IpAddr;

use base64::Engine as _;

use crate::context::Context;
use crate::pattern::{like, substitute, Variables};

const BASE_OPERATORS: &[&str] = &[
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "NumericLessThanEquals",
    "NumericGreaterThan",
    "NumericGreaterThanEquals",
    "DateEquals",
    "DateNotEquals",
    "DateLessThan",
    "DateLessThanEquals",
    "DateGreaterThan",
    "DateGreaterThanEquals",
    "Bool",
    "BinaryEquals",
    "IpAddress",
    "NotIpAddress",
    "ArnEquals",
    "ArnLike",
    "ArnNotEquals",
    "ArnNotLike",
    "Null",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetQualifier {
    None,
    AnyValue,
    AllValues,
}

struct Operator<'a> {
    set: SetQualifier,
    base: &'a str,
    if_exists: bool,
}

fn parse_operator(op: &str) -> Option<Operator<'_>> {
    let (set, rest) = if let Some(r) = strip_prefix_ci(op, "ForAnyValue:") {
        (SetQualifier::AnyValue, r)
    } else if let Some(r) = strip_prefix_ci(op, "ForAllValues:") {
        (SetQualifier::AllValues, r)
    } else {
        (SetQualifier::None, op)
    };
    let (base, if_exists) = match rest.strip_suffix("IfExists") {
        Some(b) if b != "Null" => (b, true),
        _ => (rest, false),
    };
    BASE_OPERATORS.iter().find(|b| **b == base).map(|b| Operator {
        set,
        base: b,
        if_exists,
    })
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    (s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)).then(|| &s[prefix.len()..])
}

/// Whether `op` names a known operator (for parse-time validation).
pub fn is_known_operator(op: &str) -> bool {
    parse_operator(op).is_some()
}

fn negated(base: &str) -> bool {
    base.contains("Not")
}

fn parse_date(s: &str) -> Option<f64> {
    if let Ok(n) = s.parse::<f64>() {
        return Some(n);
    }
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = time::OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp() as f64 + f64::from(t.nanosecond()) / 1e9);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, fmt)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp() as f64)
}

fn ip_in(cidr: &str, ip: &str) -> bool {
    let Ok(ip) = ip.parse::<IpAddr>() else { return false };
    let (net, bits) = match cidr.split_once('/') {
        Some((n, b)) => (n, b.parse::<u32>().ok()),
        None => (cidr, None),
    };
    let Ok(net) = net.parse::<IpAddr>() else { return false };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

fn arn_like(pattern: &str, arn: &str, vars: Option<&dyn Variables>) -> bool {
    let p: Vec<&str> = pattern.splitn(6, ':').collect();
    let a: Vec<&str> = arn.splitn(6, ':').collect();
    p.len() == 6 && a.len() == 6 && p.iter().zip(&a).all(|(p, a)| like(p, a, vars, false))
}

/// The positive (un-negated) comparison of one request value with one policy value.
fn base_match(base: &str, req: &str, pol: &str, vars: Option<&dyn Variables>) -> bool {
    let sub = || substitute(pol, vars);
    let num = |s: &str| s.trim().parse::<f64>().ok();
    match base {
        "StringEquals" | "StringNotEquals" => sub().is_some_and(|p| p == req),
        "StringEqualsIgnoreCase" | "StringNotEqualsIgnoreCase" => {
            sub().is_some_and(|p| p.to_lowercase() == req.to_lowercase())
        }
        "StringLike" | "StringNotLike" => like(pol, req, vars, false),
        "NumericEquals" | "NumericNotEquals" => matches!((num(req), num(pol)), (Some(a), Some(b)) if a == b),
        "NumericLessThan" => matches!((num(req), num(pol)), (Some(a), Some(b)) if a < b),
        "NumericLessThanEquals" => matches!((num(req), num(pol)), (Some(a), Some(b)) if a <= b),
        "NumericGreaterThan" => matches!((num(req), num(pol)), (Some(a), Some(b)) if a > b),
        "NumericGreaterThanEquals" => matches!((num(req), num(pol)), (Some(a), Some(b)) if a >= b),
        "DateEquals" | "DateNotEquals" => matches!((parse_date(req), parse_date(pol)), (Some(a), Some(b)) if a == b),
        "DateLessThan" => matches!((parse_date(req), parse_date(pol)), (Some(a), Some(b)) if a < b),
        "DateLessThanEquals" => matches!((parse_date(req), parse_date(pol)), (Some(a), Some(b)) if a <= b),
        "DateGreaterThan" => matches!((parse_date(req), parse_date(pol)), (Some(a), Some(b)) if a > b),
        "DateGreaterThanEquals" => matches!((parse_date(req), parse_date(pol)), (Some(a), Some(b)) if a >= b),
        "Bool" => req.eq_ignore_ascii_case(pol),
        "BinaryEquals" => {
            let b64 = base64::engine::general_purpose::STANDARD;
            matches!((b64.decode(req), b64.decode(pol)), (Ok(a), Ok(b)) if a == b)
        }
        "IpAddress" | "NotIpAddress" => ip_in(pol, req),
        "ArnEquals" | "ArnLike" | "ArnNotEquals" | "ArnNotLike" => arn_like(pol, req, vars),
        _ => false,
    }
}

/// Evaluates one `operator: { key: values }` entry.
pub fn evaluate(op: &str, key: &str, policy_values: &[String], ctx: &Context, vars: Option<&dyn Variables>) -> bool {
    let Some(op) = parse_operator(op) else { return false };
    let present = ctx.get(key).filter(|v| !v.is_empty());
    if op.base == "Null" {
        let absent = present.is_none();
        return policy_values.iter().any(|p| p.eq_ignore_ascii_case("true") == absent);
    }
    let Some(request_values) = present else {
        return match op.set {
            SetQualifier::AllValues => true,
            SetQualifier::AnyValue => false,
            SetQualifier::None => op.if_exists || negated(op.base),
        };
    };
    let one = |v: &String| {
        let m = policy_values.iter().any(|p| base_match(op.base, v, p, vars));
        if negated(op.base) {
            !m
        } else {
            m
        }
    };
    match op.set {
        SetQualifier::AllValues => request_values.iter().all(one),
        SetQualifier::AnyValue | SetQualifier::None => request_values.iter().any(one),
    }
}

//! Condition operators (IAM User Guide, "IAM JSON policy elements: Condition operators"): String*,
//! Numeric*, Date*, Bool, BinaryEquals, IpAddress/NotIpAddress, Arn*, Null, the `…IfExists`
//! suffix and the `ForAnyValue:` / `ForAllValues:` set qualifiers.
//!
//! Operators and policy values are compiled when the document is parsed (typed operator, glob,
//! number, date, CIDR), so evaluation does no parsing. Missing keys: a positive operator is
//! false, a negated operator (`…Not…`) is true, `…IfExists` is true, `ForAllValues` is true and
//! `ForAnyValue` is false; `Null` tests presence.

use std::net::IpAddr;

use base64::Engine as _;

use crate::context::{strip_prefix_ignore_ascii_case, Facts};
use crate::pattern::Glob;

/// The operator families, without qualifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseOperator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl BaseOperator {
    const ALL: [(&'static str, BaseOperator); 27] = [
        ("StringEquals", BaseOperator::StringEquals),
        ("StringNotEquals", BaseOperator::StringNotEquals),
        ("StringEqualsIgnoreCase", BaseOperator::StringEqualsIgnoreCase),
        ("StringNotEqualsIgnoreCase", BaseOperator::StringNotEqualsIgnoreCase),
        ("StringLike", BaseOperator::StringLike),
        ("StringNotLike", BaseOperator::StringNotLike),
        ("NumericEquals", BaseOperator::NumericEquals),
        ("NumericNotEquals", BaseOperator::NumericNotEquals),
        ("NumericLessThan", BaseOperator::NumericLessThan),
        ("NumericLessThanEquals", BaseOperator::NumericLessThanEquals),
        ("NumericGreaterThan", BaseOperator::NumericGreaterThan),
        ("NumericGreaterThanEquals", BaseOperator::NumericGreaterThanEquals),
        ("DateEquals", BaseOperator::DateEquals),
        ("DateNotEquals", BaseOperator::DateNotEquals),
        ("DateLessThan", BaseOperator::DateLessThan),
        ("DateLessThanEquals", BaseOperator::DateLessThanEquals),
        ("DateGreaterThan", BaseOperator::DateGreaterThan),
        ("DateGreaterThanEquals", BaseOperator::DateGreaterThanEquals),
        ("Bool", BaseOperator::Bool),
        ("BinaryEquals", BaseOperator::BinaryEquals),
        ("IpAddress", BaseOperator::IpAddress),
        ("NotIpAddress", BaseOperator::NotIpAddress),
        ("ArnEquals", BaseOperator::ArnEquals),
        ("ArnLike", BaseOperator::ArnLike),
        ("ArnNotEquals", BaseOperator::ArnNotEquals),
        ("ArnNotLike", BaseOperator::ArnNotLike),
        ("Null", BaseOperator::Null),
    ];

    fn parse(s: &str) -> Option<BaseOperator> {
        Self::ALL.iter().find(|(n, _)| *n == s).map(|(_, o)| *o)
    }

    /// `…Not…` operators: true when no policy value matches.
    pub fn is_negated(self) -> bool {
        use BaseOperator as B;
        match self {
            B::StringNotEquals
            | B::StringNotEqualsIgnoreCase
            | B::StringNotLike
            | B::NumericNotEquals
            | B::DateNotEquals
            | B::NotIpAddress
            | B::ArnNotEquals
            | B::ArnNotLike => true,
            B::StringEquals
            | B::StringEqualsIgnoreCase
            | B::StringLike
            | B::NumericEquals
            | B::NumericLessThan
            | B::NumericLessThanEquals
            | B::NumericGreaterThan
            | B::NumericGreaterThanEquals
            | B::DateEquals
            | B::DateLessThan
            | B::DateLessThanEquals
            | B::DateGreaterThan
            | B::DateGreaterThanEquals
            | B::Bool
            | B::BinaryEquals
            | B::IpAddress
            | B::ArnEquals
            | B::ArnLike
            | B::Null => false,
        }
    }
}

/// `ForAnyValue:` / `ForAllValues:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    None,
    AnyValue,
    AllValues,
}

/// A parsed condition operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    pub set: SetQualifier,
    pub base: BaseOperator,
    pub if_exists: bool,
}

impl Operator {
    /// Parses an operator as written in a policy (qualifiers are case-insensitive, the base
    /// operator is not). Never slices the text inside a character.
    pub fn parse(op: &str) -> Option<Operator> {
        let (set, rest) = if let Some(r) = strip_prefix_ignore_ascii_case(op, "ForAnyValue:") {
            (SetQualifier::AnyValue, r)
        } else if let Some(r) = strip_prefix_ignore_ascii_case(op, "ForAllValues:") {
            (SetQualifier::AllValues, r)
        } else {
            (SetQualifier::None, op)
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) if b != "Null" => (b, true),
            _ => (rest, false),
        };
        BaseOperator::parse(base).map(|base| Operator { set, base, if_exists })
    }
}

/// Whether `op` names a known operator (for parse-time validation).
pub fn is_known_operator(op: &str) -> bool {
    Operator::parse(op).is_some()
}

/// One policy value, compiled for its operator.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyValue {
    pub raw: String,
    glob: Glob,
    number: Option<f64>,
    date: Option<f64>,
    /// ArnEquals/ArnLike: the six `:`-separated fields as globs.
    arn: Option<Vec<Glob>>,
    cidr: Option<(IpAddr, Option<u32>)>,
    binary: Option<Vec<u8>>,
}

impl PolicyValue {
    pub fn new(op: &Operator, raw: String) -> PolicyValue {
        use BaseOperator as B;
        let glob = Glob::new(&raw);
        let number = matches!(
            op.base,
            B::NumericEquals
                | B::NumericNotEquals
                | B::NumericLessThan
                | B::NumericLessThanEquals
                | B::NumericGreaterThan
                | B::NumericGreaterThanEquals
        )
        .then(|| parse_number(&raw))
        .flatten();
        let date = matches!(
            op.base,
            B::DateEquals
                | B::DateNotEquals
                | B::DateLessThan
                | B::DateLessThanEquals
                | B::DateGreaterThan
                | B::DateGreaterThanEquals
        )
        .then(|| parse_date(&raw))
        .flatten();
        let arn = matches!(op.base, B::ArnEquals | B::ArnLike | B::ArnNotEquals | B::ArnNotLike).then(|| {
            let fields: Vec<Glob> = raw.splitn(6, ':').map(Glob::new).collect();
            fields
        });
        let cidr = matches!(op.base, B::IpAddress | B::NotIpAddress)
            .then(|| parse_cidr(&raw))
            .flatten();
        let binary = (op.base == B::BinaryEquals)
            .then(|| base64::engine::general_purpose::STANDARD.decode(&raw).ok())
            .flatten();
        PolicyValue {
            raw,
            glob,
            number,
            date,
            arn,
            cidr,
            binary,
        }
    }
}

fn parse_number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok()
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

fn parse_cidr(cidr: &str) -> Option<(IpAddr, Option<u32>)> {
    let (net, bits) = match cidr.split_once('/') {
        Some((n, b)) => (n, Some(b.parse::<u32>().ok()?)),
        None => (cidr, None),
    };
    Some((net.parse::<IpAddr>().ok()?, bits))
}

fn ip_in(cidr: (IpAddr, Option<u32>), ip: &str) -> bool {
    let Ok(ip) = ip.parse::<IpAddr>() else { return false };
    match (cidr.0, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let bits = cidr.1.unwrap_or(32).min(32);
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let bits = cidr.1.unwrap_or(128).min(128);
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

fn arn_like(fields: &[Glob], arn: &str, vars: Option<&dyn Facts>) -> bool {
    let mut parts = arn.splitn(6, ':');
    fields.len() == 6
        && fields
            .iter()
            .all(|f| parts.next().is_some_and(|p| f.matches(p, vars, false)))
}

/// The positive (un-negated) comparison of one request value with one policy value.
fn base_match(base: BaseOperator, req: &str, pol: &PolicyValue, vars: Option<&dyn Facts>) -> bool {
    use BaseOperator as B;
    let num = || parse_number(req).zip(pol.number);
    let date = || parse_date(req).zip(pol.date);
    match base {
        B::StringEquals | B::StringNotEquals => pol.glob.substituted(vars).is_some_and(|p| p == req),
        B::StringEqualsIgnoreCase | B::StringNotEqualsIgnoreCase => pol
            .glob
            .substituted(vars)
            .is_some_and(|p| p.to_lowercase() == req.to_lowercase()),
        B::StringLike | B::StringNotLike => pol.glob.matches(req, vars, false),
        B::NumericEquals | B::NumericNotEquals => num().is_some_and(|(a, b)| a == b),
        B::NumericLessThan => num().is_some_and(|(a, b)| a < b),
        B::NumericLessThanEquals => num().is_some_and(|(a, b)| a <= b),
        B::NumericGreaterThan => num().is_some_and(|(a, b)| a > b),
        B::NumericGreaterThanEquals => num().is_some_and(|(a, b)| a >= b),
        B::DateEquals | B::DateNotEquals => date().is_some_and(|(a, b)| a == b),
        B::DateLessThan => date().is_some_and(|(a, b)| a < b),
        B::DateLessThanEquals => date().is_some_and(|(a, b)| a <= b),
        B::DateGreaterThan => date().is_some_and(|(a, b)| a > b),
        B::DateGreaterThanEquals => date().is_some_and(|(a, b)| a >= b),
        B::Bool => req.eq_ignore_ascii_case(&pol.raw),
        B::BinaryEquals => {
            let b64 = base64::engine::general_purpose::STANDARD;
            matches!((b64.decode(req), &pol.binary), (Ok(a), Some(b)) if &a == b)
        }
        B::IpAddress | B::NotIpAddress => pol.cidr.is_some_and(|c| ip_in(c, req)),
        B::ArnEquals | B::ArnLike | B::ArnNotEquals | B::ArnNotLike => {
            pol.arn.as_deref().is_some_and(|f| arn_like(f, req, vars))
        }
        B::Null => false,
    }
}

/// One `operator: { key: values }` entry of a statement, compiled.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The operator as written (for messages and `policy simulate`).
    pub operator_text: String,
    pub operator: Operator,
    /// The condition key as written.
    pub key: String,
    /// The condition key lower-cased (lookups ignore case).
    pub key_lower: String,
    pub values: Vec<PolicyValue>,
}

impl Condition {
    /// Evaluates the condition against the request's facts.
    pub fn holds(&self, facts: &dyn Facts, vars: Option<&dyn Facts>) -> bool {
        let op = self.operator;
        let present = facts.values(&self.key_lower).filter(|v| !v.is_empty());
        if op.base == BaseOperator::Null {
            let absent = present.is_none();
            return self.values.iter().any(|p| p.raw.eq_ignore_ascii_case("true") == absent);
        }
        let Some(request_values) = present else {
            return match op.set {
                SetQualifier::AllValues => true,
                SetQualifier::AnyValue => false,
                SetQualifier::None => op.if_exists || op.base.is_negated(),
            };
        };
        let one = |v: &str| {
            let m = self.values.iter().any(|p| base_match(op.base, v, p, vars));
            if op.base.is_negated() {
                !m
            } else {
                m
            }
        };
        let mut values = request_values.iter();
        match op.set {
            SetQualifier::AllValues => values.all(one),
            SetQualifier::AnyValue | SetQualifier::None => values.any(one),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_parse_without_slicing_inside_characters() {
        assert!(Operator::parse("StringEquals").is_some());
        assert!(Operator::parse("forallvalues:StringLike").is_some_and(|o| o.set == SetQualifier::AllValues));
        assert!(Operator::parse("StringEqualsIfExists").is_some_and(|o| o.if_exists));
        assert!(Operator::parse("NullIfExists").is_none());
        // Multi-byte characters where a prefix would be cut (they panicked before).
        for bad in [
            "aaaaaaaaaaaéStringEquals",
            "ForAnyValueé:StringLike",
            "日本語キー",
            "a💡b",
            "é",
            "",
        ] {
            assert!(Operator::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn cidr_edges() {
        assert!(ip_in(parse_cidr("10.0.0.0/8").expect("cidr"), "10.1.2.3"));
        assert!(ip_in(parse_cidr("0.0.0.0/0").expect("cidr"), "192.0.2.1"));
        assert!(!ip_in(parse_cidr("10.0.0.0/8").expect("cidr"), "11.0.0.1"));
        assert!(ip_in(parse_cidr("::/0").expect("cidr"), "::1"));
        assert!(parse_cidr("10.0.0.0/x").is_none());
    }
}

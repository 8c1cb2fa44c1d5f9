//! IAM wildcard patterns (`*` any run, `?` one character) with policy variables (`${aws:username}`,
//! `${aws:PrincipalTag/team}`, `${*}` / `${?}` / `${$}` escapes, `${key, 'default'}`), per the IAM
//! User Guide ("IAM policy elements: Variables and tags"). Variables resolve only in version
//! 2012-10-17 documents; an unresolvable variable without default makes the value match nothing.
//!
//! Patterns are compiled once, when the policy is parsed. Matching is linear in the text and the
//! pattern: the pattern is split at its `*`s into segments; the first must be a prefix, the last a
//! suffix, and each one between is found at its leftmost position after the previous one
//! (greedy leftmost matching is exact for `*`-separated segments). A literal segment is found with
//! the standard library's two-way substring search, O(text + segment); a segment with `?` with a
//! bit-parallel Shift-And over characters, O(text × ⌈segment/64⌉). No step backtracks, so a
//! hostile pattern against a hostile text costs what reading them costs, not their product.

use std::collections::HashMap;

use crate::context::Facts;

/// One element of a pattern after variable substitution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Star,
    Question,
}

/// A piece of a pattern's source text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Text where `*` and `?` are wildcards.
    Text(String),
    /// A character that is always literal (`${*}`, `${?}`, `${$}`).
    Escaped(char),
    /// `${name}` or `${name, 'default'}` (name lower-cased: condition keys ignore case).
    Var { name: String, default: Option<String> },
}

/// A wildcard pattern compiled at parse time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    raw: String,
    /// Pieces of a pattern that uses `${…}` (variables or escapes); `None` when it uses none.
    pieces: Option<Vec<Piece>>,
    /// The compiled form of a pattern without `${…}`, as written.
    plain: Matcher,
    /// The compiled form when variables are not resolved (version 2008-10-17 documents), where
    /// `${…}` is ordinary text.
    literal: Matcher,
}

impl Glob {
    pub fn new(raw: &str) -> Glob {
        let pieces = parse_pieces(raw);
        let literal = Matcher::compile(&tokens_of(raw, true));
        let plain = if pieces.is_some() {
            Matcher::compile(&[])
        } else {
            literal.clone()
        };
        Glob {
            raw: raw.to_owned(),
            pieces,
            plain,
            literal,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Whether the pattern uses policy variables or escapes.
    pub fn has_variables(&self) -> bool {
        self.pieces.is_some()
    }

    /// Whether `text` matches. `vars` is `None` for documents without variables (2008-10-17).
    pub fn matches(&self, text: &str, vars: Option<&dyn Facts>, ignore_case: bool) -> bool {
        match (&self.pieces, vars) {
            (None, _) => self.plain.matches(text, ignore_case),
            (Some(_), None) => self.literal.matches(text, ignore_case),
            (Some(pieces), Some(vars)) => match substitute_tokens(pieces, vars) {
                Some(toks) => Matcher::compile(&toks).matches(text, ignore_case),
                None => false,
            },
        }
    }

    /// The value with variables substituted and no wildcards (`StringEquals` and friends);
    /// `None` when a variable cannot be resolved.
    pub fn substituted<'a>(&'a self, vars: Option<&dyn Facts>) -> Option<std::borrow::Cow<'a, str>> {
        match (&self.pieces, vars) {
            (Some(pieces), Some(vars)) => {
                let mut out = String::with_capacity(self.raw.len());
                for p in pieces {
                    match p {
                        Piece::Text(t) => out.push_str(t),
                        Piece::Escaped(c) => out.push(*c),
                        Piece::Var { name, default } => out.push_str(&resolve(vars, name, default.as_deref())?),
                    }
                }
                Some(std::borrow::Cow::Owned(out))
            }
            _ => Some(std::borrow::Cow::Borrowed(&self.raw)),
        }
    }
}

fn resolve(vars: &dyn Facts, name: &str, default: Option<&str>) -> Option<String> {
    match vars.values(name) {
        Some(v) if v.len() == 1 => v.first().map(str::to_owned),
        _ => default.map(str::to_owned),
    }
}

/// Splits `${…}` out of the text; `None` when there is none.
fn parse_pieces(raw: &str) -> Option<Vec<Piece>> {
    if !raw.contains("${") {
        return None;
    }
    let mut out = Vec::new();
    let mut rest = raw;
    let mut text = String::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("${") {
            if let Some((inner, tail)) = after.split_once('}') {
                let inner = inner.trim();
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                out.push(match inner {
                    "*" => Piece::Escaped('*'),
                    "?" => Piece::Escaped('?'),
                    "$" => Piece::Escaped('$'),
                    _ => match inner.split_once(',') {
                        Some((n, d)) => Piece::Var {
                            name: n.trim().to_ascii_lowercase(),
                            default: Some(d.trim().trim_matches('\'').to_owned()),
                        },
                        None => Piece::Var {
                            name: inner.to_ascii_lowercase(),
                            default: None,
                        },
                    },
                });
                rest = tail;
                continue;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            text.push(c);
        }
        rest = chars.as_str();
    }
    if !text.is_empty() {
        out.push(Piece::Text(text));
    }
    Some(out)
}

fn tokens_of(text: &str, wildcards: bool) -> Vec<Tok> {
    text.chars()
        .map(|c| match c {
            '*' if wildcards => Tok::Star,
            '?' if wildcards => Tok::Question,
            other => Tok::Lit(other),
        })
        .collect()
}

fn substitute_tokens(pieces: &[Piece], vars: &dyn Facts) -> Option<Vec<Tok>> {
    let mut out = Vec::new();
    for p in pieces {
        match p {
            Piece::Text(t) => out.extend(tokens_of(t, true)),
            Piece::Escaped(c) => out.push(Tok::Lit(*c)),
            // A substituted value is literal text: its `*` is not a wildcard.
            Piece::Var { name, default } => out.extend(tokens_of(&resolve(vars, name, default.as_deref())?, false)),
        }
    }
    Some(out)
}

/// A `*`-free run of a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Segment {
    toks: Vec<Tok>,
    /// The segment as a string when it has no `?` (searched with the two-way algorithm).
    literal: Option<String>,
}

impl Segment {
    fn new(toks: Vec<Tok>) -> Segment {
        let literal = toks
            .iter()
            .map(|t| match t {
                Tok::Lit(c) => Some(*c),
                _ => None,
            })
            .collect::<Option<String>>();
        Segment { toks, literal }
    }

    /// Matches at the start of `text`; returns the byte length consumed.
    fn match_prefix(&self, text: &str, ignore_case: bool) -> Option<usize> {
        let mut chars = text.char_indices();
        for t in &self.toks {
            let (_, c) = chars.next()?;
            if !tok_eq(*t, c, ignore_case) {
                return None;
            }
        }
        Some(chars.next().map_or(text.len(), |(i, _)| i))
    }

    /// The leftmost occurrence in `text`: (start, end) byte offsets.
    fn find(&self, text: &str, ignore_case: bool) -> Option<(usize, usize)> {
        if self.toks.is_empty() {
            return Some((0, 0));
        }
        if let (Some(lit), false) = (&self.literal, ignore_case) {
            return text.find(lit.as_str()).map(|s| (s, s + lit.len()));
        }
        if ignore_case {
            // Case-insensitive matching is for Action names: short texts, a direct scan.
            return text.char_indices().find_map(|(i, _)| {
                text.get(i..)
                    .and_then(|t| self.match_prefix(t, true))
                    .map(|n| (i, i + n))
            });
        }
        shift_and(&self.toks, text)
    }
}

fn tok_eq(t: Tok, c: char, ignore_case: bool) -> bool {
    match t {
        Tok::Question => true,
        Tok::Star => false,
        Tok::Lit(p) if ignore_case => p == c || p.to_lowercase().eq(c.to_lowercase()),
        Tok::Lit(p) => p == c,
    }
}

/// Leftmost occurrence of a segment with `?` (Shift-And, Baeza-Yates–Gonnet): one bit per
/// segment position, ⌈m/64⌉ words updated per text character.
fn shift_and(toks: &[Tok], text: &str) -> Option<(usize, usize)> {
    let m = toks.len();
    let words = m.div_ceil(64);
    let mut any = vec![0u64; words];
    let mut by_char: HashMap<char, Vec<u64>> = HashMap::new();
    for (i, t) in toks.iter().enumerate() {
        let (w, bit) = (i / 64, 1u64 << (i % 64));
        match t {
            Tok::Question => {
                if let Some(x) = any.get_mut(w) {
                    *x |= bit;
                }
            }
            Tok::Lit(c) => {
                let mask = by_char.entry(*c).or_insert_with(|| vec![0u64; words]);
                if let Some(x) = mask.get_mut(w) {
                    *x |= bit;
                }
            }
            Tok::Star => return None,
        }
    }
    let last = (m - 1) / 64;
    let last_bit = 1u64 << ((m - 1) % 64);
    let mut state = vec![0u64; words];
    let mut starts = std::collections::VecDeque::with_capacity(m);
    for (pos, c) in text.char_indices() {
        if starts.len() == m {
            starts.pop_front();
        }
        starts.push_back(pos);
        let masks = by_char.get(&c);
        let mut carry = 1u64;
        for (w, s) in state.iter_mut().enumerate() {
            let next_carry = *s >> 63;
            let allowed = any.get(w).copied().unwrap_or(0) | masks.and_then(|v| v.get(w)).copied().unwrap_or(0);
            *s = ((*s << 1) | carry) & allowed;
            carry = next_carry;
        }
        if state.get(last).is_some_and(|s| s & last_bit != 0) {
            let start = starts.front().copied().unwrap_or(pos);
            return Some((start, pos + c.len_utf8()));
        }
    }
    None
}

/// A compiled pattern: its `*`-separated segments.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Matcher {
    segments: Vec<Segment>,
}

impl Matcher {
    fn compile(toks: &[Tok]) -> Matcher {
        let segments = toks
            .split(|t| *t == Tok::Star)
            .map(|s| Segment::new(s.to_vec()))
            .collect();
        Matcher { segments }
    }

    fn matches(&self, text: &str, ignore_case: bool) -> bool {
        let Some((first, rest)) = self.segments.split_first() else {
            return text.is_empty();
        };
        let Some((last, middle)) = rest.split_last() else {
            // No `*`: the whole text.
            return first.match_prefix(text, ignore_case) == Some(text.len());
        };
        let Some(mut pos) = first.match_prefix(text, ignore_case) else {
            return false;
        };
        // The last segment must be a suffix that does not overlap the first.
        let Some(end_start) = suffix_start(text, last.toks.len()) else {
            return false;
        };
        if end_start < pos {
            return false;
        }
        match text.get(end_start..) {
            Some(tail) if last.match_prefix(tail, ignore_case) == Some(tail.len()) => {}
            _ => return false,
        }
        for seg in middle {
            let Some(window) = text.get(pos..end_start) else {
                return false;
            };
            match seg.find(window, ignore_case) {
                Some((_, end)) => pos += end,
                None => return false,
            }
        }
        true
    }
}

/// The byte offset where the last `n` characters of `text` start.
fn suffix_start(text: &str, n: usize) -> Option<usize> {
    if n == 0 {
        return Some(text.len());
    }
    text.char_indices().rev().nth(n - 1).map(|(i, _)| i)
}

/// Whether `text` matches the wildcard `pattern` (compiled on the spot; for one-off checks).
pub fn like(pattern: &str, text: &str, vars: Option<&dyn Facts>, ignore_case: bool) -> bool {
    Glob::new(pattern).matches(text, vars, ignore_case)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Context;

    fn vars() -> Context {
        let mut c = Context::new();
        c.set("aws:username", "alice");
        c.set("aws:PrincipalTag/team", "blue");
        c
    }

    #[test]
    fn wildcards() {
        assert!(like("kms:*", "kms:Encrypt", None, true));
        assert!(like("KMS:encrypt", "kms:Encrypt", None, true));
        assert!(!like("KMS:encrypt", "kms:Encrypt", None, false));
        assert!(like(
            "kms:GenerateDataKey*",
            "kms:GenerateDataKeyWithoutPlaintext",
            None,
            true
        ));
        assert!(like("kms:Re?ncrypt*", "kms:ReEncryptFrom", None, true));
        assert!(!like("kms:Describe*", "kms:Decrypt", None, true));
        assert!(like("*", "", None, false));
        assert!(like("a*b*c", "aXbYbZc", None, false));
        assert!(!like("a*b*c", "aXbYbZ", None, false));
        assert!(like("a*a", "aa", None, false));
        assert!(!like("a*a", "a", None, false), "prefix and suffix may not overlap");
        assert!(like("??", "日本", None, false), "? is one character");
        assert!(!like("???", "日本", None, false));
        assert!(like("*本語*", "日本語キー", None, false));
        assert!(like("a?c*x?z", "abcQQxyz", None, false));
        assert!(like("*b?d*", "aaabxdaaa", None, false));
        assert!(!like("*b?d*", "aaabxeaaa", None, false));
        assert!(like("x*💡*y", "x-a💡b-y", None, false));
        assert!(like("", "", None, false));
        assert!(!like("", "a", None, false));
    }

    /// The pattern from the hostile-client report: a long middle segment against a long text
    /// that nearly matches everywhere must finish at once (it took 5.9 s before).
    #[test]
    fn hostile_patterns_are_linear() {
        let text = "a".repeat(400_000);
        let start = std::time::Instant::now();
        let pattern = format!("*{}b", "a".repeat(15_000));
        assert!(!like(&pattern, &text, None, false));
        let pattern = format!("*{}b*", "a".repeat(15_000));
        assert!(!like(&pattern, &text, None, false));
        let pattern = format!("*{}b*", "a?".repeat(7_500));
        assert!(!like(&pattern, &text, None, false));
        let pattern = format!("*{}*", "a?".repeat(7_500));
        assert!(like(&pattern, &text, None, false));
        // Generous bound for debug builds on a loaded machine; release takes milliseconds.
        assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
    }

    /// IAM User Guide, policy variables: `arn:aws:s3:::bucket/${aws:username}/*`.
    #[test]
    fn variables_and_escapes() {
        let v = vars();
        let v: Option<&dyn Facts> = Some(&v);
        assert!(like("home/${aws:username}/*", "home/alice/x", v, false));
        assert!(!like("home/${aws:username}/*", "home/bob/x", v, false));
        assert!(like("team-${aws:PrincipalTag/team}", "team-blue", v, false));
        assert!(
            !like("${aws:userid}", "anything", v, false),
            "unresolvable matches nothing"
        );
        assert!(like("${aws:userid, 'anon'}", "anon", v, false));
        assert!(like("literal${*}", "literal*", v, false));
        assert!(!like("literal${*}", "literalX", v, false));
        assert!(
            like("${aws:username}", "${aws:username}", None, false),
            "no variables in 2008-10-17"
        );
    }
}

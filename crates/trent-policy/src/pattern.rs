//! IAM wildcard patterns (`*` any run, `?` one character) with policy variables (`${aws:username}`,
//! `${aws:PrincipalTag/team}`, `${*}` / `${?}` / `${$}` escapes, `${key, 'default'}`), per the IAM
//! User Guide ("IAM policy elements: Variables and tags"). Variables resolve only in version
//! 2012-10-17 documents; an unresolvable variable without default makes the value match nothing.

/// One element of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Star,
    Question,
}

/// Resolves a variable name (already lowercased) to its single value.
pub trait Variables {
    fn variable(&self, name_lower: &str) -> Option<String>;
}

/// No variables (version 2008-10-17 documents, or contexts without any).
pub struct NoVariables;
impl Variables for NoVariables {
    fn variable(&self, _: &str) -> Option<String> {
        None
    }
}

/// Compiles `text`; `None` when a variable cannot be resolved.
fn compile(text: &str, vars: Option<&dyn Variables>, wildcards: bool) -> Option<Vec<Tok>> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let (Some(vars), Some(after)) = (vars, rest.strip_prefix("${")) {
            if let Some(end) = after.find('}') {
                let inner = after[..end].trim();
                rest = &after[end + 1..];
                match inner {
                    "*" => out.push(Tok::Lit('*')),
                    "?" => out.push(Tok::Lit('?')),
                    "$" => out.push(Tok::Lit('$')),
                    _ => {
                        let (name, default) = match inner.split_once(',') {
                            Some((n, d)) => (n.trim(), Some(d.trim().trim_matches('\'').to_owned())),
                            None => (inner, None),
                        };
                        let value = vars.variable(&name.to_ascii_lowercase()).or(default)?;
                        out.extend(value.chars().map(Tok::Lit));
                    }
                }
                continue;
            }
        }
        let mut chars = rest.chars();
        let c = chars.next()?;
        rest = chars.as_str();
        out.push(match c {
            '*' if wildcards => Tok::Star,
            '?' if wildcards => Tok::Question,
            other => Tok::Lit(other),
        });
    }
    Some(out)
}

fn matches_tokens(pat: &[Tok], text: &[char], ignore_case: bool) -> bool {
    // Iterative glob match with backtracking on the last star (linear in practice).
    let (mut p, mut t) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    let eq = |a: char, b: char| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b) || a.to_lowercase().eq(b.to_lowercase())
        } else {
            a == b
        }
    };
    while t < text.len() {
        match pat.get(p) {
            Some(Tok::Star) => {
                star = Some(p);
                p += 1;
                mark = t;
            }
            Some(Tok::Question) => {
                p += 1;
                t += 1;
            }
            Some(Tok::Lit(c)) if eq(*c, text[t]) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some(s) => {
                    p = s + 1;
                    mark += 1;
                    t = mark;
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|tok| *tok == Tok::Star)
}

/// Whether `text` matches the wildcard `pattern` (after variable substitution).
pub fn like(pattern: &str, text: &str, vars: Option<&dyn Variables>, ignore_case: bool) -> bool {
    let Some(tokens) = compile(pattern, vars, true) else {
        return false;
    };
    let text: Vec<char> = text.chars().collect();
    matches_tokens(&tokens, &text, ignore_case)
}

/// The policy value with variables substituted (no wildcards); `None` if unresolvable.
pub fn substitute(value: &str, vars: Option<&dyn Variables>) -> Option<String> {
    compile(value, vars, false).map(|toks| {
        toks.into_iter()
            .map(|t| match t {
                Tok::Lit(c) => c,
                Tok::Star => '*',
                Tok::Question => '?',
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct V;
    impl Variables for V {
        fn variable(&self, n: &str) -> Option<String> {
            match n {
                "aws:username" => Some("alice".into()),
                "aws:principaltag/team" => Some("blue".into()),
                _ => None,
            }
        }
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
    }

    /// IAM User Guide, policy variables: `arn:aws:s3:::bucket/${aws:username}/*`.
    #[test]
    fn variables_and_escapes() {
        assert!(like("home/${aws:username}/*", "home/alice/x", Some(&V), false));
        assert!(!like("home/${aws:username}/*", "home/bob/x", Some(&V), false));
        assert!(like("team-${aws:PrincipalTag/team}", "team-blue", Some(&V), false));
        assert!(
            !like("${aws:userid}", "anything", Some(&V), false),
            "unresolvable matches nothing"
        );
        assert!(like("${aws:userid, 'anon'}", "anon", Some(&V), false));
        assert!(like("literal${*}", "literal*", Some(&V), false));
        assert!(!like("literal${*}", "literalX", Some(&V), false));
        assert!(
            like("${aws:username}", "${aws:username}", None, false),
            "no variables in 2008-10-17"
        );
    }
}

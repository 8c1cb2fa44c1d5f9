//! A minimal XML tree for the AWS Query protocol responses of the IAM and STS subset (IAM API
//! Reference, "Common response structure"): elements and escaped text, nothing else.

/// An element with children, or a text node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Xml {
    Elem(String, Vec<Xml>),
    Text(String),
}

impl Xml {
    pub fn el(name: &str, children: Vec<Xml>) -> Xml {
        Xml::Elem(name.to_owned(), children)
    }

    /// `<name>text</name>`.
    pub fn leaf(name: &str, text: impl Into<String>) -> Xml {
        Xml::Elem(name.to_owned(), vec![Xml::Text(text.into())])
    }

    /// `<name><member>…</member>…</name>`, AWS's list encoding.
    pub fn members(name: &str, items: Vec<Xml>) -> Xml {
        Xml::Elem(
            name.to_owned(),
            items
                .into_iter()
                .map(|i| Xml::el("member", vec![i]).flatten_member())
                .collect(),
        )
    }

    /// A `member` wrapping an element whose children become the member's children.
    fn flatten_member(self) -> Xml {
        match self {
            Xml::Elem(m, mut inner) if m == "member" && inner.len() == 1 => match inner.remove(0) {
                Xml::Elem(_, children) => Xml::Elem(m, children),
                text @ Xml::Text(_) => Xml::Elem(m, vec![text]),
            },
            other => other,
        }
    }

    pub fn write(&self, out: &mut String) {
        match self {
            Xml::Text(t) => escape(t, out),
            Xml::Elem(name, children) => {
                out.push('<');
                out.push_str(name);
                out.push('>');
                for c in children {
                    c.write(out);
                }
                out.push_str("</");
                out.push_str(name);
                out.push('>');
            }
        }
    }
}

pub fn escape(t: &str, out: &mut String) {
    for c in t.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 does not allow at all, even as references (§2.2): written as
            // U+FFFD so that one stored value can never make a whole answer unparseable.
            c if !is_xml_char(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// XML 1.0 `Char`: `#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]`.
pub fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_xml_forbids_are_replaced() {
        let mut out = String::new();
        escape("a\u{1}b\u{1b}c\td\u{FFFE}é", &mut out);
        assert_eq!(out, "a\u{FFFD}b\u{FFFD}c\td\u{FFFD}é");
    }

    #[test]
    fn renders_members_and_escapes() {
        let x = Xml::el(
            "R",
            vec![
                Xml::members("Users", vec![Xml::el("User", vec![Xml::leaf("UserName", "a<b")])]),
                Xml::leaf("T", "x&y"),
            ],
        );
        let mut s = String::new();
        x.write(&mut s);
        assert_eq!(
            s,
            "<R><Users><member><UserName>a&lt;b</UserName></member></Users><T>x&amp;y</T></R>"
        );
        let mut s = String::new();
        Xml::members("Names", vec![Xml::Text("p1".into())]).write(&mut s);
        assert_eq!(s, "<Names><member>p1</member></Names>");
    }
}

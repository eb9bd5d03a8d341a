//! Prompt text templates: `{{var}}` and `{{var|money}}` (filters from [`crate::say`]).
//! Parsed and checked at validate time; rendered per call.

use crate::say::{say, SayAs};
use yingda_speech::recognizer::Lang;

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Literal text.
    Text(String),
    /// A variable, optionally read as a kind.
    Var {
        /// Variable name.
        name: String,
        /// Reading, if a filter was given.
        say: Option<SayAs>,
    },
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    /// Its pieces in order.
    pub pieces: Vec<Piece>,
}

/// Why a template does not parse; `offset` is the byte offset in the template text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// `{{` without `}}`.
    #[error("`{{{{` at byte {offset} is never closed")]
    Unclosed {
        /// Where.
        offset: usize,
    },
    /// `{{}}` or a name that is not `[A-Za-z_][A-Za-z0-9_]*`.
    #[error("{name:?} at byte {offset} is not a variable name")]
    BadName {
        /// The text found.
        name: String,
        /// Where.
        offset: usize,
    },
    /// `{{x|foo}}` with an unknown filter.
    #[error(
        "unknown filter {filter:?} at byte {offset} (known: number, money, date, time, digits, datetime)"
    )]
    BadFilter {
        /// The filter.
        filter: String,
        /// Where.
        offset: usize,
    },
}

/// Whether `s` is a variable name.
pub fn is_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

impl Template {
    /// Parse a template.
    ///
    /// # Errors
    /// [`TemplateError`] for the first bad placeholder.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut pieces = Vec::new();
        let mut rest = text;
        let mut base = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                pieces.push(Piece::Text(rest[..open].to_string()));
            }
            let offset = base + open;
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or(TemplateError::Unclosed { offset })?;
            let inner = &after[..close];
            let (name, filter) = match inner.split_once('|') {
                Some((n, f)) => (n.trim(), Some(f.trim())),
                None => (inner.trim(), None),
            };
            if !is_name(name) {
                return Err(TemplateError::BadName {
                    name: name.to_string(),
                    offset,
                });
            }
            let say = match filter {
                None => None,
                Some(f) => Some(SayAs::from_name(f).ok_or_else(|| TemplateError::BadFilter {
                    filter: f.to_string(),
                    offset,
                })?),
            };
            pieces.push(Piece::Var {
                name: name.to_string(),
                say,
            });
            base = offset + 2 + close + 2;
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        Ok(Template { pieces })
    }

    /// Variable names used, in order.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Var { name, .. } => Some(name.as_str()),
            Piece::Text(_) => None,
        })
    }

    /// Render with `lookup` giving each variable's value (missing → empty).
    pub fn render<'a>(&self, lang: Lang, lookup: impl Fn(&str) -> Option<&'a str>) -> String {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Var { name, say: kind } => {
                    let v = lookup(name).unwrap_or("");
                    match kind {
                        Some(k) => out.push_str(&say(v, *k, lang)),
                        None => out.push_str(v),
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_render() {
        let t = Template::parse("余额 {{ balance|money }} 元，卡号 {{card}}").unwrap();
        assert_eq!(t.vars().collect::<Vec<_>>(), ["balance", "card"]);
        let r = t.render(Lang::Zh, |n| match n {
            "balance" => Some("350.5"),
            _ => Some("1234"),
        });
        assert_eq!(r, "余额 三百五十元五角 元，卡号 1234");
    }

    #[test]
    fn errors_name_the_offset() {
        assert_eq!(
            Template::parse("a {{x").unwrap_err().to_string(),
            "`{{` at byte 2 is never closed"
        );
        assert_eq!(
            Template::parse("{{1x}}").unwrap_err().to_string(),
            "\"1x\" at byte 0 is not a variable name"
        );
        assert_eq!(
            Template::parse("{{x|euro}}").unwrap_err().to_string(),
            "unknown filter \"euro\" at byte 0 (known: number, money, date, time, digits, datetime)"
        );
    }
}

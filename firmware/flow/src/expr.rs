//! The condition and assignment language of `branch` and `set` nodes.
//!
//! ```text
//! expr    := or
//! or      := and ("||" and)*
//! and     := not ("&&" not)*
//! not     := "!" not | cmp
//! cmp     := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum)?
//! sum     := atom (("+" | "-") atom)*
//! atom    := NAME | "string" | INTEGER | true | false | "(" expr ")"
//! ```
//! Values are strings. `<`, `>`, `+`, `-` compare or add as integers when both sides are
//! integers (`+` concatenates otherwise; `-` of non-integers is empty). A value is true
//! unless it is empty, `0` or `false`. Parsed and its variables checked at validate time;
//! evaluation never fails or panics.

/// A parsed expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A variable.
    Var(String),
    /// A literal.
    Lit(String),
    /// `!e`.
    Not(Box<Expr>),
    /// A binary operation.
    Bin(Op, Box<Expr>, Box<Expr>),
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `||`
    Or,
    /// `&&`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
}

/// Why an expression does not parse; `offset` is a byte offset into the expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at byte {offset}")]
pub struct ExprError {
    /// What is wrong.
    pub message: String,
    /// Where.
    pub offset: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Str(String),
    Int(String),
    Sym(&'static str),
}

fn lex(s: &str) -> Result<Vec<(Tok, usize)>, ExprError> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let syms = [
        "||", "&&", "==", "!=", "<=", ">=", "<", ">", "!", "(", ")", "+", "-",
    ];
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'"' {
            let start = i;
            i += 1;
            let from = i;
            while i < b.len() && b[i] != b'"' {
                i += 1;
            }
            if i >= b.len() {
                return Err(ExprError {
                    message: "unterminated string".into(),
                    offset: start,
                });
            }
            out.push((Tok::Str(s[from..i].to_string()), start));
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            out.push((Tok::Int(s[start..i].to_string()), start));
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push((Tok::Name(s[start..i].to_string()), start));
        } else if let Some(sym) = syms.iter().find(|sym| s[i..].starts_with(**sym)) {
            out.push((Tok::Sym(sym), i));
            i += sym.len();
        } else {
            let ch = s[i..].chars().next().unwrap_or('?');
            return Err(ExprError {
                message: format!("unexpected {ch:?}"),
                offset: i,
            });
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    end: usize,
}

impl Parser {
    fn peek_sym(&self, sym: &str) -> bool {
        matches!(self.toks.get(self.pos), Some((Tok::Sym(s), _)) if *s == sym)
    }
    fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |t| t.1)
    }
    fn bin(
        &mut self,
        ops: &[(&'static str, Op)],
        next: fn(&mut Self) -> Result<Expr, ExprError>,
        repeat: bool,
    ) -> Result<Expr, ExprError> {
        let mut left = next(self)?;
        loop {
            let Some(&(_, op)) = ops.iter().find(|(s, _)| self.peek_sym(s)) else {
                return Ok(left);
            };
            self.pos += 1;
            let right = next(self)?;
            left = Expr::Bin(op, Box::new(left), Box::new(right));
            if !repeat {
                return Ok(left);
            }
        }
    }
    fn or(&mut self) -> Result<Expr, ExprError> {
        self.bin(&[("||", Op::Or)], Self::and, true)
    }
    fn and(&mut self) -> Result<Expr, ExprError> {
        self.bin(&[("&&", Op::And)], Self::not, true)
    }
    fn not(&mut self) -> Result<Expr, ExprError> {
        if self.peek_sym("!") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.cmp()
    }
    fn cmp(&mut self) -> Result<Expr, ExprError> {
        let ops = [
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("<", Op::Lt),
            (">", Op::Gt),
        ];
        self.bin(&ops, Self::sum, false)
    }
    fn sum(&mut self) -> Result<Expr, ExprError> {
        self.bin(&[("+", Op::Add), ("-", Op::Sub)], Self::atom, true)
    }
    fn atom(&mut self) -> Result<Expr, ExprError> {
        let offset = self.offset();
        let Some((tok, _)) = self.toks.get(self.pos).cloned() else {
            return Err(ExprError {
                message: "expected a value".into(),
                offset,
            });
        };
        self.pos += 1;
        match tok {
            Tok::Name(n) if n == "true" || n == "false" => Ok(Expr::Lit(n)),
            Tok::Name(n) => Ok(Expr::Var(n)),
            Tok::Str(s) | Tok::Int(s) => Ok(Expr::Lit(s)),
            Tok::Sym("(") => {
                let e = self.or()?;
                if !self.peek_sym(")") {
                    return Err(ExprError {
                        message: "expected `)`".into(),
                        offset: self.offset(),
                    });
                }
                self.pos += 1;
                Ok(e)
            }
            Tok::Sym(s) => Err(ExprError {
                message: format!("unexpected `{s}`"),
                offset,
            }),
        }
    }
}

impl Expr {
    /// Parse an expression.
    ///
    /// # Errors
    /// [`ExprError`] at the first token that does not fit the grammar.
    pub fn parse(s: &str) -> Result<Expr, ExprError> {
        let mut p = Parser {
            toks: lex(s)?,
            pos: 0,
            end: s.len(),
        };
        let e = p.or()?;
        if p.pos < p.toks.len() {
            return Err(ExprError {
                message: "unexpected trailing input".into(),
                offset: p.offset(),
            });
        }
        Ok(e)
    }

    /// Variables used, in order of appearance.
    pub fn vars(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::Var(v) => out.push(v),
            Expr::Lit(_) => {}
            Expr::Not(e) => e.collect(out),
            Expr::Bin(_, a, b) => {
                a.collect(out);
                b.collect(out);
            }
        }
    }

    /// Evaluate with `lookup` giving variable values (missing → empty).
    pub fn eval(&self, lookup: &dyn Fn(&str) -> Option<String>) -> String {
        let b = |v: bool| {
            if v {
                "true".to_string()
            } else {
                "false".to_string()
            }
        };
        match self {
            Expr::Var(v) => lookup(v).unwrap_or_default(),
            Expr::Lit(l) => l.clone(),
            Expr::Not(e) => b(!truthy(&e.eval(lookup))),
            Expr::Bin(op, l, r) => {
                let (x, y) = (l.eval(lookup), r.eval(lookup));
                let ints = x
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .zip(y.trim().parse::<i64>().ok());
                match op {
                    Op::Or => b(truthy(&x) || truthy(&y)),
                    Op::And => b(truthy(&x) && truthy(&y)),
                    Op::Eq => b(x == y),
                    Op::Ne => b(x != y),
                    Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                        let ord = match ints {
                            Some((a, c)) => a.cmp(&c),
                            None => x.cmp(&y),
                        };
                        b(match op {
                            Op::Lt => ord.is_lt(),
                            Op::Le => ord.is_le(),
                            Op::Gt => ord.is_gt(),
                            _ => ord.is_ge(),
                        })
                    }
                    Op::Add => match ints {
                        Some((a, c)) => a.saturating_add(c).to_string(),
                        None => x + &y,
                    },
                    Op::Sub => ints
                        .map(|(a, c)| a.saturating_sub(c).to_string())
                        .unwrap_or_default(),
                }
            }
        }
    }
}

/// Truthiness of a value.
pub fn truthy(v: &str) -> bool {
    !(v.is_empty() || v == "0" || v == "false")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(s: &str) -> String {
        Expr::parse(s).unwrap().eval(&|n| match n {
            "n" => Some("9".into()),
            "status" => Some("frozen".into()),
            _ => None,
        })
    }

    #[test]
    fn evaluates() {
        assert_eq!(
            ev("n > 10"),
            "false",
            "integers compare as numbers, not text"
        );
        assert_eq!(ev("n + 1"), "10");
        assert_eq!(ev("status == \"frozen\" && !(n < 3)"), "true");
        assert_eq!(ev("missing || n == 9"), "true");
        assert_eq!(Expr::parse("a == b || c").unwrap().vars(), ["a", "b", "c"]);
    }

    #[test]
    fn errors_name_the_offset() {
        assert_eq!(
            Expr::parse("a == ").unwrap_err().to_string(),
            "expected a value at byte 5"
        );
        assert_eq!(
            Expr::parse("a = b").unwrap_err().to_string(),
            "unexpected '=' at byte 2"
        );
        assert_eq!(
            Expr::parse("(a").unwrap_err().to_string(),
            "expected `)` at byte 2"
        );
        assert_eq!(
            Expr::parse("\"x").unwrap_err().to_string(),
            "unterminated string at byte 0"
        );
        assert_eq!(
            Expr::parse("a b").unwrap_err().to_string(),
            "unexpected trailing input at byte 2"
        );
    }
}

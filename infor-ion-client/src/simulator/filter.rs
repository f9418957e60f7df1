//! The IDO filter language the simulator understands: the subset the client emits, parsed
//! properly; anything else is refused the way a server refuses a bad `WHERE` clause.
//!
//! ```text
//! expr    := term (("AND" | "OR") term)*
//! term    := "(" expr ")" | compare | "1 = 0"
//! compare := NAME op literal | NAME "IN" "(" literal ("," literal)* ")" | NAME "IS" "NULL"
//! op      := "=" | "<>" | ">=" | ">" | "<=" | "<"
//! literal := N'text' | 'text' | number
//! ```
//! `AND` binds tighter than `OR`, as in SQL.
//!
//! A quoted literal that reads as a date-time (`'20260201 08:00:00.000'`, the form the client
//! writes; the older `'2026-02-01 08:00:00.000'` and `'2026-02-01T08:00:00.000'` too) is
//! compared with a stored date-time as wall times, neither read in any zone: SQL Server
//! compares a zone-less `datetime` column the same way, so a literal in the wrong zone misses
//! rows here as it would there.

use std::cmp::Ordering;

use rust_decimal::Decimal;

use super::data::Row;
use crate::values::parse_datetime;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(String),
    Text(String),
    Number(Decimal),
    Op(&'static str),
    Open,
    Close,
    Comma,
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Both.
    And(Box<Expr>, Box<Expr>),
    /// Either.
    Or(Box<Expr>, Box<Expr>),
    /// `name op literal`.
    Compare(String, &'static str, Literal),
    /// `name IN (...)`.
    In(String, Vec<Literal>),
    /// `name IS NULL`.
    IsNull(String),
    /// `1 = 0`.
    False,
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// A quoted string.
    Text(String),
    /// A number.
    Number(Decimal),
}

fn tokenize(input: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\n' | '\r' => i += 1,
            '(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            ',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            '=' => {
                tokens.push(Token::Op("="));
                i += 1;
            }
            '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let op = match (c, next) {
                    ('<', Some('>')) => "<>",
                    ('<', Some('=')) => "<=",
                    ('>', Some('=')) => ">=",
                    ('<', _) => "<",
                    _ => ">",
                };
                i += op.len();
                tokens.push(Token::Op(op));
            }
            '\'' => {
                let (text, next) = quoted(&chars, i)?;
                tokens.push(Token::Text(text));
                i = next;
            }
            'N' if chars.get(i + 1) == Some(&'\'') => {
                let (text, next) = quoted(&chars, i + 1)?;
                tokens.push(Token::Text(text));
                i = next;
            }
            c if c.is_ascii_digit() || c == '-' => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                let number = text
                    .parse::<Decimal>()
                    .map_err(|_| format!("invalid number `{text}`"))?;
                tokens.push(Token::Number(number));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                tokens.push(Token::Name(chars[start..i].iter().collect()));
            }
            other => return Err(format!("unexpected character `{other}`")),
        }
    }
    Ok(tokens)
}

/// Read a `'...'` literal starting at the quote; `''` is an escaped quote.
fn quoted(chars: &[char], start: usize) -> Result<(String, usize), String> {
    let mut text = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err("unterminated string literal".into()),
            Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                text.push('\'');
                i += 2;
            }
            Some('\'') => return Ok((text, i + 1)),
            Some(c) => {
                text.push(*c);
                i += 1;
            }
        }
    }
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Name(n)) if n.eq_ignore_ascii_case(word))
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.keyword("OR") {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.term()?;
        while self.keyword("AND") {
            self.at += 1;
            left = Expr::And(Box::new(left), Box::new(self.term()?));
        }
        Ok(left)
    }

    fn literal(&mut self) -> Result<Literal, String> {
        match self.next() {
            Some(Token::Text(t)) => Ok(Literal::Text(t)),
            Some(Token::Number(n)) => Ok(Literal::Number(n)),
            other => Err(format!("expected a literal, found {other:?}")),
        }
    }

    fn term(&mut self) -> Result<Expr, String> {
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or()?;
                match self.next() {
                    Some(Token::Close) => Ok(inner),
                    other => Err(format!("expected `)`, found {other:?}")),
                }
            }
            Some(Token::Number(n)) if n == Decimal::ONE => match (self.next(), self.next()) {
                (Some(Token::Op("=")), Some(Token::Number(z))) if z.is_zero() => Ok(Expr::False),
                _ => Err("only `1 = 0` is accepted as a constant condition".into()),
            },
            Some(Token::Name(name)) => {
                if self.keyword("IN") {
                    self.at += 1;
                    if self.next() != Some(Token::Open) {
                        return Err("expected `(` after IN".into());
                    }
                    let mut values = vec![self.literal()?];
                    loop {
                        match self.next() {
                            Some(Token::Comma) => values.push(self.literal()?),
                            Some(Token::Close) => break,
                            other => return Err(format!("expected `,` or `)`, found {other:?}")),
                        }
                    }
                    return Ok(Expr::In(name, values));
                }
                if self.keyword("IS") {
                    self.at += 1;
                    if !self.keyword("NULL") {
                        return Err("expected NULL after IS".into());
                    }
                    self.at += 1;
                    return Ok(Expr::IsNull(name));
                }
                match self.next() {
                    Some(Token::Op(op)) => Ok(Expr::Compare(name, op, self.literal()?)),
                    other => Err(format!(
                        "expected an operator after `{name}`, found {other:?}"
                    )),
                }
            }
            other => Err(format!("unexpected {other:?}")),
        }
    }
}

/// Parse a filter; the error reads like a server's syntax error.
pub fn parse(input: &str) -> Result<Expr, String> {
    let tokens = tokenize(input)?;
    if tokens.is_empty() {
        return Err("empty filter".into());
    }
    let mut parser = Parser { tokens, at: 0 };
    let expr = parser.or()?;
    match parser.peek() {
        None => Ok(expr),
        Some(extra) => Err(format!("unexpected {extra:?} after the condition")),
    }
}

/// A stored value read the ways [`compare`] reads it (number, date-time, lower-case text),
/// parsed once: an `IN` list or a sort compares one value many times, and parsing dates on
/// every comparison made a debug-build simulator take seconds per page at 10,000 rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    number: Option<Decimal>,
    date: Option<chrono::DateTime<chrono::Utc>>,
    lower: String,
}

impl Parsed {
    /// Parse `value` once.
    pub fn of(value: &str) -> Self {
        Parsed {
            number: value.trim().parse::<Decimal>().ok(),
            date: parse_datetime(value),
            lower: value.to_lowercase(),
        }
    }
}

/// Compare a stored value with a literal: as numbers when both are numbers, as date-times when
/// both are dates, else as case-insensitive text (SQL Server's default collation).
pub fn compare(value: &str, literal: &Literal) -> Ordering {
    compare_parsed(&Parsed::of(value), literal)
}

/// [`compare`] with the stored value already parsed. The literal is parsed only as far as the
/// value makes it matter.
pub fn compare_parsed(value: &Parsed, literal: &Literal) -> Ordering {
    match literal {
        Literal::Number(n) => match value.number {
            Some(v) => v.cmp(n),
            None => value.lower.cmp(&n.to_string()),
        },
        Literal::Text(text) => {
            if let Some(a) = value.number
                && let Ok(b) = text.trim().parse::<Decimal>()
            {
                return a.cmp(&b);
            }
            if let Some(a) = value.date
                && let Some(b) = parse_datetime(text)
            {
                return a.cmp(&b);
            }
            value.lower.cmp(&text.to_lowercase())
        }
    }
}

/// Two stored values, both parsed, compared as `compare(a, &Literal::Text(b))` compares them
/// (for sorting).
pub fn compare_values(a: &Parsed, b: &Parsed) -> Ordering {
    if let (Some(x), Some(y)) = (a.number, b.number) {
        return x.cmp(&y);
    }
    if let (Some(x), Some(y)) = (a.date, b.date) {
        return x.cmp(&y);
    }
    a.lower.cmp(&b.lower)
}

impl Expr {
    /// Whether `row` matches. A NULL never matches a comparison (SQL semantics).
    pub fn matches(&self, row: &Row) -> bool {
        let value = |name: &str| row.get(name).and_then(|v| v.as_deref());
        match self {
            Expr::And(a, b) => a.matches(row) && b.matches(row),
            Expr::Or(a, b) => a.matches(row) || b.matches(row),
            Expr::False => false,
            Expr::IsNull(name) => value(name).is_none(),
            Expr::In(name, values) => value(name).is_some_and(|v| {
                let v = Parsed::of(v);
                values
                    .iter()
                    .any(|l| compare_parsed(&v, l) == Ordering::Equal)
            }),
            Expr::Compare(name, op, literal) => value(name).is_some_and(|v| {
                let ord = compare(v, literal);
                match *op {
                    "=" => ord == Ordering::Equal,
                    "<>" => ord != Ordering::Equal,
                    ">=" => ord != Ordering::Less,
                    ">" => ord == Ordering::Greater,
                    "<=" => ord != Ordering::Greater,
                    _ => ord == Ordering::Less,
                }
            }),
        }
    }

    /// Every property name the filter uses (to check they exist).
    pub fn properties(&self) -> Vec<&str> {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => {
                let mut all = a.properties();
                all.extend(b.properties());
                all
            }
            Expr::Compare(name, ..) | Expr::In(name, _) | Expr::IsNull(name) => vec![name],
            Expr::False => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csi::Filter;

    fn row(pairs: &[(&str, Option<&str>)]) -> Row {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned)))
            .collect()
    }

    #[test]
    fn values_parsed_once_compare_as_values_parsed_each_time() {
        let cases = [
            ("10", "9", Ordering::Greater),
            ("2.50", "2.5", Ordering::Equal),
            ("2026-01-02", "2026-01-02 00:00:00.000", Ordering::Equal),
            ("2026-01-02 10:00:00.000", "2026-01-03", Ordering::Less),
            ("abc", "ABD", Ordering::Less),
            ("V10", "v10", Ordering::Equal),
            ("PO0000002", "PO0000010", Ordering::Less),
        ];
        for (a, b, want) in cases {
            let text = Literal::Text(b.to_owned());
            assert_eq!(compare(a, &text), want, "{a} vs {b}");
            assert_eq!(compare_parsed(&Parsed::of(a), &text), want, "{a} vs {b}");
            assert_eq!(
                compare_values(&Parsed::of(a), &Parsed::of(b)),
                want,
                "{a} vs {b}"
            );
        }
        let number = Literal::Number(Decimal::new(125, 1));
        assert_eq!(compare("12.50", &number), Ordering::Equal);
        assert_eq!(
            compare_parsed(&Parsed::of("13"), &number),
            Ordering::Greater
        );
    }

    #[test]
    fn everything_the_client_builds_parses_and_evaluates() {
        let since = chrono::DateTime::parse_from_rfc3339("2026-02-01T00:00:00Z")
            .expect("date")
            .with_timezone(&chrono::Utc);
        let filter = Filter::ge("RecordDate", since)
            .expect("ge")
            .and(Filter::is_in("Stat", ["A", "O'Hara"]).expect("in"))
            .or(Filter::eq("VendNum", "V9").expect("eq"));
        let expr = parse(filter.as_str()).expect("parses");
        let hit = row(&[
            ("RecordDate", Some("2026-02-03 10:00:00.000")),
            ("Stat", Some("o'hara")),
        ]);
        let old = row(&[
            ("RecordDate", Some("2026-01-03 10:00:00.000")),
            ("Stat", Some("A")),
        ]);
        let by_id = row(&[("VendNum", Some("V9"))]);
        assert!(expr.matches(&hit));
        assert!(!expr.matches(&old));
        assert!(expr.matches(&by_id));
        assert!(!parse("1 = 0").expect("false").matches(&hit));
        assert!(
            parse("Qty < 12.5")
                .expect("num")
                .matches(&row(&[("Qty", Some("9"))]))
        );
        assert!(parse("Uf IS NULL").expect("null").matches(&row(&[])));
    }

    #[test]
    fn date_literals_in_every_form_are_the_same_wall_time() {
        let stored = row(&[("RecordDate", Some("2026-02-01 08:00:00.000"))]);
        for literal in [
            "'20260201 08:00:00.000'",
            "'2026-02-01 08:00:00.000'",
            "'2026-02-01T08:00:00.000'",
        ] {
            let equal = parse(&format!("RecordDate = {literal}")).expect("parses");
            let later = parse(&format!("RecordDate > {literal}")).expect("parses");
            assert!(equal.matches(&stored), "{literal}");
            assert!(!later.matches(&stored), "{literal}");
        }
        let earlier = parse("RecordDate >= '20260201 08:00:00.001'").expect("parses");
        assert!(!earlier.matches(&stored));
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "Name LIKE N'x%'",
            "Name = ",
            "Name = N'unterminated",
            "(Stat = N'A'",
            "Stat = N'A' ; DROP TABLE x",
            "GETDATE() > 1",
            "Stat IN ()",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}

//! Queries as text: `Query`'s `Display` form read back (`"carrier = \"AA\" AND distance >=
//! 1000"`), so a query can come from a command line or a log.
//!
//! Grammar: predicates joined by `AND` (any case); a predicate is a column name (no spaces
//! or `=<>(),"`), then `=`, `<=` or `>=` and one literal, or `IN` and a parenthesised,
//! comma-separated list of literals. A literal is a number (as Rust's `f64` parses it, not
//! NaN) or a double-quoted string with the escapes `Display` writes (`\"`, `\\`, `\n`, `\r`,
//! `\t`, `\0`, `\'`, `\u{…}`).

use std::iter::Peekable;
use std::str::{CharIndices, FromStr};

use crate::error::Error;
use crate::predicate::{Op, Predicate, Query};
use crate::value::Literal;

impl FromStr for Query {
    type Err = Error;

    fn from_str(text: &str) -> Result<Query, Error> {
        let mut p = Parser {
            text,
            chars: text.char_indices().peekable(),
        };
        let mut predicates = vec![p.predicate()?];
        loop {
            p.skip_space();
            if p.chars.peek().is_none() {
                return Ok(Query::new(predicates));
            }
            let at = p.at();
            let word = p.word();
            if !word.eq_ignore_ascii_case("AND") {
                return Err(error(at, format!("expected AND, found {word:?}")));
            }
            predicates.push(p.predicate()?);
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    chars: Peekable<CharIndices<'a>>,
}

impl Parser<'_> {
    /// Byte offset of the next character (the text's length at the end).
    fn at(&mut self) -> usize {
        self.chars.peek().map_or(self.text.len(), |&(i, _)| i)
    }

    fn skip_space(&mut self) {
        while self.chars.next_if(|(_, c)| c.is_whitespace()).is_some() {}
    }

    /// The longest run of characters that can be part of a name or a bare word.
    fn word(&mut self) -> &str {
        let start = self.at();
        while self
            .chars
            .next_if(|&(_, c)| !c.is_whitespace() && !"=<>(),\"".contains(c))
            .is_some()
        {}
        &self.text[start..self.at()]
    }

    fn predicate(&mut self) -> Result<Predicate, Error> {
        self.skip_space();
        let at = self.at();
        let column = self.word().to_owned();
        if column.is_empty() {
            return Err(error(at, "expected a column name".into()));
        }
        self.skip_space();
        let at = self.at();
        let op = match self.chars.next().map(|(_, c)| c) {
            Some('=') => Op::Eq,
            Some(c @ ('<' | '>')) if self.chars.next_if(|&(_, d)| d == '=').is_some() => {
                if c == '<' { Op::Le } else { Op::Ge }
            }
            Some(c) if c.is_alphabetic() => {
                let rest = self.word();
                if !(c.to_string() + rest).eq_ignore_ascii_case("IN") {
                    return Err(error(at, "expected =, <=, >= or IN".into()));
                }
                return self.in_list(column);
            }
            _ => return Err(error(at, "expected =, <=, >= or IN".into())),
        };
        Ok(Predicate::new(column, op, self.literal()?))
    }

    fn in_list(&mut self, column: String) -> Result<Predicate, Error> {
        self.skip_space();
        let at = self.at();
        if self.chars.next_if(|&(_, c)| c == '(').is_none() {
            return Err(error(at, "expected ( after IN".into()));
        }
        let mut literals = vec![self.literal()?];
        loop {
            self.skip_space();
            let at = self.at();
            match self.chars.next().map(|(_, c)| c) {
                Some(',') => literals.push(self.literal()?),
                Some(')') => return Ok(Predicate::is_in(column, literals)),
                _ => return Err(error(at, "expected , or ) in the IN list".into())),
            }
        }
    }

    fn literal(&mut self) -> Result<Literal, Error> {
        self.skip_space();
        let at = self.at();
        if self.chars.next_if(|&(_, c)| c == '"').is_some() {
            return self.string(at).map(Literal::Str);
        }
        let word = self.word().to_owned();
        match word.parse::<f64>() {
            Ok(x) if !x.is_nan() => Ok(Literal::Num(x)),
            _ => {
                let found = match self.chars.peek() {
                    _ if !word.is_empty() => format!("{word:?}"),
                    Some((_, c)) => format!("{c:?}"),
                    None => "the end".into(),
                };
                Err(error(
                    at,
                    format!("expected a number or a quoted string, found {found}"),
                ))
            }
        }
    }

    /// The rest of a string literal whose opening quote (at byte `at`) was consumed.
    fn string(&mut self, at: usize) -> Result<String, Error> {
        let mut out = String::new();
        loop {
            let Some((i, c)) = self.chars.next() else {
                return Err(error(at, "unterminated string".into()));
            };
            match c {
                '"' => return Ok(out),
                '\\' => {
                    let escaped = match self.chars.next().map(|(_, c)| c) {
                        Some('"') => '"',
                        Some('\\') => '\\',
                        Some('\'') => '\'',
                        Some('n') => '\n',
                        Some('r') => '\r',
                        Some('t') => '\t',
                        Some('0') => '\0',
                        Some('u') => self.unicode(i)?,
                        _ => return Err(error(i, "unknown escape".into())),
                    };
                    out.push(escaped);
                }
                c => out.push(c),
            }
        }
    }

    /// `{hex}` after `\u` (the backslash at byte `at`).
    fn unicode(&mut self, at: usize) -> Result<char, Error> {
        let bad = || error(at, "bad \\u{…} escape".into());
        if self.chars.next_if(|&(_, c)| c == '{').is_none() {
            return Err(bad());
        }
        let mut hex = String::new();
        while let Some((_, c)) = self.chars.next_if(|&(_, c)| c.is_ascii_hexdigit()) {
            hex.push(c);
        }
        if self.chars.next_if(|&(_, c)| c == '}').is_none() {
            return Err(bad());
        }
        u32::from_str_radix(&hex, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(bad)
    }
}

fn error(at: usize, reason: String) -> Error {
    Error::QueryText { at, reason }
}

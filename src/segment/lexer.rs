//! Turns segment text into tokens with byte spans. Iterative: no recursion on input.

use chrono::NaiveDate;

use super::{
    ast::Span,
    error::{ErrorKind, SegmentError},
};
use crate::money::Decimal;

/// A token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// An identifier or keyword, lowercased.
    Ident(String),
    /// A string literal, unescaped.
    Str(String),
    /// A whole number.
    Int(i64),
    /// A number with a decimal point.
    Decimal(Decimal),
    /// `YYYY-MM-DD`.
    Date(NaiveDate),
    /// `=`, `!=`, `<`, `<=`, `>`, `>=`.
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    Dot,
    Eof,
}

impl Tok {
    /// How the token reads in an error message.
    pub(crate) fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Str(_) => "a string".into(),
            Tok::Int(n) => format!("`{n}`"),
            Tok::Decimal(d) => format!("`{d}`"),
            Tok::Date(d) => format!("`{d}`"),
            Tok::Op(op) => format!("`{op}`"),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Comma => "`,`".into(),
            Tok::Dot => "`.`".into(),
            Tok::Eof => "the end of the text".into(),
        }
    }
}

/// Splits `text` into tokens, ending with [`Tok::Eof`]. String literals longer than
/// `max_literal` bytes are refused.
pub(crate) fn lex(text: &str, max_literal: usize) -> Result<Vec<(Tok, Span)>, SegmentError> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let b = bytes[i];
        let tok = match b {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => {
                i += 1;
                Tok::LParen
            }
            b')' => {
                i += 1;
                Tok::RParen
            }
            b',' => {
                i += 1;
                Tok::Comma
            }
            b'.' => {
                i += 1;
                Tok::Dot
            }
            b'=' => {
                i += 1;
                Tok::Op("=")
            }
            b'!' if bytes.get(i + 1) == Some(&b'=') => {
                i += 2;
                Tok::Op("!=")
            }
            b'<' | b'>' => {
                let with_eq = bytes.get(i + 1) == Some(&b'=');
                i += 1 + usize::from(with_eq);
                Tok::Op(match (b, with_eq) {
                    (b'<', false) => "<",
                    (b'<', true) => "<=",
                    (_, false) => ">",
                    (_, true) => ">=",
                })
            }
            b'"' => {
                let (s, end) = string(text, i, max_literal)?;
                i = end;
                Tok::Str(s)
            }
            b'0'..=b'9' => {
                let (tok, end) = number_or_date(text, i)?;
                i = end;
                tok
            }
            b'-' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let (tok, end) = number_or_date(text, i)?;
                i = end;
                tok
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                Tok::Ident(text[start..i].to_ascii_lowercase())
            }
            _ => {
                let c = text[i..].chars().next().unwrap_or('\u{fffd}');
                return Err(SegmentError::at(ErrorKind::UnexpectedChar(c), Span::new(i, i + c.len_utf8())));
            }
        };
        tokens.push((tok, Span::new(start, i)));
    }
    tokens.push((Tok::Eof, Span::new(text.len(), text.len())));
    Ok(tokens)
}

/// A string literal starting at the quote at `start`; returns it and the offset after it.
fn string(text: &str, start: usize, max_literal: usize) -> Result<(String, usize), SegmentError> {
    let mut out = String::new();
    let mut chars = text[start + 1..].char_indices().map(|(k, c)| (start + 1 + k, c));
    while let Some((k, c)) = chars.next() {
        match c {
            '"' => {
                if out.len() > max_literal {
                    let kind = ErrorKind::LiteralTooLong { len: out.len(), max: max_literal };
                    return Err(SegmentError::at(kind, Span::new(start, k + 1)));
                }
                return Ok((out, k + 1));
            }
            '\\' => {
                let Some((_, e)) = chars.next() else { break };
                match e {
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'u' => {
                        let rest = &text[k + 2..];
                        let bad = |len: usize| {
                            let shown: String = text[k..].chars().take(len.max(2)).collect();
                            SegmentError::at(ErrorKind::BadEscape(shown), Span::new(k, k + 2))
                        };
                        let close = rest.find('}').filter(|&c| rest.starts_with('{') && (2..=7).contains(&c));
                        let Some(close) = close else { return Err(bad(2)) };
                        // Hex digits only: `from_str_radix` would also take a sign (`\u{+41}`).
                        let hex = Some(&rest[1..close]).filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
                        let ch = hex.and_then(|h| u32::from_str_radix(h, 16).ok()).and_then(char::from_u32);
                        let Some(ch) = ch else { return Err(bad(close + 3)) };
                        out.push(ch);
                        // Skip `{hex}`: the braces and digits are ASCII, one char per byte.
                        for _ in 0..=close {
                            chars.next();
                        }
                    }
                    other => {
                        let kind = ErrorKind::BadEscape(format!("\\{other}"));
                        return Err(SegmentError::at(kind, Span::new(k, k + 1 + other.len_utf8())));
                    }
                }
            }
            c => out.push(c),
        }
    }
    Err(SegmentError::at(ErrorKind::UnterminatedString, Span::new(start, text.len())))
}

/// A number (`-12`, `3.50`) or a date (`2026-01-31`) starting at `start`.
fn number_or_date(text: &str, start: usize) -> Result<(Tok, usize), SegmentError> {
    let bytes = text.as_bytes();
    let digits_from = |mut k: usize| {
        while k < bytes.len() && bytes[k].is_ascii_digit() {
            k += 1;
        }
        k
    };
    let int_end = digits_from(if bytes[start] == b'-' { start + 1 } else { start });
    // A date: four digits, `-`, two digits, `-`, two digits.
    if bytes[start] != b'-' && int_end - start == 4 && bytes.get(int_end) == Some(&b'-') {
        let end = (int_end + 6).min(text.len());
        let candidate = text.get(start..end).unwrap_or("");
        let after_ok = bytes.get(end).is_none_or(|b| !b.is_ascii_alphanumeric());
        return match NaiveDate::parse_from_str(candidate, "%Y-%m-%d") {
            Ok(d) if candidate.len() == 10 && after_ok => Ok((Tok::Date(d), end)),
            _ => {
                let shown = &text[start..digits_or_dash_end(bytes, start)];
                Err(SegmentError::at(ErrorKind::BadDate(shown.into()), Span::new(start, start + shown.len())))
            }
        };
    }
    let mut end = int_end;
    let is_decimal = bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit);
    if is_decimal {
        end = digits_from(end + 1);
    }
    // A letter, `_` or a second point right after a number makes one malformed token
    // (`12abc`, `1.2.3`): nothing in the grammar follows a number without a space.
    if bytes.get(end).is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_' || *b == b'.') {
        let stop = digits_or_dash_end(bytes, start);
        return Err(SegmentError::at(ErrorKind::BadNumber(text[start..stop].into()), Span::new(start, stop)));
    }
    let lexeme = &text[start..end];
    let bad = || SegmentError::at(ErrorKind::BadNumber(lexeme.chars().take(64).collect()), Span::new(start, end));
    let tok = if is_decimal {
        Tok::Decimal(decimal(lexeme).ok_or_else(bad)?)
    } else {
        Tok::Int(lexeme.parse().map_err(|_| bad())?)
    };
    Ok((tok, end))
}

/// A decimal literal (with a point). Trailing zeros after the point do not change the value,
/// so they are dropped when the digits would not fit otherwise: the canonical printer writes
/// a whole decimal as `N.0`, and for the largest `N` only `N` itself fits.
fn decimal(lexeme: &str) -> Option<Decimal> {
    lexeme.parse().ok().or_else(|| {
        let trimmed = lexeme.trim_end_matches('0');
        trimmed.strip_suffix('.').unwrap_or(trimmed).parse().ok()
    })
}

/// The end of a run of alphanumerics, `-`, `_` and `.` (to show a whole malformed token).
fn digits_or_dash_end(bytes: &[u8], start: usize) -> usize {
    let mut k = start + 1;
    while k < bytes.len() && (bytes[k].is_ascii_alphanumeric() || matches!(bytes[k], b'-' | b'_' | b'.')) {
        k += 1;
    }
    k
}

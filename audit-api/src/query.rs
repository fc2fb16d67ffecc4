//! The query language of `GET /v1/search`, `/v1/stats` and `/v1/follow`.
//!
//! ```text
//! query   := or
//! or      := and ( "OR" and )*
//! and     := unary ( ["AND"] unary )*          juxtaposition means AND
//! unary   := ( "-" | "NOT" ) unary | primary
//! primary := "(" or ")" | FIELD ":" value | word | "quoted phrase"
//! value   := bare-value | "quoted value"      `*` is a wildcard, `\*` a literal star
//! ```
//!
//! Examples: `user:alice verb:delete resource:secrets ns:prod`,
//! `user:system:serviceaccount:* -ns:kube-system`, `code:4xx`, `code:>=500`,
//! `(verb:create OR verb:update) resource:deployments`,
//! `annotation:authorization.k8s.io/decision=forbid`, `"image nginx"`.
//! The full description is in the crate's README.

use std::fmt;

use crate::fields::{EventFields, FIELDS, Field, VALUE_BREAK, tokenize};

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// Matches every event (the empty query).
    All,
    /// A keyword field matches a pattern (case-sensitive, whole value).
    Field {
        /// The field (never [`Field::Code`] or [`Field::Annotation`]).
        field: Field,
        /// The pattern.
        pattern: Pattern,
    },
    /// The response code matches.
    Code(CodeMatch),
    /// An annotation `key` is present, and when `value` is given, matches it.
    Annotation {
        /// Annotation key, exact.
        key: String,
        /// Pattern for the value; `None` means the key is present.
        value: Option<Pattern>,
    },
    /// Free text: the words [`tokenize`] splits `text` into occur next to
    /// each other, in this order. `web-7f9c-x2` matches the words `web`,
    /// `7f9c`, `x2` side by side, never the three anywhere in the event.
    Text {
        /// The text as written.
        text: String,
        /// Whether it was written in quotes. Matching is the same either way:
        /// this only decides how the query is printed.
        phrase: bool,
    },
    /// Free text ending in a word prefix, e.g. `nginx*` or `web-7f9c*`: the
    /// words of the text occur next to each other, in this order, the last
    /// one only as a prefix of a word. The text is kept as written, ending
    /// with a letter or digit.
    TextPrefix(String),
    /// Negation.
    Not(Box<Query>),
    /// All of these.
    And(Vec<Query>),
    /// Any of these.
    Or(Vec<Query>),
}

/// A value pattern: exact, prefix (`abc*`) or glob (`a*b*c`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    /// The whole value equals this.
    Exact(String),
    /// The value starts with this.
    Prefix(String),
    /// The value is `parts[0] * parts[1] * … * parts[n-1]` (`*`: any text).
    Glob(Vec<String>),
}

/// A response-code condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeMatch {
    /// `code:403`.
    Exact(u16),
    /// Inclusive range: `code:4xx` is `400..=499`, `code:>=500` is `500..=999`.
    Range(u16, u16),
}

/// Why a query did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid query at position {position}: expected {expected}, found {found}")]
pub struct ParseError {
    /// Character offset (0-based) in the query.
    pub position: usize,
    /// What the parser expected there.
    pub expected: String,
    /// What it found.
    pub found: String,
}

impl ParseError {
    /// The query with a caret under the failing position, for terminals.
    pub fn caret(&self, query: &str) -> String {
        format!("{query}\n{}^", " ".repeat(self.position))
    }
}

/// Parses a query; the empty (or all-blank) query is [`Query::All`].
pub fn parse_query(input: &str) -> Result<Query, ParseError> {
    let tokens = lex(input)?;
    let mut p = Parser {
        tokens,
        pos: 0,
        end: input.chars().count(),
        depth: 0,
    };
    if p.tokens.is_empty() {
        return Ok(Query::All);
    }
    let q = p.or()?;
    if let Some(t) = p.peek() {
        return Err(ParseError {
            position: t.pos,
            expected: "a term, OR, or the end of the query".into(),
            found: t.describe(),
        });
    }
    Ok(q)
}

impl std::str::FromStr for Query {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Query, ParseError> {
        parse_query(s)
    }
}

// ---------------------------------------------------------------- lexer

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    LParen,
    RParen,
    Not,
    Or,
    And,
    /// A field filter; value chars carry an "escaped" flag.
    Filter {
        field: Field,
        value: Vec<(char, bool)>,
        value_pos: usize,
    },
    /// Free text.
    Word {
        value: Vec<(char, bool)>,
        quoted: bool,
    },
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    pos: usize,
}

impl Token {
    fn describe(&self) -> String {
        match &self.tok {
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::Not => "NOT".into(),
            Tok::Or => "OR".into(),
            Tok::And => "AND".into(),
            Tok::Filter { field, .. } => format!("`{}:`", field.name()),
            Tok::Word { value, .. } => {
                format!("`{}`", value.iter().map(|c| c.0).collect::<String>())
            }
        }
    }
}

fn is_field_name(s: &[char]) -> bool {
    !s.is_empty()
        && s[0].is_ascii_alphabetic()
        && s.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
}

fn lex(input: &str) -> Result<Vec<Token>, ParseError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let stop = |c: char| c.is_whitespace() || c == '(' || c == ')';
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        match c {
            '(' => {
                out.push(Token {
                    tok: Tok::LParen,
                    pos: i,
                });
                i += 1;
            }
            ')' => {
                out.push(Token {
                    tok: Tok::RParen,
                    pos: i,
                });
                i += 1;
            }
            '-' if i + 1 < chars.len() && !chars[i + 1].is_whitespace() && chars[i + 1] != ')' => {
                out.push(Token {
                    tok: Tok::Not,
                    pos: i,
                });
                i += 1;
            }
            '"' => {
                let (value, next) = read_quoted(&chars, i)?;
                out.push(Token {
                    tok: Tok::Word {
                        value,
                        quoted: true,
                    },
                    pos: start,
                });
                i = next;
            }
            _ => {
                let mut j = i;
                while j < chars.len() && !stop(chars[j]) && chars[j] != ':' && chars[j] != '"' {
                    j += 1;
                }
                if j < chars.len() && chars[j] == ':' && is_field_name(&chars[i..j]) {
                    let name: String = chars[i..j].iter().collect();
                    let Some(field) = Field::from_name(&name) else {
                        return Err(ParseError {
                            position: start,
                            expected: format!(
                                "a field name ({}); quote free text that contains `:`",
                                FIELDS.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
                            ),
                            found: format!("unknown field `{name}`"),
                        });
                    };
                    let value_pos = j + 1;
                    let (value, next) = if value_pos < chars.len() && chars[value_pos] == '"' {
                        read_quoted(&chars, value_pos)?
                    } else {
                        read_bare(&chars, value_pos)
                    };
                    if value.is_empty() {
                        return Err(ParseError {
                            position: value_pos,
                            expected: format!(
                                "a value after `{name}:` (e.g. {})",
                                field.spec().example
                            ),
                            found: found_at(&chars, value_pos),
                        });
                    }
                    out.push(Token {
                        tok: Tok::Filter {
                            field,
                            value,
                            value_pos,
                        },
                        pos: start,
                    });
                    i = next;
                } else {
                    let (value, next) = read_bare(&chars, i);
                    let word: String = value.iter().map(|c| c.0).collect();
                    let tok = match word.as_str() {
                        "OR" => Tok::Or,
                        "AND" => Tok::And,
                        "NOT" => Tok::Not,
                        _ => Tok::Word {
                            value,
                            quoted: false,
                        },
                    };
                    out.push(Token { tok, pos: start });
                    i = next;
                }
            }
        }
    }
    Ok(out)
}

fn found_at(chars: &[char], pos: usize) -> String {
    match chars.get(pos) {
        None => "the end of the query".into(),
        Some(c) if c.is_whitespace() => "a space".into(),
        Some(c) => format!("`{c}`"),
    }
}

/// Reads an unquoted run up to whitespace or a parenthesis; `\x` escapes x.
fn read_bare(chars: &[char], mut i: usize) -> (Vec<(char, bool)>, usize) {
    let mut v = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() || c == '(' || c == ')' {
            break;
        }
        if c == '\\' && i + 1 < chars.len() {
            v.push((chars[i + 1], true));
            i += 2;
            continue;
        }
        v.push((c, false));
        i += 1;
    }
    (v, i)
}

/// Reads `"…"` starting at the opening quote.
fn read_quoted(chars: &[char], open: usize) -> Result<(Vec<(char, bool)>, usize), ParseError> {
    let mut v = Vec::new();
    let mut i = open + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                v.push((chars[i + 1], true));
                i += 2;
            }
            '"' => return Ok((v, i + 1)),
            c => {
                v.push((c, false));
                i += 1;
            }
        }
    }
    Err(ParseError {
        position: open,
        expected: "a closing `\"` for this quote".into(),
        found: "the end of the query".into(),
    })
}

fn to_pattern(value: &[(char, bool)]) -> Pattern {
    let mut parts = vec![String::new()];
    for &(c, escaped) in value {
        if c == '*' && !escaped {
            parts.push(String::new());
        } else {
            parts.last_mut().expect("never empty").push(c);
        }
    }
    match parts.len() {
        1 => Pattern::Exact(parts.pop().expect("one part")),
        2 if parts[1].is_empty() => Pattern::Prefix(parts.swap_remove(0)),
        _ => Pattern::Glob(parts),
    }
}

fn parse_code(value: &[(char, bool)], pos: usize) -> Result<CodeMatch, ParseError> {
    let s: String = value.iter().map(|c| c.0).collect();
    let err = || ParseError {
        position: pos,
        expected: "a status code such as 403, 4xx, >=400, <500 or 400..499".into(),
        found: format!("`{s}`"),
    };
    let num = |t: &str| -> Result<u16, ParseError> {
        match t.parse::<u16>() {
            Ok(n) if (100..=999).contains(&n) => Ok(n),
            _ => Err(err()),
        }
    };
    let lower = s.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix(">=") {
        return Ok(CodeMatch::Range(num(rest)?, 999));
    }
    if let Some(rest) = lower.strip_prefix("<=") {
        return Ok(CodeMatch::Range(100, num(rest)?));
    }
    // `>999` and `<100` match no status code: refused like `500..400`.
    if let Some(rest) = lower.strip_prefix('>') {
        let n = num(rest)?;
        return if n < 999 {
            Ok(CodeMatch::Range(n + 1, 999))
        } else {
            Err(err())
        };
    }
    if let Some(rest) = lower.strip_prefix('<') {
        let n = num(rest)?;
        return if n > 100 {
            Ok(CodeMatch::Range(100, n - 1))
        } else {
            Err(err())
        };
    }
    if let Some((a, b)) = lower.split_once("..") {
        let (a, b) = (num(a)?, num(b)?);
        return if a <= b {
            Ok(CodeMatch::Range(a, b))
        } else {
            Err(err())
        };
    }
    if lower.len() == 3 && lower.ends_with("xx") {
        let d = lower.as_bytes()[0];
        if (b'1'..=b'9').contains(&d) {
            let base = u16::from(d - b'0') * 100;
            return Ok(CodeMatch::Range(base, base + 99));
        }
        return Err(err());
    }
    Ok(CodeMatch::Exact(num(&lower)?))
}

// ---------------------------------------------------------------- parser

/// How deeply parentheses and negations may nest. The parser recurses once
/// per level, and the sink parses on threads with small stacks: without a
/// bound, a query of ten thousand `(` or `-` overflowed the stack and aborted
/// the process.
pub const MAX_NESTING: usize = 64;

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    end: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn err_here(&self, expected: &str) -> ParseError {
        match self.peek() {
            Some(t) => ParseError {
                position: t.pos,
                expected: expected.into(),
                found: t.describe(),
            },
            None => ParseError {
                position: self.end,
                expected: expected.into(),
                found: "the end of the query".into(),
            },
        }
    }

    fn or(&mut self) -> Result<Query, ParseError> {
        let mut items = vec![self.and()?];
        while matches!(self.peek().map(|t| &t.tok), Some(Tok::Or)) {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one")
        } else {
            Query::Or(items)
        })
    }

    fn and(&mut self) -> Result<Query, ParseError> {
        let mut items = Vec::new();
        loop {
            match self.peek().map(|t| &t.tok) {
                None | Some(Tok::RParen) | Some(Tok::Or) => break,
                Some(Tok::And) => {
                    if items.is_empty() {
                        return Err(self.err_here("a term before AND"));
                    }
                    self.pos += 1;
                    items.push(self.unary()?);
                }
                _ => items.push(self.unary()?),
            }
        }
        match items.len() {
            0 => Err(self.err_here("a term (field:value, a word or a parenthesised query)")),
            1 => Ok(items.pop().expect("one")),
            _ => Ok(Query::And(items)),
        }
    }

    /// Enters one level of nesting (a `(` or a negation) at the current token.
    fn nest(&mut self) -> Result<(), ParseError> {
        if self.depth >= MAX_NESTING {
            return Err(self.err_here(&format!(
                "at most {MAX_NESTING} nested parentheses or negations"
            )));
        }
        self.depth += 1;
        Ok(())
    }

    fn unary(&mut self) -> Result<Query, ParseError> {
        if matches!(self.peek().map(|t| &t.tok), Some(Tok::Not)) {
            self.nest()?;
            self.pos += 1;
            let q = Query::Not(Box::new(self.unary()?));
            self.depth -= 1;
            return Ok(q);
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Query, ParseError> {
        let Some(token) = self.peek().cloned() else {
            return Err(self.err_here("a term (field:value, a word or a parenthesised query)"));
        };
        match token.tok {
            Tok::LParen => {
                self.nest()?;
                self.pos += 1;
                let q = self.or()?;
                self.depth -= 1;
                match self.peek().map(|t| &t.tok) {
                    Some(Tok::RParen) => {
                        self.pos += 1;
                        Ok(q)
                    }
                    _ => Err(self.err_here("`)` to close the `(`")),
                }
            }
            Tok::Filter {
                field,
                value,
                value_pos,
            } => {
                self.pos += 1;
                match field {
                    Field::Code => Ok(Query::Code(parse_code(&value, value_pos)?)),
                    Field::Annotation => {
                        let split = value.iter().position(|&(c, esc)| c == '=' && !esc);
                        let (k, v) = match split {
                            Some(at) => (&value[..at], Some(&value[at + 1..])),
                            None => (&value[..], None),
                        };
                        let key: String = k.iter().map(|c| c.0).collect();
                        if key.is_empty() {
                            return Err(ParseError {
                                position: value_pos,
                                expected: "an annotation key, as in annotation:key=value".into(),
                                found: "`=`".into(),
                            });
                        }
                        Ok(Query::Annotation {
                            key,
                            value: v.map(to_pattern),
                        })
                    }
                    _ => Ok(Query::Field {
                        field,
                        pattern: to_pattern(&value),
                    }),
                }
            }
            Tok::Word { value, quoted } => {
                self.pos += 1;
                if !quoted && let Pattern::Prefix(p) = to_pattern(&value) {
                    if p.chars().last().is_some_and(char::is_alphanumeric) {
                        return Ok(Query::TextPrefix(p));
                    }
                    // `web-*`: the star follows a separator, so the last word
                    // is complete: the words of `web-` as a phrase.
                    if !tokenize(&p).is_empty() {
                        return Ok(Query::Text {
                            text: p,
                            phrase: false,
                        });
                    }
                }
                let text: String = value.iter().map(|c| c.0).collect();
                if tokenize(&text).is_empty() {
                    return Err(ParseError {
                        position: token.pos,
                        expected: "a word with letters or digits".into(),
                        found: format!("`{text}`"),
                    });
                }
                Ok(Query::Text {
                    text,
                    phrase: quoted,
                })
            }
            Tok::RParen | Tok::Or | Tok::And | Tok::Not => {
                Err(self.err_here("a term (field:value, a word or a parenthesised query)"))
            }
        }
    }
}

// ---------------------------------------------------------------- matching

impl Pattern {
    /// Whether `value` matches.
    pub fn matches(&self, value: &str) -> bool {
        match self {
            Pattern::Exact(s) => value == s,
            Pattern::Prefix(p) => value.starts_with(p.as_str()),
            Pattern::Glob(parts) => glob_match(parts, value),
        }
    }
}

fn glob_match(parts: &[String], value: &str) -> bool {
    let (first, rest) = parts.split_first().expect("a glob has parts");
    let Some(mut tail) = value.strip_prefix(first.as_str()) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return tail.is_empty();
    };
    for m in middle {
        match tail.find(m.as_str()) {
            Some(at) => tail = &tail[at + m.len()..],
            None => return false,
        }
    }
    tail.len() >= last.len() && tail.ends_with(last.as_str())
}

impl CodeMatch {
    /// Inclusive bounds of the condition.
    pub fn bounds(self) -> (u16, u16) {
        match self {
            CodeMatch::Exact(c) => (c, c),
            CodeMatch::Range(a, b) => (a, b),
        }
    }
}

/// The words of each value of the event's free text (phrases stay inside one).
fn text_values(f: &EventFields) -> impl Iterator<Item = Vec<String>> + '_ {
    f.text.split(VALUE_BREAK).map(tokenize)
}

impl Query {
    /// Evaluates the query against one event's fields, with the semantics the
    /// sink's index uses (used for `/v1/follow` and by clients).
    pub fn matches(&self, f: &EventFields) -> bool {
        match self {
            Query::All => true,
            Query::Field { field, pattern } => f.values(*field).any(|v| pattern.matches(v)),
            Query::Code(c) => {
                let (lo, hi) = c.bounds();
                f.code
                    .is_some_and(|code| code >= i64::from(lo) && code <= i64::from(hi))
            }
            Query::Annotation { key, value } => f
                .annotations
                .iter()
                .any(|(k, v)| k == key && value.as_ref().is_none_or(|p| p.matches(v))),
            Query::Text { text, .. } => {
                let words = tokenize(text);
                !words.is_empty()
                    && text_values(f)
                        .any(|hay| hay.windows(words.len()).any(|w| w == words.as_slice()))
            }
            Query::TextPrefix(p) => {
                let words = tokenize(p);
                let Some((last, before)) = words.split_last() else {
                    return false;
                };
                text_values(f).any(|hay| {
                    hay.windows(words.len()).any(|w| {
                        w[..before.len()] == *before && w[before.len()].starts_with(last.as_str())
                    })
                })
            }
            Query::Not(q) => !q.matches(f),
            Query::And(qs) => qs.iter().all(|q| q.matches(f)),
            Query::Or(qs) => qs.iter().any(|q| q.matches(f)),
        }
    }
}

// ---------------------------------------------------------------- printing

/// Quotes a value for use after `field:` so that it is matched literally
/// (stars escaped). Clients building queries from flags should use this.
pub fn quote_value(value: &str) -> String {
    let plain = !value.is_empty()
        && !value.starts_with('-')
        && !matches!(value, "OR" | "AND" | "NOT")
        && value
            .chars()
            .all(|c| !c.is_whitespace() && !matches!(c, '(' | ')' | '"' | '\\' | '*'));
    if plain {
        return value.to_string();
    }
    let mut s = String::from("\"");
    for c in value.chars() {
        if matches!(c, '"' | '\\' | '*') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('"');
    s
}

impl Pattern {
    /// The pattern unquoted, every special character backslashed.
    fn bare(&self) -> String {
        match self {
            Pattern::Exact(s) => escape_bare(s, &[]),
            Pattern::Prefix(p) => format!("{}*", escape_bare(p, &[])),
            Pattern::Glob(parts) => {
                let escaped: Vec<String> = parts.iter().map(|p| escape_bare(p, &[])).collect();
                escaped.join("*")
            }
        }
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pattern::Exact(s) => f.write_str(&quote_value(s)),
            _ => f.write_str(&self.bare()),
        }
    }
}

impl fmt::Display for Query {
    /// Canonical form; parsing it gives back an equal query.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Query::All => Ok(()),
            Query::Field { field, pattern } => write!(f, "{}:{}", field.name(), pattern),
            Query::Code(CodeMatch::Exact(c)) => write!(f, "code:{c}"),
            Query::Code(CodeMatch::Range(a, b)) => write!(f, "code:{a}..{b}"),
            // One unquoted token: a quoted key would end the token before `=value`.
            Query::Annotation { key, value } => {
                write!(f, "annotation:{}", escape_bare(key, &['=']))?;
                match value {
                    Some(v) => write!(f, "={}", v.bare()),
                    None => Ok(()),
                }
            }
            Query::Text { text, phrase: true } => write!(f, "{}", quote_value_always(text)),
            // A word, not a phrase: unquoted, with `:` escaped so that it
            // cannot read as a field filter.
            Query::Text {
                text,
                phrase: false,
            } => f.write_str(&escape_bare(text, &[':'])),
            Query::TextPrefix(p) => write!(f, "{}*", escape_bare(p, &[':'])),
            Query::Not(q) => match **q {
                Query::And(_) | Query::Or(_) => write!(f, "-({q})"),
                _ => write!(f, "-{q}"),
            },
            Query::And(qs) => {
                let parts: Vec<String> = qs
                    .iter()
                    .map(|q| match q {
                        Query::Or(_) | Query::And(_) => format!("({q})"),
                        _ => q.to_string(),
                    })
                    .collect();
                f.write_str(&parts.join(" "))
            }
            Query::Or(qs) => {
                let parts: Vec<String> = qs
                    .iter()
                    .map(|q| match q {
                        Query::Or(_) => format!("({q})"),
                        _ => q.to_string(),
                    })
                    .collect();
                f.write_str(&parts.join(" OR "))
            }
        }
    }
}

/// Escapes a value for an unquoted position (every special character, and
/// those in `extra`, backslashed), so a wildcard can follow it.
fn escape_bare(v: &str, extra: &[char]) -> String {
    let mut s = String::new();
    for (i, c) in v.chars().enumerate() {
        if c.is_whitespace()
            || matches!(c, '(' | ')' | '"' | '\\' | '*')
            || extra.contains(&c)
            || (i == 0 && c == '-')
        {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

fn quote_value_always(v: &str) -> String {
    let q = quote_value(v);
    if q.starts_with('"') {
        q
    } else {
        format!("\"{q}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;

    fn field(f: Field, p: Pattern) -> Query {
        Query::Field {
            field: f,
            pattern: p,
        }
    }
    fn exact(s: &str) -> Pattern {
        Pattern::Exact(s.into())
    }

    #[test]
    fn empty_is_all() {
        assert_eq!(parse_query("").unwrap(), Query::All);
        assert_eq!(parse_query("   ").unwrap(), Query::All);
    }

    #[test]
    fn field_filters_and_implicit_and() {
        let q = parse_query("user:alice verb:delete resource:secrets ns:prod").unwrap();
        assert_eq!(
            q,
            Query::And(vec![
                field(Field::User, exact("alice")),
                field(Field::Verb, exact("delete")),
                field(Field::Resource, exact("secrets")),
                field(Field::Namespace, exact("prod")),
            ])
        );
        assert_eq!(
            parse_query("namespace:prod").unwrap(),
            field(Field::Namespace, exact("prod"))
        );
        assert_eq!(parse_query("a AND b").unwrap(), parse_query("a b").unwrap());
    }

    #[test]
    fn every_field_parses() {
        for spec in FIELDS {
            let q = parse_query(spec.example).unwrap_or_else(|e| panic!("{}: {e}", spec.example));
            let again = parse_query(&q.to_string()).unwrap();
            assert_eq!(q, again, "{}", spec.example);
        }
    }

    #[test]
    fn colons_in_values_and_wildcards() {
        assert_eq!(
            parse_query("user:system:serviceaccount:*").unwrap(),
            field(
                Field::User,
                Pattern::Prefix("system:serviceaccount:".into())
            )
        );
        assert_eq!(
            parse_query("name:web-*-abc").unwrap(),
            field(
                Field::Name,
                Pattern::Glob(vec!["web-".into(), "-abc".into()])
            )
        );
        assert_eq!(
            parse_query(r"name:a\*b").unwrap(),
            field(Field::Name, exact("a*b"))
        );
    }

    #[test]
    fn quoted_values() {
        assert_eq!(
            parse_query(r#"ua:"kubectl/v1.32 (linux/amd64)""#).unwrap(),
            field(Field::UserAgent, exact("kubectl/v1.32 (linux/amd64)"))
        );
        assert_eq!(
            parse_query(r#"name:"say \"hi\"""#).unwrap(),
            field(Field::Name, exact(r#"say "hi""#))
        );
        assert_eq!(
            parse_query(r#""hello world""#).unwrap(),
            Query::Text {
                text: "hello world".into(),
                phrase: true
            }
        );
    }

    #[test]
    fn negation_or_and_parentheses() {
        assert_eq!(
            parse_query("-ns:kube-system").unwrap(),
            Query::Not(Box::new(field(Field::Namespace, exact("kube-system"))))
        );
        assert_eq!(
            parse_query("NOT ns:kube-system").unwrap(),
            parse_query("-ns:kube-system").unwrap()
        );
        let q = parse_query("(verb:create OR verb:update) resource:deployments").unwrap();
        assert_eq!(
            q,
            Query::And(vec![
                Query::Or(vec![
                    field(Field::Verb, exact("create")),
                    field(Field::Verb, exact("update"))
                ]),
                field(Field::Resource, exact("deployments")),
            ])
        );
        // AND binds tighter than OR.
        assert_eq!(
            parse_query("a b OR c").unwrap(),
            Query::Or(vec![
                Query::And(vec![
                    Query::Text {
                        text: "a".into(),
                        phrase: false
                    },
                    Query::Text {
                        text: "b".into(),
                        phrase: false
                    }
                ]),
                Query::Text {
                    text: "c".into(),
                    phrase: false
                },
            ])
        );
        assert_eq!(parse_query("-(a OR b)").unwrap().to_string(), "-(a OR b)");
    }

    #[test]
    fn codes() {
        let c = |s: &str| match parse_query(s).unwrap() {
            Query::Code(c) => c,
            other => panic!("{other:?}"),
        };
        assert_eq!(c("code:403"), CodeMatch::Exact(403));
        assert_eq!(c("code:4xx"), CodeMatch::Range(400, 499));
        assert_eq!(c("status:5XX"), CodeMatch::Range(500, 599));
        assert_eq!(c("code:>=400"), CodeMatch::Range(400, 999));
        assert_eq!(c("code:>400"), CodeMatch::Range(401, 999));
        assert_eq!(c("code:<300"), CodeMatch::Range(100, 299));
        assert_eq!(c("code:<=299"), CodeMatch::Range(100, 299));
        assert_eq!(c("code:400..403"), CodeMatch::Range(400, 403));
        let e = parse_query("verb:get code:abc").unwrap_err();
        assert_eq!(e.position, 14);
        assert!(e.expected.contains("4xx"), "{e}");
        assert!(parse_query("code:403..400").is_err());
        assert!(parse_query("code:42").is_err());
    }

    #[test]
    fn annotations() {
        assert_eq!(
            parse_query("annotation:authorization.k8s.io/decision=forbid").unwrap(),
            Query::Annotation {
                key: "authorization.k8s.io/decision".into(),
                value: Some(exact("forbid"))
            }
        );
        assert_eq!(
            parse_query("ann:pod-security.kubernetes.io/enforce-policy").unwrap(),
            Query::Annotation {
                key: "pod-security.kubernetes.io/enforce-policy".into(),
                value: None
            }
        );
        assert!(parse_query("annotation:=x").is_err());
    }

    #[test]
    fn errors_carry_position_and_expectation() {
        let e = parse_query("user:").unwrap_err();
        assert_eq!(e.position, 5);
        assert!(e.expected.contains("value after `user:`"), "{e}");
        assert_eq!(e.found, "the end of the query");

        let e = parse_query("verb:get usr:alice").unwrap_err();
        assert_eq!(e.position, 9);
        assert!(e.found.contains("unknown field `usr`"));
        assert!(e.expected.contains("user"));

        let e = parse_query("(verb:get OR verb:list").unwrap_err();
        assert_eq!(e.position, 22);
        assert!(e.expected.contains("`)`"));

        let e = parse_query("verb:get)").unwrap_err();
        assert_eq!(e.position, 8);

        let e = parse_query("verb:get OR").unwrap_err();
        assert_eq!(e.position, 11);

        let e = parse_query(r#"name:"abc"#).unwrap_err();
        assert_eq!(e.position, 5);
        assert!(e.expected.contains("closing"));

        let e = parse_query("NOT").unwrap_err();
        assert_eq!(e.position, 3);
        assert!(e.caret("NOT").ends_with("   ^"));
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = format!("{}a{}", "(".repeat(MAX_NESTING), ")".repeat(MAX_NESTING));
        assert!(parse_query(&ok).is_ok());
        assert!(parse_query(&format!("{}a", "-".repeat(MAX_NESTING))).is_ok());
        // Deeper than that is refused, however deep: this used to overflow the stack.
        for n in [MAX_NESTING + 1, 100_000] {
            let e = parse_query(&format!("{}a{}", "(".repeat(n), ")".repeat(n))).unwrap_err();
            assert_eq!(e.position, MAX_NESTING, "{e}");
            assert!(e.expected.contains("nested"), "{e}");
            let e = parse_query(&format!("{}a", "-".repeat(n))).unwrap_err();
            assert_eq!(e.position, MAX_NESTING, "{e}");
        }
        // Siblings do not add up.
        let wide = vec!["(a OR -b)"; 1000].join(" ");
        assert!(parse_query(&wide).is_ok());
    }

    #[test]
    fn display_round_trips() {
        for q in [
            "user:alice verb:delete",
            "user:system:serviceaccount:* -ns:kube-system",
            "(verb:create OR verb:update) code:>=400",
            r#"ua:"kubectl/v1 (linux)" "exact phrase" word nginx*"#,
            r#"annotation:authorization.k8s.io/decision=forbid -(a OR b)"#,
            r"name:a\*b*",
        ] {
            let parsed = parse_query(q).unwrap();
            assert_eq!(
                parse_query(&parsed.to_string()).unwrap(),
                parsed,
                "{q} -> {parsed}"
            );
        }
        assert_eq!(quote_value("a b"), "\"a b\"");
        assert_eq!(quote_value("-x"), "\"-x\"");
        assert_eq!(quote_value("system:masters"), "system:masters");
    }

    #[test]
    fn matcher() {
        let e = Event::from_json(r#"{"auditID":"a","stage":"ResponseComplete","verb":"delete","level":"RequestResponse","requestURI":"/api/v1/namespaces/prod/secrets/db","user":{"username":"system:serviceaccount:ci:deployer","groups":["system:serviceaccounts"]},"objectRef":{"resource":"secrets","namespace":"prod","name":"db-password"},"responseStatus":{"code":403},"annotations":{"authorization.k8s.io/decision":"forbid"},"requestObject":{"spec":{"image":"nginx:1.25"}},"requestReceivedTimestamp":"2024-01-01T00:00:00Z"}"#).unwrap();
        let f = EventFields::from_event(&e);
        let m = |q: &str| parse_query(q).unwrap().matches(&f);
        assert!(m(""));
        assert!(m("user:system:serviceaccount:*"));
        assert!(m("user:system:serviceaccount:*:deployer"));
        assert!(!m("user:alice"));
        assert!(m("verb:delete resource:secrets ns:prod"));
        assert!(m("code:4xx") && m("code:403") && !m("code:5xx") && m("code:>=400"));
        assert!(m("annotation:authorization.k8s.io/decision=forbid"));
        assert!(!m("annotation:authorization.k8s.io/decision=allow"));
        assert!(m("name:db-*") && !m("-name:db-*"));
        assert!(m("verb:get OR verb:delete"));
        assert!(m("nginx") && m("NGINX") && m("ngi*") && m("\"nginx 1\"") && !m("\"1 nginx\""));
        assert!(m("apigroup:core"));
        // A term the tokenizer splits is a phrase, quoted or not.
        assert!(m("nginx-1") && m("nginx.1.25") && m("\"nginx:1\"") && m("nginx_1"));
        assert!(!m("1-nginx") && !m("nginx-25") && !m("db-prod"));
        assert!(m("db-pass*") && m("nginx-1.2*") && !m("nginx-2*") && !m("password-db*"));
        assert!(m("db-*") && !m("passwd-*") && m("DB-PASS*"));
    }

    #[test]
    fn split_terms_are_phrases() {
        let q = parse_query("web-7f9c-x2").unwrap();
        assert_eq!(
            q,
            Query::Text {
                text: "web-7f9c-x2".into(),
                phrase: false
            }
        );
        assert_eq!(q.to_string(), "web-7f9c-x2");
        assert_eq!(
            parse_query("web-7f9c*").unwrap(),
            Query::TextPrefix("web-7f9c".into())
        );
        // A star after a separator: the words before it, complete.
        assert_eq!(
            parse_query("web-*").unwrap(),
            Query::Text {
                text: "web-".into(),
                phrase: false
            }
        );
        for q in [
            "web-7f9c*",
            "web-*",
            r"a\ b-*",
            r"a\*b-*",
            "Web.7F*",
            r"host\:443*",
        ] {
            let parsed = parse_query(q).unwrap();
            assert_eq!(parse_query(&parsed.to_string()).unwrap(), parsed, "{q}");
        }
        let text = |t: &str| EventFields {
            text: t.into(),
            ..EventFields::default()
        };
        let m = |q: &str, t: &str| parse_query(q).unwrap().matches(&text(t));
        assert!(m("web-7f9c-x2", "pod web-7f9c-x2 started"));
        assert!(!m("web-7f9c-x2", "web-7f9c-aa x2 started"));
        assert!(!m("web-7f9c-x2", "x2 web 7f9c"));
        assert!(m("web-7f9c*", "web-7f9cdd-1"));
        assert!(!m("web-7f9c*", "web-aa 7f9cdd"));
        assert!(m("web-*", "a web-b") && m("web-*", "web"));
        // Each character lowered alone, as the index's tokenizer does.
        assert!(m("ΑΣ", "ασ") && m("ασ*", "ΑΣΣ"));
    }
}

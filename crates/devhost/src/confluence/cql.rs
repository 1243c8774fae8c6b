//! A small subset of CQL, Confluence's query language, as the emulated
//! content search reads it (Atlassian: "Advanced searching using CQL",
//! "CQL fields", "CQL keywords", "CQL operators"; content properties in
//! CQL: "Content Property Index" module, `confluenceContentProperties`).
//!
//! What it reads:
//!
//! ```text
//! query    := or [ORDER BY sort {, sort}]
//! or       := and {OR and}
//! and      := unary {AND unary}
//! unary    := NOT unary | "(" or ")" | clause
//! clause   := field op value | field [NOT] IN "(" value {, value} ")"
//! field    := type | space | space.key | id | content | title | text
//!           | content.property[<property key>].<path>   (an indexed content property)
//!           | <alias>                                    (an extraction's alias)
//! op       := = | != | ~ | !~ | > | >= | < | <=
//! sort     := field [ASC | DESC]
//! value    := "quoted" | 'quoted' | word
//! ```
//!
//! Keywords and field names are case-insensitive. CQL needs a condition:
//! an empty query, or one of only `ORDER BY`, is an error, as on
//! Confluence. What the fields mean is the search's
//! ([`super::search`]); this file only reads.
//!
//! What it is not: CQL's functions (`currentUser()`, `now()`), `IS EMPTY`,
//! the other fields (`label`, `creator`, `created`, `ancestor`, …) and
//! `NOT` between two clauses. Those are errors here, answered with 400
//! as Confluence answers CQL it cannot read.
//!
//! Pure and total: it never panics; the input is bounded in length and
//! nesting depth, so recursion is bounded.

/// The longest query read, in characters.
pub const MAX_QUERY_CHARS: usize = 8 * 1024;
/// How deeply parentheses and `NOT` may nest.
pub const MAX_DEPTH: usize = 32;

/// A query the parser could not read, with the search's wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CqlError(pub String);

/// A parsed query: a condition and an order.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The condition.
    pub condition: Expr,
    /// `ORDER BY` fields, first first, each with whether it is descending.
    pub order: Vec<(Field, bool)>,
}

/// A condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// Every part holds.
    And(Vec<Expr>),
    /// Some part holds.
    Or(Vec<Expr>),
    /// The part does not hold.
    Not(Box<Expr>),
    /// One comparison.
    Clause(Clause),
}

/// `field op value(s)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    /// What is compared.
    pub field: Field,
    /// How.
    pub operator: Operator,
    /// With what (one value, or the list of `IN`).
    pub values: Vec<String>,
}

/// A field a clause or a sort can name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// `type`: `page`, `blogpost`, `comment`, `attachment`.
    Type,
    /// `space` or `space.key`.
    Space,
    /// `id` or `content`: the content id.
    Id,
    /// `title`.
    Title,
    /// `text`: the title and body.
    Text,
    /// `content.property[key].path`.
    Property {
        /// The content property key.
        key: String,
        /// The path inside the JSON value, dot-separated.
        path: String,
    },
    /// Any other name: an extraction alias, or an unknown field.
    Named(String),
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `=`
    Equals,
    /// `!=`
    NotEquals,
    /// `~`: contains (text).
    Contains,
    /// `!~`
    NotContains,
    /// `>`
    Greater,
    /// `>=`
    GreaterOrEqual,
    /// `<`
    Less,
    /// `<=`
    LessOrEqual,
    /// `IN (…)`
    In,
    /// `NOT IN (…)`
    NotIn,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Op(Operator),
    Open,
    Close,
    Comma,
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Token::Word(word) => write!(f, "{word}"),
            Token::Quoted(text) => write!(f, "\"{text}\""),
            Token::Op(_) => write!(f, "an operator"),
            Token::Open => write!(f, "("),
            Token::Close => write!(f, ")"),
            Token::Comma => write!(f, ","),
        }
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Field::Type => write!(f, "type"),
            Field::Space => write!(f, "space"),
            Field::Id => write!(f, "id"),
            Field::Title => write!(f, "title"),
            Field::Text => write!(f, "text"),
            Field::Property { key, path } => write!(f, "content.property[{key}].{path}"),
            Field::Named(name) => write!(f, "{name}"),
        }
    }
}

fn tokens(text: &str) -> Result<Vec<Token>, CqlError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => (out.push(Token::Open), i += 1).1,
            ')' => (out.push(Token::Close), i += 1).1,
            ',' => (out.push(Token::Comma), i += 1).1,
            '=' => (out.push(Token::Op(Operator::Equals)), i += 1).1,
            '~' => (out.push(Token::Op(Operator::Contains)), i += 1).1,
            '!' if next == Some('=') => (out.push(Token::Op(Operator::NotEquals)), i += 2).1,
            '!' if next == Some('~') => (out.push(Token::Op(Operator::NotContains)), i += 2).1,
            '>' | '<' => {
                let or_equal = next == Some('=');
                let op = match (c, or_equal) {
                    ('>', false) => Operator::Greater,
                    ('>', true) => Operator::GreaterOrEqual,
                    (_, false) => Operator::Less,
                    (_, true) => Operator::LessOrEqual,
                };
                out.push(Token::Op(op));
                i += if or_equal { 2 } else { 1 };
            }
            '"' | '\'' => {
                let mut value = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(CqlError("a quoted value is not closed".into())),
                        Some('\\') if chars.get(i + 1).is_some() => {
                            value.extend(chars.get(i + 1));
                            i += 2;
                        }
                        Some(q) if *q == c => break,
                        Some(other) => (value.push(*other), i += 1).1,
                    }
                }
                i += 1;
                out.push(Token::Quoted(value));
            }
            _ => {
                let mut word = String::new();
                let mut in_brackets = false;
                while let Some(&c) = chars.get(i) {
                    let ends = !in_brackets
                        && (c.is_whitespace()
                            || matches!(
                                c,
                                '(' | ')' | ',' | '=' | '~' | '!' | '<' | '>' | '"' | '\''
                            ));
                    if ends {
                        break;
                    }
                    in_brackets = match c {
                        '[' => true,
                        ']' => false,
                        _ => in_brackets,
                    };
                    word.push(c);
                    i += 1;
                }
                if word.is_empty() {
                    return Err(CqlError(format!("unexpected character '{c}'")));
                }
                out.push(Token::Word(word));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self, depth: usize) -> Result<Expr, CqlError> {
        let mut parts = vec![self.and(depth)?];
        while self.keyword("or") {
            self.at += 1;
            parts.push(self.and(depth)?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::Or(parts) })
    }

    fn and(&mut self, depth: usize) -> Result<Expr, CqlError> {
        let mut parts = vec![self.unary(depth)?];
        while self.keyword("and") {
            self.at += 1;
            parts.push(self.unary(depth)?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::And(parts) })
    }

    fn unary(&mut self, depth: usize) -> Result<Expr, CqlError> {
        if depth > MAX_DEPTH {
            return Err(CqlError("the query nests too deeply".into()));
        }
        if self.keyword("not") {
            self.at += 1;
            return Ok(Expr::Not(Box::new(self.unary(depth + 1)?)));
        }
        if self.peek() == Some(&Token::Open) {
            self.at += 1;
            let inner = self.or(depth + 1)?;
            if self.peek() != Some(&Token::Close) {
                return Err(CqlError("a parenthesis is not closed".into()));
            }
            self.at += 1;
            return Ok(inner);
        }
        self.clause().map(Expr::Clause)
    }

    fn field(&mut self) -> Result<Field, CqlError> {
        let Some(Token::Word(name)) = self.peek().cloned() else {
            return Err(CqlError("expected a field".into()));
        };
        self.at += 1;
        Ok(field(&name))
    }

    fn value(&mut self) -> Result<String, CqlError> {
        match self.peek().cloned() {
            Some(Token::Quoted(value)) => (self.at += 1, Ok(value)).1,
            Some(Token::Word(word)) if !is_reserved(&word) => {
                if self.tokens.get(self.at + 1) == Some(&Token::Open) {
                    return Err(CqlError(format!("the function {word}() is not supported")));
                }
                self.at += 1;
                Ok(word)
            }
            _ => Err(CqlError("expected a value".into())),
        }
    }

    fn clause(&mut self) -> Result<Clause, CqlError> {
        let field = self.field()?;
        let operator = match self.peek().cloned() {
            Some(Token::Op(op)) => (self.at += 1, op).1,
            _ if self.keyword("in") => (self.at += 1, Operator::In).1,
            _ if self.keyword("not")
                && matches!(self.tokens.get(self.at + 1), Some(Token::Word(w)) if w.eq_ignore_ascii_case("in")) =>
            {
                (self.at += 2, Operator::NotIn).1
            }
            _ => return Err(CqlError("expected an operator after a field".into())),
        };
        let values = if matches!(operator, Operator::In | Operator::NotIn) {
            if self.peek() != Some(&Token::Open) {
                return Err(CqlError("IN needs a list in parentheses".into()));
            }
            self.at += 1;
            let mut values = vec![self.value()?];
            while self.peek() == Some(&Token::Comma) {
                self.at += 1;
                values.push(self.value()?);
            }
            if self.peek() != Some(&Token::Close) {
                return Err(CqlError("an IN list is not closed".into()));
            }
            self.at += 1;
            values
        } else {
            vec![self.value()?]
        };
        Ok(Clause { field, operator, values })
    }

    fn order(&mut self) -> Result<Vec<(Field, bool)>, CqlError> {
        let mut order = Vec::new();
        if !self.keyword("order") {
            return Ok(order);
        }
        self.at += 1;
        if !self.keyword("by") {
            return Err(CqlError("ORDER must be followed by BY".into()));
        }
        self.at += 1;
        loop {
            let field = self.field()?;
            let descending = if self.keyword("desc") {
                self.at += 1;
                true
            } else {
                if self.keyword("asc") {
                    self.at += 1;
                }
                false
            };
            order.push((field, descending));
            if self.peek() != Some(&Token::Comma) {
                return Ok(order);
            }
            self.at += 1;
        }
    }
}

fn is_reserved(word: &str) -> bool {
    ["and", "or", "not", "in", "order", "by", "asc", "desc"]
        .iter()
        .any(|r| word.eq_ignore_ascii_case(r))
}

fn field(name: &str) -> Field {
    let lower = name.to_ascii_lowercase();
    match lower.as_str() {
        "type" => Field::Type,
        "space" | "space.key" => Field::Space,
        "id" | "content" => Field::Id,
        "title" => Field::Title,
        "text" => Field::Text,
        _ => property(name).unwrap_or_else(|| Field::Named(name.to_owned())),
    }
}

/// `content.property[key].path`, the prefix case-insensitive.
fn property(name: &str) -> Option<Field> {
    let prefix = "content.property[";
    let head = name.get(..prefix.len())?;
    if !head.eq_ignore_ascii_case(prefix) {
        return None;
    }
    let (key, path) = name[prefix.len()..].split_once("].")?;
    (!key.is_empty() && !path.is_empty())
        .then(|| Field::Property { key: key.to_owned(), path: path.to_owned() })
}

/// Reads a CQL query.
pub fn parse(text: &str) -> Result<Query, CqlError> {
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(CqlError("the query is too long".into()));
    }
    let mut parser = Parser { tokens: tokens(text)?, at: 0 };
    if parser.peek().is_none() || parser.keyword("order") {
        return Err(CqlError("a CQL query needs a condition".into()));
    }
    let condition = parser.or(0)?;
    let order = parser.order()?;
    if let Some(extra) = parser.peek() {
        return Err(CqlError(format!("unexpected {extra} after the query")));
    }
    Ok(Query { condition, order })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause(field: Field, operator: Operator, values: &[&str]) -> Expr {
        let values = values.iter().map(|v| (*v).to_owned()).collect();
        Expr::Clause(Clause { field, operator, values })
    }

    #[test]
    fn reads_fields_operators_groups_and_order() {
        let query = parse(
            "type = page AND (space.key IN (LOD, 'X') OR NOT title ~ \"check\") order by title desc, id",
        )
        .unwrap();
        assert_eq!(
            query.condition,
            Expr::And(vec![
                clause(Field::Type, Operator::Equals, &["page"]),
                Expr::Or(vec![
                    clause(Field::Space, Operator::In, &["LOD", "X"]),
                    Expr::Not(Box::new(clause(Field::Title, Operator::Contains, &["check"]))),
                ]),
            ])
        );
        assert_eq!(query.order, vec![(Field::Title, true), (Field::Id, false)]);
    }

    #[test]
    fn reads_content_properties_and_aliases() {
        let query =
            parse("content.property[lodger-checklist].open >= 2 and done != 'yes'").unwrap();
        let property = Field::Property { key: "lodger-checklist".into(), path: "open".into() };
        assert_eq!(
            query.condition,
            Expr::And(vec![
                clause(property, Operator::GreaterOrEqual, &["2"]),
                clause(Field::Named("done".into()), Operator::NotEquals, &["yes"]),
            ])
        );
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for bad in [
            "",
            "order by title",
            "type = ",
            "type page",
            "(type = page",
            "creator = currentUser()",
            "space in (LOD",
            "title = 'open",
            "type = page extra",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = format!("{}type = page{}", "(".repeat(100), ")".repeat(100));
        assert!(parse(&deep).is_err());
        assert!(parse(&"x".repeat(MAX_QUERY_CHARS + 1)).is_err());
    }
}

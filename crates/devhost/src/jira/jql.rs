//! A small subset of JQL, Jira's query language, as the emulated site's
//! search (`/rest/api/3/search`) understands it (Atlassian: "Use advanced
//! search with Jira Query Language (JQL)", "Entity properties": searching).
//!
//! What it reads:
//!
//! ```text
//! query    := [or] [ORDER BY sort {, sort}]
//! or       := and {OR and}
//! and      := unary {AND unary}
//! unary    := NOT unary | "(" or ")" | clause
//! clause   := field op value | field [NOT] IN "(" value {, value} ")"
//! field    := project | issuekey | key | id
//!           | issue.property[<property key>].<path>   (an indexed entity property)
//!           | <alias>                                  (an extraction's alias)
//! op       := = | != | > | >= | < | <=
//! value    := "quoted" | 'quoted' | word
//! ```
//!
//! Keywords and field names are case-insensitive, as in Jira. An entity
//! property is searchable only when an installed app indexes it: its
//! descriptor declares the property key in
//! `modules.jiraEntityProperties[].keyConfigurations[].propertyKey` and the
//! path as one of that key's `extractions[].objectName` (see [`super::jql_run::Extraction`]).
//! A clause over anything else is valid JQL that matches nothing, which is
//! what Jira does. Values compare by the extraction's type: `number`
//! numerically, the others as strings.
//!
//! What it is not: the rest of JQL (functions, `~`, `IS EMPTY`, history
//! operators, most fields). Those are syntax errors here, answered with 400
//! like Jira answers a query it cannot read, with the position.
//!
//! The same grammar reads a dynamic webhook's `jqlFilter`: the webhook
//! dialect parses with [`parse_in`] and then checks the parsed query
//! against its smaller subset (see `jira::webhooks::filter`). A syntax
//! error is therefore data ([`Syntax`]), which each dialect words its own way.
//!
//! The parser is pure and total: it never panics, whatever the input (the
//! input is bounded in length and nesting depth, so recursion is bounded
//! too), and it allocates no more than a small multiple of the input.

/// The longest query the parser reads, in characters.
pub const MAX_QUERY_CHARS: usize = 16 * 1024;
/// How deeply parentheses and `NOT` may nest.
pub const MAX_DEPTH: usize = 32;

/// How a dialect reads the grammar: how far, and whether JQL's reserved
/// words may stand as values. The search's is [`Dialect::SEARCH`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    /// The longest query read, in characters.
    pub max_chars: usize,
    /// How deeply parentheses and `NOT` may nest.
    pub max_depth: usize,
    /// Whether a reserved word (`null`, `empty`, `and`…) is read as a plain
    /// value, as the webhook service reads `project != null`; the search
    /// refuses it unquoted.
    pub reserved_values: bool,
}

impl Dialect {
    /// How `/rest/api/3/search` reads a query.
    pub const SEARCH: Dialect =
        Dialect { max_chars: MAX_QUERY_CHARS, max_depth: MAX_DEPTH, reserved_values: false };
}

/// A query the parser could not read: where, what kind of problem, and the
/// search's wording of it (without the position).
#[derive(Debug, Clone, PartialEq)]
pub struct Syntax {
    /// The line of the problem, from 1.
    pub line: usize,
    /// The character in that line, from 1.
    pub column: usize,
    /// What kind of problem, for dialects that word it differently.
    pub problem: Problem,
    /// Jira's wording, as the search answers it.
    pub message: String,
}

/// The kind of a [`Syntax`] error.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// The query is longer than [`Dialect::max_chars`].
    TooLong,
    /// Parentheses or `NOT` nest deeper than [`Dialect::max_depth`].
    TooDeep,
    /// A parenthesis (`list: false`) or an `IN` list (`list: true`) is not closed.
    Unclosed {
        /// Whether it is an `IN` list.
        list: bool,
    },
    /// A clause's field is not followed by an operator the grammar knows.
    NoOperator {
        /// The field.
        field: Field,
        /// What stands where the operator should (a word or symbol), if anything.
        found: Option<String>,
    },
    /// Anything else.
    Other,
}

impl From<Syntax> for JqlError {
    fn from(syntax: Syntax) -> JqlError {
        match syntax.problem {
            Problem::TooLong => JqlError(format!("Error in the JQL Query: {}", syntax.message)),
            _ => JqlError(format!(
                "Error in the JQL Query: {} (line {}, character {})",
                syntax.message, syntax.line, syntax.column
            )),
        }
    }
}

/// A query that cannot be run, with Jira's wording.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JqlError(pub String);

/// A parsed query: an optional condition and an optional order.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// The condition (`None`: every issue).
    pub condition: Option<Expr>,
    /// `ORDER BY` fields, first first.
    pub order: Vec<(SortField, bool)>,
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

/// A field a clause can name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// `project`: key, id or name.
    Project,
    /// `issuekey` or `key`.
    IssueKey,
    /// `id`: the issue id.
    Id,
    /// `issue.property[key].path`.
    Property {
        /// The entity property key.
        key: String,
        /// The path inside the JSON value, dot-separated in the query.
        path: String,
    },
    /// Any other name: an extraction alias, or an unknown field.
    Named(String),
}

impl Field {
    /// The field as a query names it (`issue.property[key].path`, an alias).
    pub fn describe(&self) -> String {
        match self {
            Field::Project => "project".into(),
            Field::IssueKey => "issuekey".into(),
            Field::Id => "id".into(),
            Field::Property { key, path } => format!("issue.property[{key}].{path}"),
            Field::Named(name) => name.clone(),
        }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    /// `=`
    Equals,
    /// `!=`
    NotEquals,
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

impl Operator {
    /// The operator as a query writes it (`in` and `not in` in lower case).
    pub fn symbol(self) -> &'static str {
        match self {
            Operator::Equals => "=",
            Operator::NotEquals => "!=",
            Operator::Greater => ">",
            Operator::GreaterOrEqual => ">=",
            Operator::Less => "<",
            Operator::LessOrEqual => "<=",
            Operator::In => "in",
            Operator::NotIn => "not in",
        }
    }

    pub(crate) fn is_ordering(self) -> bool {
        matches!(
            self,
            Operator::Greater | Operator::GreaterOrEqual | Operator::Less | Operator::LessOrEqual
        )
    }
}

/// A field `ORDER BY` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    /// `key` / `issuekey`: by project key, then issue number.
    Key,
    /// `id` / `created`: creation order.
    Id,
    /// `summary`.
    Summary,
}

/// Parses a JQL query of the subset above.
///
/// ```
/// use lodger_devhost::jira::jql::{JqlError, parse};
/// # fn main() -> Result<(), JqlError> {
/// let query = parse("project = LOD AND issue.property[lodger].open > 0")?;
/// assert!(query.condition.is_some());
/// let error = parse("project = ").err().map(|e| e.to_string()).unwrap_or_default();
/// assert!(error.ends_with("(line 1, character 11)"));
/// # Ok(())
/// # }
/// ```
pub fn parse(text: &str) -> Result<Query, JqlError> {
    parse_in(text, Dialect::SEARCH).map_err(JqlError::from)
}

/// Parses a query of the grammar above as `dialect` reads it; a syntax
/// error is left for the caller to word.
pub fn parse_in(text: &str, dialect: Dialect) -> Result<Query, Syntax> {
    let chars: Vec<char> = text.chars().take(dialect.max_chars.saturating_add(1)).collect();
    if chars.len() > dialect.max_chars {
        return Err(Syntax {
            line: 1,
            column: 1,
            problem: Problem::TooLong,
            message: format!("the query is longer than {} characters.", dialect.max_chars),
        });
    }
    Parser { chars, pos: 0, depth: 0, dialect }.query()
}

/// What can follow a word in the query: used in error messages.
const OPERATORS: &str =
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', 'IN' and 'NOT IN'.";

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
    dialect: Dialect,
}

/// A lexical token, with the position where it starts.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Symbol(&'static str),
    End,
}

impl Token {
    fn shown(&self) -> String {
        match self {
            Token::Word(w) => format!("'{w}'"),
            Token::Quoted(q) => format!("'\"{q}\"'"),
            Token::Symbol(s) => format!("'{s}'"),
            Token::End => "end of query".into(),
        }
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(keyword))
    }
}

fn is_word_char(c: char) -> bool {
    !c.is_whitespace()
        && !matches!(c, '=' | '!' | '<' | '>' | '(' | ')' | '[' | ']' | ',' | '"' | '\'' | '~')
}

impl Parser {
    fn error_at(&self, at: usize, message: &str) -> Syntax {
        self.problem_at(at, Problem::Other, message)
    }

    fn problem_at(&self, at: usize, problem: Problem, message: &str) -> Syntax {
        let before = &self.chars[..at.min(self.chars.len())];
        let line = 1 + before.iter().filter(|c| **c == '\n').count();
        let column = 1 + before.iter().rev().take_while(|c| **c != '\n').count();
        Syntax { line, column, problem, message: message.to_owned() }
    }

    fn skip_space(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    /// The next token and where it starts, without consuming it.
    fn peek(&mut self) -> Result<(Token, usize, usize), Syntax> {
        self.skip_space();
        let start = self.pos;
        let Some(&c) = self.chars.get(start) else { return Ok((Token::End, start, start)) };
        let two = |second: char| self.chars.get(start + 1) == Some(&second);
        let symbol = |s: &'static str, len: usize| Ok((Token::Symbol(s), start, start + len));
        match c {
            '!' if two('=') => symbol("!=", 2),
            '>' if two('=') => symbol(">=", 2),
            '<' if two('=') => symbol("<=", 2),
            '=' => symbol("=", 1),
            '>' => symbol(">", 1),
            '<' => symbol("<", 1),
            '(' => symbol("(", 1),
            ')' => symbol(")", 1),
            '[' => symbol("[", 1),
            ']' => symbol("]", 1),
            ',' => symbol(",", 1),
            '"' | '\'' => {
                let mut text = String::new();
                let mut at = start + 1;
                loop {
                    match self.chars.get(at) {
                        None => {
                            let shown: String = self.chars[start..].iter().take(40).collect();
                            return Err(self.error_at(
                                start,
                                &format!("The quoted string {shown} has not been completed."),
                            ));
                        }
                        Some('\\') => {
                            // An escaped character; a backslash at the very
                            // end leaves the string unfinished.
                            if let Some(escaped) = self.chars.get(at + 1) {
                                text.push(*escaped);
                            }
                            at += 2;
                        }
                        Some(q) if *q == c => break,
                        Some(other) => {
                            text.push(*other);
                            at += 1;
                        }
                    }
                }
                Ok((Token::Quoted(text), start, at + 1))
            }
            c if is_word_char(c) => {
                let mut end = start;
                while self.chars.get(end).is_some_and(|c| is_word_char(*c)) {
                    end += 1;
                }
                Ok((Token::Word(self.chars[start..end].iter().collect()), start, end))
            }
            other => {
                Err(self.error_at(start, &format!("The character '{other}' is not allowed here.")))
            }
        }
    }

    fn next(&mut self) -> Result<(Token, usize), Syntax> {
        let (token, start, end) = self.peek()?;
        self.pos = end;
        Ok((token, start))
    }

    fn expect_symbol(&mut self, symbol: &'static str, what: &str) -> Result<(), Syntax> {
        self.require(symbol, what, Problem::Other)
    }

    /// The next token must be `symbol`; if it is not, the error is `problem`.
    fn require(
        &mut self,
        symbol: &'static str,
        what: &str,
        problem: Problem,
    ) -> Result<(), Syntax> {
        let (token, start) = self.next()?;
        if token == Token::Symbol(symbol) {
            Ok(())
        } else {
            let message = format!("Expecting {what} but got {}.", token.shown());
            Err(self.problem_at(start, problem, &message))
        }
    }

    fn query(mut self) -> Result<Query, Syntax> {
        let (first, _, _) = self.peek()?;
        let condition =
            if first == Token::End || first.is_keyword("order") { None } else { Some(self.or()?) };
        let mut order = Vec::new();
        let (token, start) = self.next()?;
        if token.is_keyword("order") {
            let (by, at) = self.next()?;
            if !by.is_keyword("by") {
                return Err(self.error_at(at, &format!("Expecting 'by' but got {}.", by.shown())));
            }
            loop {
                let (field, at) = self.next()?;
                let sort = match &field {
                    Token::Word(w)
                        if w.eq_ignore_ascii_case("key") || w.eq_ignore_ascii_case("issuekey") =>
                    {
                        SortField::Key
                    }
                    Token::Word(w)
                        if w.eq_ignore_ascii_case("id") || w.eq_ignore_ascii_case("created") =>
                    {
                        SortField::Id
                    }
                    Token::Word(w) if w.eq_ignore_ascii_case("summary") => SortField::Summary,
                    other => {
                        return Err(self.error_at(
                            at,
                            &format!(
                                "Expecting a field to order by (key, id, created or summary) but got {}.",
                                other.shown()
                            ),
                        ));
                    }
                };
                let (direction, _, end) = self.peek()?;
                let descending = if direction.is_keyword("desc") {
                    self.pos = end;
                    true
                } else {
                    if direction.is_keyword("asc") {
                        self.pos = end;
                    }
                    false
                };
                order.push((sort, descending));
                let (separator, _, end) = self.peek()?;
                if separator != Token::Symbol(",") {
                    break;
                }
                self.pos = end;
            }
            let (rest, at) = self.next()?;
            if rest != Token::End {
                return Err(
                    self.error_at(at, &format!("Expecting end of query but got {}.", rest.shown()))
                );
            }
        } else if token != Token::End {
            let message = format!("Expecting 'AND', 'OR' or 'ORDER BY' but got {}.", token.shown());
            return Err(self.error_at(start, &message));
        }
        Ok(Query { condition, order })
    }

    fn or(&mut self) -> Result<Expr, Syntax> {
        let mut parts = vec![self.and()?];
        loop {
            let (token, _, end) = self.peek()?;
            if !token.is_keyword("or") {
                break;
            }
            self.pos = end;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::Or(parts) })
    }

    fn and(&mut self) -> Result<Expr, Syntax> {
        let mut parts = vec![self.unary()?];
        loop {
            let (token, _, end) = self.peek()?;
            if !token.is_keyword("and") {
                break;
            }
            self.pos = end;
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 { parts.remove(0) } else { Expr::And(parts) })
    }

    fn nest(&mut self, at: usize) -> Result<(), Syntax> {
        self.depth += 1;
        if self.depth > self.dialect.max_depth {
            let message = format!(
                "The query nests parentheses or NOT more than {} deep.",
                self.dialect.max_depth
            );
            return Err(self.problem_at(at, Problem::TooDeep, &message));
        }
        Ok(())
    }

    fn unary(&mut self) -> Result<Expr, Syntax> {
        let (token, start, end) = self.peek()?;
        if token.is_keyword("not") {
            self.pos = end;
            self.nest(start)?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        if token == Token::Symbol("(") {
            self.pos = end;
            self.nest(start)?;
            let inner = self.or()?;
            self.require(")", "')'", Problem::Unclosed { list: false })?;
            self.depth -= 1;
            return Ok(inner);
        }
        self.clause()
    }

    fn clause(&mut self) -> Result<Expr, Syntax> {
        let field = self.field()?;
        let (token, start) = match self.next() {
            Ok(next) => next,
            Err(mut syntax) => {
                // What stands there, as written: `~`, `!~`, `!`.
                let found: String = self.chars[self.pos.min(self.chars.len())..]
                    .iter()
                    .skip_while(|c| c.is_whitespace())
                    .take_while(|c| matches!(c, '=' | '!' | '~' | '<' | '>'))
                    .collect();
                let found = (!found.is_empty()).then_some(found);
                syntax.problem = Problem::NoOperator { field, found };
                return Err(syntax);
            }
        };
        let no_operator = |field: Field, token: &Token| Problem::NoOperator {
            field,
            found: match token {
                Token::Word(w) => Some(w.clone()),
                _ => None,
            },
        };
        let operator = match &token {
            Token::Symbol("=") => Operator::Equals,
            Token::Symbol("!=") => Operator::NotEquals,
            Token::Symbol(">") => Operator::Greater,
            Token::Symbol(">=") => Operator::GreaterOrEqual,
            Token::Symbol("<") => Operator::Less,
            Token::Symbol("<=") => Operator::LessOrEqual,
            t if t.is_keyword("in") => Operator::In,
            t if t.is_keyword("not") => {
                let (after, at) = self.next()?;
                if !after.is_keyword("in") {
                    let message = format!("Expecting 'IN' but got {}.", after.shown());
                    return Err(self.problem_at(at, no_operator(field, &token), &message));
                }
                Operator::NotIn
            }
            other => {
                let message = format!("Expecting operator but got {}. {OPERATORS}", other.shown());
                return Err(self.problem_at(start, no_operator(field, other), &message));
            }
        };
        let values = if matches!(operator, Operator::In | Operator::NotIn) {
            self.expect_symbol("(", "'(' to start a list of values")?;
            let mut values = vec![self.value()?];
            loop {
                let (token, at) = self.next()?;
                match token {
                    Token::Symbol(",") => values.push(self.value()?),
                    Token::Symbol(")") => break,
                    other => {
                        let message = format!("Expecting ',' or ')' but got {}.", other.shown());
                        return Err(self.problem_at(
                            at,
                            Problem::Unclosed { list: true },
                            &message,
                        ));
                    }
                }
            }
            values
        } else {
            vec![self.value()?]
        };
        Ok(Expr::Clause(Clause { field, operator, values }))
    }

    fn field(&mut self) -> Result<Field, Syntax> {
        let (token, start) = self.next()?;
        let name = match token {
            Token::Word(w) if !is_reserved(&w) => w,
            Token::Quoted(q) => q,
            other => {
                return Err(self.error_at(
                    start,
                    &format!("Expecting a field name but got {}.", other.shown()),
                ));
            }
        };
        if name.eq_ignore_ascii_case("issue.property") {
            return self.property();
        }
        Ok(match name.to_ascii_lowercase().as_str() {
            "project" => Field::Project,
            "issuekey" | "key" => Field::IssueKey,
            "id" => Field::Id,
            _ => Field::Named(name),
        })
    }

    /// After `issue.property`: `[key].path`.
    fn property(&mut self) -> Result<Field, Syntax> {
        self.expect_symbol("[", "'[' after issue.property")?;
        let start = self.pos;
        let mut end = start;
        while self.chars.get(end).is_some_and(|c| *c != ']') {
            end += 1;
        }
        if self.chars.get(end).is_none() {
            return Err(self.error_at(start, "The property key has no closing ']'."));
        }
        let key: String = self.chars[start..end].iter().collect::<String>().trim().to_owned();
        if key.is_empty() {
            return Err(self.error_at(start, "The property key is empty."));
        }
        self.pos = end + 1;
        // The path follows at once: `.a.b` (no spaces, as in Jira).
        let path_start = self.pos;
        let mut path_end = path_start;
        while self.chars.get(path_end).is_some_and(|c| is_word_char(*c)) {
            path_end += 1;
        }
        let raw: String = self.chars[path_start..path_end].iter().collect();
        let path = raw.strip_prefix('.').unwrap_or_default();
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(self
                .error_at(path_start, "Expecting a path such as '.open' after the property key."));
        }
        self.pos = path_end;
        Ok(Field::Property { key, path: path.to_owned() })
    }

    fn value(&mut self) -> Result<String, Syntax> {
        let (token, start) = self.next()?;
        match token {
            Token::Word(w) if self.dialect.reserved_values || !is_reserved(&w) => Ok(w),
            Token::Quoted(q) => Ok(q),
            other => Err(self.error_at(
                start,
                &format!("Expecting either a value, list or function but got {}.", other.shown()),
            )),
        }
    }
}

/// Words JQL reserves: they cannot be a field or value unless quoted.
fn is_reserved(word: &str) -> bool {
    ["and", "or", "not", "in", "order", "by", "is", "empty", "null"]
        .iter()
        .any(|r| word.eq_ignore_ascii_case(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clause(field: Field, operator: Operator, values: &[&str]) -> Expr {
        Expr::Clause(Clause {
            field,
            operator,
            values: values.iter().map(|v| (*v).to_owned()).collect(),
        })
    }

    #[test]
    fn reads_the_clauses_lodger_sends() {
        let query = parse("project = LOD AND issue.property[lodger-checklist].open > 0").unwrap();
        assert_eq!(
            query.condition,
            Some(Expr::And(vec![
                clause(Field::Project, Operator::Equals, &["LOD"]),
                clause(
                    Field::Property { key: "lodger-checklist".into(), path: "open".into() },
                    Operator::Greater,
                    &["0"]
                ),
            ]))
        );
        let query = parse("key in (LOD-1, \"LOD-2\") order by key desc").unwrap();
        assert_eq!(
            query.condition,
            Some(clause(Field::IssueKey, Operator::In, &["LOD-1", "LOD-2"]))
        );
        assert_eq!(query.order, vec![(SortField::Key, true)]);
    }

    #[test]
    fn keywords_and_fields_are_case_insensitive() {
        let query = parse("PROJECT = LOD and IssueKey NOT IN (LOD-3) Or id != 10001").unwrap();
        assert!(matches!(query.condition, Some(Expr::Or(ref parts)) if parts.len() == 2));
    }

    #[test]
    fn property_keys_may_hold_colons_and_dots() {
        let query = parse(
            "issue.property[com.atlassian.jira.issue:lodger:glance:status].value.label = \"3/5\"",
        )
        .unwrap();
        let Some(Expr::Clause(c)) = query.condition else { panic!("one clause") };
        assert_eq!(
            c.field,
            Field::Property {
                key: "com.atlassian.jira.issue:lodger:glance:status".into(),
                path: "value.label".into()
            }
        );
    }

    #[test]
    fn errors_name_the_line_and_character() {
        let err = parse("project LOD").unwrap_err().to_string();
        assert!(
            err.starts_with("Error in the JQL Query: Expecting operator but got 'LOD'."),
            "{err}"
        );
        assert!(err.ends_with("(line 1, character 9)"), "{err}");
        let err = parse("project = LOD AND\n  key = ").unwrap_err().to_string();
        assert!(err.ends_with("(line 2, character 9)"), "{err}");
        let err = parse("summary = \"open").unwrap_err().to_string();
        assert!(err.contains("has not been completed") && err.contains("character 11"), "{err}");
        let err = parse("project = LOD extra").unwrap_err().to_string();
        assert!(err.contains("'extra'") && err.contains("character 15"), "{err}");
        assert!(parse("issue.property[x] = 1").unwrap_err().to_string().contains("path"));
        assert!(parse("a ~ b").is_err());
    }

    #[test]
    fn empty_queries_and_bare_order_select_everything() {
        assert_eq!(parse("").unwrap().condition, None);
        assert_eq!(parse("  order by id").unwrap().order, vec![(SortField::Id, false)]);
    }

    #[test]
    fn nesting_is_bounded_and_deep_input_does_not_overflow() {
        let ok = format!("{}project = LOD{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let deep =
            format!("{}project = LOD{}", "(".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        assert!(parse(&deep).unwrap_err().to_string().contains("nests"));
        assert!(parse(&"NOT ".repeat(100_000)).is_err());
        assert!(parse(&"(".repeat(1_000_000)).is_err());
    }

    #[test]
    fn never_panics_on_odd_input() {
        let samples = [
            "",
            " ",
            "(",
            ")",
            "[",
            "]",
            "\"",
            "'",
            "\\",
            "\"\\",
            "=",
            "!",
            "!=",
            "<>",
            "a",
            "a =",
            "a = (",
            "a in",
            "a in (",
            "a in (b",
            "a in (b,",
            "a in ()",
            "a not",
            "a not b",
            "issue.property",
            "issue.property[",
            "issue.property[]",
            "issue.property[k]",
            "issue.property[k].",
            "issue.property[k]..a = 1",
            "order",
            "order by",
            "order by x",
            "order by key,",
            "é = ü",
            "ключ = 1",
            "\u{0}",
            "a = b and",
            "a = b or or",
            "not",
            "((a = b)",
            "a = b)",
            "a = 'x\\",
            "𝄞 = 𝄞",
            "and = and",
        ];
        for sample in samples {
            let _ = parse(sample);
        }
        // Every prefix of a realistic query.
        let query = "project = LOD AND (issue.property[lodger].open >= 1 OR key NOT IN (\"LOD-1\", 'LOD-2')) ORDER BY key DESC, id";
        for end in 0..=query.chars().count() {
            let prefix: String = query.chars().take(end).collect();
            let _ = parse(&prefix);
        }
    }
}

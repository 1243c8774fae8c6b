//! A dynamic webhook's `jqlFilter` (Atlassian: "Jira REST API v3:
//! Webhooks", `WebhookDetails.jqlFilter`): read by the site's one JQL
//! parser ([`crate::jira::jql`]), then restricted to the subset the webhook
//! service evaluates, and matched against one issue.
//!
//! The subset: `=`, `!=`, `IN`, `NOT IN`, `AND`, `OR` and parentheses over
//! `project`, `issuekey` (also `key`, `issue`, `id`), `issuetype` (also
//! `type`) and `status`, nested at most 16 deep. Anything else is refused
//! with a sentence naming the refused part ("The clause watchCount is
//! unsupported", "The operator '~' is unsupported."). Field names and
//! comparisons are case-insensitive; a project matches by id, key or name.
//!
//! What it is not: the search. A filter is checked once, when the app
//! registers it, and then matched against each event's issue alone.

use crate::jira::jql::{self, Dialect, Expr, Field, Operator, Problem, Query, Syntax};

/// How the webhook service reads a filter: no length limit of its own (the
/// request body has one), parentheses at most 16 deep, and any word as a
/// value (`project != null` is how apps ask for every issue).
const DIALECT: Dialect = Dialect { max_chars: usize::MAX, max_depth: 16, reserved_values: true };

/// What a filter is evaluated against: each field's names (id, key, name).
#[derive(Debug)]
pub(crate) struct Subject<'a> {
    /// The project's id, key and name.
    pub(crate) project: Vec<&'a str>,
    /// The issue's id and key.
    pub(crate) issue: Vec<&'a str>,
    /// The issue type's id and name.
    pub(crate) issue_type: Vec<&'a str>,
    /// The status's id and name.
    pub(crate) status: Vec<&'a str>,
}

/// A field a filter may test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subset {
    Project,
    IssueKey,
    IssueType,
    Status,
}

impl Subject<'_> {
    fn values(&self, field: Subset) -> &[&str] {
        match field {
            Subset::Project => &self.project,
            Subset::IssueKey => &self.issue,
            Subset::IssueType => &self.issue_type,
            Subset::Status => &self.status,
        }
    }
}

/// A checked filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter(Node);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Or(Vec<Node>),
    And(Vec<Node>),
    /// `field = v`, `field IN (…)`; negated for `!=` and `NOT IN`.
    Clause {
        field: Subset,
        negated: bool,
        values: Vec<String>,
    },
}

impl Filter {
    /// Whether the issue described by `subject` passes.
    pub(crate) fn matches(&self, subject: &Subject<'_>) -> bool {
        self.0.matches(subject)
    }
}

impl Node {
    fn matches(&self, subject: &Subject<'_>) -> bool {
        match self {
            Node::Or(all) => all.iter().any(|e| e.matches(subject)),
            Node::And(all) => all.iter().all(|e| e.matches(subject)),
            Node::Clause { field, negated, values } => {
                let names = subject.values(*field);
                let hit = values.iter().any(|v| names.iter().any(|n| n.eq_ignore_ascii_case(v)));
                hit != *negated
            }
        }
    }
}

/// The field of the subset a parsed field names, if it is one.
fn subset(field: &Field) -> Option<Subset> {
    match field {
        Field::Project => Some(Subset::Project),
        Field::IssueKey | Field::Id => Some(Subset::IssueKey),
        Field::Named(name) => match name.to_ascii_lowercase().as_str() {
            "issue" => Some(Subset::IssueKey),
            "issuetype" | "type" => Some(Subset::IssueType),
            "status" => Some(Subset::Status),
            _ => None,
        },
        Field::Property { .. } => None,
    }
}

fn unsupported_clause(field: &Field) -> String {
    format!("The clause {} is unsupported", field.describe())
}

/// Parses and checks a `jqlFilter`; the error is the sentence for the app.
pub fn parse(text: &str) -> Result<Filter, String> {
    let query = jql::parse_in(text, DIALECT).map_err(|syntax| worded(&syntax))?;
    restrict(&query).map(Filter)
}

/// The webhook service's wording of a syntax error.
fn worded(syntax: &Syntax) -> String {
    match &syntax.problem {
        Problem::TooDeep => "The jqlFilter nests parentheses too deeply.".into(),
        Problem::Unclosed { list: true } => {
            "The jqlFilter has a list without its closing parenthesis.".into()
        }
        Problem::Unclosed { list: false } => {
            "The jqlFilter is missing a closing parenthesis.".into()
        }
        Problem::NoOperator { field, .. } if subset(field).is_none() => unsupported_clause(field),
        Problem::NoOperator { found: Some(found), .. } => {
            format!("The operator '{found}' is unsupported.")
        }
        Problem::NoOperator { field, found: None } => {
            format!("The clause {} has no operator.", field.describe())
        }
        Problem::TooLong | Problem::Other => format!(
            "The jqlFilter is not valid JQL: {} (line {}, character {})",
            syntax.message, syntax.line, syntax.column
        ),
    }
}

/// Checks a parsed query against the subset, in reading order, so that the
/// first refused part is the one named.
fn restrict(query: &Query) -> Result<Node, String> {
    let Some(condition) = &query.condition else {
        return Err(if query.order.is_empty() {
            "The jqlFilter ends where a clause should start.".into()
        } else {
            "The clause ORDER BY is unsupported".into()
        });
    };
    let node = node(condition)?;
    if !query.order.is_empty() {
        return Err("The clause ORDER BY is unsupported".into());
    }
    Ok(node)
}

fn node(expr: &Expr) -> Result<Node, String> {
    match expr {
        Expr::Or(all) => all.iter().map(node).collect::<Result<_, _>>().map(Node::Or),
        Expr::And(all) => all.iter().map(node).collect::<Result<_, _>>().map(Node::And),
        Expr::Not(_) => Err("The operator NOT is unsupported.".into()),
        Expr::Clause(clause) => {
            let field = subset(&clause.field).ok_or_else(|| unsupported_clause(&clause.field))?;
            let negated = match clause.operator {
                Operator::Equals | Operator::In => false,
                Operator::NotEquals | Operator::NotIn => true,
                other => return Err(format!("The operator '{}' is unsupported.", other.symbol())),
            };
            Ok(Node::Clause { field, negated, values: clause.values.clone() })
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::jira::issue_types::STATUS;

    /// LOD-1 of the seeded site, as a filter sees it (also used by
    /// `delivery`'s tests).
    pub(crate) fn lod_1() -> Subject<'static> {
        Subject {
            project: vec!["10000", "LOD", "Lodger demo"],
            issue: vec!["10001", "LOD-1"],
            issue_type: vec!["10001", "Task"],
            status: vec![STATUS.0, STATUS.1],
        }
    }

    fn matches(jql: &str) -> bool {
        parse(jql).unwrap().matches(&lod_1())
    }

    #[test]
    fn a_filter_matches_equality_lists_and_their_negations() {
        assert!(matches("project = LOD"));
        assert!(matches("project = lod"));
        assert!(matches("project = 10000"));
        assert!(matches(r#"project = "Lodger demo""#));
        assert!(!matches("project = OTHER"));
        assert!(matches("project != OTHER"));
        assert!(matches("issuekey IN (LOD-2, LOD-1)"));
        assert!(!matches("issuekey NOT IN (LOD-1)"));
        assert!(matches("project = LOD AND issuetype = Task AND status = 'To Do'"));
        assert!(matches("project = OTHER OR (issuetype in (Bug, Task) and status != Done)"));
        assert!(!matches("project = LOD AND issuetype = Bug"));
    }

    #[test]
    fn reserved_words_are_plain_values_as_the_webhook_service_reads_them() {
        // lodger's own filter: every issue of every project.
        assert!(matches("project != null"));
        assert!(!matches("project = empty"));
        assert!(jql::parse("project != null").is_err(), "the search still refuses it unquoted");
    }

    #[test]
    fn a_filter_outside_the_subset_says_which_part_is_unsupported() {
        let error = |jql: &str| parse(jql).unwrap_err();
        assert_eq!(error("watchCount = 3"), "The clause watchCount is unsupported");
        assert_eq!(error("project = LOD AND assignee = me"), "The clause assignee is unsupported");
        assert_eq!(error("summary ~ foo"), "The clause summary is unsupported");
        assert_eq!(error("project ~ LOD"), "The operator '~' is unsupported.");
        assert_eq!(error("project > 1"), "The operator '>' is unsupported.");
        assert_eq!(error("status WAS Done"), "The operator 'WAS' is unsupported.");
        assert_eq!(error("project = LOD ORDER BY key"), "The clause ORDER BY is unsupported");
        assert!(error("project IN (LOD").contains("closing parenthesis"));
        assert!(error("(project = LOD").contains("closing parenthesis"));
        assert!(error(&"(".repeat(100_000)).contains("too deeply"));
        assert!(matches(&format!("{}project = LOD{}", "(".repeat(16), ")".repeat(16))));
        for odd in
            ["", "(", ")", "project", "project =", "project IN", "project IN ()", "\"", "!", "a,b"]
        {
            assert!(parse(odd).is_err(), "{odd:?}");
        }
    }
}

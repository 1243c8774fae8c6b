//! Running a parsed JQL query ([`super::jql`]) over the site's issues, as
//! the search does (Atlassian: "Use advanced search with Jira Query
//! Language (JQL)", "Entity properties": searching): the checks Jira makes
//! first (projects and issues that exist, numbers where a number is
//! indexed) with Jira's wording, then the matching issues in the query's
//! order. An entity property is searchable only when an installed app
//! indexes it (see [`Extraction`] and [`super::property_index`]); a clause
//! over any other property path matches nothing, as in Jira.
//!
//! What it is not: the parser, or the site. A [`Universe`] is a borrowed
//! view of the issues, built by the search for each query.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::Value;

use super::jql::{Expr, Field, JqlError, Operator, Query, SortField};

/// How an extraction indexes a value (Atlassian: "Entity property" module,
/// `extractions[].type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtractionType {
    /// Compared numerically.
    Number,
    /// Compared as text (`string`, `text`, `user`, `date` alike here).
    Text,
}

impl ExtractionType {
    /// The type a module declares (`number`, or any other name: text).
    pub fn named(name: Option<&str>) -> ExtractionType {
        match name {
            Some(t) if t.eq_ignore_ascii_case("number") => ExtractionType::Number,
            _ => ExtractionType::Text,
        }
    }
}

/// One indexed path of an issue property, declared by an installed app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extraction {
    /// The entity property key (`keyConfigurations[].propertyKey`).
    pub property_key: String,
    /// The path inside the value (`extractions[].objectName`).
    pub object_name: String,
    /// How values compare.
    pub kind: ExtractionType,
    /// The alias usable as a field name, if declared.
    pub alias: Option<String>,
}

/// A project as the query sees it.
#[derive(Debug, Clone)]
pub struct ProjectFacts<'a> {
    /// The id.
    pub id: &'a str,
    /// The key.
    pub key: &'a str,
    /// The name.
    pub name: &'a str,
}

/// An issue as the query sees it.
#[derive(Debug, Clone)]
pub struct IssueFacts<'a> {
    /// The id.
    pub id: &'a str,
    /// The key.
    pub key: &'a str,
    /// The summary.
    pub summary: &'a str,
    /// The project's id.
    pub project_id: &'a str,
    /// The issue's entity properties by key.
    pub properties: BTreeMap<&'a str, &'a Value>,
}

/// Everything a query runs over.
#[derive(Debug, Clone)]
pub struct Universe<'a> {
    /// The projects.
    pub projects: Vec<ProjectFacts<'a>>,
    /// The issues, in creation order.
    pub issues: Vec<IssueFacts<'a>>,
    /// The indexed property paths.
    pub index: Vec<Extraction>,
}

/// Runs `query`: the positions (in `universe.issues`) of the matching
/// issues, ordered. Fails, like Jira, on an unknown field, an operator a
/// field does not support, a project or issue that does not exist, or a
/// value that is not a number where a number is indexed.
pub fn run(query: &Query, universe: &Universe<'_>) -> Result<Vec<usize>, JqlError> {
    if let Some(condition) = &query.condition {
        check(condition, universe)?;
    }
    let mut hits: Vec<usize> = (0..universe.issues.len())
        .filter(|i| {
            query.condition.as_ref().is_none_or(|c| holds(c, &universe.issues[*i], universe))
        })
        .collect();
    hits.sort_by(|a, b| {
        let (a, b) = (&universe.issues[*a], &universe.issues[*b]);
        for (field, descending) in &query.order {
            let ordering = match field {
                SortField::Key => key_order(a.key, b.key),
                SortField::Id => number_order(a.id, b.id),
                SortField::Summary => a.summary.cmp(b.summary),
            };
            let ordering = if *descending { ordering.reverse() } else { ordering };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        Ordering::Equal
    });
    Ok(hits)
}

fn key_order(a: &str, b: &str) -> Ordering {
    let split = |k: &str| {
        let (project, number) = k.rsplit_once('-').unwrap_or((k, ""));
        (project.to_owned(), number.parse::<u64>().unwrap_or(0))
    };
    split(a).cmp(&split(b))
}

fn number_order(a: &str, b: &str) -> Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        _ => a.cmp(b),
    }
}

/// The extraction a property field or alias names, if any app indexes it.
fn extraction<'u>(field: &Field, universe: &'u Universe<'_>) -> Option<&'u Extraction> {
    match field {
        Field::Property { key, path } => {
            universe.index.iter().find(|e| e.property_key == *key && e.object_name == *path)
        }
        Field::Named(name) => universe
            .index
            .iter()
            .find(|e| e.alias.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(name))),
        _ => None,
    }
}

/// The checks Jira makes before it searches.
fn check(expr: &Expr, universe: &Universe<'_>) -> Result<(), JqlError> {
    let clause = match expr {
        Expr::And(parts) | Expr::Or(parts) => {
            return parts.iter().try_for_each(|p| check(p, universe));
        }
        Expr::Not(inner) => return check(inner, universe),
        Expr::Clause(clause) => clause,
    };
    let unsupported = || {
        JqlError(format!(
            "The operator '{}' is not supported by the '{}' field.",
            clause.operator.symbol(),
            clause.field.describe()
        ))
    };
    match &clause.field {
        Field::Project => {
            if clause.operator.is_ordering() {
                return Err(unsupported());
            }
            for value in &clause.values {
                if find_project(value, universe).is_none() {
                    return Err(JqlError(format!(
                        "The value '{value}' does not exist for the field 'project'."
                    )));
                }
            }
        }
        Field::IssueKey | Field::Id => {
            if clause.operator.is_ordering() {
                return Err(unsupported());
            }
            for value in &clause.values {
                if find_issue(value, universe).is_none() {
                    return Err(JqlError(format!(
                        "An issue with key '{value}' does not exist for field '{}'.",
                        clause.field.describe()
                    )));
                }
            }
        }
        Field::Property { .. } | Field::Named(_) => match extraction(&clause.field, universe) {
            Some(e) if e.kind == ExtractionType::Number => {
                for value in &clause.values {
                    if parse_number(value).is_none() {
                        return Err(JqlError(format!(
                            "The value '{value}' is not a valid number for the field '{}'.",
                            clause.field.describe()
                        )));
                    }
                }
            }
            Some(_) => {}
            // Any property path is valid JQL; unindexed ones match nothing.
            None if matches!(clause.field, Field::Property { .. }) => {}
            None => {
                return Err(JqlError(format!(
                    "Field '{}' does not exist or you do not have permission to view it.",
                    clause.field.describe()
                )));
            }
        },
    }
    Ok(())
}

fn find_project<'u, 'a>(value: &str, universe: &'u Universe<'a>) -> Option<&'u ProjectFacts<'a>> {
    universe.projects.iter().find(|p| {
        p.id == value || p.key.eq_ignore_ascii_case(value) || p.name.eq_ignore_ascii_case(value)
    })
}

fn find_issue<'u, 'a>(value: &str, universe: &'u Universe<'a>) -> Option<&'u IssueFacts<'a>> {
    universe.issues.iter().find(|i| i.id == value || i.key.eq_ignore_ascii_case(value))
}

fn parse_number(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

fn holds(expr: &Expr, issue: &IssueFacts<'_>, universe: &Universe<'_>) -> bool {
    let clause = match expr {
        Expr::And(parts) => return parts.iter().all(|p| holds(p, issue, universe)),
        Expr::Or(parts) => return parts.iter().any(|p| holds(p, issue, universe)),
        Expr::Not(inner) => return !holds(inner, issue, universe),
        Expr::Clause(clause) => clause,
    };
    match &clause.field {
        Field::Project => {
            let is_it =
                |v: &String| find_project(v, universe).is_some_and(|p| p.id == issue.project_id);
            membership(clause.operator, clause.values.iter().any(is_it))
        }
        Field::IssueKey | Field::Id => {
            let is_it = |v: &String| find_issue(v, universe).is_some_and(|i| i.id == issue.id);
            membership(clause.operator, clause.values.iter().any(is_it))
        }
        Field::Property { .. } | Field::Named(_) => {
            let Some(extraction) = extraction(&clause.field, universe) else { return false };
            let Some(value) = issue.properties.get(extraction.property_key.as_str()) else {
                return false;
            };
            let indexed = indexed_values(value, &extraction.object_name, extraction.kind);
            // Like any JQL field, a property without a value matches no
            // clause, not even `!=` or `NOT IN`.
            if indexed.is_empty() {
                return false;
            }
            let compare = |wanted: &String| -> Vec<Ordering> {
                indexed.iter().filter_map(|have| have.compare(wanted)).collect()
            };
            match clause.operator {
                Operator::Equals | Operator::In => {
                    clause.values.iter().any(|v| compare(v).contains(&Ordering::Equal))
                }
                Operator::NotEquals | Operator::NotIn => {
                    !clause.values.iter().any(|v| compare(v).contains(&Ordering::Equal))
                }
                Operator::Greater => {
                    clause.values.iter().any(|v| compare(v).contains(&Ordering::Greater))
                }
                Operator::Less => {
                    clause.values.iter().any(|v| compare(v).contains(&Ordering::Less))
                }
                Operator::GreaterOrEqual => {
                    clause.values.iter().any(|v| compare(v).iter().any(|o| *o != Ordering::Less))
                }
                Operator::LessOrEqual => {
                    clause.values.iter().any(|v| compare(v).iter().any(|o| *o != Ordering::Greater))
                }
            }
        }
    }
}

fn membership(operator: Operator, member: bool) -> bool {
    match operator {
        Operator::NotEquals | Operator::NotIn => !member,
        _ => member,
    }
}

/// A value an extraction indexed.
#[derive(Debug, Clone, PartialEq)]
enum Indexed {
    Number(f64),
    Text(String),
}

impl Indexed {
    /// How the indexed value compares with a query value (`None`: it does not).
    fn compare(&self, wanted: &str) -> Option<Ordering> {
        match self {
            Indexed::Number(have) => parse_number(wanted).and_then(|w| have.partial_cmp(&w)),
            Indexed::Text(have) => Some(have.as_str().cmp(wanted)),
        }
    }
}

/// The values Jira would index at `object_name` (dot path) of a property:
/// numbers for `number`, strings otherwise; each element of an array.
fn indexed_values(value: &Value, object_name: &str, kind: ExtractionType) -> Vec<Indexed> {
    let mut at = value;
    for segment in object_name.split('.') {
        match at.get(segment) {
            Some(next) => at = next,
            None => return Vec::new(),
        }
    }
    let items: Vec<&Value> = match at {
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    items
        .into_iter()
        .filter_map(|item| match (kind, item) {
            (ExtractionType::Number, Value::Number(n)) => n.as_f64().map(Indexed::Number),
            (ExtractionType::Text, Value::String(s)) => Some(Indexed::Text(s.clone())),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jira::jql::parse;
    use serde_json::json;

    fn universe<'a>(properties: &'a [(usize, &'a str, Value)]) -> Universe<'a> {
        let projects = vec![ProjectFacts { id: "10000", key: "LOD", name: "Lodger demo" }];
        let mut issues: Vec<IssueFacts<'a>> = ["LOD-1", "LOD-2", "LOD-3"]
            .iter()
            .zip(["10001", "10002", "10003"])
            .map(|(key, id)| IssueFacts {
                id,
                key,
                summary: key,
                project_id: "10000",
                properties: BTreeMap::new(),
            })
            .collect();
        for (issue, key, value) in properties {
            issues[*issue].properties.insert(key, value);
        }
        let index = vec![
            Extraction {
                property_key: "lodger".into(),
                object_name: "open".into(),
                kind: ExtractionType::Number,
                alias: Some("openItems".into()),
            },
            Extraction {
                property_key: "lodger".into(),
                object_name: "owner.name".into(),
                kind: ExtractionType::Text,
                alias: None,
            },
        ];
        Universe { projects, issues, index }
    }

    fn keys(jql: &str, universe: &Universe<'_>) -> Result<Vec<String>, JqlError> {
        let hits = run(&parse(jql)?, universe)?;
        Ok(hits.into_iter().map(|i| universe.issues[i].key.to_owned()).collect())
    }

    #[test]
    fn indexed_numbers_compare_numerically_and_strings_as_strings() {
        let properties = [
            (0, "lodger", json!({"open": 9, "owner": {"name": "ada"}})),
            (1, "lodger", json!({"open": 10, "owner": {"name": "bob"}})),
            (2, "unindexed", json!({"open": 100})),
        ];
        let u = universe(&properties);
        assert_eq!(keys("issue.property[lodger].open > 9", &u).unwrap(), ["LOD-2"]);
        assert_eq!(keys("issue.property[lodger].open >= 9", &u).unwrap(), ["LOD-1", "LOD-2"]);
        assert_eq!(keys("issue.property[lodger].open <= 9.5", &u).unwrap(), ["LOD-1"]);
        assert_eq!(keys("openItems = 10", &u).unwrap(), ["LOD-2"]);
        assert_eq!(keys("issue.property[lodger].owner.name < b", &u).unwrap(), ["LOD-1"]);
        assert_eq!(keys("issue.property[lodger].owner.name != ada", &u).unwrap(), ["LOD-2"]);
        // Unindexed: valid, matches nothing, not even `!=`.
        assert!(keys("issue.property[unindexed].open > 0", &u).unwrap().is_empty());
        assert!(keys("issue.property[unindexed].open != 0", &u).unwrap().is_empty());
        assert_eq!(
            keys("project = lod and issue.property[lodger].open in (9, 10) order by key desc", &u)
                .unwrap(),
            ["LOD-2", "LOD-1"]
        );
        assert_eq!(keys("not key = LOD-1", &u).unwrap(), ["LOD-2", "LOD-3"]);
    }

    #[test]
    fn semantic_errors_use_jiras_wording() {
        let u = universe(&[]);
        let err = keys("project = NOPE", &u).unwrap_err().to_string();
        assert_eq!(err, "The value 'NOPE' does not exist for the field 'project'.");
        assert!(keys("key = LOD-9", &u).unwrap_err().to_string().contains("does not exist"));
        assert!(keys("universe = 42", &u).unwrap_err().to_string().starts_with("Field 'universe'"));
        assert!(keys("project > LOD", &u).unwrap_err().to_string().contains("operator '>'"));
        assert!(keys("openItems = many", &u).unwrap_err().to_string().contains("valid number"));
    }
}

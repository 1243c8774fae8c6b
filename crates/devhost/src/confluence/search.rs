//! Content search by CQL (Atlassian: "Confluence Cloud REST API v1",
//! "Search content by CQL", `GET /wiki/rest/api/content/search`, and
//! "Search", `GET /wiki/rest/api/search`; "Content Property Index"
//! module): what the fields of [`super::cql`] mean over the seeded pages.
//!
//! - `type`: every seeded content is a `page`;
//! - `space` / `space.key`: the space key; `id` / `content`: the id;
//! - `title`: `=` the whole title, `~` contains the words (case-insensitive);
//!   `text ~`: the words appear in the title or body (Confluence's
//!   full-text matching, stemming and ranking are not emulated);
//! - `content.property[key].path` and extraction aliases: only where an
//!   enabled app's descriptor indexes them
//!   (`modules.confluenceContentProperties[].keyConfigurations[]
//!   .{propertyKey, extractions[{objectName, type, alias}]}`); `number`
//!   compares numerically, `string` and `date` as text, `text` by `~`.
//!   A property nobody indexes matches nothing (unverified: Confluence may
//!   refuse it); an unknown field is a 400.
//!
//! Results in `ORDER BY` order (else by id), paged with `start` and `limit`
//! (default 25, at most 100), with `_links.next` when more follow. Scope
//! `READ`. Errors in Confluence's body, 400 for CQL it cannot read
//! (message wording unverified).

use std::cmp::Ordering;
use std::sync::Arc;

use serde_json::{Value, json};
use warp::http::{Method, StatusCode};
use warp::reply::Response;
use warp::{Filter, Rejection, Reply};

use super::content::content_json;
use super::cql::{self, Clause, Expr, Field, Operator, Query};
use super::data::{ConfluenceData, ContentPage};
use crate::platform::call::{Call, call_in, with_site};
use crate::platform::errors::confluence_error as error;
use crate::platform::http::query_param;
use crate::platform::installation::as_list;
use crate::site::{CONFLUENCE_CONTEXT_PATH, Site};
use lodger_connect::installation::Product;

const DEFAULT_LIMIT: usize = 25;
const MAX_LIMIT: usize = 100;

/// One indexed path of a content property (Atlassian: "Content Property
/// Index" module, an extraction).
#[derive(Debug, Clone, PartialEq)]
pub struct Extraction {
    /// The content property key.
    pub property_key: String,
    /// The dot-separated path inside the value.
    pub object_name: String,
    /// `number`, `string`, `text` or `date`.
    pub kind: String,
    /// The alias CQL may name it by.
    pub alias: Option<String>,
}

/// The content property paths the enabled Confluence apps index, by app key.
pub fn index(confluence: &ConfluenceData) -> Vec<Extraction> {
    let mut installs: Vec<_> = confluence.installs.values().filter(|i| i.enabled).collect();
    installs.sort_by(|a, b| a.app_key.cmp(&b.app_key));
    let mut index = Vec::new();
    for install in installs {
        for module in as_list(&install.descriptor["modules"]["confluenceContentProperties"]) {
            for configuration in as_list(&module["keyConfigurations"]) {
                let Some(property_key) = configuration["propertyKey"].as_str() else { continue };
                for extraction in as_list(&configuration["extractions"]) {
                    let Some(object_name) = extraction["objectName"].as_str() else { continue };
                    index.push(Extraction {
                        property_key: property_key.to_owned(),
                        object_name: object_name.to_owned(),
                        kind: extraction["type"].as_str().unwrap_or("string").to_ascii_lowercase(),
                        alias: extraction["alias"].as_str().map(str::to_owned),
                    });
                }
            }
        }
    }
    index
}

/// The search routes, to mount under `wiki` before `content/{id}`.
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let query = warp::query::raw().or(warp::any().map(String::new)).unify();
    let content = warp::path!("rest" / "api" / "content" / "search").map(|| false);
    let wrapped = warp::path!("rest" / "api" / "search").map(|| true);
    content
        .or(wrapped)
        .unify()
        .and(query)
        .and(with_site(Arc::clone(&site)))
        .and(call_in(site, Product::Confluence))
        .map(|wrapped: bool, query: String, site: Arc<Site>, call: Call| {
            search(&site, &query, &call, wrapped)
        })
}

fn search(site: &Site, query: &str, call: &Call, wrapped: bool) -> Response {
    if call.method != Method::GET {
        return error(StatusCode::METHOD_NOT_ALLOWED, "use GET");
    }
    let cql = query_param(query, "cql").unwrap_or_default();
    if cql.trim().is_empty() {
        return error(StatusCode::BAD_REQUEST, "The CQL query parameter 'cql' is required");
    }
    let number = |name: &str, default: usize| {
        query_param(query, name).map_or(Some(default), |text| text.parse::<usize>().ok())
    };
    let (Some(start), Some(limit)) = (number("start", 0), number("limit", DEFAULT_LIMIT)) else {
        return error(StatusCode::BAD_REQUEST, "start and limit must be non-negative numbers");
    };
    let limit = limit.clamp(1, MAX_LIMIT);
    let found = {
        let data = site.data();
        run(&cql, &data.confluence)
    };
    let pages = match found {
        Ok(pages) => pages,
        Err(message) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!(
                    "com.atlassian.confluence.api.service.exceptions.BadRequestException: Could not parse cql : {cql} ({message})"
                ),
            );
        }
    };
    let total = pages.len();
    let shown: Vec<Value> = pages
        .iter()
        .skip(start)
        .take(limit)
        .map(|page| {
            let content = content_json(site, page);
            if wrapped {
                json!({
                    "content": content,
                    "title": page.title,
                    "excerpt": "",
                    "url": content["_links"]["webui"],
                    "entityType": "content",
                    "resultGlobalContainer": {"title": page.space_key, "displayUrl": format!("/spaces/{}", page.space_key)},
                })
            } else {
                content
            }
        })
        .collect();
    let base = site.base_url_of(Product::Confluence);
    let path = if wrapped { "/rest/api/search" } else { "/rest/api/content/search" };
    let link = |from: usize| {
        format!("{path}?cql={}&start={from}&limit={limit}", crate::platform::iframe::encode(&cql))
    };
    let mut links = json!({"base": base, "context": CONFLUENCE_CONTEXT_PATH, "self": format!("{base}{}", link(start))});
    if start + shown.len() < total {
        links["next"] = json!(link(start + shown.len()));
    }
    let mut body = json!({
        "results": shown,
        "start": start,
        "limit": limit,
        "size": shown.len(),
        "_links": links,
    });
    if wrapped {
        body["totalSize"] = json!(total);
        body["cqlQuery"] = json!(cql);
    }
    warp::reply::json(&body).into_response()
}

/// The pages `cql` finds, in its order; an error's wording if it cannot run.
pub fn run(cql: &str, confluence: &ConfluenceData) -> Result<Vec<ContentPage>, String> {
    let query = cql::parse(cql).map_err(|e| e.0)?;
    let index = index(confluence);
    check_fields(&query, &index)?;
    let mut found: Vec<ContentPage> = confluence
        .pages
        .iter()
        .filter(|page| holds(&query.condition, page, confluence, &index))
        .cloned()
        .collect();
    found.sort_by(|a, b| order(&query, a, b));
    Ok(found)
}

/// Every named field must be an alias some app indexes; sorts only by the
/// page's own fields.
fn check_fields(query: &Query, index: &[Extraction]) -> Result<(), String> {
    fn walk(expr: &Expr, index: &[Extraction]) -> Result<(), String> {
        match expr {
            Expr::And(parts) | Expr::Or(parts) => parts.iter().try_for_each(|p| walk(p, index)),
            Expr::Not(inner) => walk(inner, index),
            Expr::Clause(Clause { field: Field::Named(name), .. }) => {
                if index.iter().any(|e| e.alias.as_deref() == Some(name.as_str())) {
                    Ok(())
                } else {
                    Err(format!("the field '{name}' is not supported"))
                }
            }
            Expr::Clause(_) => Ok(()),
        }
    }
    walk(&query.condition, index)?;
    match query.order.iter().find(|(f, _)| matches!(f, Field::Named(_) | Field::Property { .. })) {
        Some((field, _)) => Err(format!("cannot order by {field}")),
        None => Ok(()),
    }
}

/// A page body's text: its markup's tags dropped, each replaced by a space
/// so that words in adjacent elements stay apart.
fn without_tags(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                text.push(' ');
            }
            _ if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

fn holds(expr: &Expr, page: &ContentPage, data: &ConfluenceData, index: &[Extraction]) -> bool {
    match expr {
        Expr::And(parts) => parts.iter().all(|p| holds(p, page, data, index)),
        Expr::Or(parts) => parts.iter().any(|p| holds(p, page, data, index)),
        Expr::Not(inner) => !holds(inner, page, data, index),
        Expr::Clause(clause) => matches(clause, page, data, index),
    }
}

fn matches(
    clause: &Clause,
    page: &ContentPage,
    data: &ConfluenceData,
    index: &[Extraction],
) -> bool {
    let text_of_page = |field: &Field| -> Option<String> {
        Some(match field {
            Field::Type => "page".to_owned(),
            Field::Space => page.space_key.clone(),
            Field::Id => page.id.clone(),
            Field::Title => page.title.clone(),
            Field::Text => format!("{} {}", page.title, without_tags(&page.body_html)),
            _ => return None,
        })
    };
    if let Some(own) = text_of_page(&clause.field) {
        let equal = |v: &String| match clause.field {
            Field::Title => own.eq_ignore_ascii_case(v),
            _ => own == *v,
        };
        return apply(clause, &own, &equal, "string");
    }
    let extraction = index.iter().find(|e| match &clause.field {
        Field::Property { key, path } => e.property_key == *key && e.object_name == *path,
        Field::Named(name) => e.alias.as_deref() == Some(name.as_str()),
        _ => false,
    });
    let Some(extraction) = extraction else { return false };
    let value = data
        .content_properties
        .get(&(page.id.clone(), extraction.property_key.clone()))
        .and_then(|p| extraction.object_name.split('.').try_fold(&p.value, |v, step| v.get(step)));
    let Some(value) = value else {
        // Confluence indexes no value: only negations hold.
        return matches!(
            clause.operator,
            Operator::NotEquals | Operator::NotIn | Operator::NotContains
        );
    };
    let found = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let equal = |v: &String| compare(&found, v, &extraction.kind) == Some(Ordering::Equal);
    apply(clause, &found, &equal, &extraction.kind)
}

/// A clause's operator applied to what the page has (`own`): `equal` says
/// when it equals one of the clause's values, `kind` how values order.
fn apply(clause: &Clause, own: &str, equal: &dyn Fn(&String) -> bool, kind: &str) -> bool {
    let Some(first) = clause.values.first() else { return false };
    match clause.operator {
        Operator::Equals => equal(first),
        Operator::NotEquals => !equal(first),
        Operator::In => clause.values.iter().any(equal),
        Operator::NotIn => !clause.values.iter().any(equal),
        Operator::Contains => contains_words(own, first),
        Operator::NotContains => !contains_words(own, first),
        op => compare(own, first, kind).is_some_and(|o| ordered(op, o)),
    }
}

/// `~`: every word of `words` appears in `text`, case-insensitively.
fn contains_words(text: &str, words: &str) -> bool {
    let text = text.to_lowercase();
    let words: Vec<String> = words.split_whitespace().map(str::to_lowercase).collect();
    !words.is_empty() && words.iter().all(|w| text.contains(w.trim_matches('*')))
}

fn compare(found: &str, given: &str, kind: &str) -> Option<Ordering> {
    if kind == "number" {
        let (a, b) = (found.parse::<f64>().ok()?, given.parse::<f64>().ok()?);
        return a.partial_cmp(&b);
    }
    Some(found.cmp(given))
}

fn ordered(operator: Operator, ordering: Ordering) -> bool {
    match operator {
        Operator::Greater => ordering == Ordering::Greater,
        Operator::GreaterOrEqual => ordering != Ordering::Less,
        Operator::Less => ordering == Ordering::Less,
        Operator::LessOrEqual => ordering != Ordering::Greater,
        _ => false,
    }
}

fn order(query: &Query, a: &ContentPage, b: &ContentPage) -> Ordering {
    let id = |p: &ContentPage| p.id.parse::<u64>().unwrap_or(0);
    for (field, descending) in &query.order {
        let ordering = match field {
            Field::Title => a.title.to_lowercase().cmp(&b.title.to_lowercase()),
            Field::Space => a.space_key.cmp(&b.space_key),
            Field::Id => id(a).cmp(&id(b)),
            _ => Ordering::Equal,
        };
        let ordering = if *descending { ordering.reverse() } else { ordering };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    id(a).cmp(&id(b))
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_search_reads_a_bodys_words_not_its_tags() {
        assert_eq!(
            super::without_tags("<p>one</p><p>two</p>").split_whitespace().collect::<Vec<_>>(),
            ["one", "two"]
        );
        assert!(!super::without_tags("<p>x</p>").contains('p'));
    }

    use super::*;

    fn titles(cql: &str, data: &ConfluenceData) -> Vec<String> {
        run(cql, data).unwrap().into_iter().map(|p| p.title).collect()
    }

    #[test]
    fn finds_pages_by_their_own_fields_in_order() {
        let data = ConfluenceData::seeded();
        assert_eq!(
            titles("type = page order by title", &data),
            ["Meeting notes", "Onboarding", "Team checklist"]
        );
        assert_eq!(titles("space = LOD and title ~ checklist", &data), ["Team checklist"]);
        assert_eq!(
            titles("id in (65538, 65539) and not title = 'onboarding'", &data),
            ["Meeting notes"]
        );
        assert_eq!(titles("text ~ newcomer or type = blogpost", &data), ["Onboarding"]);
        assert!(run("creator = x", &data).is_err(), "an unknown field");
        assert!(run("type = page order by creator", &data).is_err());
    }
}

//! The inspector's page and JSON: `GET /dev/inspector` lists the site's
//! exchanges with its apps, newest first, each row opening onto its
//! decoded token and the reason it was refused; `GET /dev/inspector.json`
//! answers the same data for tests and scripts. Both take `?app=`
//! (an app key or Forge app id), `?kind=` (see [`Kind::as_str`]) and
//! `?since=<id>` (only newer exchanges).
//!
//! The JSON is `{site, capacity, dropped, exchanges: [Exchange…]}`, each
//! exchange as [`Exchange`] serializes it (camelCase).
//!
//! What it is not: access control. Like the site's other `/dev` pages it
//! is open to whoever reaches the port; it holds no secret.

use std::sync::{Arc, OnceLock};

use serde_json::{Value, json};
use tera::{Context, Tera};
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::exchanges::{Exchange, Kind, Selection};
use crate::platform::call::with_site;
use crate::platform::errors::error;
use crate::platform::http::{json_response, query_param, raw_query};
use crate::site::Site;

/// `GET /dev/inspector` and `GET /dev/inspector.json`.
pub fn routes(site: Arc<Site>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let json = warp::path!("dev" / "inspector.json")
        .and(raw_query())
        .and(with_site(Arc::clone(&site)))
        .map(|query: String, site: Arc<Site>| inspector_json(&site, &query));
    let page = warp::path!("dev" / "inspector")
        .and(raw_query())
        .and(with_site(site))
        .map(|query: String, site: Arc<Site>| inspector_page(&site, &query));
    warp::get().and(json.or(page).unify())
}

/// The selection a query string asks for; an unknown kind or a `since`
/// that is not a number is a 400.
fn selection(query: &str) -> Result<Selection, String> {
    let kind = match query_param(query, "kind").filter(|k| !k.is_empty()) {
        None => None,
        Some(name) => Some(Kind::parse(&name).ok_or_else(|| {
            let known: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
            format!("kind must be one of {}", known.join(", "))
        })?),
    };
    let since = match query_param(query, "since").filter(|s| !s.is_empty()) {
        None => None,
        Some(id) => Some(id.parse().map_err(|_| "since must be an exchange id".to_owned())?),
    };
    let app = query_param(query, "app").filter(|a| !a.is_empty());
    Ok(Selection { app, kind, since })
}

/// The listing as JSON.
fn listing(site: &Site, selection: &Selection) -> Value {
    let exchanges = site.exchanges();
    json!({
        "site": site.name,
        "capacity": exchanges.capacity(),
        "dropped": exchanges.dropped(),
        "exchanges": exchanges.newest_first(selection),
    })
}

fn inspector_json(site: &Site, query: &str) -> Response {
    match selection(query) {
        Ok(selection) => json_response(StatusCode::OK, &listing(site, &selection)),
        Err(problem) => error(StatusCode::BAD_REQUEST, &problem),
    }
}

fn inspector_page(site: &Site, query: &str) -> Response {
    let selection = match selection(query) {
        Ok(selection) => selection,
        Err(problem) => return error(StatusCode::BAD_REQUEST, &problem),
    };
    match render(site, &selection) {
        Ok(html) => {
            let mut response = Response::new(html.into());
            let headers = response.headers_mut();
            headers
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(problem) => {
            tracing::error!(%problem, "the inspector template failed to render");
            error(StatusCode::INTERNAL_SERVER_ERROR, "the inspector template failed to render")
        }
    }
}

fn templates() -> Result<&'static Tera, tera::Error> {
    static TERA: OnceLock<Result<Tera, String>> = OnceLock::new();
    let tera = TERA.get_or_init(|| {
        let mut tera = Tera::default();
        tera.add_raw_template("inspector.html", include_str!("templates/inspector.html"))
            .map(|()| tera)
            .map_err(|e| e.to_string())
    });
    tera.as_ref().map_err(|e| tera::Error::msg(e.clone()))
}

/// One row of the page: the exchange and what the template shows of it.
fn row(exchange: &Exchange) -> Value {
    let pretty = |value: &Value| serde_json::to_string_pretty(value).unwrap_or_default();
    let token = exchange.token.as_ref().map(|t| {
        json!({
            "kind": t.kind,
            "subject": t.subject,
            "header": t.header.as_ref().map(pretty),
            "claims": t.claims.as_ref().map(pretty),
        })
    });
    let refusal = exchange.refusal.as_ref().map(|r| {
        json!({
            "check": serde_json::to_value(r.check).unwrap_or_default(),
            "message": r.message,
            "scope": r.scope,
            "canonical_request": r.canonical_request,
            "qsh_expected": r.qsh_expected,
            "qsh_received": r.qsh_received,
            "condition": r.condition.as_ref().map(pretty),
        })
    });
    json!({
        "id": exchange.id,
        "time": clock(exchange.time_ms),
        "arrow": match exchange.direction {
            super::exchanges::Direction::SiteToApp => "site → app",
            super::exchanges::Direction::AppToSite => "app → site",
            super::exchanges::Direction::AdminToSite => "admin → site",
        },
        "kind": exchange.kind.as_str(),
        "app": exchange.app,
        "summary": exchange.summary,
        "method": exchange.method,
        "url": exchange.url,
        "status": exchange.status,
        "error": exchange.error,
        "duration_ms": exchange.duration_ms,
        "attempt": exchange.attempt,
        "failed": exchange.refusal.is_some()
            || exchange.error.is_some()
            || exchange.status.is_some_and(|s| s >= 400),
        "token": token,
        "refusal": refusal,
    })
}

fn render(site: &Site, selection: &Selection) -> Result<String, tera::Error> {
    let (rows, capacity, dropped) = {
        let exchanges = site.exchanges();
        let rows: Vec<Value> = exchanges.newest_first(selection).iter().map(row).collect();
        (rows, exchanges.capacity(), exchanges.dropped())
    };
    let mut context = Context::new();
    context.insert("site", &site.name);
    context.insert("rows", &rows);
    context.insert("capacity", &capacity);
    context.insert("dropped", &dropped);
    context.insert("kinds", &Kind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>());
    context.insert("kind", &selection.kind.map(Kind::as_str).unwrap_or_default());
    context.insert("app", &selection.app.clone().unwrap_or_default());
    templates()?.render("inspector.html", &context)
}

/// `HH:MM:SS.mmm` UTC of a time in milliseconds since the epoch.
fn clock(ms: i64) -> String {
    let day = ms.rem_euclid(86_400_000);
    let (h, m, s, milli) = (day / 3_600_000, day / 60_000 % 60, day / 1000 % 60, day % 1000);
    format!("{h:02}:{m:02}:{s:02}.{milli:03}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspector::exchanges::Reason;
    use crate::inspector::exchanges::{Check, Direction};

    #[test]
    fn the_page_escapes_what_apps_send() {
        let site = Site::seeded("acme", "http://127.0.0.1:2990");
        let hostile = "/rest/api/3/issue/<script>alert(1)</script>";
        let exchange =
            Exchange::new(Direction::AppToSite, Kind::Rest, "<b>app</b>", "GET", hostile)
                .refused(Reason::new(Check::Signature, "<img src=x onerror=alert(1)>"));
        site.record(exchange);
        let html = render(&site, &Selection::default()).unwrap();
        assert!(!html.contains("<script>alert") && !html.contains("<img src=x"), "{html}");
        assert!(html.contains("&lt;b&gt;app&lt;&#x2F;b&gt;"), "{html}");
    }

    #[test]
    fn bad_filters_are_refused_with_what_was_expected() {
        assert!(selection("kind=nope").unwrap_err().contains("forge-trigger"));
        assert!(selection("since=x").is_err());
        let chosen = selection("app=a&kind=rest&since=4").unwrap();
        assert_eq!(chosen.kind, Some(Kind::Rest));
        assert_eq!(chosen.since, Some(4));
        assert_eq!(clock(3_723_004), "01:02:03.004");
    }
}

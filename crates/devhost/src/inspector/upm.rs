//! Calls to the Universal Plugin Manager's REST API
//! ([`crate::platform::upm`]): listing apps and taking an `upm-token`,
//! installing by descriptor URL, polling the install task, uninstalling,
//! reading its settings. Recorded around UPM's routes, kind `upm`, with the
//! Basic auth user's name (never the password or API token), and for a 401
//! or 403 the message the site answered (Atlassian: "Universal Plugin
//! Manager REST API", as atlassian-connect-express calls it).
//!
//! What it is not: authentication. The user name shown is the one the
//! header carried, whether or not it verified.

use std::time::Instant;

use base64::Engine;
use warp::http::{HeaderMap, Method};
use warp::path::FullPath;
use warp::reply::Response;
use warp::{Filter, Rejection};

use super::exchanges::{Check, Direction, Exchange, Kind, Reason};
use super::record::opaque;
use crate::platform::errors::ErrorMessage;
use std::sync::Arc;

use crate::site::Site;

/// `inner` (UPM's routes), with each call it answers recorded in `site`'s
/// inspector.
pub fn around<F>(
    site: Arc<Site>,
    inner: F,
) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone
where
    F: Filter<Extract = (Response,), Error = Rejection> + Clone + Send + Sync + 'static,
{
    warp::any()
        .map(Instant::now)
        .and(warp::method())
        .and(warp::path::full())
        .and(warp::header::headers_cloned())
        .and(inner)
        .map(
            move |started: Instant,
                  method: Method,
                  path: FullPath,
                  headers: HeaderMap,
                  response: Response| {
                site.record(exchange(&site, &method, path.as_str(), &headers, &response, started));
                response
            },
        )
}

/// The exchange for one UPM call.
fn exchange(
    site: &Site,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    response: &Response,
    started: Instant,
) -> Exchange {
    let user = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(basic_user);
    let status = response.status().as_u16();
    let mut exchange = Exchange::new(
        Direction::AdminToSite,
        Kind::Upm,
        &app(site, method, path),
        method.as_str(),
        path,
    )
    .about(match &user {
        Some(user) => format!("UPM, as {user}"),
        None => "UPM, no Basic auth".to_owned(),
    })
    .answered(Ok::<u16, std::convert::Infallible>(status), started);
    exchange.token = user.map(|user| opaque("basic", user));
    if status == 401 || status == 403 {
        let message = response.extensions().get::<ErrorMessage>().map_or_else(
            || response.status().canonical_reason().unwrap_or_default().to_owned(),
            |m| m.0.clone(),
        );
        let check = if status == 401 { Check::Credentials } else { Check::Other };
        exchange = exchange.refused(Reason::new(check, message));
    }
    exchange
}

/// The app a UPM call is about, when its path or task names it: the key of
/// `DELETE …/1.0/<key>-key`, the app a finished install task installed.
fn app(site: &Site, method: &Method, path: &str) -> String {
    let tail = path.rsplit_once("/rest/plugins/1.0/").map_or("", |(_, tail)| tail);
    if let Some(task) = tail.strip_prefix("pending/") {
        if let Some(Ok(key)) = site.data().upm_tasks.get(task) {
            return key.clone();
        }
    } else if *method == Method::DELETE && !tail.is_empty() {
        return tail.strip_suffix("-key").unwrap_or(tail).to_owned();
    }
    "?".to_owned()
}

/// The user name of a Basic `Authorization` header; the password or API
/// token after the colon is dropped.
fn basic_user(header: &str) -> Option<String> {
    let encoded = header.trim().strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    // Without a `:` the whole value may be a bare token: record nothing.
    decoded.split_once(':').map(|(user, _)| user.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_user_name_of_basic_auth_is_kept() {
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("admin@acme.test:s3cret-token")
        );
        assert_eq!(basic_user(&header).as_deref(), Some("admin@acme.test"));
        assert_eq!(basic_user("Bearer x"), None);
        let bare = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("s3cret"));
        assert_eq!(basic_user(&bare), None, "a value without a user name is not shown");
    }
}

//! Making exchanges safe to show: URLs without their `jwt` parameter and
//! with credentials redacted, tokens decoded to their header and claims.
//!
//! What it is not: verification. Tokens are decoded without checking
//! anything ([`lodger_connect::jwt::inspect`]), for reading only; the
//! signature is never decoded, let alone kept.

use serde_json::{Map, Value};

use super::exchanges::TokenView;

/// Values and path segments longer than this are redacted: an app may
/// carry a credential in a webhook URL's path or query.
const LONGEST_SHOWN: usize = 40;

/// `url` fit to show: no fragment, no `jwt` parameter, and every path
/// segment or query value longer than 40 characters replaced by `[redacted]`.
pub fn safe_url(url: &str) -> String {
    let bare = url.split('#').next().unwrap_or_default();
    let (before, query) = bare.split_once('?').unwrap_or((bare, ""));
    let (origin, path) = match before.find("://") {
        Some(i) => before[i + 3..].find('/').map_or((before, ""), |j| before.split_at(i + 3 + j)),
        None => ("", before),
    };
    let path: Vec<&str> = path.split('/').map(redact).collect();
    let query: Vec<String> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (name != "jwt").then(|| {
                if value.is_empty() && !pair.contains('=') {
                    name.to_owned()
                } else {
                    format!("{name}={}", redact(value))
                }
            })
        })
        .collect();
    let mut safe = format!("{origin}{}", path.join("/"));
    if !query.is_empty() {
        safe.push('?');
        safe.push_str(&query.join("&"));
    }
    safe
}

fn redact(text: &str) -> &str {
    if text.len() > LONGEST_SHOWN { "[redacted]" } else { text }
}

/// A compact JWT decoded for reading: its header's `alg`, `kid` and `typ`
/// and its claims. A token that does not decode shows as `undecodable`.
pub fn token_view(kind: &str, token: &str) -> TokenView {
    let (header, claims) = match lodger_connect::jwt::inspect(token.trim()) {
        Ok((header, claims)) => {
            let kept: Map<String, Value> = ["alg", "kid", "typ"]
                .into_iter()
                .filter_map(|name| header.get(name).map(|v| (name.to_owned(), v.clone())))
                .collect();
            (Some(Value::Object(kept)), Some(claims))
        }
        Err(_) => (None, None),
    };
    let subject = header.is_none().then(|| "undecodable".to_owned());
    TokenView { kind: kind.to_owned(), header, claims, subject }
}

/// How a request to an app ended: its status, or why there was none.
pub fn outcome(sent: &Result<reqwest::Response, reqwest::Error>) -> Result<u16, &'static str> {
    match sent {
        Ok(response) => Ok(response.status().as_u16()),
        Err(e) if e.is_timeout() => Err("timed out"),
        Err(e) if e.is_connect() => Err("connection failed"),
        Err(_) => Err("request failed"),
    }
}

/// A credential that is not a JWT: only its kind and whom it speaks for.
pub fn opaque(kind: &str, subject: impl Into<String>) -> TokenView {
    TokenView { kind: kind.to_owned(), header: None, claims: None, subject: Some(subject.into()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lodger_connect::jwt::{Claims, sign};
    use lodger_connect::secret::Secret;

    #[test]
    fn urls_lose_their_jwt_and_long_values() {
        assert_eq!(
            safe_url("http://app.test/panel?issue=LOD-1&jwt=eyJ.abc.def&cp=#frag"),
            "http://app.test/panel?issue=LOD-1&cp="
        );
        let long = "x".repeat(60);
        assert_eq!(
            safe_url(&format!("http://app.test/hooks/{long}?c={long}&flag")),
            "http://app.test/hooks/[redacted]?c=[redacted]&flag"
        );
        assert_eq!(safe_url("/rest/api/3/myself"), "/rest/api/3/myself");
    }

    #[test]
    fn tokens_show_header_and_claims_but_never_the_signature() {
        let token = sign(&Claims::new("app", 1000, 180, "abc"), &Secret::new("s3cret"));
        let signature = token.rsplit('.').next().unwrap();
        let view = token_view("JWT", &token);
        assert_eq!(view.header.as_ref().unwrap()["alg"], "HS256");
        assert_eq!(view.claims.as_ref().unwrap()["iss"], "app");
        let shown = serde_json::to_string(&view).unwrap();
        assert!(!shown.contains(signature) && !shown.contains("s3cret"), "{shown}");
        assert_eq!(token_view("JWT", "nope").subject.as_deref(), Some("undecodable"));
    }
}

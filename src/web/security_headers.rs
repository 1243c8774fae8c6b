//! Security headers: the Content-Security-Policy that lets Jira and Confluence
//! frame lodger's pages and nobody else, and the two headers every response gets.
//!
//! A Connect page never stands alone: the host product loads it in an `<iframe>`
//! inside the customer's site (`https://<tenant>.atlassian.net`), and the page
//! talks to that site through `postMessage` (the `AP` bridge of `all.js`). So the
//! usual anti-clickjacking header, `X-Frame-Options: DENY` or `SAMEORIGIN`, would
//! blank every panel: it cannot name other origins, and it is deliberately **not**
//! sent. Framing is instead limited by CSP `frame-ancestors`: the page itself,
//! Atlassian's cloud domains (`*.atlassian.net`, `*.jira.com`, and
//! `*.jira-dev.com` for Atlassian's own staging), and any extra origins the
//! operator configures, such as the emulated host of the dev world
//! (`http://127.0.0.1:2990`).
//!
//! The rest of the policy is tight: scripts only from this server and
//! Atlassian's Connect CDN (for `all.js`), styles from those too (connect-js
//! theming, `AP.theming.initializeTheming()`, loads Atlassian's design-token
//! stylesheets), no plugins, no `<base>` tricks, forms only to this server.
//! Inline styles stay allowed because `all.js` sets some.
//!
//! The header values are built once, in [`SecurityHeaders::new`]; applying them
//! to a response copies reference-counted values and allocates nothing.
//!
//! What this module is not: CORS. Pages call the server from its own origin.

use warp::http::header::{
    CONTENT_SECURITY_POLICY, HeaderMap, HeaderValue, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};

/// Where Connect's `all.js` comes from for Atlassian's sites.
const CONNECT_CDN: &str = "https://connect-cdn.atl-paas.net";
/// Atlassian's cloud domains, which may always frame the pages.
const ATLASSIAN_HOSTS: &str = "https://*.atlassian.net https://*.jira.com https://*.jira-dev.com";
/// The directives that name no host.
const FIXED_DIRECTIVES: &str = "img-src 'self' data: https:; \
     connect-src 'self'; \
     base-uri 'none'; \
     form-action 'self'; \
     object-src 'none'";

/// The headers lodger adds to its responses, built once at start-up.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    content_security_policy: HeaderValue,
    nosniff: HeaderValue,
    referrer_policy: HeaderValue,
}

impl SecurityHeaders {
    /// Builds the headers. `extra_hosts` are origins of hosts besides
    /// Atlassian's cloud (the dev host, `http://127.0.0.1:2990`): they may
    /// frame the pages and serve the bridge script `all.js`, as a real site's
    /// CDN does.
    ///
    /// The configuration checks the sources at start-up; as a second line of
    /// defence, a source with whitespace, `;`, `,` or a non-ASCII character is
    /// left out (and logged): it would end the directive and could add
    /// directives of its own.
    ///
    /// ```
    /// use lodger::web::security_headers::SecurityHeaders;
    /// use warp::http::HeaderMap;
    ///
    /// let security = SecurityHeaders::new(&["http://127.0.0.1:2990".to_string()]);
    /// let mut headers = HeaderMap::new();
    /// security.apply(&mut headers, true);
    /// let csp = headers["content-security-policy"].to_str()?;
    /// assert!(csp.contains("frame-ancestors 'self' https://*.atlassian.net"));
    /// assert!(csp.contains("script-src 'self' https://connect-cdn.atl-paas.net http://127.0.0.1:2990;"));
    /// assert!(csp.ends_with(" http://127.0.0.1:2990"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(extra_hosts: &[String]) -> Self {
        let mut extras = String::new();
        for source in extra_hosts {
            if is_one_source(source) {
                extras.push(' ');
                extras.push_str(source);
            } else {
                tracing::warn!(source, "extra host left out: expected one CSP source");
            }
        }
        let policy = format!(
            "default-src 'self'; script-src 'self' {CONNECT_CDN}{extras}; \
             style-src 'self' 'unsafe-inline' {CONNECT_CDN}{extras}; {FIXED_DIRECTIVES}; \
             frame-ancestors 'self' {ATLASSIAN_HOSTS}{extras}"
        );
        SecurityHeaders {
            // Cannot fail (every byte is visible ASCII), but fall back to a
            // strict policy rather than panic.
            content_security_policy: HeaderValue::from_str(&policy)
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'")),
            nosniff: HeaderValue::from_static("nosniff"),
            // `no-referrer` rather than `strict-origin-when-cross-origin`: a Connect
            // page's URL carries a `jwt` query parameter (a bearer token valid for
            // minutes), and the stricter policy keeps it out of every request the
            // page makes, even to this server's own access logs. lodger never reads
            // `Referer`, so nothing is lost.
            referrer_policy: HeaderValue::from_static("no-referrer"),
        }
    }

    /// Adds the headers to a response: `X-Content-Type-Options` and
    /// `Referrer-Policy` always, the `Content-Security-Policy` when the body is
    /// an HTML page (the policy governs documents; on a script or image it
    /// would do nothing).
    ///
    /// ```
    /// use lodger::web::security_headers::SecurityHeaders;
    /// use warp::http::HeaderMap;
    ///
    /// let security = SecurityHeaders::new(&[]);
    /// let mut headers = HeaderMap::new();
    /// security.apply(&mut headers, false);
    /// assert_eq!(headers["x-content-type-options"], "nosniff");
    /// assert!(!headers.contains_key("content-security-policy"));
    /// assert!(!headers.contains_key("x-frame-options"));
    /// ```
    pub fn apply(&self, headers: &mut HeaderMap, is_html: bool) {
        headers.insert(X_CONTENT_TYPE_OPTIONS, self.nosniff.clone());
        headers.insert(REFERRER_POLICY, self.referrer_policy.clone());
        if is_html {
            headers.insert(CONTENT_SECURITY_POLICY, self.content_security_policy.clone());
        }
    }
}

/// Whether `source` is a single CSP source expression that cannot end the
/// directive: non-empty, visible ASCII, no `;` or `,`.
fn is_one_source(source: &str) -> bool {
    !source.is_empty() && source.bytes().all(|b| b.is_ascii_graphic() && b != b';' && b != b',')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csp(extras: &[&str]) -> String {
        let extras: Vec<String> = extras.iter().map(|s| s.to_string()).collect();
        let mut headers = HeaderMap::new();
        SecurityHeaders::new(&extras).apply(&mut headers, true);
        headers[CONTENT_SECURITY_POLICY].to_str().expect("ascii").to_string()
    }

    #[test]
    fn frame_ancestors_lists_atlassian_domains_then_extras() {
        let policy = csp(&["http://127.0.0.1:2990", "https://example.test"]);
        assert!(policy.ends_with(
            "frame-ancestors 'self' https://*.atlassian.net https://*.jira.com \
             https://*.jira-dev.com http://127.0.0.1:2990 https://example.test"
        ));
        assert!(policy.starts_with(
            "default-src 'self'; script-src 'self' https://connect-cdn.atl-paas.net \
             http://127.0.0.1:2990 https://example.test; "
        ));
        assert!(policy.contains("; object-src 'none'; "));
    }

    #[test]
    fn leaves_out_an_extra_that_would_inject_a_directive() {
        for bad in ["https://x.test; script-src *", "https://a.test,https://b.test", "", "a\nb"] {
            assert!(
                csp(&[bad, "http://ok.test"]).ends_with("https://*.jira-dev.com http://ok.test")
            );
        }
    }

    #[test]
    fn never_sends_x_frame_options() {
        let mut headers = HeaderMap::new();
        SecurityHeaders::new(&[]).apply(&mut headers, true);
        assert!(!headers.contains_key("x-frame-options"));
        assert_eq!(headers[REFERRER_POLICY], "no-referrer");
    }
}

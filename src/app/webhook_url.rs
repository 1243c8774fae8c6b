//! The URL of lodger's dynamic Jira webhooks: `<base>/webhooks/jira?c=<sealed>`.
//!
//! A dynamic webhook (Atlassian: "Webhooks", registering through the REST
//! API) reaches any replica, which may never have seen the tenant: so the
//! URL carries the tenant's sealed credential
//! ([`crate::connect::sealed`]), and the replica opens it to verify the
//! delivery. This one type both builds that URL (at install and upkeep) and
//! reads it back (from a delivery's query, or a registration Jira lists).
//!
//! The credential is written unencoded: it is base64url and dots, which need
//! no escaping in a query. Reading takes the raw value for the same reason,
//! and refuses a second `c` rather than guess which one was meant.

/// The path Jira POSTs deliveries to, relative to the app's base URL.
pub const PATH: &str = "/webhooks/jira";

/// Why a webhook URL's query could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WebhookUrlError {
    /// The query names the credential more than once.
    #[error("expected at most one `c` parameter")]
    TwoCredentials,
}

/// A dynamic webhook URL: the app's webhook path with a sealed credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookUrl<'a> {
    /// The sealed installation credential the URL carries.
    pub credential: &'a str,
}

impl<'a> WebhookUrl<'a> {
    /// The URL for `credential`, under the app served at `base_url`.
    ///
    /// ```
    /// use lodger::app::webhook_url::WebhookUrl;
    ///
    /// let url = WebhookUrl { credential: "v1.k1.AAAA" }.at("https://lodger.example");
    /// assert_eq!(url, "https://lodger.example/webhooks/jira?c=v1.k1.AAAA");
    /// ```
    pub fn at(&self, base_url: &str) -> String {
        format!("{}?c={}", prefix(base_url), self.credential)
    }

    /// Reads the credential from a raw query string (`None` when there is
    /// none: a descriptor webhook's delivery).
    ///
    /// ```
    /// use lodger::app::webhook_url::WebhookUrl;
    ///
    /// let url = WebhookUrl::from_query("x=1&c=v1.k1.AAAA")?;
    /// assert_eq!(url.map(|u| u.credential), Some("v1.k1.AAAA"));
    /// assert!(WebhookUrl::from_query("c=a&c=b").is_err());
    /// # Ok::<(), lodger::app::webhook_url::WebhookUrlError>(())
    /// ```
    pub fn from_query(query: &'a str) -> Result<Option<WebhookUrl<'a>>, WebhookUrlError> {
        let mut values = query.split('&').filter_map(|pair| pair.strip_prefix("c="));
        let first = values.next();
        if values.next().is_some() {
            return Err(WebhookUrlError::TwoCredentials);
        }
        Ok(first.map(|credential| WebhookUrl { credential }))
    }

    /// Reads a whole URL, as Jira lists a registration: `None` unless it is
    /// this app's webhook URL with exactly one credential.
    pub fn parse(base_url: &str, url: &'a str) -> Option<WebhookUrl<'a>> {
        let query = url.strip_prefix(&prefix(base_url))?.strip_prefix('?')?;
        WebhookUrl::from_query(query).ok().flatten()
    }
}

/// The URL every one of this app's webhook registrations starts with.
pub fn prefix(base_url: &str) -> String {
    format!("{}{PATH}", base_url.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_the_url_it_builds() {
        let url = WebhookUrl { credential: "v1.k1.AA-_" }.at("https://lodger.example/");
        assert_eq!(
            WebhookUrl::parse("https://lodger.example", &url),
            Some(WebhookUrl { credential: "v1.k1.AA-_" })
        );
    }

    #[test]
    fn reads_one_credential_parameter_and_refuses_two() {
        let credential = |query| WebhookUrl::from_query(query).map(|u| u.map(|u| u.credential));
        assert_eq!(credential("c=v1.k.AAAA"), Ok(Some("v1.k.AAAA")));
        assert_eq!(credential("x=1&c=v1.k.AAAA&y=2"), Ok(Some("v1.k.AAAA")));
        assert_eq!(credential("x=1"), Ok(None));
        assert_eq!(credential(""), Ok(None));
        assert_eq!(credential("c=a&c=b"), Err(WebhookUrlError::TwoCredentials));
    }

    #[test]
    fn another_apps_url_is_not_ours() {
        assert_eq!(
            WebhookUrl::parse("https://lodger.example", "https://other.example/webhooks/jira?c=x"),
            None
        );
        assert_eq!(
            WebhookUrl::parse("https://lodger.example", "https://lodger.example/webhooks/jira"),
            None
        );
    }
}

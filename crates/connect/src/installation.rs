//! The installation: what a host hands an app when it installs it.
//!
//! Atlassian calls the site that installed an app its *tenant*, identified by
//! `clientKey`. The `installed` lifecycle callback carries the tenant's
//! `baseUrl` (where its REST API lives) and a `sharedSecret` that signs every
//! HS256 token between the two. A storage-free app keeps this record
//! nowhere but in a [sealed credential](super::sealed) stored in the host
//! itself.

use serde::{Deserialize, Serialize};

use super::secret::Secret;

/// The Atlassian product of a tenant: each has its own descriptor and app key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Product {
    /// Jira Cloud: REST under the base URL, e.g. `https://acme.atlassian.net`.
    Jira,
    /// Confluence Cloud: REST under a base URL ending in `/wiki`.
    Confluence,
}

impl Product {
    /// The product's name as the lifecycle payload's `productType` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Product::Jira => "jira",
            Product::Confluence => "confluence",
        }
    }
}

/// One installation of one app (app key) in one tenant (client key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Installation {
    /// The app key from the descriptor (`key`), which the host echoes back.
    pub key: String,
    /// The tenant's identity: the `iss` of every token the host signs.
    pub client_key: String,
    /// Where the tenant's REST API lives; the only place an app should send signed calls.
    pub base_url: String,
    /// Signs HS256 tokens between host and app; rotates on reinstall.
    pub shared_secret: Secret,
    /// Jira or Confluence.
    pub product_type: Product,
    /// The client id for acting as a user (OAuth 2.0 JWT bearer), when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_client_id: Option<String>,
    /// When the host signed the `installed` callback that handed this
    /// installation over (its signed-install token's `iat`, seconds since the
    /// epoch). A reinstall gives a later one, so of two installations of one
    /// tenant the later supersedes the earlier (Atlassian: "App descriptor:
    /// lifecycle", a reinstall sends `installed` again with a new secret).
    /// Credentials sealed before this field existed read as 0: the oldest.
    #[serde(default)]
    pub installed_at: i64,
}

impl Installation {
    /// Whether `self` and `other` hold the same trust: same tenant, same app,
    /// same shared secret. An upgrade that hands over the same secret again
    /// changes nothing the host accepts, so its older record still counts.
    pub fn is_same_as(&self, other: &Installation) -> bool {
        self.client_key == other.client_key
            && self.key == other.key
            && self.shared_secret == other.shared_secret
    }

    /// Whether `self` is known to supersede `older`: a later install of the
    /// same tenant and app with another secret (a reinstall rotates it). Two
    /// installs in the same second cannot be ordered from the records alone
    /// (the host decides).
    pub fn supersedes(&self, older: &Installation) -> bool {
        !self.is_same_as(older)
            && self.client_key == older.client_key
            && self.key == older.key
            && self.installed_at > older.installed_at
    }
}

/// Checks that a tenant base URL is one an app may send signed requests to:
/// `https://host[:port][/path]`, or `http://` on a loopback host (the dev world
/// and tests). No credentials, query or fragment.
///
/// ```
/// use lodger_connect::installation::is_acceptable_base_url;
///
/// assert!(is_acceptable_base_url("https://acme.atlassian.net/wiki"));
/// assert!(is_acceptable_base_url("http://127.0.0.1:8090"));
/// assert!(!is_acceptable_base_url("http://acme.atlassian.net"));
/// assert!(is_acceptable_base_url("http://[::1]:8090"));
/// assert!(!is_acceptable_base_url("https://user@evil.example"));
/// assert!(!is_acceptable_base_url("https://acme.atlassian.net:x"));
/// assert!(!is_acceptable_base_url("http://127.evil.example"));
/// ```
pub fn is_acceptable_base_url(url: &str) -> bool {
    let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        (false, rest)
    } else {
        return false;
    };
    if rest.contains(['?', '#', '@', '\\', ' ']) || rest.chars().any(char::is_control) {
        return false;
    }
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((host, after)) if after.is_empty() || after.starts_with(':') => {
                (host, after.strip_prefix(':'))
            }
            _ => return false,
        },
        None => match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if host.is_empty() || !port_ok {
        return false;
    }
    let loopback =
        host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    https || loopback
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECORD: &str = r#"{"key":"lodger","clientKey":"ck-1","baseUrl":"https://acme.atlassian.net",
        "sharedSecret":"s1","productType":"jira"}"#;

    #[test]
    fn a_record_sealed_before_installed_at_existed_reads_as_the_oldest() {
        let old: Installation = serde_json::from_str(RECORD).unwrap();
        assert_eq!(old.installed_at, 0);
        let later = Installation {
            installed_at: 1_700_000_000,
            shared_secret: Secret::new("s2"),
            ..old.clone()
        };
        assert!(later.supersedes(&old));
        assert!(!old.supersedes(&later));
    }

    #[test]
    fn only_a_later_install_with_another_secret_supersedes() {
        let one: Installation = serde_json::from_str(RECORD).unwrap();
        let upgraded = Installation { installed_at: 10, ..one.clone() };
        assert!(upgraded.is_same_as(&one));
        assert!(!upgraded.supersedes(&one), "same secret: the host still accepts it");
        let rotated = Installation { shared_secret: Secret::new("s2"), ..one.clone() };
        assert!(!one.is_same_as(&rotated));
        assert!(!rotated.supersedes(&one), "same second: the records alone cannot order them");
    }
}

//! Whom a call to the host is made for, and how it proves it: the one place
//! where lodger's two flavours differ in how they call a site.
//!
//! | flavour | where | `Authorization` | Atlassian page |
//! |---|---|---|---|
//! | Connect | the installation's `baseUrl`, from the sealed record | `JWT <HS256 token with the request's qsh>` | "Understanding JWT for Connect apps", "Making a service call" |
//! | Forge | the verified invocation token's `app.apiBaseUrl` | `Bearer <x-forge-oauth-system token>` | "Calling Atlassian app APIs from a remote" |
//!
//! Neither URL ever comes from an unverified part of a request, so a forged
//! request cannot make lodger send a credential elsewhere.

use crate::connect::installation::Installation;
use crate::connect::jwt::{self, Claims};
use crate::connect::qsh::{query_string_hash, relative_path};
use crate::connect::secret::Secret;
use crate::now;

/// How long a Connect token signed for one request stays valid.
const TOKEN_LIFETIME_SECONDS: i64 = 180;

/// A Forge installation as one invocation of the remote describes it: every
/// call brings its own (lodger keeps none of it).
#[derive(Debug, Clone)]
pub struct ForgeTenant {
    /// Where to call the product (`app.apiBaseUrl` of a *verified*
    /// invocation token), e.g. `https://api.atlassian.com/ex/jira/<cloudId>`.
    pub api_base_url: String,
    /// The app system token Forge handed over (`x-forge-oauth-system`).
    pub system_token: Secret,
    /// `app.installationId`, for logs (it can change without an event:
    /// nothing is keyed on it).
    pub installation_id: String,
    /// Whether the site holds an active license (`app.license.isActive`).
    pub licensed: bool,
}

/// The tenant a host call is made for.
#[derive(Debug, Clone, Copy)]
pub enum Tenant<'a> {
    /// A Connect installation: signed with its shared secret.
    Connect(&'a Installation),
    /// A Forge installation: the product token of the current invocation.
    Forge(&'a ForgeTenant),
}

impl<'a> From<&'a Installation> for Tenant<'a> {
    fn from(installation: &'a Installation) -> Self {
        Tenant::Connect(installation)
    }
}

impl<'a> From<&'a ForgeTenant> for Tenant<'a> {
    fn from(tenant: &'a ForgeTenant) -> Self {
        Tenant::Forge(tenant)
    }
}

impl Tenant<'_> {
    /// The base URL every path is relative to.
    pub fn base_url(&self) -> &str {
        match self {
            Tenant::Connect(installation) => &installation.base_url,
            Tenant::Forge(tenant) => &tenant.api_base_url,
        }
    }

    /// Who this is, for logs: the Connect `clientKey` or the Forge installation id.
    pub fn label(&self) -> &str {
        match self {
            Tenant::Connect(installation) => &installation.client_key,
            Tenant::Forge(tenant) => &tenant.installation_id,
        }
    }

    /// The `Authorization` header for `method path_and_query`, made fresh
    /// for each attempt (a Connect token is bound to the request and expires).
    pub fn authorization(&self, method: &str, path_and_query: &str) -> String {
        match self {
            Tenant::Connect(installation) => {
                let (path, query) = relative_path(path_and_query, "");
                let qsh = query_string_hash(method, path, query);
                let token = jwt::sign(
                    &Claims {
                        aud: Some(installation.client_key.clone().into()),
                        ..Claims::new(&installation.key, now(), TOKEN_LIFETIME_SECONDS, &qsh)
                    },
                    &installation.shared_secret,
                );
                format!("JWT {token}")
            }
            Tenant::Forge(tenant) => format!("Bearer {}", tenant.system_token.expose()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forge_calls_carry_the_handed_token_at_the_verified_base_url() {
        let tenant = ForgeTenant {
            api_base_url: "https://api.atlassian.com/ex/jira/c1".into(),
            system_token: Secret::new("sys-token"),
            installation_id: "ari:cloud:ecosystem::installation/i1".into(),
            licensed: true,
        };
        let tenant = Tenant::from(&tenant);
        assert_eq!(tenant.base_url(), "https://api.atlassian.com/ex/jira/c1");
        assert_eq!(tenant.authorization("GET", "/rest/api/3/myself"), "Bearer sys-token");
        assert!(!format!("{tenant:?}").contains("sys-token"));
    }
}

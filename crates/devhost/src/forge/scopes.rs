//! Which Forge scope each REST call the emulator serves needs, when a Forge
//! app calls it with a product token (Forge: "Permissions", scopes; each
//! operation's "OAuth 2.0 scopes required" row, classic scopes, in the
//! "Jira REST API v3" and "Confluence Cloud REST API" references). A call
//! whose scope is not in the manifest's `permissions.scopes` is refused
//! with 403 naming the scope; a call the table does not know is refused
//! too (the emulator serves Forge apps only what it can check).
//!
//! | call (path relative to the product) | scope | doc row it follows |
//! |---|---|---|
//! | `GET /rest/forge/1/app/properties[/{key}]` | `read:app-data:jira` | "App properties", Get app property (Forge) |
//! | `PUT, DELETE /rest/forge/1/app/properties/{key}` | `write:app-data:jira` | "App properties", Set / Delete app property (Forge) |
//! | `GET /rest/api/{2,3}/issue/{id}[/properties[/{key}]]` | `read:jira-work` | "Issues", Get issue; "Issue properties", Get issue property (keys) |
//! | `POST /rest/api/{2,3}/issue`, `PUT, DELETE /rest/api/{2,3}/issue/{id}[/properties/{key}]` | `write:jira-work` | "Issues", Create / Edit / Delete issue; "Issue properties", Set / Delete issue property |
//! | `PUT, DELETE /rest/api/{2,3}/issue/properties/{key}` | `write:jira-work` | "Issue properties", Bulk set / Bulk delete issue property |
//! | `GET /rest/api/{2,3}/project[/{id}[/properties[/{key}]]]` | `read:jira-work` | "Projects", Get project; "Project properties", Get project property |
//! | `PUT, DELETE /rest/api/{2,3}/project/{id}/properties/{key}` | `write:jira-work` | "Project properties", Set / Delete project property |
//! | `GET, POST /rest/api/{2,3}/search[/jql]` | `read:jira-work` | "Issue search", Search for issues using JQL (GET and POST) |
//! | `GET /rest/api/{2,3}/mypermissions` | `read:jira-work` | "Permissions", Get my permissions |
//! | `POST /rest/api/{2,3}/permissions/check` | `read:jira-user` | "Permissions", Get bulk permissions |
//! | `GET /rest/api/{2,3}/myself`, `GET /rest/api/{2,3}/user` | `read:jira-user` | "Myself", Get current user; "Users", Get user |
//! | `GET /rest/api/{2,3}/user/properties[/{key}]` | `read:jira-user` | "User properties", Get user property |
//! | `PUT, DELETE /rest/api/{2,3}/user/properties/{key}` | `write:jira-user` | "User properties", Set / Delete user property (unverified: the row read offline was ambiguous) |
//! | `GET /rest/api/{2,3}/task/{id}` | `read:jira-work` | "Tasks", Get task |
//! | `GET /rest/api/{2,3}/issue/{id}/comment[/{id}]`, `POST /rest/api/{2,3}/comment/list` | `read:jira-work` | "Issue comments", Get comments / Get comment / Get comments by IDs |
//! | `POST /rest/api/{2,3}/issue/{id}/comment`, `PUT, DELETE …/comment/{id}` | `write:jira-work` | "Issue comments", Add / Update / Delete comment |
//! | Confluence `GET /rest/api/content/{id}/property[/{key}]` | `read:confluence-props` | "Content properties", Get content property |
//! | Confluence `POST, PUT, DELETE /rest/api/content/{id}/property[/{key}]` | `write:confluence-props` | "Content properties", Create / Update / Delete content property |
//! | Confluence `GET /rest/api/content/{id}` | `read:confluence-content.all` | "Content", Get content by ID |
//! | Confluence `GET /rest/api/content/search`, `/rest/api/search` | `search:confluence` | "Content", Search content by CQL; "Search", Search content |
//! | Confluence `GET /rest/api/user` | `read:confluence-user` | "Users", Get user |
//!
//! Not served to Forge apps: the Connect framework's app properties and
//! license (`/rest/atlassian-connect/…`) and dynamic webhooks (Connect and
//! OAuth apps only; Forge apps use triggers).

use warp::http::Method;

use lodger_connect::installation::Product;

use super::state::ForgeInstallation;
use crate::platform::auth::{Refusal, RefusalReason};

/// Whether Forge app `install`'s manifest grants the scope `method path`
/// needs in `product` ([`required_scope`]); a refusal names the scope
/// (Forge: "Permissions"). Calls the table does not list are refused.
pub fn check(
    install: &ForgeInstallation,
    product: Product,
    method: &Method,
    path: &str,
) -> Result<(), Refusal> {
    let Some(scope) = required_scope(product, method, path) else {
        return Err(Refusal::forbidden(
            RefusalReason::NotAvailable,
            format!("{method} {path} is not available to Forge apps on this emulated site"),
        ));
    };
    if !install.manifest.has_scope(scope) {
        return Err(Refusal::forbidden(
            RefusalReason::MissingScope { scope: scope.to_owned() },
            format!("app {} lacks the {scope} scope for {method} {path}", install.app_id),
        ));
    }
    Ok(())
}

/// The Forge scope `method path` of `product` needs, or `None` when the
/// emulator does not serve it to Forge apps.
pub fn required_scope(product: Product, method: &Method, path: &str) -> Option<&'static str> {
    let reads = matches!(*method, Method::GET | Method::HEAD);
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match product {
        Product::Jira => jira(method, reads, &segments),
        Product::Confluence => confluence(method, reads, &segments),
    }
}

fn jira(method: &Method, reads: bool, segments: &[&str]) -> Option<&'static str> {
    let writes = matches!(*method, Method::PUT | Method::DELETE);
    match segments {
        ["rest", "forge", "1", "app", "properties", ..] if reads => Some("read:app-data:jira"),
        ["rest", "forge", "1", "app", "properties", _] if writes => Some("write:app-data:jira"),
        ["rest", "api", "2" | "3", rest @ ..] => match rest {
            ["issue"] if *method == Method::POST => Some("write:jira-work"),
            ["issue", "properties", _] if writes => Some("write:jira-work"),
            ["issue", _, "comment"] if *method == Method::POST => Some("write:jira-work"),
            ["issue", _, "comment"] | ["issue", _, "comment", _] => {
                Some(if reads { "read:jira-work" } else { "write:jira-work" })
            }
            ["comment", "list"] if *method == Method::POST => Some("read:jira-work"),
            ["issue", _] | ["issue", _, "properties", ..] | ["project", _, "properties", ..] => {
                Some(if reads { "read:jira-work" } else { "write:jira-work" })
            }
            ["project"] | ["project", _] | ["mypermissions"] | ["task", _] if reads => {
                Some("read:jira-work")
            }
            ["search"] | ["search", "jql"] if reads || *method == Method::POST => {
                Some("read:jira-work")
            }
            ["permissions", "check"] if *method == Method::POST => Some("read:jira-user"),
            ["myself"] | ["user"] | ["user", "properties", ..] if reads => Some("read:jira-user"),
            ["user", "properties", _] if writes => Some("write:jira-user"),
            _ => None,
        },
        _ => None,
    }
}

fn confluence(method: &Method, reads: bool, segments: &[&str]) -> Option<&'static str> {
    let writes = matches!(*method, Method::POST | Method::PUT | Method::DELETE);
    match segments {
        ["rest", "api", "content", "search"] | ["rest", "api", "search"] if reads => {
            Some("search:confluence")
        }
        ["rest", "api", "content", _, "property", ..] if reads => Some("read:confluence-props"),
        ["rest", "api", "content", _, "property", ..] if writes => Some("write:confluence-props"),
        ["rest", "api", "content", _] if reads => Some("read:confluence-content.all"),
        ["rest", "api", "user"] if reads => Some("read:confluence-user"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jira(method: Method, path: &str) -> Option<&'static str> {
        required_scope(Product::Jira, &method, path)
    }

    #[test]
    fn jira_calls_map_to_the_documented_scopes() {
        assert_eq!(jira(Method::GET, "/rest/api/3/issue/10001"), Some("read:jira-work"));
        assert_eq!(
            jira(Method::GET, "/rest/api/3/issue/LOD-1/properties/x"),
            Some("read:jira-work")
        );
        assert_eq!(
            jira(Method::PUT, "/rest/api/3/issue/LOD-1/properties/x"),
            Some("write:jira-work")
        );
        assert_eq!(jira(Method::PUT, "/rest/api/3/issue/properties/x"), Some("write:jira-work"));
        assert_eq!(jira(Method::POST, "/rest/api/3/issue"), Some("write:jira-work"));
        assert_eq!(jira(Method::POST, "/rest/api/3/permissions/check"), Some("read:jira-user"));
        assert_eq!(jira(Method::POST, "/rest/api/3/search/jql"), Some("read:jira-work"));
        assert_eq!(jira(Method::GET, "/rest/forge/1/app/properties/s"), Some("read:app-data:jira"));
        assert_eq!(
            jira(Method::PUT, "/rest/forge/1/app/properties/s"),
            Some("write:app-data:jira")
        );
        assert_eq!(jira(Method::GET, "/rest/api/3/issue/LOD-1/comment"), Some("read:jira-work"));
        assert_eq!(jira(Method::POST, "/rest/api/3/issue/LOD-1/comment"), Some("write:jira-work"));
        assert_eq!(
            jira(Method::DELETE, "/rest/api/2/issue/LOD-1/comment/10000"),
            Some("write:jira-work")
        );
        assert_eq!(jira(Method::POST, "/rest/api/3/comment/list"), Some("read:jira-work"));
        assert_eq!(jira(Method::POST, "/rest/api/3/webhook"), None);
        assert_eq!(jira(Method::GET, "/rest/atlassian-connect/1/addons/a/properties/b"), None);
    }

    #[test]
    fn confluence_calls_map_to_the_documented_scopes() {
        let c = |m: Method, p: &str| required_scope(Product::Confluence, &m, p);
        assert_eq!(c(Method::GET, "/rest/api/content/1/property/k"), Some("read:confluence-props"));
        assert_eq!(
            c(Method::PUT, "/rest/api/content/1/property/k"),
            Some("write:confluence-props")
        );
        assert_eq!(c(Method::POST, "/rest/api/content/1/property"), Some("write:confluence-props"));
        assert_eq!(c(Method::GET, "/rest/api/content/search"), Some("search:confluence"));
        assert_eq!(c(Method::GET, "/rest/api/search"), Some("search:confluence"));
        assert_eq!(c(Method::GET, "/rest/api/user"), Some("read:confluence-user"));
    }
}

//! The emulated platform's Forge invocation tokens (FIT): the RS256 JWT
//! Forge puts in `Authorization: Bearer` on every call to a remote (Forge:
//! "Forge remote invocation contract", "Forge Remote essentials",
//! verifying remote requests), and the JWKS that verifies them, served by
//! every site of one [`crate::DevHost`] at [`JWKS_PATH`].
//!
//! The header is `{alg: RS256, kid, typ: JWT}`; the claims are
//!
//! ```text
//! iss  "forge/invocation-token"      aud  the app id (ARI)
//! iat, nbf = now; exp = now + 60 s   jti  random
//! app: {id, appVersion, installationId ("ari:cloud:ecosystem::installation/<uuid>"),
//!       apiBaseUrl ("<site>/ex/jira/<cloudId>" or "<site>/ex/confluence/<cloudId>"),
//!       environment: {type: "DEVELOPMENT", id}, module: {type, key},
//!       license: {isActive}            (only when the manifest enables licensing)}
//! context: {cloudId, siteUrl, moduleKey, extension}   (UI invocations only)
//! principal: "<accountId>"                            (UI invocations with a user)
//! ```
//!
//! Unverified, chosen here: the lifetime (the docs say only that tokens are
//! short-lived); `principal` as the bare account id string (the docs show
//! an account id; lodger's reader also takes an object with `accountId`);
//! `app.module`'s shape; `context` carrying `moduleKey` beside `extension`
//! as `view.getContext()` does.
//!
//! What it is not: product tokens ([`super::product_tokens`]), which
//! travel beside the FIT.

use serde_json::{Value, json};

use super::state::ForgeInstallation;
use crate::platform::keys::{InstallSigner, random_id};

/// Where every site serves the JWKS of its dev host's Forge key.
pub const JWKS_PATH: &str = "/dev/forge/jwks.json";

/// How long an invocation token lives, in seconds.
pub const FIT_LIFETIME_SECONDS: i64 = 60;

/// The issuer of every invocation token.
pub const ISSUER: &str = lodger_connect::invocation_token::ISSUER;

/// Signs invocation tokens with a key generated at start.
#[derive(Debug)]
pub struct ForgeSigner {
    key: InstallSigner,
}

impl ForgeSigner {
    /// A fresh 2048-bit key, its `kid` starting `forge-dev/`.
    pub fn generate() -> anyhow::Result<ForgeSigner> {
        Ok(ForgeSigner { key: InstallSigner::generate_named("forge-dev/")? })
    }

    /// The key id tokens name.
    pub fn kid(&self) -> &str {
        self.key.kid()
    }

    /// The JWKS document (RFC 7517) holding the public key.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.key.jwk()] })
    }

    /// Signs `invocation`'s claims, issued at `now`.
    pub fn sign(&self, invocation: &Invocation<'_>, now: i64) -> anyhow::Result<String> {
        self.key.sign(&invocation.claims(now))
    }
}

/// The UI half of an invocation: where the user is and who they are.
#[derive(Debug, Clone)]
pub struct UiContext {
    /// The site's `cloudId`.
    pub cloud_id: String,
    /// The site's URL.
    pub site_url: String,
    /// The UI module's key.
    pub module_key: String,
    /// The module's `extension` context (issue, project, content…).
    pub extension: Value,
    /// The user, if one is logged in.
    pub account_id: Option<String>,
}

/// What one token is about.
#[derive(Debug, Clone)]
pub struct Invocation<'a> {
    /// The installation invoked.
    pub install: &'a ForgeInstallation,
    /// `app.apiBaseUrl` for the product of the call.
    pub api_base_url: &'a str,
    /// The invoking module's type (`trigger`, `jira:issuePanel`…).
    pub module_type: &'a str,
    /// The invoking module's key.
    pub module_key: &'a str,
    /// `app.license.isActive`, when the manifest enables licensing.
    pub license_active: Option<bool>,
    /// The UI context, for UI invocations.
    pub ui: Option<UiContext>,
}

impl Invocation<'_> {
    /// The token's claims.
    pub fn claims(&self, now: i64) -> Value {
        let install = self.install;
        let mut app = json!({
            "id": install.app_id,
            "appVersion": install.app_version,
            "installationId": install.installation_id,
            "apiBaseUrl": self.api_base_url,
            "environment": {"type": "DEVELOPMENT", "id": install.environment_id},
            "module": {"type": self.module_type, "key": self.module_key},
        });
        if let Some(active) = self.license_active {
            app["license"] = json!({ "isActive": active });
        }
        let mut claims = json!({
            "iss": ISSUER,
            "aud": install.app_id,
            "iat": now,
            "nbf": now,
            "exp": now + FIT_LIFETIME_SECONDS,
            "jti": random_id(16),
            "app": app,
        });
        if let Some(ui) = &self.ui {
            claims["context"] = json!({
                "cloudId": ui.cloud_id,
                "siteUrl": ui.site_url,
                "moduleKey": ui.module_key,
                "extension": ui.extension,
            });
            if let Some(account_id) = &ui.account_id {
                claims["principal"] = json!(account_id);
            }
        }
        claims
    }
}

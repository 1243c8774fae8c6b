//! Validated configuration: flags and environment read once at start, turned
//! into values the server can use without checking again. Raw flags live in
//! [`crate::cli`]; every rule about what a valid setting is lives here.

use std::net::{IpAddr, SocketAddr};

use anyhow::{Context, bail};

use crate::app::revocation::MAX_BOUND_SECONDS;
use crate::cli::ServeArgs;
use crate::connect::installation::is_acceptable_base_url;
use crate::connect::sealed::MasterKey;
use crate::descriptor::AppKeys;

/// Everything `lodger serve` needs, checked.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The app's public base URL (what hosts call), without a trailing slash.
    pub base_url: String,
    /// Where to listen.
    pub bind: SocketAddr,
    /// The app keys (Jira, Confluence).
    pub keys: AppKeys,
    /// Master keys, the sealing one first.
    pub master_keys: Vec<MasterKey>,
    /// The signed-install key server.
    pub install_keys_url: String,
    /// Host origins besides Atlassian's cloud (the dev host): may frame pages, serve `all.js`.
    pub extra_hosts: Vec<String>,
    /// Serve the pages from this folder instead of the embedded copy (the dev
    /// world, so edits show on reload); `None` in production.
    pub site_dir: Option<std::path::PathBuf>,
    /// Serve only lifecycle, the API, webhooks and the health check: the
    /// descriptors and pages come from an export on a CDN.
    pub auth_only: bool,
    /// How long an installation confirmed with the host is trusted, in
    /// seconds (see [`crate::app::revocation`]).
    pub revocation_check_seconds: i64,
    /// The Forge remote, when this process serves one.
    pub forge: Option<ForgeConfig>,
}

/// The Forge remote's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgeConfig {
    /// The Forge app's id: `ari:cloud:ecosystem::app/<uuid>`.
    pub app_id: String,
    /// Where its invocation tokens' keys are fetched: `None` for Atlassian's
    /// (production, or staging for staging sites).
    pub jwks_url: Option<String>,
}

impl ServeConfig {
    /// Whether this process serves the Connect app (it has master keys).
    pub fn serves_connect(&self) -> bool {
        !self.master_keys.is_empty()
    }

    /// Checks raw flags.
    pub fn from_args(args: &ServeArgs) -> anyhow::Result<ServeConfig> {
        let bind_ip: IpAddr = args
            .bind
            .parse()
            .with_context(|| format!("--bind {:?} is not an IP address", args.bind))?;
        let bind = SocketAddr::new(bind_ip, args.port);
        let base_url = match &args.base_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://localhost:{}", args.port),
        };
        if !is_acceptable_base_url(&base_url) {
            bail!(
                "--base-url {base_url:?} must be https://host[:port][/path] (http only on localhost): \
                 hosts call the app there and sign their requests for it"
            );
        }
        let keys = AppKeys::new(&args.app_key).context("--app-key")?;
        let forge = forge(args)?;
        let master_keys = master_keys(&args.master_keys, forge.is_some())?;
        let install_keys_url = args.install_keys_url.trim_end_matches('/').to_owned();
        if !(install_keys_url.starts_with("https://") || install_keys_url.starts_with("http://")) {
            bail!("--install-keys-url must be an http(s) URL");
        }
        for origin in &args.extra_hosts {
            let ok = (origin.starts_with("https://") || origin.starts_with("http://"))
                && !origin.contains([' ', ';', ',', '\'', '"']);
            if !ok {
                bail!("--extra-host {origin:?} must be an origin like http://localhost:2990");
            }
        }
        let revocation_check_seconds = args.revocation_check_seconds;
        if !(1..=MAX_BOUND_SECONDS).contains(&revocation_check_seconds) {
            bail!(
                "--revocation-check-seconds {revocation_check_seconds} must be 1 to {MAX_BOUND_SECONDS}: \
                 it bounds how long a replica may accept a superseded or uninstalled installation"
            );
        }
        Ok(ServeConfig {
            base_url,
            bind,
            keys,
            master_keys,
            install_keys_url,
            extra_hosts: args.extra_hosts.clone(),
            site_dir: None,
            auth_only: args.auth_only,
            revocation_check_seconds,
            forge,
        })
    }
}

/// Checks the Forge flags: an app id as `forge register` prints it, an
/// http(s) key set URL.
fn forge(args: &ServeArgs) -> anyhow::Result<Option<ForgeConfig>> {
    let Some(app_id) = args.forge_app_id.as_deref().map(str::trim) else { return Ok(None) };
    if !crate::export::forge::is_app_id(app_id) {
        bail!(
            "--forge-app-id {app_id:?} must be ari:cloud:ecosystem::app/<uuid>, as `forge register` prints it"
        );
    }
    let jwks_url = args.forge_jwks_url.as_deref().map(str::trim).map(str::to_owned);
    if let Some(url) = &jwks_url
        && !is_acceptable_base_url(url)
    {
        bail!("--forge-jwks-url {url:?} must be an https URL (http only on localhost)");
    }
    Ok(Some(ForgeConfig { app_id: app_id.to_owned(), jwks_url }))
}

/// Parses master keys given as repeated flags or one comma-separated list.
/// None at all is an error unless the process serves a Forge remote
/// (`forge_remote`): then it serves only that, which seals nothing.
fn master_keys(raw: &[String], forge_remote: bool) -> anyhow::Result<Vec<MasterKey>> {
    let keys: Vec<&str> = raw
        .iter()
        .flat_map(|entry| entry.split(','))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .collect();
    if keys.is_empty() && forge_remote {
        return Ok(Vec::new());
    }
    if keys.is_empty() {
        bail!(
            "no master key: lodger seals each tenant's credential with it.\n\
             Make one with `lodger keygen` and pass it as LODGER_MASTER_KEYS=<key> (or --master-key).\n\
             Keep it secret, and give every replica the same keys.\n\
             (A Forge remote alone, --forge-app-id without master keys, needs none.)"
        );
    }
    keys.iter()
        .enumerate()
        .map(|(i, key)| key.parse::<MasterKey>().with_context(|| format!("master key #{}", i + 1)))
        .collect()
}

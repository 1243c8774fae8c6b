//! The command line: raw flags as clap reads them. Validation happens in
//! [`crate::config`]; the commands themselves in [`crate::commands`].

use clap::{Args, Parser, Subcommand};

use crate::connect::signed_install::ATLASSIAN_INSTALL_KEYS;

/// lodger: a storage-free Atlassian Connect app for Jira and Confluence Cloud.
#[derive(Debug, Parser)]
#[command(name = "lodger", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Log format: `text` for people, `json` for log collectors.
    #[arg(long, global = true, env = "LODGER_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The dev world (the default): lodger beside an emulated Jira site on
    /// localhost, installed through the real UPM flow, with the real Connect
    /// JS bridge. Prints the URL of an issue to open.
    #[cfg(feature = "dev-host")]
    Dev(DevArgs),
    /// Install an app into a site by descriptor URL, through UPM's REST API
    /// (a cloud development site with an admin API token, or the dev host).
    Register(RegisterArgs),
    /// Serve the app: descriptors, lifecycle, API and the embedded pages
    /// (with --auth-only: lifecycle, API and webhooks only).
    Serve(ServeArgs),
    /// Write the descriptors, pages, scripts and styles as static files for a
    /// CDN, with nginx, Caddy and Netlify-style routing and headers that send
    /// the dynamic paths to `lodger serve --auth-only`.
    Export(ExportArgs),
    /// Print a new master key for LODGER_MASTER_KEYS.
    Keygen,
    /// Print the canonical request and query string hash (qsh) of a request.
    Qsh(QshArgs),
    /// Inspect Connect JWTs.
    #[command(subcommand)]
    Jwt(JwtCommand),
    /// Print the rendered app descriptor, or check it.
    Descriptor(DescriptorArgs),
}

/// Flags of `lodger serve`; each has an environment variable.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// The public base URL hosts reach the app at [default: `http://localhost:PORT`].
    #[arg(long, env = "LODGER_BASE_URL")]
    pub base_url: Option<String>,
    /// The TCP port to listen on.
    #[arg(long, env = "LODGER_PORT", default_value_t = 8080)]
    pub port: u16,
    /// The address to listen on (0.0.0.0 to accept connections from other machines).
    #[arg(long, env = "LODGER_BIND", default_value = "127.0.0.1")]
    pub bind: String,
    /// Master key(s) that seal tenant credentials, `<id>:<key>` from `lodger keygen`;
    /// the first seals, all open. Prefer the environment variable: flags show in `ps`.
    #[arg(
        long = "master-key",
        env = "LODGER_MASTER_KEYS",
        hide_env_values = true,
        value_delimiter = ','
    )]
    pub master_keys: Vec<String>,
    /// The app key of the Jira app; the Confluence app's key is this plus `.confluence`.
    #[arg(long, env = "LODGER_APP_KEY", default_value = "lodger")]
    pub app_key: String,
    /// Where signed-install public keys are fetched (`<url>/<kid>`).
    #[arg(long, env = "LODGER_INSTALL_KEYS_URL", default_value = ATLASSIAN_INSTALL_KEYS)]
    pub install_keys_url: String,
    /// The origin of a host besides Atlassian's cloud (e.g. a dev host): it may frame
    /// the pages and serve `all.js`; repeatable.
    #[arg(long = "extra-host", env = "LODGER_EXTRA_HOSTS", value_delimiter = ',')]
    pub extra_hosts: Vec<String>,
    /// Serve only lifecycle callbacks, the server API, webhooks and /healthz:
    /// the descriptors and pages are served from `lodger export` output.
    #[arg(long, env = "LODGER_AUTH_ONLY")]
    pub auth_only: bool,
    /// How long, in seconds, a replica trusts an installation the site
    /// confirmed before asking again: a superseded or uninstalled
    /// installation is refused by every replica within this bound (1 to 600).
    #[arg(long, env = "LODGER_REVOCATION_CHECK_SECONDS", default_value_t = crate::app::revocation::DEFAULT_BOUND_SECONDS)]
    pub revocation_check_seconds: i64,
    /// Also serve as the Forge remote of this Forge app (`ari:cloud:ecosystem::app/<uuid>`,
    /// as `forge register` printed it; the same value as `export --forge --app-id`).
    /// With it and no master key, only the Forge remote is served.
    #[arg(long = "forge-app-id", value_name = "ARI", env = "LODGER_FORGE_APP_ID")]
    pub forge_app_id: Option<String>,
    /// Fetch the keys of Forge invocation tokens here instead of Atlassian's
    /// production and staging key sets (the dev world serves its own).
    #[arg(
        long = "forge-jwks-url",
        value_name = "URL",
        env = "LODGER_FORGE_JWKS_URL",
        requires = "forge_app_id"
    )]
    pub forge_jwks_url: Option<String>,
}

/// Flags of `lodger export`: the Connect export (`DIR --base-url URL`) or,
/// with `--forge DIR`, the Forge app folder.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The folder to write (new or empty, unless --force).
    #[arg(required_unless_present = "forge", conflicts_with = "forge")]
    pub dir: Option<std::path::PathBuf>,
    /// The public base URL the export will be served at (what hosts call).
    #[arg(long, env = "LODGER_BASE_URL", required_unless_present = "forge")]
    pub base_url: Option<String>,
    /// Write a Forge app folder into DIR instead (manifest.yml and one Custom UI
    /// resource per page), for `forge deploy`; needs --app-id and --remote-url.
    #[arg(long, value_name = "DIR", requires_all = ["app_id", "remote_url"])]
    pub forge: Option<std::path::PathBuf>,
    /// With --forge: the Forge app id, `ari:cloud:ecosystem::app/<uuid>`, as
    /// `forge register` prints it.
    #[arg(long, value_name = "ARI", env = "LODGER_FORGE_APP_ID", requires = "forge")]
    pub app_id: Option<String>,
    /// With --forge: the https base URL where `lodger serve` answers Forge
    /// (the remote's `baseUrl`; http only on localhost).
    #[arg(long, value_name = "URL", env = "LODGER_FORGE_REMOTE_URL", requires = "forge")]
    pub remote_url: Option<String>,
    /// Where the web server sends /lifecycle, /api, /webhooks and /healthz:
    /// the URL of `lodger serve --auth-only`.
    #[arg(long, env = "LODGER_AUTH_URL", default_value = "http://127.0.0.1:8081")]
    pub auth_url: String,
    /// The app key of the Jira app; the Confluence app's key is this plus `.confluence`.
    #[arg(long, env = "LODGER_APP_KEY", default_value = "lodger")]
    pub app_key: String,
    /// The origin of a host besides Atlassian's cloud that may frame the pages; repeatable.
    #[arg(long = "extra-host", env = "LODGER_EXTRA_HOSTS", value_delimiter = ',')]
    pub extra_hosts: Vec<String>,
    /// Replace DIR if it already has files.
    #[arg(long)]
    pub force: bool,
}

/// Flags of `lodger dev`.
#[cfg(feature = "dev-host")]
#[derive(Debug, Clone, Args)]
pub struct DevArgs {
    /// The app's port.
    #[arg(long, env = "LODGER_PORT", default_value_t = 8080)]
    pub port: u16,
    /// The emulated site's port.
    #[arg(long, env = "LODGER_DEV_HOST_PORT", default_value_t = 2990)]
    pub host_port: u16,
    /// Where connect-js is installed (default: tools/devhost/node_modules of this checkout).
    #[arg(long, env = "LODGER_NODE_MODULES")]
    pub node_modules: Option<std::path::PathBuf>,
    /// Serve the pages embedded in the binary instead of this checkout's
    /// `site/`, and watch nothing (by default edits to `site/` show on reload
    /// and edits to `descriptor/` reinstall the app).
    #[arg(long)]
    pub embedded: bool,
    /// Install only the Connect flavour (by default the Forge flavour is
    /// installed beside it, on the emulated Forge platform).
    #[arg(long)]
    pub no_forge: bool,
    /// Start the emulated sites only, without lodger: for installing another
    /// app (an atlassian-connect-express app registers itself through UPM).
    #[arg(long)]
    pub no_app: bool,
    /// With --no-app: install this app into Jira of every site at start: a
    /// Connect descriptor URL (through UPM, as an admin would) or a Forge
    /// app folder holding `manifest.yml` (as `forge install` would).
    /// Repeatable.
    #[arg(long = "install", value_name = "URL|DIR", requires = "no_app")]
    pub install: Vec<String>,
}

/// Flags of `lodger register`.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The site, e.g. `https://your-site.atlassian.net`.
    #[arg(long)]
    pub site: String,
    /// A site admin's email.
    #[arg(long)]
    pub user: String,
    /// That admin's API token (id.atlassian.com → Security → API tokens).
    #[arg(long, env = "LODGER_API_TOKEN", hide_env_values = true)]
    pub token: String,
    /// The app's descriptor URL, reachable from the site.
    #[arg(long)]
    pub descriptor_url: String,
}

/// Flags of `lodger qsh`.
#[derive(Debug, Args)]
pub struct QshArgs {
    /// The HTTP method, e.g. GET.
    pub method: String,
    /// The URL (absolute, or a path with query).
    pub url: String,
    /// The base URL the path is relative to (the app's, or the host's with `/wiki`).
    #[arg(long, default_value = "")]
    pub base_url: String,
}

/// `lodger jwt ...`
#[derive(Debug, Subcommand)]
pub enum JwtCommand {
    /// Print a token's header and claims and, given the secret and request,
    /// exactly why it does or does not verify.
    Decode(JwtDecodeArgs),
}

/// Flags of `lodger jwt decode`.
#[derive(Debug, Args)]
pub struct JwtDecodeArgs {
    /// The token (the value of `jwt=` or of `Authorization: JWT`).
    pub token: String,
    /// The shared secret to check the signature with.
    #[arg(long, env = "LODGER_JWT_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// The method of the request the token came with.
    #[arg(long, default_value = "GET")]
    pub method: String,
    /// The URL of the request the token came with, to check `qsh`.
    #[arg(long)]
    pub url: Option<String>,
    /// The base URL the request path is relative to.
    #[arg(long, default_value = "")]
    pub base_url: String,
    /// Accept a context token (`qsh` = `context-qsh`), as API endpoints do.
    #[arg(long)]
    pub context: bool,
}

/// Flags of `lodger descriptor`.
#[derive(Debug, Args)]
pub struct DescriptorArgs {
    /// Which product's descriptor.
    #[arg(long, default_value = "jira", value_parser = ["jira", "confluence"])]
    pub product: String,
    /// The base URL to render with.
    #[arg(long, env = "LODGER_BASE_URL", default_value = "http://localhost:8080")]
    pub base_url: String,
    /// The Jira app key.
    #[arg(long, env = "LODGER_APP_KEY", default_value = "lodger")]
    pub app_key: String,
    /// Check the descriptor against the rules hosts enforce; exit 1 on problems.
    #[arg(long)]
    pub validate: bool,
}

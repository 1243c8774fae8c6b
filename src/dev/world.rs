//! `lodger dev`: the app and an emulated Atlassian site (Jira, and
//! Confluence under `/wiki`) side by side on localhost, the app installed
//! into both products through the real UPM flow, ready to open.
//!
//! ```text
//!   browser ──> http://127.0.0.1:2990/browse/LOD-1   (emulated Jira, connect-js host)
//!                 └─ iframe ──> http://localhost:8080/jira/issue-panel.html?…&jwt=…   (lodger)
//!   browser ──> http://127.0.0.1:2990/wiki/spaces/LOD/pages/65537   (emulated Confluence)
//!   lodger ──> 127.0.0.1:2990 REST (app properties), signed as the app
//!   lodger ──> 127.0.0.1:2990/wiki REST, signed with the Confluence secret
//! ```
//!
//! The app is installed twice per site, as on Atlassian Cloud: `lodger` into
//! Jira from `<app>/atlassian-connect.json` and `lodger.confluence` into
//! Confluence from `<app>/confluence/atlassian-connect.json`, each a tenant
//! of its own.
//!
//! The two run on different origins, as in the cloud, so the bridge works
//! across origins exactly as it does for a real site.
//!
//! The Forge flavour runs beside it: the same process is the Forge remote
//! of [`DEV_FORGE_APP_ID`], whose app folder (`lodger export --forge`) is
//! installed into both sites' emulated Forge platform, as `forge install`
//! would; its invocation tokens are verified with the platform's key set.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::{ForgeConfig, ServeConfig};
use crate::connect::installation::Product;
use crate::connect::sealed::MasterKey;
use crate::descriptor::{AppKeys, descriptor_path};
use crate::host::upm::{Registration, register};
use lodger_devhost::DevHost;
use lodger_devhost::site::Site;

/// The dev world's Forge app id (`forge register` would make one).
pub const DEV_FORGE_APP_ID: &str = "ari:cloud:ecosystem::app/d0d9e1d0-f0e9-4a11-8000-00000000d0e1";

/// Where the dev world listens and finds connect-js.
#[derive(Debug, Clone)]
pub struct WorldOptions {
    /// The app's port (0 picks one).
    pub app_port: u16,
    /// The emulated site's port (0 picks one).
    pub host_port: u16,
    /// `tools/devhost/node_modules`.
    pub node_modules: PathBuf,
    /// Install `node_modules` with npm when missing.
    pub install_npm_packages: bool,
    /// A checkout to serve `site/` from and watch (`site/`, `descriptor/`);
    /// `None` serves the embedded site and watches nothing.
    pub source_dir: Option<PathBuf>,
    /// Also install lodger's Forge flavour ([`DEV_FORGE_APP_ID`]), served
    /// by the same process: `lodger dev` does; tests of the Connect
    /// flavour alone do not (both flavours apply project templates).
    pub forge: bool,
}

/// A running dev world.
#[derive(Debug)]
pub struct World {
    /// The app's base URL.
    pub app_url: String,
    /// The main emulated site (`acme`), whose issue page is printed.
    pub site: Arc<Site>,
    /// A second, independent site (`globex`): its own clientKey, secret and
    /// data, for seeing that tenants stay apart.
    pub second_site: Arc<Site>,
    /// The seeded issue's page on the main site.
    pub issue_url: String,
    /// The first seeded Confluence page on the main site.
    pub page_url: String,
    /// The file watcher, while `source_dir` is watched.
    pub watcher: Option<notify::RecommendedWatcher>,
    /// What the watcher has handled (stays at generation 0 without one).
    pub reloads: Arc<super::watch::Reloads>,
    /// The emulator shared by the sites.
    pub host: Arc<DevHost>,
}

impl World {
    /// Where an app fetches the public keys of this world's signed installs
    /// (its `--install-keys-url`): another app installed next to lodger needs it.
    pub fn install_keys_url(&self) -> String {
        install_keys_url(&self.site)
    }
}

/// Starts the app and two sites, installs the app in both, and returns where
/// they are. The servers run on the current tokio runtime until it shuts down.
pub async fn start(options: &WorldOptions) -> anyhow::Result<World> {
    let app_listener = bind(options.app_port, "the app").await?;
    let sites = Sites::start(options).await?;
    let app_url = format!("http://localhost:{}", app_listener.local_addr()?.port());

    let config = ServeConfig {
        auth_only: false,
        revocation_check_seconds: crate::app::revocation::DEFAULT_BOUND_SECONDS,
        base_url: app_url.clone(),
        bind: app_listener.local_addr()?,
        keys: AppKeys::new("lodger")?,
        // The dev world keeps nothing across restarts, so a fresh key is right.
        master_keys: vec![MasterKey::generate()],
        install_keys_url: sites.install_keys_url(),
        extra_hosts: sites.origins(),
        site_dir: options.source_dir.as_ref().map(|root| root.join("site")),
        forge: options.forge.then(|| ForgeConfig {
            app_id: DEV_FORGE_APP_ID.to_owned(),
            jwks_url: Some(sites.forge_jwks_url()),
        }),
    };
    let (app_state, connect) = crate::web::server::app(&config)?;
    let app = crate::web::server::with_forge(&config, Some(connect))?;
    tokio::spawn(warp::serve(app).incoming(app_listener).run());
    if options.forge {
        sites.install_forge(&app_url, DEV_FORGE_APP_ID).await?;
    }
    let watch = options.source_dir.as_ref().map(|root| super::watch::Watch {
        root: root.clone(),
        app: app_state,
        app_url: app_url.clone(),
        keys: config.keys.clone(),
        sites: sites.sites.clone(),
        http: sites.host.http.clone(),
    });
    sites.install(&app_url, watch).await
}

/// The two emulated sites, up, with no app installed yet: for running the
/// app elsewhere (behind nginx, as a separate process) and then installing
/// it from its URL with [`Sites::install`].
#[derive(Debug)]
pub struct Sites {
    /// The emulator shared by the sites (connect-js, the install key, HTTP).
    pub host: Arc<DevHost>,
    /// `acme`, then `globex`.
    pub sites: Vec<Arc<Site>>,
}

impl Sites {
    /// Starts `acme` on `options.host_port` and `globex` on the next port.
    pub async fn start(options: &WorldOptions) -> anyhow::Result<Sites> {
        ensure_npm_packages(options)?;
        let host = Arc::new(DevHost::new(&options.node_modules)?);
        let second_port = if options.host_port == 0 { 0 } else { options.host_port + 1 };
        let mut sites = Vec::new();
        for (name, port) in [("acme", options.host_port), ("globex", second_port)] {
            let listener = bind(port, "the dev host").await?;
            let site = Arc::new(Site::seeded(
                name,
                &format!("http://127.0.0.1:{}", listener.local_addr()?.port()),
            ));
            let routes = lodger_devhost::routes(Arc::clone(&host), Arc::clone(&site));
            tokio::spawn(warp::serve(routes).incoming(listener).run());
            sites.push(site);
        }
        Ok(Sites { host, sites })
    }

    /// Where the app fetches the public keys of signed installs: every site
    /// serves the emulator's one install key.
    pub fn install_keys_url(&self) -> String {
        self.sites.first().map(|site| install_keys_url(site)).unwrap_or_default()
    }

    /// Where a Forge remote fetches the keys of this world's invocation
    /// tokens (`--forge-jwks-url`): every site serves the platform's one key.
    pub fn forge_jwks_url(&self) -> String {
        let base = self.sites.first().map(|site| site.base_url.as_str()).unwrap_or_default();
        format!("{base}{}", lodger_devhost::forge::invocation_tokens::JWKS_PATH)
    }

    /// Exports lodger's Forge app folder for app `app_id` with its remote at
    /// `remote_url` (`lodger export --forge`, into a temporary folder) and
    /// installs it into every site's emulated Forge platform, as `forge
    /// install` would. Returns the folder.
    pub async fn install_forge(&self, remote_url: &str, app_id: &str) -> anyhow::Result<PathBuf> {
        static FOLDERS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = FOLDERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let folder =
            std::env::temp_dir().join(format!("lodger-dev-forge-{}-{n}", std::process::id()));
        let options = crate::export::forge::ForgeOptions::new(app_id, remote_url, true)?;
        crate::export::forge::export(&folder, &options)
            .with_context(|| format!("writing the Forge app folder to {}", folder.display()))?;
        for site in &self.sites {
            lodger_devhost::forge::install::install(&self.host, site, &folder)
                .await
                .with_context(|| format!("installing the Forge app into {}", site.name))?;
            tracing::info!(app = app_id, site = %site.name, "lodger's Forge flavour installed");
        }
        Ok(folder)
    }

    /// Installs another app into Jira of every site: `app` is a Connect
    /// descriptor URL (installed through UPM as the site admin) or a Forge
    /// app folder (installed as `forge install` would). Returns the app's
    /// key or Forge app id.
    pub async fn install_app(&self, app: &str) -> anyhow::Result<String> {
        let mut installed = String::new();
        for site in &self.sites {
            installed = if app.starts_with("http://") || app.starts_with("https://") {
                let admin = site.users.first().context("a seeded site has an admin")?;
                let registration = Registration {
                    site: &site.base_url,
                    user: &admin.email,
                    token: &admin.api_token,
                    descriptor_url: app,
                };
                register(&self.host.http, &registration)
                    .await
                    .with_context(|| format!("installing {app} into {} through UPM", site.name))?
            } else {
                let folder = std::path::Path::new(app);
                lodger_devhost::forge::install::install(&self.host, site, folder)
                    .await
                    .with_context(|| {
                        format!(
                            "installing the Forge app folder {} into {} (expected a descriptor \
                             URL or a folder with manifest.yml)",
                            folder.display(),
                            site.name
                        )
                    })?
                    .app_id
            };
        }
        Ok(installed)
    }

    /// The sites' origins: the app must let them frame its pages.
    pub fn origins(&self) -> Vec<String> {
        self.sites.iter().map(|s| s.base_url.clone()).collect()
    }

    /// Installs the app served at `app_url` into Jira and Confluence of both
    /// sites through UPM, and watches the checkout when asked.
    pub async fn install(
        self,
        app_url: &str,
        watch: Option<super::watch::Watch>,
    ) -> anyhow::Result<World> {
        for site in &self.sites {
            let admin = site.users.first().context("a seeded site has an admin")?;
            let registration = Registration {
                site: &site.base_url,
                user: &admin.email,
                token: &admin.api_token,
                descriptor_url: &format!("{app_url}/atlassian-connect.json"),
            };
            let key = register(&self.host.http, &registration).await.with_context(|| {
                format!("installing lodger into the dev host's site {}", site.name)
            })?;
            tracing::info!(app = %key, site = %site.name, "lodger installed through UPM");
            let wiki = site.base_url_of(Product::Confluence);
            let registration = Registration {
                site: &wiki,
                descriptor_url: &format!("{app_url}{}", descriptor_path(Product::Confluence)),
                ..registration
            };
            let key = register(&self.host.http, &registration).await.with_context(|| {
                format!(
                    "installing lodger into the Confluence of the dev host's site {}",
                    site.name
                )
            })?;
            tracing::info!(app = %key, site = %site.name, "lodger installed into Confluence through UPM");
        }
        let host = Arc::clone(&self.host);
        let mut sites = self.sites;
        let second_site = sites.pop().context("two sites")?;
        let site = sites.pop().context("two sites")?;
        let issue_url = format!("{}/browse/{}", site.base_url, site.first_issue_key());
        let page_url = {
            let first = site.data().confluence.pages.first().cloned();
            first.map_or_else(
                || site.base_url_of(Product::Confluence),
                |page| {
                    format!(
                        "{}{}",
                        site.base_url,
                        lodger_devhost::confluence::page_view::page_path(&page)
                    )
                },
            )
        };
        let reloads = Arc::new(super::watch::Reloads::default());
        let watcher = match watch {
            Some(watch) => Some(super::watch::start(watch, Arc::clone(&reloads))?),
            None => None,
        };
        Ok(World {
            app_url: app_url.to_owned(),
            site,
            second_site,
            issue_url,
            page_url,
            watcher,
            reloads,
            host,
        })
    }
}

/// `lodger dev`: start, print where to look, run until Ctrl-C.
pub async fn run(options: WorldOptions) -> anyhow::Result<()> {
    let world = start(&options).await?;
    println!();
    println!("  lodger dev world is up");
    println!(
        "  app:        {}  (descriptor: {}/atlassian-connect.json)",
        world.app_url, world.app_url
    );
    for site in [&world.site, &world.second_site] {
        println!(
            "  dev host:   {}  (emulated Jira, and Confluence at /wiki: site {})",
            site.base_url, site.name
        );
    }
    println!(
        "  site admin: admin@<site>.test / admin, or admin / admin  (Basic auth, UPM at /rest/plugins/1.0/)"
    );
    println!("  keys:       {}  (signed installs)", world.install_keys_url());
    if options.forge {
        println!(
            "  forge:      app {DEV_FORGE_APP_ID} installed too; remote {}/forge/*; key set {}/dev/forge/jwks.json",
            world.app_url, world.site.base_url
        );
    }
    println!();
    println!("  open        {}  (Jira issue: Connect and Forge panels)", world.issue_url);
    println!("              {}  (Confluence page)", world.page_url);
    let forge = world.site.data().forge.installs.get(DEV_FORGE_APP_ID).cloned();
    if let Some(install) = forge {
        use lodger_devhost::pages::forge_modules::admin_page_path;
        println!(
            "              {}{}  (Forge admin page; Custom UI resources on {})",
            world.site.base_url,
            admin_page_path(&install),
            lodger_devhost::forge::resources::resource_origin(&world.site, DEV_FORGE_APP_ID)
                .unwrap_or_default()
        );
    }
    println!();
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// `lodger dev --no-app`: the emulated sites alone, for another app to
/// install itself into (README, "Use the dev world for your own app").
pub async fn run_sites(options: WorldOptions, install: &[String]) -> anyhow::Result<()> {
    let sites = Sites::start(&options).await?;
    for app in install {
        let installed = sites.install_app(app).await?;
        println!("  installed:  {installed}  (from {app})");
    }
    println!();
    println!("  lodger dev world is up: the emulated sites only (no app installed)");
    for site in &sites.sites {
        println!(
            "  site:       {}  (emulated Jira, and Confluence at /wiki: site {})",
            site.base_url, site.name
        );
    }
    println!(
        "  site admin: admin / admin, or admin@<site>.test / admin  (Basic auth, UPM at /rest/plugins/1.0/)"
    );
    println!(
        "  keys:       {}  (signed installs; ACE: CONNECT_KEYS_CDN_URL)",
        sites.install_keys_url()
    );
    println!("  forge:      {}  (invocation tokens)", sites.forge_jwks_url());
    if let Some(site) = sites.sites.first() {
        println!();
        println!(
            "  ACE app:    config.json development.hosts = [\"{}\"]",
            site.base_url.replace("http://", "http://admin:admin@")
        );
        println!("  open        {}/browse/{}  (Jira issue)", site.base_url, site.first_issue_key());
    }
    println!();
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// Every site serves the emulator's one install key under `/dev/install-keys`.
fn install_keys_url(site: &Site) -> String {
    format!("{}/dev/install-keys", site.base_url)
}

async fn bind(port: u16, what: &str) -> anyhow::Result<TcpListener> {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    TcpListener::bind(address).await.with_context(|| {
        format!(
            "cannot listen for {what} on {address} (is the port in use? pick another with a flag)"
        )
    })
}

/// Installs connect-js and jQuery from npm into `node_modules` when missing
/// and asked to, or warns what to install (the REST API works without them).
/// With the Forge flavour, also `tools/forge` (esbuild and `@forge/bridge`,
/// which the Forge export bundles into the pages).
fn ensure_npm_packages(options: &WorldOptions) -> anyhow::Result<()> {
    let package_dir = options.node_modules.parent().context("node_modules has a parent folder")?;
    if !options.node_modules.join("atlassian-connect-js/dist/connect-host.js").exists() {
        if options.install_npm_packages {
            npm_ci(package_dir, "atlassian-connect-js")?;
        } else {
            // The REST API, UPM and installs work without it; only the product
            // pages that frame the app answer 503 until it is installed.
            eprintln!(
                "warning: connect-js is not installed, so the product pages will answer 503: \
                 run `npm ci --prefix {}`",
                package_dir.display()
            );
        }
    }
    let forge_tools = crate::export::forge::bundle::tools_dir();
    if options.forge && options.install_npm_packages && !forge_tools.join("node_modules").exists() {
        npm_ci(&forge_tools, "esbuild and @forge/bridge")?;
    }
    Ok(())
}

/// `npm ci --prefix package_dir`, saying what it fetches.
fn npm_ci(package_dir: &std::path::Path, what: &str) -> anyhow::Result<()> {
    eprintln!("installing {what} from npm into {} (once)...", package_dir.display());
    let status = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--prefix"])
        .arg(package_dir)
        .status()
        .map_err(|_| {
            anyhow::anyhow!(
                "the dev world needs Node.js and npm to fetch {what}; install them \
                 (Debian/Ubuntu: `sudo apt install nodejs npm`, or https://nodejs.org) and run `cargo run` again"
            )
        })?;
    anyhow::ensure!(status.success(), "`npm ci --prefix {}` failed", package_dir.display());
    Ok(())
}

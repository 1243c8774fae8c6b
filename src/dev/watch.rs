//! Edit and reload: `lodger dev` watches `site/` and `descriptor/`.
//!
//! The app serves `site/` straight from disk in the dev world, so a page
//! edit needs nothing but a browser reload. A descriptor edit changes what
//! the hosts know about the app, so the descriptors are rendered again and
//! the app is reinstalled into every site through UPM, as an admin would
//! after publishing a new version. A template that does not render is
//! reported and the running descriptor kept.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};

use crate::connect::installation::Product;
use crate::descriptor::{AppKeys, Templates, descriptor_path};
use crate::host::upm::{Registration, register};
use crate::state::{AppState, Descriptors};
use lodger_devhost::site::Site;

/// Changes closer together than this are handled as one.
const SETTLE: Duration = Duration::from_millis(300);

/// What the watcher has handled so far: a generation per batch of changes,
/// and the paths of the latest batches. Tests wait on it instead of
/// sleeping to show that an edit caused nothing more.
#[derive(Debug, Default)]
pub struct Reloads {
    generation: AtomicU64,
    reinstalls: AtomicU64,
    recent: Mutex<Vec<(u64, PathBuf)>>,
}

/// How many changed paths [`Reloads`] remembers.
const RECENT_PATHS: usize = 256;

impl Reloads {
    /// Batches of changes handled (reloaded, reinstalled or refused).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Descriptor edits that rendered and were installed again.
    pub fn reinstalls(&self) -> u64 {
        self.reinstalls.load(Ordering::SeqCst)
    }

    /// Whether a batch handled after `generation` contained `path` (among
    /// the latest changes).
    pub fn handled_since(&self, generation: u64, path: &std::path::Path) -> bool {
        let recent = self.recent.lock();
        recent.is_ok_and(|recent| recent.iter().any(|(g, p)| *g > generation && p == path))
    }

    fn record(&self, paths: Vec<PathBuf>, reinstalled: bool) {
        let generation = self.generation() + 1;
        if let Ok(mut recent) = self.recent.lock() {
            recent.extend(paths.into_iter().map(|path| (generation, path)));
            let excess = recent.len().saturating_sub(RECENT_PATHS);
            recent.drain(..excess);
        }
        if reinstalled {
            self.reinstalls.fetch_add(1, Ordering::SeqCst);
        }
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

/// What to watch and whom to tell.
pub struct Watch {
    /// The checkout's root (holding `site/` and `descriptor/`).
    pub root: PathBuf,
    /// The running app's state (its descriptors get replaced).
    pub app: Arc<AppState>,
    /// The app's base URL.
    pub app_url: String,
    /// The app keys.
    pub keys: AppKeys,
    /// The sites to reinstall into.
    pub sites: Vec<Arc<Site>>,
    /// A client for the UPM calls.
    pub http: reqwest::Client,
}

/// Starts watching; the returned watcher stops when dropped. `reloads`
/// counts what it handled.
pub fn start(watch: Watch, reloads: Arc<Reloads>) -> anyhow::Result<notify::RecommendedWatcher> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // Only changes: reading the templates to reinstall opens them, and
        // inotify reports opens too, which would reinstall again, forever.
        if let Some(event) = event.ok().filter(|e| !e.kind.is_access() && !e.kind.is_other()) {
            for path in event.paths {
                let _ = tx.send(path);
            }
        }
    })?;
    watcher.watch(&watch.root.join("site"), RecursiveMode::Recursive)?;
    watcher.watch(&watch.root.join("descriptor"), RecursiveMode::Recursive)?;
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut descriptor_changed = first.starts_with(watch.root.join("descriptor"));
            let mut paths = vec![first];
            // Editors write several events per save: take them all together.
            tokio::time::sleep(SETTLE).await;
            while let Ok(path) = rx.try_recv() {
                descriptor_changed |= path.starts_with(watch.root.join("descriptor"));
                paths.push(path);
            }
            let reinstalled = if descriptor_changed {
                reinstall(&watch).await
            } else {
                println!("  site/ changed: reload the page to see it");
                false
            };
            reloads.record(paths, reinstalled);
        }
    });
    Ok(watcher)
}

/// Renders the descriptors from disk and reinstalls the app everywhere:
/// into every site's Jira and its Confluence. False when they do not render.
async fn reinstall(watch: &Watch) -> bool {
    let read = |name: &str| std::fs::read_to_string(watch.root.join("descriptor").join(name));
    let rendered = match (read("jira.json.tera"), read("confluence.json.tera")) {
        (Ok(jira), Ok(confluence)) => Templates::from_sources(&jira, &confluence)
            .and_then(|t| Descriptors::render(&t, &watch.app_url, &watch.keys))
            .map_err(|e| e.to_string()),
        (Err(e), _) | (_, Err(e)) => Err(e.to_string()),
    };
    let descriptors = match rendered {
        Ok(descriptors) => descriptors,
        Err(err) => {
            println!("  descriptor/ changed but does not render, keeping the old one: {err}");
            return false;
        }
    };
    watch.app.replace_descriptors(descriptors);
    for site in &watch.sites {
        let Some(admin) = site.users.first() else { continue };
        // Each product of the site has its own installation of its own app.
        for product in [Product::Jira, Product::Confluence] {
            let registration = Registration {
                site: &site.base_url_of(product),
                user: &admin.email,
                token: &admin.api_token,
                descriptor_url: &format!("{}{}", watch.app_url, descriptor_path(product)),
            };
            let (name, product) = (&site.name, product.as_str());
            match register(&watch.http, &registration).await {
                Ok(key) => {
                    println!("  descriptor/ changed: {key} reinstalled in {name} ({product})")
                }
                Err(err) => {
                    println!(
                        "  descriptor/ changed: reinstall in {name} ({product}) failed: {err:#}"
                    )
                }
            }
        }
    }
    true
}

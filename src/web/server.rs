//! Binding and serving: turns a [`ServeConfig`] into a running server.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::SiteFiles;
use super::assets::Assets;
use super::pages::PageValues;
use super::security_headers::SecurityHeaders;
use crate::config::ServeConfig;
use crate::connect::sealed::Keyring;
use crate::descriptor::Templates;
use crate::host::client::{HostClient, RetryPolicy};
use crate::host::install_keys::InstallKeys;
use crate::state::{AppState, Descriptors};

/// How long the key server may take to answer.
const KEY_SERVER_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds the shared state: renders descriptors, derives sealing keys, makes
/// the HTTP clients. All of it once, at start.
pub fn state(config: &ServeConfig) -> anyhow::Result<Arc<AppState>> {
    let descriptors = Descriptors::render(&Templates::embedded()?, &config.base_url, &config.keys)?;
    let keyring = Keyring::new(crate::SEALING_PURPOSE, config.master_keys.clone())?;
    let install_keys = InstallKeys::new(&config.install_keys_url, KEY_SERVER_TIMEOUT)?;
    let host = HostClient::new(RetryPolicy::default())?;
    Ok(Arc::new(AppState::new(
        &config.base_url,
        config.keys.clone(),
        keyring,
        install_keys,
        host,
        descriptors,
        config.revocation_check_seconds,
    )))
}

/// The complete app for a configuration: its state (for tests to inspect)
/// and its routes (for `warp::test` or a server).
pub fn app(config: &ServeConfig) -> anyhow::Result<(Arc<AppState>, BoxedFilter<(Response,)>)> {
    let state = state(config)?;
    let values = PageValues::new(&config.base_url, &config.keys);
    let files = match &config.site_dir {
        _ if config.auth_only => None,
        Some(dir) => Some(SiteFiles::Disk(dir.clone(), Arc::new(values))),
        None => Some(SiteFiles::Embedded(Arc::new(Assets::embedded(&values)?))),
    };
    let security = Arc::new(SecurityHeaders::new(&config.extra_hosts));
    Ok((Arc::clone(&state), super::app(state, files, security)))
}

/// Serves the app on `listener` until `shutdown` completes, then finishes the
/// requests in flight.
pub async fn serve(
    config: &ServeConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (_, routes) = app(config)?;
    warp::serve(routes).incoming(listener).graceful(shutdown).run().await;
    Ok(())
}

/// `lodger serve`: binds, logs where, serves until Ctrl-C or SIGTERM.
pub async fn run(config: ServeConfig) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("cannot listen on {} (is the port in use?)", config.bind))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, base_url = %config.base_url, app_key = %config.keys.jira, auth_only = config.auth_only, "lodger serving");
    if !config.auth_only {
        tracing::info!(
            "descriptors: {0}/atlassian-connect.json and {0}/confluence/atlassian-connect.json",
            config.base_url
        );
    }
    serve(&config, listener, shutdown_signal()).await
}

/// Completes on Ctrl-C or SIGTERM (what process managers send).
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

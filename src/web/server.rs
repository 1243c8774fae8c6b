//! Binding and serving: turns a [`ServeConfig`] into a running server.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::{Filter, Reply};

use super::SiteFiles;
use super::assets::Assets;
use super::pages::PageValues;
use super::security_headers::SecurityHeaders;
use crate::config::{ForgeConfig, ServeConfig};
use crate::connect::sealed::Keyring;
use crate::descriptor::Templates;
use crate::forge::invocation::ForgeRemote;
use crate::host::client::{HostClient, RetryPolicy};
use crate::host::forge_keys::ForgeKeys;
use crate::host::install_keys::InstallKeys;
use crate::state::{AppState, Descriptors};

/// How long the key server (or Forge's key set) may take to answer.
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

/// The Forge remote for a configuration's Forge app.
pub fn forge_remote(forge: &ForgeConfig) -> anyhow::Result<Arc<ForgeRemote>> {
    let keys = match &forge.jwks_url {
        Some(url) => ForgeKeys::new(url, url, KEY_SERVER_TIMEOUT)?,
        None => ForgeKeys::atlassian(KEY_SERVER_TIMEOUT)?,
    };
    let host = HostClient::new(RetryPolicy::default())?;
    Ok(Arc::new(ForgeRemote { app_id: forge.app_id.clone(), keys, host }))
}

/// Every route a configuration serves: the Connect app (with master keys),
/// the Forge remote (with a Forge app id), or both.
pub fn routes(config: &ServeConfig) -> anyhow::Result<BoxedFilter<(Response,)>> {
    let connect = if config.serves_connect() { Some(app(config)?.1) } else { None };
    with_forge(config, connect)
}

/// `connect` (the Connect app's routes, if served) with the Forge remote in
/// front when the configuration names a Forge app. The remote claims only
/// `/forge/`; a process serving the remote alone answers `/healthz` and
/// 404 for the rest.
pub fn with_forge(
    config: &ServeConfig,
    connect: Option<BoxedFilter<(Response,)>>,
) -> anyhow::Result<BoxedFilter<(Response,)>> {
    let forge = config.forge.as_ref().map(forge_remote).transpose()?;
    Ok(match (connect, forge) {
        (Some(connect), None) => connect,
        (Some(connect), Some(remote)) => {
            crate::forge::remote::routes(remote).or(connect).unify().boxed()
        }
        (None, Some(remote)) => {
            let not_found = warp::any().map(|| {
                let body = warp::reply::json(&serde_json::json!({ "error": "no such resource" }));
                warp::reply::with_status(body, warp::http::StatusCode::NOT_FOUND).into_response()
            });
            let forge = crate::forge::remote::routes(remote);
            super::health().or(forge).unify().or(not_found).unify().boxed()
        }
        (None, None) => anyhow::bail!("nothing to serve: no master key and no Forge app id"),
    })
}

/// Serves the app on `listener` until `shutdown` completes, then finishes the
/// requests in flight.
pub async fn serve(
    config: &ServeConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    warp::serve(routes(config)?).incoming(listener).graceful(shutdown).run().await;
    Ok(())
}

/// `lodger serve`: binds, logs where, serves until Ctrl-C or SIGTERM.
pub async fn run(config: ServeConfig) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.bind)
        .await
        .with_context(|| format!("cannot listen on {} (is the port in use?)", config.bind))?;
    let address = listener.local_addr()?;
    if config.serves_connect() {
        tracing::info!(%address, base_url = %config.base_url, app_key = %config.keys.jira, auth_only = config.auth_only, "lodger serving the Connect app");
    }
    if let Some(forge) = &config.forge {
        tracing::info!(%address, app_id = %forge.app_id, paths = "/forge/*", "lodger serving as the Forge remote");
    }
    if config.serves_connect() && !config.auth_only {
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

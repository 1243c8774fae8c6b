//! `hello-panel`: serves the example app until stopped (README: "Build your own app").

use clap::Parser;

/// Serves hello-panel; its descriptor is `<base URL>/atlassian-connect.json`.
#[derive(Debug, Parser)]
struct Flags {
    /// The app's base URL as the host reaches it (https, or http on loopback).
    #[arg(long, default_value = "http://localhost:8090")]
    base_url: String,
    /// The signed-install key server (the dev world's: `<site>/dev/install-keys`).
    #[arg(long, default_value = lodger_connect::signed_install::ATLASSIAN_INSTALL_KEYS)]
    install_keys_url: String,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8090")]
    bind: std::net::SocketAddr,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Flags { base_url, install_keys_url, bind } = Flags::parse();
    // The kit's descriptor checks, once at start: what a host would refuse.
    let problems = lodger_connect::descriptor::problems(&hello_panel::descriptor(&base_url));
    anyhow::ensure!(problems.is_empty(), "descriptor refused: {}", problems.join("; "));
    let listener = tokio::net::TcpListener::bind(bind).await?;
    println!("hello-panel: {base_url}/atlassian-connect.json");
    hello_panel::serve(listener, hello_panel::App::new(base_url, install_keys_url)).await;
    Ok(())
}

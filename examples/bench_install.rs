//! Case 7 of `bench/run.sh`: how long an install takes, in the dev world.
//!
//! Starts the dev world in this process (the app and the emulated site, as
//! `cargo run` does), then installs the app again and again through UPM, as
//! an admin clicking "Upload app" would, and times the UPM POST. The dev
//! host answers that POST only when the install is over, so each time
//! covers: fetching the descriptor, the signed `installed` callback (key
//! fetched once and then cached, credential sealed, app property written,
//! webhooks registered for Jira) up to the app's 204, and the `enabled`
//! callback after it. The first install, made at start, is not counted.
//!
//! ```sh
//! cargo run --release --example bench_install -- 30
//! ```
//!
//! Prints one line per product: `product<TAB>rounds<TAB>median ms<TAB>p90 ms`.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use lodger::connect::installation::Product;
use lodger::dev::world::{self, WorldOptions};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rounds: usize = std::env::args().nth(1).map_or(Ok(30), |arg| arg.parse())?;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let options = WorldOptions {
        app_port: 0,
        host_port: 0,
        node_modules: root.join("tools/devhost/node_modules"),
        install_npm_packages: true,
        source_dir: None,
        forge: false,
    };
    let world = world::start(&options).await?;
    let admin = world.site.users.first().context("a seeded site has an admin")?;
    let http = reqwest::Client::new();
    for (product, descriptor) in [
        (Product::Jira, format!("{}/atlassian-connect.json", world.app_url)),
        (Product::Confluence, format!("{}/confluence/atlassian-connect.json", world.app_url)),
    ] {
        let site = world.site.base_url_of(product);
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds.max(1) {
            // A UPM token for each install, as UPM wants.
            let listed = http
                .get(format!("{site}/rest/plugins/1.0/"))
                .basic_auth(&admin.email, Some(&admin.api_token))
                .send()
                .await?;
            let token = listed
                .headers()
                .get("upm-token")
                .and_then(|v| v.to_str().ok())
                .context("the dev host gave no upm-token")?
                .to_owned();
            let started = Instant::now();
            let posted = http
                .post(format!("{site}/rest/plugins/1.0/?token={token}"))
                .basic_auth(&admin.email, Some(&admin.api_token))
                .header("Content-Type", "application/vnd.atl.plugins.install.uri+json")
                .body(serde_json::json!({ "pluginUri": descriptor }).to_string())
                .send()
                .await?;
            let took = started.elapsed();
            if posted.status().as_u16() != 202 {
                bail!("the install was refused: {} {}", posted.status(), posted.text().await?);
            }
            times.push(took);
        }
        times.sort();
        let at = |share: f64| millis(times[((times.len() - 1) as f64 * share).round() as usize]);
        println!("{}\t{}\t{:.2}\t{:.2}", product.as_str(), times.len(), at(0.5), at(0.9));
    }
    Ok(())
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

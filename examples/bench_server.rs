//! `lodger serve --auth-only` with one extra route, for `bench/run.sh`: a
//! bare warp endpoint (`GET /bench/hello`, a small JSON body, no
//! authentication) in the same binary and runtime as the authenticated
//! `GET /api/whoami`, so the two measure only what authentication costs.
//!
//! ```sh
//! LODGER_MASTER_KEYS=... cargo run --release --example bench_server -- PORT
//! ```

use lodger::config::ServeConfig;
use lodger::descriptor::AppKeys;
use warp::Filter;

fn main() {
    let port: u16 = std::env::args().nth(1).map_or(8090, |arg| arg.parse().unwrap());
    let master_keys = std::env::var("LODGER_MASTER_KEYS")
        .unwrap()
        .split(',')
        .map(|key| key.parse().unwrap())
        .collect();
    let config = ServeConfig {
        base_url: format!("http://127.0.0.1:{port}"),
        bind: ([127, 0, 0, 1], port).into(),
        keys: AppKeys::new("lodger").unwrap(),
        master_keys,
        install_keys_url: "http://127.0.0.1:9/keys".into(),
        extra_hosts: Vec::new(),
        site_dir: None,
        forge: None,
        auth_only: true,
        revocation_check_seconds: lodger::app::revocation::DEFAULT_BOUND_SECONDS,
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        let (_, app) = lodger::web::server::app(&config).unwrap();
        let hello = warp::path!("bench" / "hello").and(warp::get()).map(|| {
            warp::reply::json(&serde_json::json!({
                "clientKey": "bench-tenant-0f3c9a",
                "accountId": "557058:bench-user",
            }))
        });
        let listener = tokio::net::TcpListener::bind(config.bind).await.unwrap();
        warp::serve(hello.or(app)).incoming(listener).run().await;
    });
}

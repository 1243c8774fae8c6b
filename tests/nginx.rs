//! The static CDN shape, proven with real nginx: nginx serves a `lodger
//! export` with the binary's headers and precompressed files, and proxies
//! lifecycle, API and webhooks to `lodger serve --auth-only`, which serves
//! nothing else.

mod support;

use support::nginx::*;
use support::*;

#[tokio::test]
async fn nginx_serves_the_export_and_proxies_installs_and_api_calls_to_the_auth_endpoint() {
    let Some(binary) = nginx_binary() else { return };
    let keys = key_server().await;
    let host = test_host("jira:client-nginx", "ATCO-nginx-secret").await;
    let master = lodger::connect::sealed::MasterKey::generate().to_config_string();
    let (nginx_port, auth_port) = (free_port(), free_port());
    let base = format!("http://127.0.0.1:{nginx_port}");
    let root = tempdir::Dir::new("nginx-export");
    let site = root.path().join("site");
    export(&site, &base, auth_port, &[]);
    let _auth = auth_endpoint(auth_port, &base, &master, &keys.url).await;
    let nginx = nginx(&binary, &site, nginx_port, &[auth_port]).await;
    let http = reqwest::Client::builder().no_gzip().no_brotli().build().unwrap();
    let get = |path: &str, encoding: &str| {
        http.get(format!("{}{path}", nginx.url))
            .header("accept-encoding", encoding.to_owned())
            .send()
    };

    // Pages: revalidated, framed only by Atlassian (the binary's own CSP).
    let page = get("/jira/issue-panel.html", "identity").await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = {
        let mut headers = warp::http::HeaderMap::new();
        lodger::web::security_headers::SecurityHeaders::new(&[]).apply(&mut headers, true);
        headers["content-security-policy"].to_str().unwrap().to_owned()
    };
    assert_eq!(page.headers()["content-security-policy"], csp.as_str());
    assert_eq!(page.headers()["cache-control"], "no-cache");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert!(page.headers().get("x-frame-options").is_none());
    let html = page.text().await.unwrap();

    // Scripts: hashed, immutable, precompressed.
    let script = html.split("src=\"").nth(1).and_then(|s| s.split('"').next()).unwrap().to_owned();
    assert!(script.starts_with("/js/"), "{html}");
    let gzip = get(&script, "gzip").await.unwrap();
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
    assert_eq!(gzip.headers()["cache-control"], "public, max-age=31536000, immutable");
    if std::path::Path::new("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so").exists() {
        let br = get(&script, "br").await.unwrap();
        assert_eq!(br.headers()["content-encoding"], "br");
    } else {
        eprintln!("note: no brotli static module; .br files not checked");
    }

    // Descriptors name the CDN's URL; the hosting files themselves stay private.
    let descriptor: serde_json::Value = serde_json::from_slice(
        &get("/atlassian-connect.json", "identity").await.unwrap().bytes().await.unwrap(),
    )
    .unwrap();
    assert_eq!(descriptor["baseUrl"], base);
    for private in ["/hosting/nginx/upstream.conf", "/_headers", "/_redirects"] {
        assert_eq!(get(private, "identity").await.unwrap().status(), 404, "{private}");
    }

    // The install goes through nginx to the auth endpoint, which writes the
    // credential to the host; a page's API call does the same.
    let token = signed_install_token(&host.client_key, "/lifecycle/installed", &base, KID);
    let installed = http
        .post(format!("{base}/lifecycle/installed"))
        .header("authorization", format!("JWT {token}"))
        .header("content-type", "application/json")
        .body(host.payload("installed", "lodger").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(installed.status(), 204);
    let credential = host.stored_credential("lodger").expect("the credential is in the host");
    let whoami = http
        .get(format!("{base}/api/whoami"))
        .header("authorization", format!("JWT {}", context_token(&host.client_key, &host.secret())))
        .header("x-lodger-installation", credential)
        .send()
        .await
        .unwrap();
    assert_eq!(whoami.status(), 200);

    // The auth endpoint itself serves no pages and no descriptors.
    for path in ["/atlassian-connect.json", "/jira/issue-panel.html", "/"] {
        let direct = http.get(format!("http://127.0.0.1:{auth_port}{path}")).send().await.unwrap();
        assert_eq!(direct.status(), 404, "{path}");
    }
}

/// What one request of the load run got.
struct Outcome {
    at_ms: u128,
    kind: &'static str,
    status: u16,
    upstream: String,
}

/// A webhook delivery to `url` (lodger's registered URL, through nginx),
/// signed by the tenant's host as Jira signs them.
async fn deliver(
    http: &reqwest::Client,
    host: &TestHost,
    url: &str,
) -> reqwest::Result<reqwest::Response> {
    let after_scheme = url.split_once("://").unwrap().1;
    let path_and_query = &after_scheme[after_scheme.find('/').unwrap()..];
    let (path, query) = path_and_query.split_once('?').unwrap();
    let token = host_token(&host.client_key, &host.secret(), "POST", path, query);
    http.post(url)
        .header("authorization", format!("JWT {token}"))
        .header("content-type", "application/json")
        .body(r#"{"webhookEvent": "jira:issue_updated"}"#)
        .send()
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_share_nothing_and_lose_no_accepted_write_when_one_dies() {
    let Some(binary) = nginx_binary() else { return };
    let keys = key_server().await;
    let master = lodger::connect::sealed::MasterKey::generate().to_config_string();
    let (nginx_port, one_port, two_port) = (free_port(), free_port(), free_port());
    let base = format!("http://127.0.0.1:{nginx_port}");
    let root = tempdir::Dir::new("nginx-replicas");
    let site = root.path().join("site");
    export(&site, &base, one_port, &[]);
    let _one = auth_endpoint(one_port, &base, &master, &keys.url).await;
    let mut two = auth_endpoint(two_port, &base, &master, &keys.url).await;
    let nginx = nginx(&binary, &site, nginx_port, &[one_port, two_port]).await;
    let http =
        reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build().unwrap();

    let mut tenants = Vec::new();
    for n in 0..12 {
        tenants.push(test_host(&format!("jira:replica-{n}"), &format!("ATCO-replica-{n}")).await);
    }
    let tenants = std::sync::Arc::new(tenants);
    let install = |host: &TestHost| {
        let token = signed_install_token(&host.client_key, "/lifecycle/installed", &base, KID);
        http.post(format!("{base}/lifecycle/installed"))
            .header("authorization", format!("JWT {token}"))
            .header("content-type", "application/json")
            .body(host.payload("installed", "lodger").to_string())
            .send()
    };
    let mut upstreams = std::collections::BTreeSet::new();
    for host in tenants.iter() {
        let response = install(host).await.unwrap();
        assert_eq!(response.status(), 204);
        upstreams.insert(response.headers()["x-upstream"].to_str().unwrap().to_owned());
    }
    assert_eq!(upstreams.len(), 2, "installs reach both replicas: {upstreams:?}");
    // Each tenant's webhook URL as registered now (a re-install replaces the
    // registration, but the credential in an older URL still opens).
    let webhook_urls: std::sync::Arc<Vec<String>> = std::sync::Arc::new(
        tenants.iter().map(|host| host.webhooks.lock().unwrap()[0].1.clone()).collect(),
    );

    // The load run: 8 workers for 6 s, mixing API calls, webhooks and
    // re-installs (writes). Replica two dies at 2 s (SIGKILL) and is back at 4 s.
    let started = std::time::Instant::now();
    let outcomes = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Outcome>::new()));
    let mut workers = Vec::new();
    for worker in 0..8usize {
        let (tenants, outcomes, http, base, webhook_urls) =
            (tenants.clone(), outcomes.clone(), http.clone(), base.clone(), webhook_urls.clone());
        workers.push(tokio::spawn(async move {
            let mut n = worker;
            while started.elapsed() < std::time::Duration::from_secs(6) {
                let (host, webhook_url) =
                    (&tenants[n % tenants.len()], &webhook_urls[n % tenants.len()]);
                let (kind, result) = match n % 5 {
                    0 => {
                        let token = signed_install_token(
                            &host.client_key,
                            "/lifecycle/installed",
                            &base,
                            KID,
                        );
                        let sent = http
                            .post(format!("{base}/lifecycle/installed"))
                            .header("authorization", format!("JWT {token}"))
                            .header("content-type", "application/json")
                            .body(host.payload("installed", "lodger").to_string())
                            .send()
                            .await;
                        ("install", sent)
                    }
                    1 => ("webhook", deliver(&http, host, webhook_url).await),
                    _ => {
                        let credential = host.stored_credential("lodger").unwrap();
                        let sent = http
                            .get(format!("{base}/api/whoami"))
                            .header(
                                "authorization",
                                format!("JWT {}", context_token(&host.client_key, &host.secret())),
                            )
                            .header("x-lodger-installation", credential)
                            .send()
                            .await;
                        ("api", sent)
                    }
                };
                let (status, upstream) = match result {
                    Ok(response) => (
                        response.status().as_u16(),
                        response
                            .headers()
                            .get("x-upstream")
                            .map_or(String::new(), |v| v.to_str().unwrap_or("").to_owned()),
                    ),
                    Err(_) => (0, String::new()),
                };
                outcomes.lock().unwrap().push(Outcome {
                    at_ms: started.elapsed().as_millis(),
                    kind,
                    status,
                    upstream,
                });
                n += 8;
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    // A request cut off by the kill may finish before kill() returns: the
    // window opens when the kill starts.
    let killing_from = started.elapsed().as_millis();
    two.kill();
    let killed_at = started.elapsed().as_millis();
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let two_again = auth_endpoint(two_port, &base, &master, &keys.url).await;
    for worker in workers {
        worker.await.unwrap();
    }
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());

    let total = outcomes.len();
    let failed: Vec<&Outcome> =
        outcomes.iter().filter(|o| !(200..300).contains(&o.status)).collect();
    for kind in ["install", "webhook", "api"] {
        let by: std::collections::BTreeSet<&str> = outcomes
            .iter()
            .filter(|o| o.kind == kind && o.at_ms < killing_from)
            // nginx names every upstream it tried: "a" or, after a retry, "a, b".
            .flat_map(|o| o.upstream.split(", ").filter(|a| !a.is_empty()))
            .collect();
        assert_eq!(by.len(), 2, "{kind} requests spread across both replicas: {by:?}");
    }
    eprintln!(
        "load run: {total} requests in 6 s, {} failed, all within {:?} ms of the kill at {killed_at} ms",
        failed.len(),
        failed.iter().map(|o| o.at_ms).collect::<Vec<_>>()
    );
    assert!(total > 200, "the run did work: {total}");
    // Only requests in flight on the dying replica may fail; once nginx has
    // marked it down (or retried elsewhere), the failure rate is zero again.
    for outcome in &failed {
        assert!(
            outcome.at_ms >= killing_from && outcome.at_ms < killed_at + 1500,
            "{} failed with {} at {} ms, outside the kill window",
            outcome.kind,
            outcome.status,
            outcome.at_ms
        );
    }
    assert!(failed.len() <= 8, "at most the requests in flight fail: {}", failed.len());

    // No accepted write is lost: every tenant's credential is in its host and
    // works, on the restarted replica directly too (nothing re-installed).
    for host in tenants.iter() {
        let credential = host.stored_credential("lodger").expect("the credential is in the host");
        for target in [base.clone(), format!("http://127.0.0.1:{two_port}")] {
            let response = http
                .get(format!("{target}/api/whoami"))
                .header(
                    "authorization",
                    format!("JWT {}", context_token(&host.client_key, &host.secret())),
                )
                .header("x-lodger-installation", &credential)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{} via {target}", host.client_key);
        }
    }
    drop(two_again);
    drop(nginx);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checklist_browser_test_passes_unchanged_through_nginx() {
    let Some(binary) = nginx_binary() else { return };
    if !support::browser::ready() {
        return;
    }
    // The emulated sites first (their origins go into the pages' CSP), then
    // the export behind nginx and the auth endpoint, then the install: the
    // sites fetch the descriptor from nginx, and nginx hands lifecycle to lodger.
    let options = support::dev_world::options();
    let sites = lodger::dev::world::Sites::start(&options).await.unwrap();
    let master = lodger::connect::sealed::MasterKey::generate().to_config_string();
    let (nginx_port, auth_port) = (free_port(), free_port());
    let base = format!("http://127.0.0.1:{nginx_port}");
    let root = tempdir::Dir::new("nginx-browser");
    let site_dir = root.path().join("site");
    let origins = sites.origins();
    export(&site_dir, &base, auth_port, &origins.iter().map(String::as_str).collect::<Vec<_>>());
    let _auth = auth_endpoint(auth_port, &base, &master, &sites.install_keys_url()).await;
    let _nginx = nginx(&binary, &site_dir, nginx_port, &[auth_port]).await;
    let world = sites.install(&base, None).await.unwrap();
    assert!(world.site.data().installs["lodger"].app_base_url.starts_with(&base));

    let account = |role: &str| {
        let user = world.site.users.iter().find(|u| u.account_id.ends_with(&format!("-{role}")));
        user.map(|u| u.account_id.clone()).unwrap()
    };
    let artifacts = support::browser::artifacts().join("nginx");
    std::fs::create_dir_all(&artifacts).unwrap();
    let config = serde_json::json!({
        "mode": "main",
        "issueUrl": world.issue_url,
        "pageUrl": world.page_url,
        "users": {"admin": account("admin"), "dev": account("dev"), "viewer": account("viewer")},
        "artifacts": artifacts,
        "seed": 5,
        "rounds": 20,
    });
    let report =
        support::browser::run("tools/devhost/checklist-browser-test.mjs", vec![config.to_string()])
            .await;
    let issue_id = report["issueId"].as_str().unwrap().to_owned();
    let stored =
        world.site.data().issue_properties[&(issue_id, "lodger-checklist".to_owned())].clone();
    let stored: Vec<&str> =
        stored["items"].as_array().unwrap().iter().map(|i| i["text"].as_str().unwrap()).collect();
    for expected in report["concurrent"]["expected"].as_array().unwrap() {
        assert!(stored.contains(&expected.as_str().unwrap()), "{expected} is stored");
    }
}

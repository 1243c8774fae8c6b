//! The static CDN shape, proven with real nginx: nginx serves a `lodger
//! export` with the binary's headers and precompressed files, and proxies
//! lifecycle, API and webhooks to `lodger serve --auth-only`, which serves
//! nothing else.

mod nginx_support;
mod support;

use nginx_support::*;
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

//! The embedded site as a browser and a Jira host see it: hashed names with
//! immutable caching, compression negotiated per request, revalidation with
//! ETags, and the headers that let Jira frame the pages. Driven through
//! `warp::test`, with no socket.

use std::sync::Arc;

use lodger::descriptor::AppKeys;
use lodger::web::assets::{self, Assets};
use lodger::web::pages::PageValues;
use lodger::web::security_headers::SecurityHeaders;
use warp::Filter;
use warp::http::{Response, StatusCode};
use warp::hyper::body::Bytes;

/// The dev host's origin, allowed to frame pages besides Atlassian's domains.
const DEV_HOST: &str = "http://127.0.0.1:2990";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn loaded() -> Arc<Assets> {
    let values = PageValues::new("https://lodger.example", &AppKeys::new("lodger").unwrap());
    Arc::new(Assets::embedded(&values).expect("the embedded site loads"))
}

fn site(
    assets: Arc<Assets>,
) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone + 'static {
    assets::routes(assets, Arc::new(SecurityHeaders::new(&[DEV_HOST.to_string()])))
}

async fn get(path: &str, headers: &[(&str, &str)]) -> Response<Bytes> {
    let mut request = warp::test::request().method("GET").path(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.reply(&site(loaded())).await
}

fn header<'a>(response: &'a Response<Bytes>, name: &str) -> &'a str {
    response.headers().get(name).map_or("", |v| v.to_str().expect("an ASCII header"))
}

fn hashed(logical: &str) -> String {
    loaded().hashed_path(logical).expect("a site file").to_string()
}

#[tokio::test]
async fn should_serve_a_hashed_script_with_immutable_caching_and_its_type() {
    let path = hashed("/js/connect.js");
    assert_ne!(path, "/js/connect.js");
    assert!(path.starts_with("/js/connect.") && path.ends_with(".js"));

    let response = get(&path, &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "cache-control"), IMMUTABLE);
    assert_eq!(header(&response, "content-type"), "text/javascript; charset=utf-8");
    assert_eq!(header(&response, "content-length"), response.body().len().to_string());
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert!(header(&response, "etag").starts_with('"'));
    assert!(response.headers().get("content-security-policy").is_none());
    assert!(String::from_utf8_lossy(response.body()).contains("AP.context.getToken"));
    assert_eq!(
        response.body(),
        get("/js/connect.js", &[]).await.body(),
        "the plain name serves the same bytes"
    );
}

/// Issue 15: nothing Forge-specific reaches a Connect page: the embedded
/// site has no Forge adapter and no `@forge/bridge` code.
#[tokio::test]
async fn the_connect_site_serves_no_forge_bridge_code() {
    for file in loaded().files() {
        assert!(!file.logical.starts_with("/forge/"), "{} is served", file.logical);
        let text = String::from_utf8_lossy(file.body);
        for forge in ["@forge/bridge", "callBridge", "invokeRemote", "requestJira"] {
            assert!(!text.contains(forge), "{} holds {forge:?}", file.logical);
        }
    }
}

#[tokio::test]
async fn should_serve_the_landing_page_at_the_root() {
    let response = get("/", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "content-type"), "text/html; charset=utf-8");
    assert_eq!(header(&response, "cache-control"), "no-cache");
    let body = String::from_utf8_lossy(response.body());
    assert!(body.contains(r#"href="/atlassian-connect.json""#));
    assert!(body.contains(r#"href="/confluence/atlassian-connect.json""#));
    assert_eq!(response.body(), get("/index.html", &[]).await.body());
}

#[tokio::test]
async fn should_let_atlassian_and_the_dev_host_frame_html_and_nobody_else() {
    let response = get("/jira/issue-panel.html", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    let csp = header(&response, "content-security-policy");
    assert!(csp.contains(
        "frame-ancestors 'self' https://*.atlassian.net https://*.jira.com https://*.jira-dev.com"
    ));
    assert!(csp.contains(DEV_HOST));
    // The bridge script may come from Atlassian's CDN or the configured dev host.
    assert!(
        csp.contains(&format!("script-src 'self' https://connect-cdn.atl-paas.net {DEV_HOST};"))
    );
    assert!(csp.contains("object-src 'none'"));
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    assert!(!header(&response, "referrer-policy").is_empty());
    // X-Frame-Options would blank the panel inside Jira.
    assert!(response.headers().get("x-frame-options").is_none());
}

#[tokio::test]
async fn should_prefer_brotli_then_gzip_then_identity() {
    let path = hashed("/css/lodger.css");
    let identity = get(&path, &[]).await;
    assert!(identity.headers().get("content-encoding").is_none());
    assert_eq!(header(&identity, "vary"), "accept-encoding");

    let br = get(&path, &[("accept-encoding", "gzip, deflate, br, zstd")]).await;
    assert_eq!(header(&br, "content-encoding"), "br");
    assert_eq!(header(&br, "vary"), "accept-encoding");
    assert!(header(&br, "etag").ends_with("-br\""));
    assert!(br.body().len() < identity.body().len());
    assert_eq!(header(&br, "content-length"), br.body().len().to_string());

    let gzip = get(&path, &[("accept-encoding", "br;q=0, gzip")]).await;
    assert_eq!(header(&gzip, "content-encoding"), "gzip");
    assert!(header(&gzip, "etag").ends_with("-gz\""));
    // No inflater among the dev-dependencies: check the gzip magic bytes and
    // that the body is not the plain one.
    assert_eq!(gzip.body()[..2], [0x1f, 0x8b]);
    assert_ne!(gzip.body().len(), identity.body().len());
    assert_ne!(gzip.body(), br.body());
    assert_eq!(header(&gzip, "content-length"), gzip.body().len().to_string());

    let plain = get(&path, &[("accept-encoding", "identity")]).await;
    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(plain.body(), identity.body());

    let tags = [&identity, &br, &gzip].map(|r| header(r, "etag").to_string());
    assert!(tags[0] != tags[1] && tags[1] != tags[2] && tags[0] != tags[2]);
}

#[tokio::test]
async fn should_answer_a_matching_if_none_match_with_304_and_no_body() {
    let path = hashed("/js/panel.js");
    let accept = ("accept-encoding", "br");
    let first = get(&path, &[accept]).await;
    let etag = header(&first, "etag").to_string();

    let list = format!("\"elsewhere\", W/{etag}");
    for if_none_match in [etag.as_str(), list.as_str(), "*"] {
        let response = get(&path, &[accept, ("if-none-match", if_none_match)]).await;
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{if_none_match}");
        assert!(response.body().is_empty());
        assert_eq!(header(&response, "etag"), etag);
        assert_eq!(header(&response, "cache-control"), IMMUTABLE);
    }

    // The tag names one encoding: asking for another one sends it in full.
    let other = get(&path, &[("accept-encoding", "gzip"), ("if-none-match", etag.as_str())]).await;
    assert_eq!(other.status(), StatusCode::OK);
    assert!(!other.body().is_empty());
}

#[tokio::test]
async fn should_rewrite_html_references_to_hashed_names_that_are_served() {
    let page = get("/jira/issue-panel.html", &[]).await;
    let page = String::from_utf8_lossy(page.body());
    let index = get("/", &[]).await;
    let index = String::from_utf8_lossy(index.body());
    for (html, logical) in [
        (&page, "/js/panel.js"),
        (&page, "/js/connect.js"),
        (&page, "/css/lodger.css"),
        (&index, "/css/lodger.css"),
        (&index, "/img/lodger.svg"),
    ] {
        let served = hashed(logical);
        assert!(html.contains(&format!("\"{served}\"")), "{logical} is linked as {served}");
        assert!(!html.contains(&format!("\"{logical}\"")), "{logical} is left unhashed");
        let response = get(&served, &[]).await;
        assert_eq!(response.status(), StatusCode::OK, "{served}");
        assert_eq!(header(&response, "cache-control"), IMMUTABLE);
    }
}

#[tokio::test]
async fn should_keep_serving_old_unhashed_links_with_revalidation() {
    let logical = get("/js/panel.js", &[]).await;
    let hashed = get(&hashed("/js/panel.js"), &[]).await;
    assert_eq!(logical.status(), StatusCode::OK);
    assert_eq!(header(&logical, "cache-control"), "no-cache");
    assert_eq!(logical.body(), hashed.body());
    assert_eq!(header(&logical, "etag"), header(&hashed, "etag"));
}

#[tokio::test]
async fn should_answer_head_with_headers_and_no_body() {
    let path = hashed("/img/lodger.svg");
    let full = get(&path, &[]).await;
    let head = warp::test::request().method("HEAD").path(&path).reply(&site(loaded())).await;
    assert_eq!(head.status(), StatusCode::OK);
    assert!(head.body().is_empty());
    assert_eq!(header(&head, "content-type"), "image/svg+xml");
    assert_eq!(header(&head, "content-length"), full.body().len().to_string());
    assert_eq!(header(&head, "etag"), header(&full, "etag"));
}

#[tokio::test]
async fn should_reject_unknown_paths_and_other_methods_as_not_found() {
    let routes = site(loaded());
    for (method, path) in [("GET", "/nope.js"), ("GET", "/js/"), ("POST", "/index.html")] {
        let result = warp::test::request().method(method).path(path).filter(&routes).await;
        match result {
            Err(rejection) => assert!(rejection.is_not_found(), "{method} {path}"),
            Ok(response) => panic!("{method} {path} answered {}", response.status()),
        }
    }
}

#[tokio::test]
async fn renders_the_configured_app_keys_into_pages_once() {
    let values = PageValues::new("https://lodger.example", &AppKeys::new("acme-lodger").unwrap());
    let assets = Arc::new(Assets::embedded(&values).expect("the embedded site loads"));
    let routes = assets::routes(assets, Arc::new(SecurityHeaders::new(&[])));
    for (page, key) in [
        ("/jira/issue-panel.html", "acme-lodger"),
        ("/confluence/macro.html", "acme-lodger.confluence"),
    ] {
        let response = warp::test::request().path(page).reply(&routes).await;
        assert_eq!(response.status(), StatusCode::OK, "{page}");
        let html = String::from_utf8(response.body().to_vec()).unwrap();
        let meta = format!(r#"<meta name="lodger-app-key" content="{key}">"#);
        assert!(html.contains(&meta), "{page} names its app key: {html}");
        assert!(!html.contains("{{"), "{page} has an unrendered tag");
    }
}

/// The issue's budget: the panel's own scripts and styles under 15 KB
/// gzipped, counted as browsers download them (each file on its own).
#[tokio::test]
async fn the_panels_own_scripts_and_styles_stay_under_15_kb_gzipped() {
    let page = get("/jira/issue-panel.html", &[]).await;
    let html = String::from_utf8(page.body().to_vec()).unwrap();
    let mut linked: Vec<String> = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for part in html.split(attribute).skip(1) {
            let path = &part[..part.find('"').unwrap()];
            if path.starts_with("/js/") || path.starts_with("/css/") {
                linked.push(path.to_owned());
            }
        }
    }
    assert!(linked.len() >= 4, "the panel links its scripts and styles: {linked:?}");
    let mut total = 0;
    for path in &linked {
        let response = get(path, &[("accept-encoding", "gzip")]).await;
        assert_eq!(header(&response, "content-encoding"), "gzip", "{path}");
        total += response.body().len();
    }
    eprintln!("the panel's own scripts and styles: {total} bytes gzipped");
    assert!(total < 15 * 1024, "{total} bytes gzipped for {linked:?}");
    // What ships is the code: the sources' comment lines stay home.
    let script = get(&hashed("/js/checklist.js"), &[]).await;
    let shipped = String::from_utf8_lossy(script.body()).into_owned();
    assert!(!shipped.lines().any(|line| line.trim_start().starts_with("//")));
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/site/js/checklist.js"))
            .unwrap();
    assert!(source.lines().any(|line| line.trim_start().starts_with("//")), "the source teaches");
}

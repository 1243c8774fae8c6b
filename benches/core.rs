//! Micro-benchmarks of the protocol core and of one full authentication.
//! Run with `cargo bench --bench core`; figures go to BENCHMARKS.md.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use lodger::config::ServeConfig;
use lodger::connect::installation::{Installation, Product};
use lodger::connect::jwt::{self, Claims, Expectation, UnverifiedToken};
use lodger::connect::qsh::{canonical_request, query_string_hash};
use lodger::connect::sealed::{Keyring, MasterKey};
use lodger::connect::secret::Secret;
use lodger::descriptor::{AppKeys, Templates};
use lodger::web::auth::{Checked, Tokens, check};
use lodger::web::signed_request::SignedRequest;

/// A typical iframe URL: module parameters plus the host's standard ones.
const PATH: &str = "/jira/issue-panel.html";
const QUERY: &str = "issueKey=LOD-1&issueId=10001&projectId=10000&xdm_e=https%3A%2F%2Facme.atlassian.net\
    &xdm_c=channel-lodger__checklist-panel&cp=&xdm_deprecated_addon_key_do_not_use=lodger&lic=active&cv=1001.0.0&tz=Europe%2FBerlin&loc=en-GB";

fn installation() -> Installation {
    Installation {
        key: "lodger".into(),
        client_key: "a3b5c7d9-1234-4f00-9abc-0123456789ab".into(),
        base_url: "https://acme.atlassian.net".into(),
        shared_secret: Secret::new("ATCO".to_owned() + &"x".repeat(60)),
        product_type: Product::Jira,
        oauth_client_id: None,
        installed_at: 0,
    }
}

fn benches(c: &mut Criterion) {
    c.bench_function("qsh: canonicalise and hash an iframe URL", |b| {
        b.iter(|| query_string_hash(black_box("GET"), black_box(PATH), black_box(QUERY)))
    });
    c.bench_function("qsh: canonical request only", |b| {
        b.iter(|| canonical_request(black_box("GET"), black_box(PATH), black_box(QUERY)))
    });

    let inst = installation();
    let now = lodger::now();
    let qsh = query_string_hash("GET", PATH, QUERY);
    let token = jwt::sign(
        &Claims {
            sub: Some("557058:user".into()),
            ..Claims::new(&inst.client_key, now, 180, &qsh)
        },
        &inst.shared_secret,
    );
    c.bench_function("jwt: HS256 parse and verify", |b| {
        b.iter(|| {
            UnverifiedToken::parse(black_box(&token))
                .and_then(|t| t.verify(&inst.shared_secret, &Expectation::request(&qsh, now)))
                .is_ok()
        })
    });

    let master = MasterKey::generate();
    let keyring = Keyring::new(lodger::SEALING_PURPOSE, vec![master.clone()]).expect("keyring");
    let sealed = keyring.seal(&inst).expect("seal");
    c.bench_function("sealed: open a credential (no cache)", |b| {
        b.iter(|| keyring.open(black_box(&sealed), &inst.client_key, "lodger").is_ok())
    });
    c.bench_function("sealed: seal a credential", |b| {
        b.iter(|| keyring.seal(black_box(&inst)).is_ok())
    });

    let config = ServeConfig {
        auth_only: false,
        revocation_check_seconds: lodger::app::revocation::DEFAULT_BOUND_SECONDS,
        base_url: "https://lodger.example".into(),
        bind: "127.0.0.1:0".parse().expect("addr"),
        keys: AppKeys::new("lodger").expect("keys"),
        master_keys: vec![master],
        install_keys_url: "https://keys.invalid".into(),
        extra_hosts: vec![],
        site_dir: None,
        forge: None,
    };
    let state = lodger::web::server::state(&config).expect("state");
    let context_token = jwt::sign(
        &Claims {
            sub: Some("557058:user".into()),
            ..Claims::new(&inst.client_key, now, 900, "context-qsh")
        },
        &inst.shared_secret,
    );
    let request = SignedRequest {
        method: warp::http::Method::GET,
        path: "/api/whoami".into(),
        query: String::new(),
        token: Some(context_token),
    };
    // The tenant is current (as after `installed`, or once the host confirmed
    // it), and the opened-credential cache warm, as every request after the
    // first finds them.
    state.remember(std::sync::Arc::new(inst.clone()));
    let warm = check(&state, &request, Some(&sealed), Tokens::ContextOrRequestBound);
    assert!(matches!(warm, Ok(Checked::Current(_))), "{warm:?}");
    c.bench_function("auth: API call (context token + relayed credential, cached)", |b| {
        b.iter(|| {
            matches!(
                check(&state, black_box(&request), Some(&sealed), Tokens::ContextOrRequestBound),
                Ok(Checked::Current(_))
            )
        })
    });

    // A host-signed request with a typical iframe query, for a tenant this
    // process knows (no credential header): here the qsh is the larger part.
    let iframe_qsh = query_string_hash("GET", "/api/whoami", QUERY);
    let iframe_token = jwt::sign(
        &Claims {
            sub: Some("557058:user".into()),
            ..Claims::new(&inst.client_key, now, 180, &iframe_qsh)
        },
        &inst.shared_secret,
    );
    let iframe_request = SignedRequest {
        method: warp::http::Method::GET,
        path: "/api/whoami".into(),
        query: QUERY.into(),
        token: Some(iframe_token),
    };
    c.bench_function("auth: host-signed request with a 12-parameter query", |b| {
        b.iter(|| {
            matches!(
                check(&state, black_box(&iframe_request), None, Tokens::RequestBound),
                Ok(Checked::Current(_))
            )
        })
    });
}

fn descriptor(c: &mut Criterion) {
    let templates = Templates::embedded().unwrap();
    let keys = AppKeys::new("lodger").unwrap();
    c.bench_function("descriptor: render the Jira descriptor (tera + JSON check)", |b| {
        b.iter(|| {
            templates.render(Product::Jira, black_box("https://lodger.example.com"), &keys).unwrap()
        })
    });
}

/// A Forge invocation token verified with its key already in the key set:
/// the Forge Remote's counterpart of the context-token check above.
fn forge(c: &mut Criterion) {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use lodger::connect::invocation_token::{self, ISSUER};
    use lodger::connect::jwks::Jwks;
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    use rsa::traits::PublicKeyParts;

    let app = "ari:cloud:ecosystem::app/8a1f0c7e-1111-4222-8333-944445555666";
    let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("rsa key");
    let public = private.to_public_key();
    let b64 = |bytes: Vec<u8>| URL_SAFE_NO_PAD.encode(bytes);
    let jwks = serde_json::json!({"keys": [{"kty": "RSA", "kid": "k1",
        "n": b64(public.n().to_bytes_be()), "e": b64(public.e().to_bytes_be())}]});
    let jwks = Jwks::parse(jwks.to_string().as_bytes()).expect("jwks");
    let now = lodger::now();
    let claims = serde_json::json!({"iss": ISSUER, "aud": app, "iat": now, "nbf": now, "exp": now + 60,
        "app": {"id": app, "installationId": "i-1", "apiBaseUrl": "https://api.atlassian.com/ex/jira/c1",
                "license": {"isActive": true}},
        "context": {"cloudId": "c1", "extension": {"issue": {"id": "10001"}}}, "principal": "557058:user"});
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("k1".into());
    let pem = private.to_pkcs8_pem(LineEnding::LF).expect("pem");
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).expect("key");
    let token = jsonwebtoken::encode(&header, &claims, &key).expect("token");
    let expect = invocation_token::Expectation { app_id: app, now };
    c.bench_function("forge: verify an invocation token (RS256, key cached)", |b| {
        b.iter(|| invocation_token::verify(black_box(&token), &jwks, &expect).is_ok())
    });
}

criterion_group!(core, benches, descriptor, forge);
criterion_main!(core);

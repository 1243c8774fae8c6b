//! lodger's Forge invocation-token check against Atlassian's own.
//!
//! atlassian-connect-express 11.5.3 ships the middleware Atlassian's own
//! Forge remotes use (`addon.authenticateForge()`); `support::ace` runs it
//! unchanged from `tools/ace/node_modules`, with this test's key set in place
//! of Forge's published one (which cannot be fetched offline) and the clock
//! fixed at [`NOW`]. Every token below gets the same verdict from both,
//! except where lodger is deliberately stricter, or looser within its clock
//! leeway (ACE has none), which is asserted as such;
//! both pick the same JWKS URL and read the same installation, base URL and
//! product token. Needs `node` and `npm ci --prefix tools/ace`
//! (`support::prerequisites`).

mod support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use lodger::connect::invocation_token::{
    self, APP_ARI_PREFIX, Expectation, LEEWAY_SECONDS, MAX_TOKEN_BYTES,
};
use lodger::connect::jwks::Jwks;
use serde_json::{Value, json};
use support::ace::{ForgeRequest, Verdict, check_forge_tokens};
use support::forge::{APP, ForgeKey, claims, jwks};
use support::prerequisites::{Prerequisite, require};

const NOW: i64 = 1_800_000_000;

fn with(key: &ForgeKey, pointer: &str, value: Value) -> String {
    let mut claims = claims(NOW);
    *claims.pointer_mut(pointer).unwrap() = value;
    key.sign(&claims)
}

/// ACE's verdict on each token, sent as `Authorization: Bearer <token>`.
fn ask_ace(key_set: &Value, tokens: &[String]) -> Vec<Verdict> {
    let requests: Vec<ForgeRequest> = tokens.iter().map(|t| ForgeRequest::bearer(t)).collect();
    check_forge_tokens(key_set, APP, Some(NOW), &requests)
}

fn lodgers(key_set: &Value) -> (Jwks, Expectation<'static>) {
    (Jwks::parse(key_set.to_string().as_bytes()).unwrap(), Expectation { app_id: APP, now: NOW })
}

#[test]
fn agrees_with_atlassian_connect_express_on_every_token() {
    if !require(Prerequisite::Ace) {
        return;
    }
    let keys = ForgeKey::generate("forge-1");
    let key_set = jwks(&[&keys]);
    let impostor = ForgeKey::generate("forge-1");
    let token = keys.sign(&claims(NOW));
    let (head, signature) = token.rsplit_once('.').unwrap();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let hs256 = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("forge-1".into());
        let secret = EncodingKey::from_secret(keys.public_pem.as_bytes());
        jsonwebtoken::encode(&header, &claims(NOW), &secret).unwrap()
    };
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"forge-1"}"#),
        URL_SAFE_NO_PAD.encode(claims(NOW).to_string())
    );
    // (what, token, whether both must accept it)
    let cases: Vec<(&str, String, bool)> = vec![
        ("valid", token.clone(), true),
        (
            "audience of another app",
            with(&keys, "/aud", json!("ari:cloud:ecosystem::app/x")),
            false,
        ),
        ("audience as an array holding the app", with(&keys, "/aud", json!([APP, "other"])), true),
        ("another issuer", with(&keys, "/iss", json!("forge/other")), false),
        ("expired beyond the leeway", with(&keys, "/exp", json!(NOW - LEEWAY_SECONDS - 60)), false),
        ("not valid until later", with(&keys, "/nbf", json!(NOW + LEEWAY_SECONDS + 60)), false),
        ("signed by another key with the same kid", impostor.sign(&claims(NOW)), false),
        ("kid not in the key set", ForgeKey::generate("forge-9").sign(&claims(NOW)), false),
        ("tampered signature", format!("{head}.{flipped}{}", &signature[1..]), false),
        ("HS256 with the public key as secret", hs256, false),
        ("alg none", none, false),
    ];
    let tokens: Vec<String> = cases.iter().map(|(_, token, _)| token.clone()).collect();
    let ace = ask_ace(&key_set, &tokens);
    let (jwks, expect) = lodgers(&key_set);
    for ((what, token, accepted), ace) in cases.iter().zip(ace) {
        let ours = invocation_token::verify(token, &jwks, &expect);
        assert_eq!(ace.ok, *accepted, "{what}: ACE's check said {ace:?}");
        if !accepted {
            assert_eq!(ace.status, Some(401), "{what}: ACE answers 401");
        }
        assert_eq!(ours.is_ok(), *accepted, "{what}: lodger's check said {ours:?}");
    }

    // Stricter on purpose: ACE reads `app.installationId` and `app.apiBaseUrl`
    // after verifying; lodger refuses a token without them, or whose `app.id`
    // is not its audience, before anything trusts it; and lodger refuses
    // tokens over MAX_TOKEN_BYTES before decoding, where ACE has no limit.
    let mut no_base = claims(NOW);
    no_base["app"].as_object_mut().unwrap().remove("apiBaseUrl");
    let mut oversized = claims(NOW);
    oversized["context"] = json!({"padding": "x".repeat(MAX_TOKEN_BYTES)});
    let stricter = [
        ("no app.apiBaseUrl", keys.sign(&no_base)),
        ("app.id of another app", with(&keys, "/app/id", json!("ari:cloud:ecosystem::app/x"))),
        ("larger than MAX_TOKEN_BYTES", keys.sign(&oversized)),
    ];
    let tokens: Vec<String> = stricter.iter().map(|(_, token)| token.clone()).collect();
    for ((what, token), ace) in stricter.iter().zip(ask_ace(&key_set, &tokens)) {
        assert!(ace.ok, "{what}: ACE checks only the signature, issuer, audience and time");
        assert!(invocation_token::verify(token, &jwks, &expect).is_err(), "{what}: lodger refuses");
    }

    // Looser on purpose, within LEEWAY_SECONDS only: ACE passes jose no
    // `clockTolerance`, so a token expired a second ago, or valid a second
    // from now, is refused by ACE and accepted by lodger (clock skew between
    // Forge and the remote).
    let skewed = [
        ("expired within the leeway", with(&keys, "/exp", json!(NOW - LEEWAY_SECONDS / 2))),
        (
            "not valid for less than the leeway",
            with(&keys, "/nbf", json!(NOW + LEEWAY_SECONDS / 2)),
        ),
    ];
    let tokens: Vec<String> = skewed.iter().map(|(_, token)| token.clone()).collect();
    for ((what, token), ace) in skewed.iter().zip(ask_ace(&key_set, &tokens)) {
        assert!(!ace.ok, "{what}: ACE has no leeway");
        let ours = invocation_token::verify(token, &jwks, &expect);
        assert!(ours.is_ok(), "{what}: lodger allows {LEEWAY_SECONDS} s: {ours:?}");
    }
}

#[test]
fn refuses_requests_without_a_bearer_token_before_choosing_a_key_set() {
    if !require(Prerequisite::Ace) {
        return;
    }
    let keys = ForgeKey::generate("forge-1");
    let token = keys.sign(&claims(NOW));
    let requests = [
        ForgeRequest::default(),
        ForgeRequest { authorization: Some(format!("Basic {token}")), headers: Vec::new() },
        ForgeRequest { authorization: Some("Bearer".into()), headers: Vec::new() },
    ];
    for verdict in check_forge_tokens(&jwks(&[&keys]), APP, Some(NOW), &requests) {
        assert!(!verdict.ok, "{verdict:?}");
        assert_eq!(verdict.status, Some(401));
        assert_eq!(verdict.jwks_url, None, "refused before fetching keys: {verdict:?}");
    }
}

#[test]
fn accepts_a_bare_app_id_as_its_ari_like_atlassian_connect_express() {
    if !require(Prerequisite::Ace) {
        return;
    }
    let keys = ForgeKey::generate("forge-1");
    let key_set = jwks(&[&keys]);
    let token = keys.sign(&claims(NOW));
    let bare = APP.strip_prefix(APP_ARI_PREFIX).unwrap();
    let ace = check_forge_tokens(&key_set, bare, Some(NOW), &[ForgeRequest::bearer(&token)]);
    assert!(ace[0].ok, "{:?}", ace[0]);
    let (jwks, _) = lodgers(&key_set);
    let ours = invocation_token::verify(&token, &jwks, &Expectation { app_id: bare, now: NOW });
    assert!(ours.is_ok(), "{ours:?}");
}

#[test]
fn picks_the_jwks_url_atlassian_connect_express_picks() {
    if !require(Prerequisite::Ace) {
        return;
    }
    let keys = ForgeKey::generate("forge-1");
    let key_set = jwks(&[&keys]);
    let bases = [
        ("production", "https://api.atlassian.com/ex/jira/c0ffee"),
        ("staging", "https://api.stg.atlassian.com/ex/jira/c0ffee"),
        ("staging's host without the slash after it", "https://api.stg.atlassian.com.example/x"),
        ("staging over http", "http://api.stg.atlassian.com/ex/jira/c0ffee"),
    ];
    let tokens: Vec<String> =
        bases.iter().map(|(_, base)| with(&keys, "/app/apiBaseUrl", json!(base))).collect();
    for ((what, base), ace) in bases.iter().zip(ask_ace(&key_set, &tokens)) {
        assert!(ace.ok, "{what}: {ace:?}");
        assert_eq!(ace.jwks_url.as_deref(), Some(invocation_token::jwks_url(base)), "{what}");
    }
    assert_eq!(invocation_token::jwks_url(bases[0].1), invocation_token::PRODUCTION_JWKS_URL);
    assert_eq!(invocation_token::jwks_url(bases[1].1), invocation_token::STAGING_JWKS_URL);
}

#[test]
fn reads_the_installation_base_url_and_product_tokens_lodger_reads() {
    if !require(Prerequisite::Ace) {
        return;
    }
    let keys = ForgeKey::generate("forge-1");
    let key_set = jwks(&[&keys]);
    let token = keys.sign(&claims(NOW));
    let request = ForgeRequest::bearer(&token)
        .header("X-Forge-OAuth-System", "system-token-1")
        .header("x-forge-oauth-user", "user-token-1");
    let ace = check_forge_tokens(&key_set, APP, Some(NOW), &[request]).remove(0);
    assert!(ace.ok, "{ace:?}");
    let (jwks, expect) = lodgers(&key_set);
    let ours = invocation_token::verify(&token, &jwks, &expect).unwrap();
    assert_eq!(ace.installation_id.as_deref(), Some(ours.app.installation_id.as_str()));
    assert_eq!(ace.api_base_url.as_deref(), Some(ours.app.api_base_url.as_str()));
    // The remote calls the product with `x-forge-oauth-system` (issue 14):
    // ACE hands the same header's value to the app as `tokens.app`.
    assert_eq!(ace.system_token.as_deref(), Some("system-token-1"));
    assert_eq!(ace.user_token.as_deref(), Some("user-token-1"));
    let forge = ace.forge.unwrap();
    assert_eq!(forge["apiBaseUrl"], json!(ours.app.api_base_url));
    assert_eq!(forge["principal"], json!(ours.principal.unwrap()));
}

//! lodger's Forge invocation-token check against Atlassian's own.
//!
//! atlassian-connect-express 11.5.3 verifies invocation tokens with
//! `jose.jwtVerify(token, jwks, {audience, issuer: "forge/invocation-token"})`;
//! `tools/oracle/forge-token.js` makes that same call (jose 5, the major ACE
//! depends on) with this test's key set. Every token below gets the same
//! verdict from both, except where lodger is deliberately stricter, which is
//! asserted as such. Needs `node` and `npm ci --prefix tools/oracle`
//! (`support::prerequisites`).

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use lodger::connect::invocation_token::{self, Expectation, LEEWAY_SECONDS};
use lodger::connect::jwks::Jwks;
use serde_json::{Value, json};
use support::forge::{APP, ForgeKey, claims, jwks};
use support::prerequisites::{Prerequisite, require};

const NOW: i64 = 1_800_000_000;

fn with(key: &ForgeKey, pointer: &str, value: Value) -> String {
    let mut claims = claims(NOW);
    *claims.pointer_mut(pointer).unwrap() = value;
    key.sign(&claims)
}

fn ask_jose(key_set: &Value, tokens: &[String]) -> Vec<bool> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/oracle/forge-token.js");
    let mut child = Command::new("node")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node starts");
    let input = json!({"jwks": key_set, "appId": APP, "now": NOW, "tokens": tokens});
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "forge-token.js failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["ok"] == json!(true))
        .collect()
}

#[test]
fn agrees_with_atlassian_connect_express_on_every_token() {
    if !require(Prerequisite::Oracle) {
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
    let jose = ask_jose(&key_set, &tokens);
    let jwks = Jwks::parse(key_set.to_string().as_bytes()).unwrap();
    let expect = Expectation { app_id: APP, now: NOW };
    for ((what, token, accepted), jose_accepts) in cases.iter().zip(jose) {
        let ours = invocation_token::verify(token, &jwks, &expect);
        assert_eq!(jose_accepts, *accepted, "{what}: ACE's check");
        assert_eq!(ours.is_ok(), *accepted, "{what}: lodger's check said {ours:?}");
    }

    // Stricter on purpose: ACE reads `app.installationId` and `app.apiBaseUrl`
    // after verifying; lodger refuses a token without them, or whose `app.id`
    // is not its audience, before anything trusts it.
    let mut no_base = claims(NOW);
    no_base["app"].as_object_mut().unwrap().remove("apiBaseUrl");
    let stricter =
        vec![keys.sign(&no_base), with(&keys, "/app/id", json!("ari:cloud:ecosystem::app/x"))];
    for (token, jose_accepts) in stricter.iter().zip(ask_jose(&key_set, &stricter)) {
        assert!(jose_accepts, "jose checks only the signature, issuer, audience and time");
        assert!(invocation_token::verify(token, &jwks, &expect).is_err());
    }
}

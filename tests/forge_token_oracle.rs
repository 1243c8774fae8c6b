//! lodger's Forge invocation-token check against Atlassian's own.
//!
//! atlassian-connect-express 11.5.3 verifies invocation tokens with
//! `jose.jwtVerify(token, jwks, {audience, issuer: "forge/invocation-token"})`;
//! `tools/oracle/forge-token.js` makes that same call (jose 5, the major ACE
//! depends on) with this test's key set. Every token below gets the same
//! verdict from both, except where lodger is deliberately stricter, which is
//! asserted as such. Needs `node` and `npm ci --prefix tools/oracle`; skipped
//! without them unless `LODGER_REQUIRE_ORACLE=1` (CI sets it).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use lodger::connect::invocation_token::{self, Expectation, ISSUER, LEEWAY_SECONDS};
use lodger::connect::jwks::Jwks;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

const APP: &str = "ari:cloud:ecosystem::app/8a1f0c7e-1111-4222-8333-944445555666";
const NOW: i64 = 1_800_000_000;

struct Keys {
    private_pem: String,
    public_pem: String,
    jwks: Value,
}

fn keys() -> Keys {
    let private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let public = private.to_public_key();
    let b64 = |bytes: Vec<u8>| URL_SAFE_NO_PAD.encode(bytes);
    Keys {
        private_pem: private.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
        public_pem: public.to_public_key_pem(LineEnding::LF).unwrap(),
        jwks: json!({"keys": [{"kty": "RSA", "kid": "forge-1", "use": "sig", "alg": "RS256",
            "n": b64(public.n().to_bytes_be()), "e": b64(public.e().to_bytes_be())}]}),
    }
}

fn claims() -> Value {
    json!({
        "iss": ISSUER, "aud": APP, "iat": NOW - 5, "nbf": NOW - 5, "exp": NOW + 55,
        "app": {"id": APP, "installationId": "ari:cloud:ecosystem::installation/i-1",
                "apiBaseUrl": "https://api.atlassian.com/ex/jira/c0ffee"},
        "principal": "557058:abc"
    })
}

fn sign(keys: &Keys, claims: &Value, kid: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    let key = EncodingKey::from_rsa_pem(keys.private_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn with(keys: &Keys, pointer: &str, value: Value) -> String {
    let mut claims = claims();
    *claims.pointer_mut(pointer).unwrap() = value;
    sign(keys, &claims, "forge-1")
}

fn oracle_unavailable() -> Option<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/oracle");
    if !dir.join("node_modules/jose").is_dir() {
        return Some(format!("{} has no jose", dir.join("node_modules").display()));
    }
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => None,
        _ => Some("node is not on PATH".into()),
    }
}

fn ask_jose(keys: &Keys, tokens: &[String]) -> Vec<bool> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/oracle/forge-token.js");
    let mut child = Command::new("node")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node starts");
    let input = json!({"jwks": keys.jwks, "appId": APP, "now": NOW, "tokens": tokens});
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
    if let Some(reason) = oracle_unavailable() {
        let why = format!("{reason}; run `npm ci --prefix tools/oracle`");
        if std::env::var("LODGER_REQUIRE_ORACLE").as_deref() == Ok("1") {
            panic!("cannot ask jose, which LODGER_REQUIRE_ORACLE=1 requires: {why}");
        }
        eprintln!("skipping agrees_with_atlassian_connect_express_on_every_token: {why}");
        return;
    }
    let keys = keys();
    let other_keys = self::keys();
    let token = sign(&keys, &claims(), "forge-1");
    let (head, signature) = token.rsplit_once('.').unwrap();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let hs256 = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("forge-1".into());
        let secret = EncodingKey::from_secret(keys.public_pem.as_bytes());
        jsonwebtoken::encode(&header, &claims(), &secret).unwrap()
    };
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"forge-1"}"#),
        URL_SAFE_NO_PAD.encode(claims().to_string())
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
        ("signed by another key with the same kid", sign(&other_keys, &claims(), "forge-1"), false),
        ("kid not in the key set", sign(&keys, &claims(), "forge-9"), false),
        ("tampered signature", format!("{head}.{flipped}{}", &signature[1..]), false),
        ("HS256 with the public key as secret", hs256, false),
        ("alg none", none, false),
    ];
    let tokens: Vec<String> = cases.iter().map(|(_, token, _)| token.clone()).collect();
    let jose = ask_jose(&keys, &tokens);
    let jwks = Jwks::parse(keys.jwks.to_string().as_bytes()).unwrap();
    let expect = Expectation { app_id: APP, now: NOW };
    for ((what, token, accepted), jose_accepts) in cases.iter().zip(jose) {
        let ours = invocation_token::verify(token, &jwks, &expect);
        assert_eq!(jose_accepts, *accepted, "{what}: ACE's check");
        assert_eq!(ours.is_ok(), *accepted, "{what}: lodger's check said {ours:?}");
    }

    // Stricter on purpose: ACE reads `app.installationId` and `app.apiBaseUrl`
    // after verifying; lodger refuses a token without them, or whose `app.id`
    // is not its audience, before anything trusts it.
    let mut no_base = claims();
    no_base["app"].as_object_mut().unwrap().remove("apiBaseUrl");
    let stricter = vec![
        sign(&keys, &no_base, "forge-1"),
        with(&keys, "/app/id", json!("ari:cloud:ecosystem::app/x")),
    ];
    for (token, jose_accepts) in stricter.iter().zip(ask_jose(&keys, &stricter)) {
        assert!(jose_accepts, "jose checks only the signature, issuer, audience and time");
        assert!(invocation_token::verify(token, &jwks, &expect).is_err());
    }
}

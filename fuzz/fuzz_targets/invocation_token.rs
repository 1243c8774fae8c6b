//! Forge invocation tokens and key sets. Input starting with `{` is a JWKS
//! document for `Jwks::parse`; anything else is a token for `key_id`,
//! `unverified_api_base_url` and `verify` against a key set whose private
//! key exists nowhere (only its public half is written here). Properties: a
//! parsed key set holds only keys it can look up by their `kid`; nothing the
//! fuzzer writes ever verifies.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use lodger::connect::invocation_token::{self, Expectation};
use lodger::connect::jwks::Jwks;

const APP: &str = "ari:cloud:ecosystem::app/8a1f0c7e-1111-4222-8333-944445555666";
/// A 2048-bit RSA modulus made for this target; its private key was discarded.
const MODULUS: &str = "smF0IOrqCGAfnzyDMPNYHXB1UWGyqN94zyE9VYlJ1_OcM_-2TlzDcoYwnZwBkNwarK4naXhcB-D4mzY9dAKMAvLuuwMIUjwqYkxmM_4h3M_wBjeyTyxSCBNqDwpGWf21kXChkPhc474-5I2modv8OGmHWkGwkIHqR-ADgesQd-dBkPuEH1sl8oxpZMaSXkvmh9bPEWVDCknaXI8UyEVQFfwK57JnEuPfWenkclGFQ4zMKV0DmJyWNf1YBgBAlpEHUt4ylsqcE_w0c-dY8YWO4QkAspBhe5u_SI4Y0tR5DOXAZv3XSDT5KfeEQ2wECAAfoYB9dmFJOjFsRve-L8n-7w";

fn jwks() -> &'static Jwks {
    static JWKS: OnceLock<Jwks> = OnceLock::new();
    JWKS.get_or_init(|| {
        let document = format!(
            r#"{{"keys": [{{"kty": "RSA", "kid": "forge-1", "alg": "RS256", "n": "{MODULUS}", "e": "AQAB"}}]}}"#
        );
        Jwks::parse(document.as_bytes()).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    if data.first() == Some(&b'{') {
        if let Ok(parsed) = Jwks::parse(data) {
            for kid in parsed.kids() {
                assert!(parsed.key(kid).is_some());
            }
        }
        return;
    }
    let Ok(token) = std::str::from_utf8(data) else { return };
    let _ = invocation_token::key_id(token);
    if let Some(base) = invocation_token::unverified_api_base_url(token) {
        let _ = invocation_token::jwks_url(&base);
    }
    let expect = Expectation { app_id: APP, now: 1_800_000_000 };
    assert!(
        invocation_token::verify(token, jwks(), &expect).is_err(),
        "a token the fuzzer wrote verified: {token}"
    );
});

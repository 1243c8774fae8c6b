//! JWT parse + verify. The input is a token; when its first byte is `!` the
//! rest is `header.claims` and the target signs it with the secret, so the
//! fuzzer also reaches the claim checks behind the signature. Properties: a
//! token the target did not sign never verifies; a verified token's claims
//! are the ones the expectation allows.
#![no_main]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use lodger::connect::jwt::{Expectation, UnverifiedToken};
use lodger::connect::qsh::{CONTEXT_QSH, query_string_hash};
use lodger::connect::secret::Secret;
use sha2::Sha256;

const SECRET: &str = "fuzz-shared-secret";
const NOW: i64 = 1_700_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (token, signed_here) = match text.strip_prefix('!') {
        Some(input) => {
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()) else { return };
            mac.update(input.as_bytes());
            let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
            (format!("{input}.{signature}"), true)
        }
        None => (text.to_owned(), false),
    };
    let _ = lodger::connect::jwt::inspect(&token);
    let _ = lodger::connect::signed_install::key_id(&token);
    let Ok(unverified) = UnverifiedToken::parse(&token) else { return };
    let issuer = unverified.issuer().to_owned();
    let qsh = query_string_hash("GET", "/api/whoami", "");
    let context = data.len() % 2 == 0;
    let expect = if context {
        Expectation::context_or_request(&qsh, NOW)
    } else {
        Expectation::request(&qsh, NOW)
    };
    if let Ok(claims) = unverified.verify(&Secret::new(SECRET), &expect) {
        assert!(signed_here, "a token the fuzzer forged verified: {token}");
        assert_eq!(claims.iss, issuer);
        assert!(claims.qsh == qsh || (context && claims.qsh == CONTEXT_QSH));
        assert!(claims.exp.saturating_add(180) >= NOW, "expired token accepted");
    }
});

//! Query string canonicalisation: `METHOD\npath\nquery\nbase URL` in, no
//! panic out, and the properties every hash relies on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lodger::connect::qsh::{canonical_request, query_string_hash, relative_path};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut lines = text.splitn(4, '\n');
    let method = lines.next().unwrap_or_default();
    let target = lines.next().unwrap_or_default();
    let query = lines.next().unwrap_or_default();
    let base = lines.next().unwrap_or_default();

    let (path, target_query) = relative_path(target, base);
    // The parts are slices of the target, never invented text.
    assert!(target.contains(path) && target.contains(target_query));

    for query in [query, target_query] {
        let canonical = canonical_request(method, path, query);
        // METHOD&path&query: the method is upper-cased, nothing else precedes it.
        assert!(canonical.starts_with(&method.to_ascii_uppercase()));
        assert!(canonical.matches('&').count() >= 2);
        let hash = query_string_hash(method, path, query);
        assert_eq!(hash.len(), 64);
        assert!(hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        // Deterministic: the same request always has the same hash.
        assert_eq!(hash, query_string_hash(method, path, query));
        // The method is case-insensitive (`get` and `GET` sign alike).
        assert_eq!(hash, query_string_hash(&method.to_ascii_lowercase(), path, query));
    }
});

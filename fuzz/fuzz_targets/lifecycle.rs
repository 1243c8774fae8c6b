//! Lifecycle payload parsing: the first byte picks the event, the rest is
//! the body. Properties: no panic; an accepted payload is for this app, for
//! the event posted, with a non-empty clientKey and an acceptable base URL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lodger::connect::installation::is_acceptable_base_url;
use lodger::connect::lifecycle::{Event, Payload};

const KEYS: [&str; 2] = ["lodger", "lodger.confluence"];

fuzz_target!(|data: &[u8]| {
    let Some((selector, body)) = data.split_first() else { return };
    let name = ["installed", "uninstalled", "enabled", "disabled"][usize::from(*selector % 4)];
    let Some(event) = Event::parse(name) else { return };
    let Ok(payload) = Payload::parse(body, event, &KEYS) else { return };
    assert!(KEYS.contains(&payload.key.as_str()));
    assert!(!payload.client_key.is_empty());
    assert_eq!(payload.event_type, event.as_str());
    assert!(is_acceptable_base_url(&payload.base_url));
    if let Ok(installation) = payload.into_installation(1_700_000_000) {
        assert!(KEYS.contains(&installation.key.as_str()));
        assert_eq!(installation.installed_at, 1_700_000_000);
    }
});

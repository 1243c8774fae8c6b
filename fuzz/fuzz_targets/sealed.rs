//! Opening sealed installation credentials (`X-Lodger-Installation`, the
//! webhook `c` parameter). Input starting with `~` mutates a real credential
//! (pairs of position, byte); anything else is opened as is. Properties: no
//! panic; a credential opens only as the installation that was sealed, for
//! its own tenant and app.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lodger::connect::installation::{Installation, Product};
use lodger::connect::sealed::{Keyring, MasterKey, key_id_of};
use lodger::connect::secret::Secret;
use std::sync::OnceLock;

fn keyring() -> &'static (Keyring, Installation, String) {
    static KEYRING: OnceLock<(Keyring, Installation, String)> = OnceLock::new();
    KEYRING.get_or_init(|| {
        let old: MasterKey = "old:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".parse().unwrap();
        let new: MasterKey = "k2:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA".parse().unwrap();
        let keyring = Keyring::new(lodger::SEALING_PURPOSE, vec![new, old]).unwrap();
        let installation = Installation {
            key: "lodger".into(),
            client_key: "jira:client-1".into(),
            base_url: "https://acme.atlassian.net".into(),
            shared_secret: Secret::new("ATCO-fuzz-secret"),
            product_type: Product::Jira,
            oauth_client_id: None,
            installed_at: 1_700_000_000,
        };
        let sealed = keyring.seal(&installation).unwrap();
        (keyring, installation, sealed)
    })
}

fuzz_target!(|data: &[u8]| {
    let (keyring, installation, sealed) = keyring();
    let candidate = match data.strip_prefix(b"~") {
        Some(edits) => {
            let mut bytes = sealed.clone().into_bytes();
            for pair in edits.chunks_exact(2) {
                let at = usize::from(pair[0]) % bytes.len();
                bytes[at] = pair[1];
            }
            match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => return,
            }
        }
        None => match std::str::from_utf8(data) {
            Ok(text) => text.to_owned(),
            Err(_) => return,
        },
    };
    let _ = key_id_of(&candidate);
    for (client_key, app_key) in [
        ("jira:client-1", "lodger"),
        ("jira:client-2", "lodger"),
        ("jira:client-1", "lodger.confluence"),
    ] {
        if let Ok(opened) = keyring.open(&candidate, client_key, app_key) {
            assert_eq!(&opened, installation, "a credential opened as something never sealed");
            assert_eq!((client_key, app_key), ("jira:client-1", "lodger"));
        }
    }
});

//! Descriptor rendering with hostile values: `base URL\napp key`. Keys that
//! `AppKeys::new` refuses are replaced by `lodger` (the API never renders
//! them). Properties: no panic; a rendered descriptor is JSON whose `key` and
//! `baseUrl` are exactly the values given (no injection); a base URL the
//! config accepts always renders.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lodger::connect::descriptor::problems;
use lodger::descriptor::{AppKeys, Templates};
use lodger::connect::installation::{Product, is_acceptable_base_url};
use std::sync::OnceLock;

fn templates() -> &'static Templates {
    static TEMPLATES: OnceLock<Templates> = OnceLock::new();
    TEMPLATES.get_or_init(|| Templates::embedded().unwrap())
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (base_url, key) = text.split_once('\n').unwrap_or((text, "lodger"));
    let keys = AppKeys::new(key).unwrap_or_else(|_| AppKeys::new("lodger").unwrap());
    for product in [Product::Jira, Product::Confluence] {
        match templates().render(product, base_url, &keys) {
            Ok(rendered) => {
                let value: serde_json::Value = serde_json::from_str(&rendered).unwrap();
                assert_eq!(value["baseUrl"], base_url.trim_end_matches('/'));
                assert_eq!(value["key"], keys.for_product(product));
                let _ = problems(&value);
            }
            Err(err) => assert!(
                !is_acceptable_base_url(base_url),
                "an accepted base URL failed to render: {err}"
            ),
        }
    }
});

//! The app resource, `GET /rest/atlassian-connect/1/addons/{appKey}`
//! (Atlassian: "License API for cloud apps"): the app's key, version,
//! state, host, and for a licensed app its `license`.
//!
//! What it is not: the Marketplace. Licenses are always commercial and
//! active unless a test turns one off (`SiteData::license_active`).

use std::sync::Arc;

use serde_json::{Value, json};
use warp::Filter;
use warp::http::StatusCode;
use warp::reply::Response;

use crate::platform::call::{Call, call, with_site};
use crate::platform::errors::error;
use crate::platform::http::json_response;
use crate::site::Site;

/// `GET /rest/atlassian-connect/1/addons/{appKey}`.
pub fn routes(
    site: Arc<Site>,
) -> impl Filter<Extract = (Response,), Error = warp::Rejection> + Clone {
    warp::get()
        .and(warp::path!("rest" / "atlassian-connect" / "1" / "addons" / String))
        .and(with_site(Arc::clone(&site)))
        .and(call(Arc::clone(&site)))
        .map(|app_key: String, site: Arc<Site>, call: Call| app_resource(&site, &app_key, &call))
}

/// `GET /rest/atlassian-connect/1/addons/{appKey}` (Atlassian: "License API
/// for cloud apps"): the app's key, version, state (ENABLED is the only one
/// Atlassian returns), host, and, for an app whose descriptor says
/// `enableLicensing: true`, its `license`. Only the app itself may ask (an
/// iframe's user calls on the app's behalf); another app's key is 403.
fn app_resource(site: &Site, app_key: &str, call: &Call) -> Response {
    if call.caller.app_key() != Some(app_key) {
        return error(StatusCode::FORBIDDEN, "An app may only read its own app resource.");
    }
    let data = site.data();
    let Some(install) = data.installs.get(app_key) else {
        return error(StatusCode::NOT_FOUND, &format!("The app {app_key} is not installed."));
    };
    let descriptor = &install.descriptor;
    let contacts: Vec<Value> = site
        .users
        .iter()
        .filter(|u| u.is_site_admin())
        .map(|u| json!({ "name": u.display_name, "email": u.email }))
        .collect();
    let mut body = json!({
        "key": app_key,
        "version": descriptor["version"].as_str().unwrap_or("1.0.0"),
        "state": "ENABLED",
        "host": { "product": "Jira", "contacts": contacts },
    });
    if descriptor["enableLicensing"] == Value::Bool(true) {
        let active = data.license_active.get(app_key).copied().unwrap_or(true);
        // Stable per site and app, shaped like Atlassian's identifiers.
        let hash = lodger_connect::qsh::sha256_hex(&format!("{}:{app_key}", site.client_key));
        let part = |from: usize, to: usize| hash.get(from..to).unwrap_or_default();
        let number = u64::from_str_radix(part(0, 8), 16).unwrap_or_default();
        body["license"] = json!({
            "active": active,
            "type": "COMMERCIAL",
            "evaluation": false,
            "supportEntitlementNumber": format!("SEN-L{number}"),
            "entitlementId": format!("{}-{}-{}-{}-{}", part(0, 8), part(8, 12), part(12, 16), part(16, 20), part(20, 32)),
            "entitlementNumber": format!("E-{}", part(32, 42).to_ascii_uppercase()),
        });
    }
    json_response(StatusCode::OK, &body)
}

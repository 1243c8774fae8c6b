//! The routes of what every emulated site of one dev world shares
//! ([`DevHost`]): the public key of signed installs, `GET
//! /dev/install-keys/{kid}` (Atlassian: "Understanding JWT for Connect
//! apps", the install-key server), and the static files of the product
//! pages (connect-js's host bundle and `all.js`, jQuery, the page's own
//! scripts; Atlassian: "Connect JavaScript API").
//!
//! What it is not: a site ([`crate::site`]) or a page ([`crate::pages`]).

use std::sync::Arc;

use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;
use warp::{Filter, Rejection};

use crate::DevHost;
use crate::platform::errors::error;

/// `GET /dev/install-keys/{kid}` (the public key of signed installs) and
/// the static files.
pub fn routes(host: Arc<DevHost>) -> impl Filter<Extract = (Response,), Error = Rejection> + Clone {
    let with = warp::any().map(move || Arc::clone(&host));
    let keys = warp::get()
        .and(warp::path("dev"))
        .and(warp::path("install-keys"))
        .and(warp::path::tail())
        .and(with.clone())
        .map(|kid: warp::path::Tail, host: Arc<DevHost>| {
            if kid.as_str() == host.signer.kid() {
                let mut response = Response::new(host.signer.public_pem().to_owned().into());
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/x-pem-file"),
                );
                response
            } else {
                error(StatusCode::NOT_FOUND, "no such key")
            }
        });
    let statics = warp::get().and(warp::path::full()).and(with).and_then(
        |path: warp::path::FullPath, host: Arc<DevHost>| async move {
            host.static_file(path.as_str()).ok_or_else(warp::reject::not_found)
        },
    );
    keys.or(statics).unify()
}

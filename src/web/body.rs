//! JSON request bodies: bounded in size, parsed into a type, refused with a
//! message that says what was wrong (a wrong type, an unknown field, not
//! JSON), never with the body echoed back.

use serde::de::DeserializeOwned;
use warp::{Filter, Rejection};

use super::reject::Failure;

/// A filter that reads a body of at most `limit` bytes as a JSON object of
/// type `T` (serde would also read a struct from an array: not here). Too
/// large is 413, anything else unreadable 400 ([`Failure::BadBody`]).
pub fn json<T: DeserializeOwned + Send>(
    limit: u64,
) -> impl Filter<Extract = (T,), Error = Rejection> + Clone {
    warp::body::content_length_limit(limit)
        .and(warp::body::bytes())
        .and_then(|bytes: bytes::Bytes| async move { parse::<T>(&bytes).map_err(Rejection::from) })
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Failure> {
    let bad = |err: serde_json::Error| Failure::BadBody(describe(&err));
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(bad)?;
    if !value.is_object() {
        return Err(Failure::BadBody("expected a JSON object".to_owned()));
    }
    serde_json::from_value(value).map_err(bad)
}

/// serde's reason without the input: its messages name fields and types
/// (`unknown field `x`, expected ...`), and position, not values.
fn describe(err: &serde_json::Error) -> String {
    use serde_json::error::Category;
    match err.classify() {
        Category::Syntax | Category::Eof => "not valid JSON".to_owned(),
        Category::Io => "could not be read".to_owned(),
        Category::Data => {
            let text = err.to_string();
            // "invalid type: string \"abc\", expected a boolean at line 1 column 9":
            // keep what was expected, drop the value.
            match text.split_once(", expected ") {
                Some((found, expected)) if found.starts_with("invalid") => {
                    let kind = found.split(':').next().unwrap_or(found);
                    format!("{kind}; expected {expected}")
                }
                _ => text,
            }
        }
    }
}

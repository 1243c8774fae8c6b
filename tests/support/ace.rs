//! Atlassian's own Forge invocation-token check, for tests: the middleware
//! atlassian-connect-express 11.5.3 mounts with `addon.authenticateForge()`,
//! run unchanged from `tools/ace/node_modules` by
//! `tools/ace/forge-token-check.js` on any key set and any tokens.
//!
//! ACE fetches its keys from Atlassian's JWKS URL; offline, the script hands
//! it the given key set instead (and records which URL ACE chose), fixes the
//! clock at `now` when one is given, and records what ACE stores and puts on
//! `req.context.forge`. Everything else, from reading `Authorization: Bearer`
//! to the 401, is ACE's code. Whoever signs the tokens (`support::forge`
//! keys, or the emulated Forge platform's own) is up to the caller.
//!
//! Callers first check `require(Prerequisite::Ace)`
//! ([`super::prerequisites`]): without `npm ci --prefix tools/ace` the
//! helper panics rather than answering.
//!
//! ```ignore
//! if !require(Prerequisite::Ace) {
//!     return;
//! }
//! let verdicts = check_forge_tokens(&jwks, APP, Some(NOW), &[ForgeRequest::bearer(&token)]);
//! assert!(verdicts[0].ok, "ACE refused: {:?}", verdicts[0].reason);
//! ```
//!
//! Not for lodger's own verdicts: tests compare the two.

use std::io::Write;
use std::process::{Command, Stdio};

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::prerequisites::root;

/// One request to a Forge remote, as ACE's middleware sees it.
#[derive(Debug, Clone, Default)]
pub struct ForgeRequest {
    /// The `Authorization` header, if any (`Bearer <token>` for Forge).
    pub authorization: Option<String>,
    /// Other headers (`x-forge-oauth-system`, `x-forge-oauth-user`, …);
    /// names are lowercased, as Node does.
    pub headers: Vec<(String, String)>,
}

impl ForgeRequest {
    /// A request carrying `Authorization: Bearer <token>`.
    pub fn bearer(token: &str) -> ForgeRequest {
        ForgeRequest { authorization: Some(format!("Bearer {token}")), headers: Vec::new() }
    }

    /// This request with one more header.
    pub fn header(mut self, name: &str, value: &str) -> ForgeRequest {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// What ACE's middleware decided about one request.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    /// ACE called `next()`: the token verified.
    pub ok: bool,
    /// The status ACE answered when it refused (always 401 in 11.5.3).
    #[serde(default)]
    pub status: Option<u16>,
    /// The JWKS URL ACE asked for, `None` when it refused before choosing.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// `app.installationId`, as ACE handed it to its token cache.
    #[serde(default)]
    pub installation_id: Option<String>,
    /// `app.apiBaseUrl`, as ACE handed it to its token cache.
    #[serde(default)]
    pub api_base_url: Option<String>,
    /// The `x-forge-oauth-system` header, as ACE put it on `req.context.forge.tokens.app`.
    #[serde(default)]
    pub system_token: Option<String>,
    /// The `x-forge-oauth-user` header, as ACE put it on `req.context.forge.tokens.user`.
    #[serde(default)]
    pub user_token: Option<String>,
    /// All of `req.context.forge` (the token's claims, `tokens`, `apiBaseUrl`).
    #[serde(default)]
    pub forge: Option<Value>,
    /// Why ACE refused: the error it logged (jose's `code`, such as
    /// `ERR_JWT_CLAIM_VALIDATION_FAILED`, when there is one).
    #[serde(default)]
    pub reason: Option<String>,
}

/// Runs every request through atlassian-connect-express 11.5.3's own Forge
/// invocation-token middleware, in one `node` process, with `jwks` (a JWKS
/// document) as the key set ACE fetches, `app_id` as its configured
/// `appId` (an ARI, or a bare id ACE prefixes), and the clock at `now`
/// (seconds since the epoch; `None` for the real clock, for tokens signed
/// now). One [`Verdict`] per request, in order. Panics when node or the
/// script fails.
pub fn check_forge_tokens(
    jwks: &Value,
    app_id: &str,
    now: Option<i64>,
    requests: &[ForgeRequest],
) -> Vec<Verdict> {
    let script = root().join("tools/ace/forge-token-check.js");
    let requests: Vec<Value> = requests
        .iter()
        .map(|request| {
            let headers: Map<String, Value> =
                request.headers.iter().map(|(name, value)| (name.clone(), json!(value))).collect();
            json!({"authorization": request.authorization, "headers": headers})
        })
        .collect();
    let input = json!({"jwks": jwks, "appId": app_id, "now": now, "requests": requests});
    let mut child = Command::new("node")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node starts");
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let verdicts: Vec<Verdict> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
        .collect();
    assert_eq!(verdicts.len(), requests.len(), "one verdict per request");
    verdicts
}

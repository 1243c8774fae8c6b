//! The developer tools behind `lodger keygen`, `lodger qsh`, `lodger jwt
//! decode` and `lodger descriptor`. Each returns its report as text (and
//! whether it succeeded) so tests can read it; `main` prints it.
//!
//! `jwt decode` exists because "my token does not verify" is the most common
//! Connect failure: it says which check fails and what the request should
//! have hashed to.

use serde_json::Value;

use crate::cli::{DescriptorArgs, JwtDecodeArgs, QshArgs};
use crate::connect::descriptor;
use crate::connect::installation::Product;
use crate::connect::jwt::{self, Expectation, UnverifiedToken};
use crate::connect::qsh::{CONTEXT_QSH, canonical_request, relative_path, sha256_hex};
use crate::connect::sealed::MasterKey;
use crate::connect::secret::Secret;
use crate::connect::signed_install;
use crate::descriptor::{AppKeys, Templates};

/// A command's output and whether it succeeded (decides the exit code).
#[derive(Debug)]
pub struct Report {
    /// What to print.
    pub text: String,
    /// `false` exits 1.
    pub ok: bool,
}

/// `lodger register`: the UPM install flow against a site.
pub async fn register(args: &crate::cli::RegisterArgs) -> anyhow::Result<String> {
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build()?;
    let registration = crate::host::upm::Registration {
        site: &args.site,
        user: &args.user,
        token: &args.token,
        descriptor_url: &args.descriptor_url,
    };
    crate::host::upm::register(&http, &registration).await
}

/// `lodger export DIR`: the static site, descriptors and hosting files; or,
/// with `--forge DIR`, the Forge app folder ([`export_forge`]).
pub fn export(args: &crate::cli::ExportArgs) -> anyhow::Result<Report> {
    use anyhow::Context as _;
    if let Some(dir) = &args.forge {
        return export_forge(dir, args);
    }
    // clap requires both unless --forge is given.
    let (Some(dir), Some(base_url)) = (&args.dir, &args.base_url) else {
        anyhow::bail!("lodger export needs DIR and --base-url (or --forge DIR)");
    };
    let base_url = base_url.trim_end_matches('/').to_owned();
    if !crate::connect::installation::is_acceptable_base_url(&base_url) {
        anyhow::bail!(
            "--base-url {base_url:?} must be https://host[:port][/path] (http only on localhost)"
        );
    }
    let options = crate::export::ExportOptions {
        keys: AppKeys::new(&args.app_key).context("--app-key")?,
        base_url,
        auth_url: args.auth_url.clone(),
        extra_hosts: args.extra_hosts.clone(),
        force: args.force,
    };
    let report = crate::export::export(dir, &options)?;
    let text = format!(
        "wrote {} files ({} KiB) to {}\n\
         serve it with nginx (hosting/nginx/*.conf; see the README, \"Deploying\") or any CDN,\n\
         and run the auth endpoint at {}: lodger serve --auth-only --base-url {}\n",
        report.files,
        report.bytes.div_ceil(1024),
        dir.display(),
        options.auth_url,
        options.base_url,
    );
    Ok(Report { text, ok: true })
}

/// `lodger export --forge DIR --app-id ARI --remote-url URL`: the Forge app
/// folder (see [`crate::export::forge`]).
pub fn export_forge(
    dir: &std::path::Path,
    args: &crate::cli::ExportArgs,
) -> anyhow::Result<Report> {
    // clap requires both with --forge.
    let (Some(app_id), Some(remote_url)) = (&args.app_id, &args.remote_url) else {
        anyhow::bail!("lodger export --forge needs --app-id and --remote-url");
    };
    let options = crate::export::forge::ForgeOptions::new(app_id, remote_url, args.force)?;
    let report = crate::export::forge::export(dir, &options)?;
    let text = format!(
        "wrote {} files ({} KiB) to {}\n\
         deploy it with the Forge CLI from that folder (see the README, \"Forge\"):\n  \
         forge deploy -e development && forge install -e development -s <site> -p Jira\n\
         and run the remote at {}: lodger serve\n\
         (the pages still speak Connect JS: under Forge they need issue 15's bridge)\n",
        report.files,
        report.bytes.div_ceil(1024),
        dir.display(),
        options.remote_url(),
    );
    Ok(Report { text, ok: true })
}

/// `lodger keygen`: a new master key and how to use it.
pub fn keygen() -> Report {
    let key = MasterKey::generate();
    let text = format!(
        "{}\n\n# Give it to every replica, kept secret, e.g.:\n#   export LODGER_MASTER_KEYS='{}'\n\
         # To rotate: put the new key first and keep the old ones after it (comma-separated).\n",
        key.to_config_string(),
        key.to_config_string()
    );
    Report { text, ok: true }
}

/// `lodger qsh METHOD URL`: the canonical request and its hash.
pub fn qsh(args: &QshArgs) -> Report {
    let (path, query) = relative_path(&args.url, &args.base_url);
    let canonical = canonical_request(&args.method, path, query);
    let text = format!("canonical request: {canonical}\nqsh: {}\n", sha256_hex(&canonical));
    Report { text, ok: true }
}

/// `lodger jwt decode TOKEN`: header, claims, and each check's verdict.
pub fn jwt_decode(args: &JwtDecodeArgs, now: i64) -> Report {
    let token = args.token.trim();
    let mut text = String::new();
    let (header, claims) = match jwt::inspect(token) {
        Ok(parts) => parts,
        Err(err) => return Report { text: format!("cannot decode: {err}\n"), ok: false },
    };
    text.push_str(&format!("header: {}\nclaims: {}\n", pretty(&header), pretty(&claims)));
    for (name, label) in [("iat", "issued"), ("exp", "expires")] {
        if let Some(at) = claims.get(name).and_then(Value::as_i64) {
            text.push_str(&format!("{label}: {}\n", relative_time(at - now)));
        }
    }

    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if alg == "RS256" {
        let kid = header.get("kid").and_then(Value::as_str).unwrap_or("");
        let verdict = match signed_install::check_kid(kid) {
            Ok(()) => format!(
                "signed install: public key at {}/{kid}\n",
                signed_install::ATLASSIAN_INSTALL_KEYS
            ),
            Err(err) => format!("signed install: {err}\n"),
        };
        text.push_str(&verdict);
        text.push_str("result: not verified (RS256 tokens are verified by `lodger serve` with the key server)\n");
        return Report { text, ok: true };
    }

    let expected_qsh = args.url.as_deref().map(|url| {
        let (path, query) = relative_path(url, &args.base_url);
        let canonical = canonical_request(&args.method, path, query);
        (sha256_hex(&canonical), canonical)
    });
    let token_qsh = claims.get("qsh").and_then(Value::as_str).unwrap_or("");
    match &expected_qsh {
        Some((hash, canonical)) => {
            text.push_str(&format!("request canonical: {canonical}\nrequest qsh: {hash}\n"));
            if token_qsh == CONTEXT_QSH {
                text.push_str(
                    "token qsh: context-qsh (a context token: only API endpoints accept it)\n",
                );
            } else if token_qsh != hash {
                text.push_str(&format!(
                    "token qsh:   {token_qsh}\n  -> differs: the token was signed for another method, path or query \
                     (check the base URL: the path must be relative to it)\n"
                ));
            }
        }
        None => text.push_str("qsh: not checked (pass --url and --method)\n"),
    }

    let Some(secret) = &args.secret else {
        text.push_str("result: signature not checked (pass --secret)\n");
        return Report { text, ok: true };
    };
    let qsh = expected_qsh.as_ref().map_or(token_qsh, |(hash, _)| hash.as_str());
    let expect = if args.context {
        Expectation::context_or_request(qsh, now)
    } else {
        Expectation::request(qsh, now)
    };
    let verdict =
        UnverifiedToken::parse(token).and_then(|t| t.verify(&Secret::new(secret.clone()), &expect));
    match verdict {
        Ok(_) => {
            text.push_str("result: valid\n");
            Report { text, ok: true }
        }
        Err(err) => {
            text.push_str(&format!("result: invalid: {err}\n"));
            Report { text, ok: false }
        }
    }
}

/// `lodger descriptor`: the rendered descriptor, or the problems found in it.
pub fn descriptor(args: &DescriptorArgs) -> anyhow::Result<Report> {
    let product = if args.product == "confluence" { Product::Confluence } else { Product::Jira };
    let keys = AppKeys::new(&args.app_key)?;
    let text = Templates::embedded()?.render(product, &args.base_url, &keys)?;
    if !args.validate {
        return Ok(Report { text: format!("{text}\n"), ok: true });
    }
    let value: Value = serde_json::from_str(&text)?;
    let problems = descriptor::problems(&value);
    if problems.is_empty() {
        return Ok(Report { text: format!("{} descriptor: valid\n", product.as_str()), ok: true });
    }
    let list: String = problems.iter().map(|p| format!("  - {p}\n")).collect();
    Ok(Report {
        text: format!("{} descriptor: {} problem(s)\n{list}", product.as_str(), problems.len()),
        ok: false,
    })
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

fn relative_time(delta: i64) -> String {
    if delta >= 0 { format!("in {delta} s") } else { format!("{} s ago", -delta) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::jwt::Claims;
    use crate::connect::qsh::query_string_hash;

    fn decode_args(token: String, secret: Option<&str>, url: Option<&str>) -> JwtDecodeArgs {
        JwtDecodeArgs {
            token,
            secret: secret.map(str::to_owned),
            method: "GET".into(),
            url: url.map(str::to_owned),
            base_url: "https://app.example".into(),
            context: false,
        }
    }

    #[test]
    fn jwt_decode_explains_a_qsh_mismatch() {
        let qsh = query_string_hash("GET", "/panel", "a=1");
        let token = jwt::sign(&Claims::new("jira:1", 1000, 180, &qsh), &Secret::new("s"));
        let report = jwt_decode(
            &decode_args(token.clone(), Some("s"), Some("https://app.example/panel?a=2")),
            1000,
        );
        assert!(!report.ok);
        assert!(report.text.contains("differs"), "{}", report.text);
        assert!(report.text.contains("does not match this request"), "{}", report.text);
        let report =
            jwt_decode(&decode_args(token, Some("s"), Some("https://app.example/panel?a=1")), 1000);
        assert!(report.ok, "{}", report.text);
        assert!(report.text.contains("result: valid"));
    }

    #[test]
    fn jwt_decode_reports_expiry_and_wrong_secret() {
        let token = jwt::sign(&Claims::new("jira:1", 1000, 180, "x"), &Secret::new("s"));
        let report = jwt_decode(&decode_args(token.clone(), Some("s"), None), 5000);
        assert!(report.text.contains("result: invalid: token expired"), "{}", report.text);
        let report = jwt_decode(&decode_args(token, Some("other"), None), 1000);
        assert!(report.text.contains("signature does not verify"), "{}", report.text);
    }

    #[test]
    fn descriptor_validate_passes_for_the_shipped_templates() {
        for product in ["jira", "confluence"] {
            let args = DescriptorArgs {
                product: product.into(),
                base_url: "https://lodger.example".into(),
                app_key: "lodger".into(),
                validate: true,
            };
            let report = descriptor(&args).unwrap();
            assert!(report.ok, "{}", report.text);
        }
    }
}

//! Real nginx and real `lodger serve --auth-only` processes for the
//! deployment tests: nginx serves a `lodger export` and proxies the dynamic
//! paths to one or more lodger replicas, exactly as the README says.
//!
//! Needs Debian's `nginx` (CI installs `nginx-light` and the brotli static
//! module); without it the tests fail, or skip and are counted under
//! `tools/test --allow-skips` ([`super::prerequisites`]).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::prerequisites::{Prerequisite, installed_nginx, require};
pub use super::process::*;

const BROTLI_MODULE: &str = "/usr/lib/nginx/modules/ngx_http_brotli_static_module.so";

/// The nginx binary, or `None` when it is missing and the run allows
/// skips (see [`super::prerequisites`]).
pub fn nginx_binary() -> Option<PathBuf> {
    if !require(Prerequisite::Nginx) {
        return None;
    }
    installed_nginx()
}

/// `lodger serve --auth-only` on `port`, for an app served at `base_url`.
pub async fn auth_endpoint(
    port: u16,
    base_url: &str,
    master_keys: &str,
    key_server: &str,
) -> Process {
    let child = Command::new(BIN)
        .args(["serve", "--auth-only", "--port", &port.to_string(), "--base-url", base_url])
        .env("LODGER_MASTER_KEYS", master_keys)
        .env("LODGER_INSTALL_KEYS_URL", key_server)
        .env("LODGER_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let process = Process(Some(child));
    wait_healthy(&format!("http://127.0.0.1:{port}/healthz"), "lodger serve --auth-only").await;
    process
}

/// `lodger export` into `dir` for `base_url`, dynamic paths to `auth_port`.
pub fn export(dir: &Path, base_url: &str, auth_port: u16, extra_hosts: &[&str]) {
    let mut command = Command::new(BIN);
    command.arg("export").arg(dir).args([
        "--base-url",
        base_url,
        "--auth-url",
        &format!("http://127.0.0.1:{auth_port}"),
    ]);
    for host in extra_hosts {
        command.args(["--extra-host", host]);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

/// nginx on `port` serving `export_dir`, with an upstream of `replicas`
/// (ports of auth endpoints) instead of the export's single one.
pub struct Nginx {
    pub process: Process,
    pub url: String,
    pub prefix: tempdir::Dir,
}

pub async fn nginx(binary: &Path, export_dir: &Path, port: u16, replicas: &[u16]) -> Nginx {
    let prefix = tempdir::Dir::new("nginx");
    for dir in ["tmp", "logs"] {
        std::fs::create_dir_all(prefix.path().join(dir)).unwrap();
    }
    let servers: String = replicas
        .iter()
        .map(|port| format!("    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;\n"))
        .collect();
    let brotli = Path::new(BROTLI_MODULE).exists();
    let export = export_dir.display();
    let conf = format!(
        "{load}daemon off;\nworker_processes 1;\npid {p}/nginx.pid;\nerror_log {p}/logs/error.log warn;\n\
         events {{ worker_connections 512; }}\n\
         http {{\n\
           include /etc/nginx/mime.types;\n\
           default_type application/octet-stream;\n\
           access_log off;\n\
           client_body_temp_path {p}/tmp/body; proxy_temp_path {p}/tmp/proxy;\n\
           fastcgi_temp_path {p}/tmp/fastcgi; uwsgi_temp_path {p}/tmp/uwsgi; scgi_temp_path {p}/tmp/scgi;\n\
           upstream lodger_auth {{\n{servers}    keepalive 16;\n  }}\n\
           server {{\n\
             listen 127.0.0.1:{port};\n\
             root {export};\n\
             add_header X-Upstream $upstream_addr always;\n\
             include {export}/hosting/nginx/locations.conf;\n\
             {brotli_include}\n\
           }}\n\
         }}\n",
        load = if brotli { format!("load_module {BROTLI_MODULE};\n") } else { String::new() },
        p = prefix.path().display(),
        brotli_include = if brotli {
            format!("include {export}/hosting/nginx/brotli.conf;")
        } else {
            String::new()
        },
    );
    let conf_path = prefix.path().join("nginx.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let child = Command::new(binary)
        .arg("-p")
        .arg(prefix.path())
        .arg("-e")
        .arg(prefix.path().join("logs/error.log"))
        .arg("-c")
        .arg(&conf_path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let process = Process(Some(child));
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if reqwest::get(format!("{url}/atlassian-connect.json")).await.is_ok() {
            return Nginx { process, url, prefix };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = std::fs::read_to_string(prefix.path().join("logs/error.log")).unwrap_or_default();
    panic!("nginx did not start:\n{log}");
}

/// Temporary folders removed on drop (no extra crate).
pub mod tempdir {
    use std::path::{Path, PathBuf};

    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new(label: &str) -> Dir {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let path = std::env::temp_dir().join(format!(
                "lodger-test-{label}-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::SeqCst)
            ));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

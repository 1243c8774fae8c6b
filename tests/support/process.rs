//! Real processes for the tests that run the built binary: free ports, a
//! child killed when dropped, and waiting until a server answers.

use std::process::Child;
use std::time::{Duration, Instant};

/// The `lodger` binary Cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_lodger");

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A child process, killed when dropped.
pub struct Process(pub Option<Child>);

impl Process {
    /// Stops it now (SIGKILL: the hard way a machine dies).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits (at most 20 s) until `url` answers 2xx; panics naming `what` otherwise.
pub async fn wait_healthy(url: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if reqwest::get(url).await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not come up at {url}");
}

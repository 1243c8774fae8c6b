//! What lodger logs during a test, captured so a test can assert what never
//! appears there (secrets, tokens, credentials) and what does (refusals).
//!
//! Run the test on a current-thread runtime (`#[tokio::test(flavor =
//! "current_thread")]`): the subscriber is the thread's default, so only
//! work on the test's own thread is seen.

use std::sync::{Arc, Mutex};

use tracing::subscriber::DefaultGuard;

/// The log lines written since [`capture`], shared with the subscriber.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// Captures this thread's log lines up to `level` until the guard drops.
pub fn capture(level: tracing::Level) -> (Captured, DefaultGuard) {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(logs.clone())
        .with_max_level(level)
        .with_ansi(false)
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

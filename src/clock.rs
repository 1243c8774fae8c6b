//! The clock the revocation bound is measured with, injectable so that tests
//! move time instead of sleeping.
//!
//! It is for how long lodger trusts what it confirmed with the host (see
//! [`crate::app::revocation`]) and how long it remembers used install tokens.
//! It is not for checking tokens' `iat`/`exp`: those follow the wall clock
//! ([`crate::now`]), as the host that signed them does.

use std::sync::atomic::{AtomicI64, Ordering};

/// Seconds since the Unix epoch, plus an offset that only tests change.
#[derive(Debug, Default)]
pub struct Clock {
    offset: AtomicI64,
}

impl Clock {
    /// The wall clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// Now, in seconds since the epoch.
    pub fn now(&self) -> i64 {
        crate::now().saturating_add(self.offset.load(Ordering::Relaxed))
    }

    /// Moves this clock `seconds` ahead of the wall clock (tests).
    pub fn advance(&self, seconds: i64) {
        self.offset.fetch_add(seconds, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_ahead_of_the_wall_clock() {
        let clock = Clock::system();
        let before = clock.now();
        clock.advance(601);
        assert!(clock.now() >= before + 601);
        assert!(clock.now() <= crate::now() + 601);
    }
}

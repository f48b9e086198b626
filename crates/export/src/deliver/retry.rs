//! The one retry policy of webhook delivery (generic, Splunk HEC,
//! Elasticsearch): at most `attempts` tries per request, waiting `backoff`
//! before the second and doubling after each (capped at `max_backoff`).
//! Only failures a later try may cure are retried (connection errors,
//! HTTP 429, 5xx); the caller classifies them as [`Outcome::Retry`].

use std::time::Duration;

/// How often and how patiently one request is tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries per request (0 counts as 1).
    pub attempts: u32,
    /// Wait before the second try.
    pub backoff: Duration,
    /// Longest wait between two tries.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// 3 tries, 1 s then 2 s apart, waits capped at 60 s.
    fn default() -> RetryPolicy {
        RetryPolicy {
            attempts: 3,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// Why one try failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Another try may succeed (connection error, HTTP 429 or 5xx).
    Retry(String),
    /// Another try would fail the same way.
    Fatal(String),
}

/// How a request ended without success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GiveUp {
    /// A try failed fatally.
    Fatal(String),
    /// Every try failed; the last failure.
    Exhausted(String),
}

impl RetryPolicy {
    /// Tries per request (at least 1).
    pub fn tries(&self) -> u32 {
        self.attempts.max(1)
    }

    /// The waits between consecutive tries (one fewer than [`Self::tries`]).
    pub fn waits(&self) -> impl Iterator<Item = Duration> + '_ {
        let mut wait = self.backoff;
        (1..self.tries()).map(move |_| {
            let w = wait.min(self.max_backoff);
            wait = wait.saturating_mul(2);
            w
        })
    }

    /// Runs `attempt` until it succeeds, fails fatally or the tries are
    /// spent; `on_retry(why, wait)` is told before each wait, and
    /// `sleep(wait)` waits. Returns the tries made (on success) or why it gave up.
    pub fn run_with(
        &self,
        mut attempt: impl FnMut() -> Result<(), Outcome>,
        mut on_retry: impl FnMut(&str, Duration),
        mut sleep: impl FnMut(Duration),
    ) -> Result<u32, (GiveUp, u32)> {
        let mut waits = self.waits();
        let mut tries = 0;
        loop {
            tries += 1;
            match attempt() {
                Ok(()) => return Ok(tries),
                Err(Outcome::Fatal(why)) => return Err((GiveUp::Fatal(why), tries)),
                Err(Outcome::Retry(why)) => match waits.next() {
                    None => return Err((GiveUp::Exhausted(why), tries)),
                    Some(w) => {
                        on_retry(&why, w);
                        sleep(w);
                    }
                },
            }
        }
    }

    /// [`Self::run_with`], sleeping the thread between tries.
    pub fn run(
        &self,
        attempt: impl FnMut() -> Result<(), Outcome>,
        on_retry: impl FnMut(&str, Duration),
    ) -> Result<u32, (GiveUp, u32)> {
        self.run_with(attempt, on_retry, std::thread::sleep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn waits_double_up_to_the_cap() {
        let p = RetryPolicy {
            attempts: 6,
            backoff: ms(100),
            max_backoff: ms(500),
        };
        assert_eq!(
            p.waits().collect::<Vec<_>>(),
            [ms(100), ms(200), ms(400), ms(500), ms(500)]
        );
        let once = RetryPolicy { attempts: 0, ..p };
        assert_eq!((once.tries(), once.waits().count()), (1, 0));
    }

    #[test]
    fn retries_until_success_fatal_or_exhaustion() {
        let p = RetryPolicy {
            attempts: 3,
            backoff: ms(10),
            max_backoff: ms(60_000),
        };
        let mut slept = Vec::new();
        let mut told = Vec::new();
        // Busy, then fine: two tries, one wait.
        let mut answers = vec![Err(Outcome::Retry("busy".into())), Ok(())].into_iter();
        let r = p.run_with(
            || answers.next().unwrap(),
            |w, d| told.push((w.to_string(), d)),
            |d| slept.push(d),
        );
        assert_eq!(r, Ok(2));
        assert_eq!(
            (told, slept.clone()),
            (vec![("busy".to_string(), ms(10))], vec![ms(10)])
        );
        // Always busy: exactly `attempts` tries.
        slept.clear();
        let mut n = 0;
        let r = p.run_with(
            || {
                n += 1;
                Err(Outcome::Retry(format!("busy {n}")))
            },
            |_, _| {},
            |d| slept.push(d),
        );
        assert_eq!(r, Err((GiveUp::Exhausted("busy 3".into()), 3)));
        assert_eq!(slept, [ms(10), ms(20)]);
        // Fatal: no second try.
        let mut n = 0;
        let r = p.run_with(
            || {
                n += 1;
                Err(Outcome::Fatal("401".into()))
            },
            |_, _| {},
            |_| panic!("no wait"),
        );
        assert_eq!((r, n), (Err((GiveUp::Fatal("401".into()), 1)), 1));
    }
}

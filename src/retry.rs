//! Bounded retries with exponential backoff and full jitter, for calls that fail transiently (the
//! GitHub token endpoint, STS). Jitter matters: the jobs of a matrix start together, and retrying in
//! lockstep would make them throttle each other again.

use std::future::Future;
use std::time::Duration;

use crate::github;

#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub attempts: u32,
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    /// Five attempts, waits of at most 0.5, 1, 2 and 4 s: under 8 s of waiting in all.
    pub const STANDARD: Backoff = Backoff {
        attempts: 5,
        base: Duration::from_millis(500),
        max: Duration::from_secs(8),
    };

    /// The wait before retry number `retry` (from 0): [`Backoff::delay`], or when the server asked
    /// for a wait (up to [`RETRY_AFTER_CAP`]), that wait and a jitter of at most half of it, so that
    /// jobs told the same do not come back in step.
    pub fn wait(&self, retry: u32, asked: Option<Duration>) -> Duration {
        let jitter = self.delay(retry);
        match asked.filter(|a| *a <= RETRY_AFTER_CAP) {
            Some(asked) => asked + jitter.min(asked / 2),
            None => jitter,
        }
    }

    /// A random wait in `[0, min(max, base * 2^retry)]`.
    fn delay(&self, retry: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(2u32.saturating_pow(retry))
            .min(self.max);
        let mut bytes = [0u8; 4];
        // Without randomness the wait is the ceiling: still bounded, only not spread.
        let fraction = if getrandom::fill(&mut bytes).is_ok() {
            f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX)
        } else {
            1.0
        };
        ceiling.mul_f64(fraction)
    }
}

/// What a failed call was, after all its attempts.
#[derive(Debug)]
pub struct Exhausted<E> {
    pub error: E,
    pub attempts: u32,
}

/// What a failed attempt means for the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A refusal, or a failure another try would meet again.
    Final,
    /// Worth another try, after the backoff's wait.
    Again,
    /// The server sheds load (HTTP 429, `toomanyrequests`): worth more tries over a longer time
    /// ([`Backoff::THROTTLED`]), none sooner than it asked (`Retry-After`, up to
    /// [`RETRY_AFTER_CAP`]).
    Throttled(Option<Duration>),
}

impl Backoff {
    /// For throttling: ten attempts, waits of at most 1, 2, 4, 8 and 16 s, then 20 s — a little over
    /// two minutes at most, about one on average. The jobs of a large matrix meet a registry's rate
    /// limit together; five tries within eight seconds left a third of 64 such jobs failed.
    pub const THROTTLED: Backoff = Backoff {
        attempts: 10,
        base: Duration::from_secs(1),
        max: Duration::from_secs(20),
    };
}

/// The longest wait a server's `Retry-After` gets: beyond it the answer is not believed (a hostile
/// or broken server must not hold the job), and the backoff's own wait applies.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(20);

/// Calls `op` until it succeeds, fails with an error `is_transient` rejects, or the attempts run out.
/// Each retry is logged with `what` and the error's text from `describe`.
pub async fn retry<T, E, F, Fut>(
    what: &str,
    backoff: Backoff,
    op: F,
    is_transient: impl Fn(&E) -> bool,
    describe: impl Fn(&E) -> String,
) -> Result<T, Exhausted<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let judge = |e: &E| {
        if is_transient(e) {
            Verdict::Again
        } else {
            Verdict::Final
        }
    };
    retry_judged(what, backoff, op, judge, describe).await
}

/// [`retry`], each failure judged by `judge`: a throttled one waits and tries on by
/// [`Backoff::THROTTLED`] (and at least what the server asked), any other transient one by
/// `backoff`; the attempts so far count against whichever applies.
pub async fn retry_judged<T, E, F, Fut>(
    what: &str,
    backoff: Backoff,
    mut op: F,
    judge: impl Fn(&E) -> Verdict,
    describe: impl Fn(&E) -> String,
) -> Result<T, Exhausted<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut attempt = 1;
    loop {
        let error = match op().await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        let verdict = judge(&error);
        let (schedule, asked) = match verdict {
            Verdict::Again | Verdict::Final => (backoff, None),
            Verdict::Throttled(asked) => (Backoff::THROTTLED, asked),
        };
        if verdict == Verdict::Final || attempt >= schedule.attempts {
            return Err(Exhausted {
                error,
                attempts: attempt,
            });
        }
        let wait = schedule.wait(attempt - 1, asked);
        github::info(&format!(
            "{what} failed (attempt {attempt} of {}): {}; retrying in {:.1} s",
            schedule.attempts,
            describe(&error),
            wait.as_secs_f64()
        ));
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    const FAST: Backoff = Backoff {
        attempts: 4,
        base: Duration::from_millis(1),
        max: Duration::from_millis(2),
    };

    #[tokio::test]
    async fn retries_transient_errors_until_success() {
        let calls = Cell::new(0);
        let result = retry(
            "test call",
            FAST,
            || {
                calls.set(calls.get() + 1);
                let n = calls.get();
                async move { if n < 3 { Err("busy") } else { Ok(n) } }
            },
            |_| true,
            ToString::to_string,
        )
        .await;
        assert_eq!(result.ok(), Some(3));
    }

    #[tokio::test]
    async fn stops_at_once_on_a_permanent_error_and_after_the_last_attempt() {
        let calls = Cell::new(0);
        let permanent = retry(
            "x",
            FAST,
            || {
                calls.set(calls.get() + 1);
                async { Err::<(), _>("denied") }
            },
            |e| *e != "denied",
            ToString::to_string,
        )
        .await;
        assert_eq!(
            (permanent.map_err(|e| e.attempts).err(), calls.get()),
            (Some(1), 1)
        );
        calls.set(0);
        let transient = retry(
            "x",
            FAST,
            || {
                calls.set(calls.get() + 1);
                async { Err::<(), _>("busy") }
            },
            |_| true,
            ToString::to_string,
        )
        .await;
        assert_eq!(
            (transient.map_err(|e| e.attempts).err(), calls.get()),
            (Some(4), 4)
        );
    }

    #[test]
    fn waits_are_bounded_and_grow() {
        let backoff = Backoff::STANDARD;
        for retry in 0..10 {
            let ceiling = Duration::from_millis(500)
                .saturating_mul(1 << retry.min(20))
                .min(backoff.max);
            assert!(backoff.delay(retry) <= ceiling);
        }
    }
}

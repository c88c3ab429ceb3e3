//! The one retry layer of the deploy engine. The SDK's own retries are off
//! ([`crate::sdk::SdkApi`]), so a throttled call is retried here and only here: calls that
//! change nothing are retried when throttled, when the connection failed and when the service
//! failed (5xx); calls that change something only when throttled (the request was refused
//! before anything happened). Waits grow exponentially with "equal jitter" (half fixed, half
//! random), so parallel stacks do not retry in step.

use std::future::Future;
use std::time::Duration;

use crate::api::{ApiError, ApiErrorKind, ApiResult};

/// How often and how long to retry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first wait; each retry waits up to twice as long as the one before (at most 32
    /// times this).
    pub base: Duration,
    /// Attempts in all for a throttled call.
    pub throttled_attempts: u32,
    /// Attempts in all for a read whose connection failed or whose service failed (5xx).
    pub unreachable_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_millis(500),
            throttled_attempts: 8,
            unreachable_attempts: 3,
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (0 = the first retry): between half and all of
    /// `base × 2^attempt`.
    pub fn wait(&self, attempt: u32) -> Duration {
        let ceiling = self.base * (1u32 << attempt.min(5));
        let half = ceiling / 2;
        let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(fastrand::u64(0..=nanos))
    }

    fn attempts(&self, error: &ApiError, writes: bool) -> u32 {
        match error.kind {
            ApiErrorKind::Throttling => self.throttled_attempts,
            ApiErrorKind::Connection | ApiErrorKind::Unavailable if !writes => {
                self.unreachable_attempts
            }
            _ => 1,
        }
    }

    async fn run<T, F, Fut>(&self, writes: bool, mut call: F) -> ApiResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        let mut attempt = 0u32;
        loop {
            match call().await {
                Err(e) => {
                    let limit = self.attempts(&e, writes);
                    if attempt + 1 >= limit {
                        return Err(gave_up(e, attempt + 1));
                    }
                    tokio::time::sleep(self.wait(attempt)).await;
                    attempt += 1;
                }
                ok => return ok,
            }
        }
    }

    /// Runs a call that changes nothing, retrying throttling, failed connections and 5xx.
    pub async fn read<T, F, Fut>(&self, call: F) -> ApiResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        self.run(false, call).await
    }

    /// Runs a call that changes something, retrying only throttling: after a dropped
    /// connection or a 5xx the change may have happened, so the error is reported instead.
    pub async fn write<T, F, Fut>(&self, call: F) -> ApiResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = ApiResult<T>>,
    {
        self.run(true, call).await
    }
}

/// Says how often a call was tried, when it was tried more than once: after what failed,
/// before what to do.
fn gave_up(mut error: ApiError, attempts: u32) -> ApiError {
    if attempts > 1 {
        let advice = match error.kind {
            ApiErrorKind::Throttling => "; lower --concurrency or try again later",
            _ => "",
        };
        error.message = match error.message.split_once("; ") {
            Some((what, todo)) => format!("{what} after {attempts} attempts{advice}; {todo}"),
            None => format!("{} after {attempts} attempts{advice}", error.message),
        };
    }
    error
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            base: Duration::from_millis(1),
            ..RetryPolicy::default()
        }
    }

    fn block<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn waits_grow_and_are_jittered_within_bounds() {
        let p = RetryPolicy {
            base: Duration::from_millis(100),
            ..RetryPolicy::default()
        };
        for attempt in 0..8 {
            let ceiling = Duration::from_millis(100) * (1 << attempt.min(5));
            let waits: Vec<Duration> = (0..50).map(|_| p.wait(attempt)).collect();
            assert!(
                waits.iter().all(|w| *w >= ceiling / 2 && *w <= ceiling),
                "{waits:?}"
            );
            // Jitter: not all the same.
            assert!(waits.iter().any(|w| *w != waits[0]), "{waits:?}");
        }
    }

    #[test]
    fn the_attempts_go_after_what_failed_and_before_what_to_do() {
        let e = ApiError::new(
            ApiErrorKind::Connection,
            "cannot reach STS at http://x (Connection refused); check AWS_ENDPOINT_URL",
        );
        assert_eq!(
            gave_up(e, 3).message,
            "cannot reach STS at http://x (Connection refused) after 3 attempts; check AWS_ENDPOINT_URL"
        );
    }

    #[test]
    fn reads_retry_connections_and_writes_do_not() {
        let calls = AtomicU32::new(0);
        let refused = || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), _>(ApiError::new(ApiErrorKind::Connection, "refused")) }
        };
        let err = block(policy().read(refused)).unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(err.message, "refused after 3 attempts");
        calls.store(0, Ordering::SeqCst);
        let err = block(policy().write(refused)).unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(err.message, "refused");
    }

    #[test]
    fn throttling_is_retried_for_writes_then_reported_with_advice() {
        let calls = AtomicU32::new(0);
        let throttled = || {
            let n = calls.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 3 {
                    Err(ApiError::new(ApiErrorKind::Throttling, "Rate exceeded"))
                } else {
                    Ok(n)
                }
            }
        };
        assert_eq!(block(policy().write(throttled)), Ok(3));
        calls.store(0, Ordering::SeqCst);
        let always = || {
            calls.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), _>(ApiError::new(ApiErrorKind::Throttling, "Rate exceeded")) }
        };
        let err = block(policy().write(always)).unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 8);
        assert_eq!(
            err.message,
            "Rate exceeded after 8 attempts; lower --concurrency or try again later"
        );
    }
}

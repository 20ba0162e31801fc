//! Admission (a bounded queue in front of a concurrency limit) and the
//! publisher's spending cap.
//!
//! Admission is a tower layer (`axum::middleware::from_fn_with_state`)
//! shared by every route of a group (stores; reads), so the two read
//! routes draw on one limit: `max_concurrent` requests run, up to
//! `max_queued` more wait in arrival order (tokio's semaphore is fair),
//! and anything beyond is refused at once with 429 and `Retry-After`. A
//! queued request has not had its body read yet, so the queue costs a
//! connection, not memory; its wait counts against the request timeout.
//! (Tower's own `Buffer` + `ConcurrencyLimit` + `LoadShed` give the same
//! shape per route; one shared pair of semaphores gives it per group,
//! without a worker task per route.)

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::StatusCode;
use tokio::sync::Semaphore;

use super::error;

/// One group's limit.
#[derive(Debug)]
pub(crate) struct Admission {
    /// Requests running (`max_concurrent` permits).
    running: Arc<Semaphore>,
    /// Requests running or waiting (`max_concurrent + max_queued`).
    admitted: Arc<Semaphore>,
    /// What the group is, for the refusal's message.
    what: &'static str,
}

impl Admission {
    pub(crate) fn new(max_concurrent: usize, max_queued: usize, what: &'static str) -> Arc<Self> {
        let running = max_concurrent.clamp(1, Semaphore::MAX_PERMITS);
        let admitted = running
            .saturating_add(max_queued)
            .min(Semaphore::MAX_PERMITS);
        Arc::new(Self {
            running: Arc::new(Semaphore::new(running)),
            admitted: Arc::new(Semaphore::new(admitted)),
            what,
        })
    }
}

/// The middleware: admit, wait for a running slot, run.
pub(crate) async fn admit(
    State(admission): State<Arc<Admission>>,
    request: Request,
    next: Next,
) -> Response {
    let Ok(admitted) = admission.admitted.clone().try_acquire_owned() else {
        return error(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            format!(
                "the daemon's {} are at their concurrency limit and its queue is full; retry later",
                admission.what
            ),
        );
    };
    let Ok(running) = admission.running.clone().acquire_owned().await else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "SHUTTING_DOWN",
            "the daemon is stopping",
        );
    };
    // The slots are held until the answer's body is sent, not only until
    // the handler returns: a streamed read is still working then.
    next.run(request)
        .await
        .map(|body| Body::new(Held::new(body, (admitted, running))))
}

/// A body that keeps `held` alive until it is dropped (sent or abandoned).
struct Held<T> {
    body: Body,
    _held: T,
}

impl<T> Held<T> {
    fn new(body: Body, held: T) -> Self {
        Self { body, _held: held }
    }
}

impl<T: Unpin + Send + 'static> http_body::Body for Held<T> {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// At most `max_frost` FROST spent by stores in each `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpendingCap {
    pub max_frost: u64,
    pub window: Duration,
}

/// Why a store was refused by the cap, and when to come back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OverCap {
    pub message: String,
    pub retry_after: Duration,
}

/// The cap's accounting: fixed windows (the first spend opens one), so the
/// state is two numbers whatever the traffic. A planned cost is reserved
/// before the store pays and is not given back when the store fails later,
/// since it may have paid by then.
#[derive(Debug)]
pub(crate) struct SpendingWindow {
    cap: SpendingCap,
    state: Mutex<(Instant, u64)>,
}

impl SpendingWindow {
    pub(crate) fn new(cap: SpendingCap) -> Self {
        Self {
            cap,
            state: Mutex::new((Instant::now(), 0)),
        }
    }

    /// Runs `f` on the current window's (start, spent), opening a new
    /// window when the last one has ended.
    fn with_window<T>(&self, f: impl FnOnce(Instant, &mut u64) -> T) -> T {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        if now.duration_since(state.0) >= self.cap.window {
            *state = (now, 0);
        }
        let start = state.0;
        f(start, &mut state.1)
    }

    fn over(&self, start: Instant, spent: u64, cost: u64) -> OverCap {
        let retry_after = self
            .cap
            .window
            .saturating_sub(Instant::now().duration_since(start))
            .max(Duration::from_secs(1));
        OverCap {
            message: format!(
                "the publisher's spending cap is {} FROST per {} s; {spent} spent in this window, \
                 this store costs {cost}",
                self.cap.max_frost,
                self.cap.window.as_secs()
            ),
            retry_after,
        }
    }

    /// Refuses early (before the body is read) when the window is spent.
    pub(crate) fn check_open(&self) -> Result<(), OverCap> {
        self.with_window(|start, spent| {
            if *spent >= self.cap.max_frost {
                Err(self.over(start, *spent, 0))
            } else {
                Ok(())
            }
        })
    }

    /// Reserves `cost` FROST, or refuses when it would pass the cap. A
    /// store that pays nothing (already certified) always passes.
    pub(crate) fn reserve(&self, cost: u64) -> Result<(), OverCap> {
        self.with_window(|start, spent| {
            if cost == 0 {
                return Ok(());
            }
            match spent.checked_add(cost) {
                Some(total) if total <= self.cap.max_frost => {
                    *spent = total;
                    Ok(())
                }
                _ => Err(self.over(start, *spent, cost)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_reserves_planned_costs_until_the_window_is_spent() {
        let window = SpendingWindow::new(SpendingCap {
            max_frost: 10,
            window: Duration::from_secs(3600),
        });
        window.check_open().unwrap();
        window.reserve(7).unwrap();
        let over = window.reserve(4).unwrap_err();
        assert!(over.message.contains("7 spent"), "{}", over.message);
        assert!(over.retry_after > Duration::from_secs(3000));
        window.reserve(3).unwrap();
        window.reserve(0).unwrap();
        assert!(window.check_open().is_err(), "10 of 10 spent");
        assert!(window.reserve(u64::MAX).is_err(), "no overflow");
    }

    #[test]
    fn a_new_window_starts_from_zero() {
        let window = SpendingWindow::new(SpendingCap {
            max_frost: 5,
            window: Duration::ZERO,
        });
        // A zero-length window ends at once: every call opens a new one.
        window.reserve(5).unwrap();
        window.reserve(5).unwrap();
    }
}

//! Sliver verification and other CPU-bound work, awaited from async code,
//! on rayon's global pool: one thread per core.
//!
//! Why not tokio's `spawn_blocking`: its pool starts a thread for each task
//! that finds none idle (up to 512), and [`crate::encoding::SliverView::hash`]
//! keeps a Reed-Solomon workspace per thread (several MiB at n = 100). A
//! client verifying a read's 34 rows at once spread them over 34 fresh
//! threads, each page-faulting a workspace into existence: a third of a
//! 100 MiB read's client CPU and about 190 MB of its peak memory; a node's
//! uploads did the same. On a pool of one thread per core the same few
//! workspaces serve every sliver, and no more slivers are hashed at once
//! than there are cores to hash them. The channel is `futures`', so this
//! works under any executor.

use std::panic::AssertUnwindSafe;

/// Runs `f` on rayon's global pool and waits for it without blocking the
/// async runtime. A panic in `f` comes back as an error, not an abort.
pub async fn on_cpu_pool<T, F>(f: F) -> Result<T, String>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let (done, answer) = futures::channel::oneshot::channel();
    rayon::spawn(move || {
        // The receiver may be gone (the read was dropped): nothing to do.
        let _ = done.send(std::panic::catch_unwind(AssertUnwindSafe(f)));
    });
    match answer.await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) => Err("a task on the CPU pool panicked".to_owned()),
        Err(_) => Err("the CPU pool dropped a task".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use futures::executor::block_on;

    #[test]
    fn values_come_back_and_panics_are_errors() {
        assert_eq!(block_on(on_cpu_pool(|| 6 * 7)), Ok(42));
        let err = block_on(on_cpu_pool(|| -> u8 { panic!("boom") })).unwrap_err();
        assert!(err.contains("panicked"), "{err}");
        // The pool still works after a panic.
        assert_eq!(block_on(on_cpu_pool(|| "ok")), Ok("ok"));
    }
}

//! A connection that queries read through, owned by one thread. The collector has two: one for
//! the queries that scan, one for those that look up by index, so that a lookup never waits
//! behind a scan.
//!
//! Queries read one at a time anyway (one connection), but each used to run on whichever
//! blocking thread tokio picked. glibc's allocator gives each new thread its own arena (up to
//! 8 per core) and keeps what a query freed in that arena, so parallel callers of a heavy
//! query (`/api/signals` reads every span of the window) left one query's peak per thread:
//! 8 callers took the resident size from 9 MB to 494 MB, for good. On one thread the memory a
//! query frees is what the next one reuses (66 MB, the peak of one query).

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

use super::Store;

type Job = Box<dyn FnOnce(&Store) + Send>;

thread_local! {
    /// Set, on the reading thread, while a query runs: whether its caller has gone.
    static GONE: RefCell<Option<Arc<AtomicBool>>> = const { RefCell::new(None) };
}

/// Whether the caller of the query running on this thread has gone (its client hung up, a
/// Grafana panel was cancelled): long queries look at this between batches and stop, so that
/// the queries behind them do not wait for an answer nobody takes.
pub(crate) fn abandoned() -> bool {
    GONE.with(|g| g.borrow().as_ref().is_some_and(|g| g.load(Ordering::Relaxed)))
}

/// Runs `f` as a query whose caller has already gone (for tests of the queries that stop).
#[cfg(test)]
pub(crate) fn as_abandoned<T>(f: impl FnOnce() -> T) -> T {
    GONE.with(|g| *g.borrow_mut() = Some(Arc::new(AtomicBool::new(true))));
    let result = f();
    GONE.with(|g| *g.borrow_mut() = None);
    result
}

/// Marks its query abandoned when the caller's future is dropped before the answer came.
struct Watch(Arc<AtomicBool>);

impl Drop for Watch {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A handle to the reading thread; the thread ends, closing its connection, when every handle
/// is dropped.
#[derive(Debug, Clone)]
pub struct Reader {
    jobs: mpsc::Sender<Job>,
}

impl Reader {
    /// Starts the thread that owns `store` and runs, in turn, what [`Reader::read`] sends it.
    pub fn spawn(store: Store) -> std::io::Result<Reader> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new().name("edgescope-reader".into()).spawn(move || {
            for job in queue {
                // A query that panics fails alone: its caller gets no answer and the
                // thread goes on with the next.
                let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&store)));
            }
        })?;
        Ok(Reader { jobs })
    }

    /// Runs `f` on the reading thread once the queries sent before it are done; `None` if it
    /// panicked. Dropped before its turn (its request abandoned), it never runs; dropped while it
    /// runs, [`abandoned`] tells it so.
    pub async fn read<T: Send + 'static>(&self, f: impl FnOnce(&Store) -> T + Send + 'static) -> Option<T> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let gone = Arc::new(AtomicBool::new(false));
        let watch = Watch(gone.clone());
        self.jobs
            .send(Box::new(move |store: &Store| {
                // A caller that has gone (its client hung up, a Grafana panel was cancelled) is
                // not read for: the queries behind it do not wait for an answer nobody takes.
                if !answer.is_closed() {
                    GONE.with(|g| *g.borrow_mut() = Some(gone));
                    let result = std::panic::catch_unwind(AssertUnwindSafe(|| f(store)));
                    GONE.with(|g| *g.borrow_mut() = None);
                    match result {
                        Ok(result) => {
                            let _ = answer.send(result);
                        }
                        Err(panic) => std::panic::resume_unwind(panic),
                    }
                }
            }))
            .ok()?;
        let answer = answered.await.ok();
        drop(watch);
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_query_whose_caller_goes_is_told_so_and_the_next_one_runs() {
        let dir = tempfile::tempdir().unwrap();
        let reader = Reader::spawn(Store::open(&dir.path().join("db")).unwrap()).unwrap();
        let saw = Arc::new(AtomicBool::new(false));
        let seen = saw.clone();
        // A long query that looks at `abandoned` between its batches (for at most 60 s).
        let long = reader.read(move |_| {
            let began = std::time::Instant::now();
            while began.elapsed() < std::time::Duration::from_secs(60) {
                if abandoned() {
                    seen.store(true, Ordering::SeqCst);
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        });
        // Its caller gives up (a client that hung up).
        assert!(tokio::time::timeout(std::time::Duration::from_millis(100), long).await.is_err());
        // The next query runs once the long one has stopped; outside a query nothing is abandoned.
        assert_eq!(reader.read(|_| abandoned()).await, Some(false));
        assert!(saw.load(Ordering::SeqCst), "the long query was told its caller had gone");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn parallel_queries_run_one_at_a_time_on_one_thread_and_a_panic_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let reader = Reader::spawn(Store::open(&dir.path().join("db")).unwrap()).unwrap();
        let running = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let calls = (0..16).map(|_| {
            let (reader, running) = (reader.clone(), running.clone());
            tokio::spawn(async move {
                reader
                    .read(move |store| {
                        let together = running.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
                        store.span_count().unwrap();
                        std::thread::yield_now();
                        running.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                        (std::thread::current().id(), together)
                    })
                    .await
                    .unwrap()
            })
        });
        let mut threads = Vec::new();
        for call in calls.collect::<Vec<_>>() {
            let (thread, together) = call.await.unwrap();
            assert_eq!(together, 1, "queries overlapped");
            threads.push(thread);
        }
        threads.dedup();
        assert_eq!(threads.len(), 1, "queries ran on {} threads", threads.len());
        assert_eq!(reader.read(|_| -> u8 { panic!("a failing query") }).await, None);
        assert_eq!(reader.read(|store| store.span_count().unwrap()).await, Some(0));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_read_abandoned_before_its_turn_never_runs() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let reader = Reader::spawn(Store::open(&dir.path().join("db")).unwrap()).unwrap();
        // A long query holds the thread until released.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let started = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let long = tokio::spawn({
            let (reader, started) = (reader.clone(), started.clone());
            async move {
                reader
                    .read(move |_| {
                        started.store(true, Ordering::SeqCst);
                        held.recv().is_ok()
                    })
                    .await
            }
        });
        while !started.load(Ordering::SeqCst) {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        let ran = std::sync::Arc::new(AtomicUsize::new(0));
        for _ in 0..5 {
            let ran = ran.clone();
            let read = reader.read(move |_| ran.fetch_add(1, Ordering::SeqCst));
            // Sent, then given up on (as a request whose client hung up is dropped).
            assert!(tokio::time::timeout(std::time::Duration::from_millis(20), read).await.is_err());
        }
        release.send(()).unwrap();
        assert_eq!(long.await.unwrap(), Some(true));
        assert_eq!(reader.read(|store| store.span_count().unwrap()).await, Some(0));
        assert_eq!(ran.load(Ordering::SeqCst), 0, "abandoned reads ran");
    }
}

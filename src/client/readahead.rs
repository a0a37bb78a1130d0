//! Read-ahead for refresh: one paged listing answers many reads of the same collection.
//!
//! Terraform refreshes every object with its own ReadResource call, at most `-parallelism` at a
//! time, and each call knows only its own object. Coalescing only the calls that happen to be in
//! flight together can never do better than one request per `-parallelism` objects, so instead
//! the first read of a collection (a project's instances; one instance's databases) starts a
//! listing, and every read within [`WINDOW`] of its start is answered from it:
//!
//! - **Single flight:** the listing runs under the collection's async lock, so readers that arrive
//!   meanwhile wait for it instead of starting their own.
//! - **Bounded by demand:** the listing fetches one page per read seen in the window (a read that
//!   arrives while pages are coming in extends it), so a plan of one object in a huge project costs
//!   one page, never the whole project; and never more than [`MAX_ITEMS`] records per collection.
//!   A name beyond what was listed is simply not answered here.
//! - **Handed out once:** a listed record is taken from the listing by the read it answers (a
//!   refresh reads each object once), so the listing shrinks as the refresh goes and nothing is
//!   copied; a second read of the same name finds nothing and GETs.
//! - **Never a wrong "gone":** a name the listing does not have is reported as [`None`] ("not
//!   known"), never as absent. The caller confirms it with one GET, so an object deleted out of
//!   band costs one GET and a listing that failed costs what reading without read-ahead costs.
//! - **Never stale for our own writes:** [`ReadAhead::touch`] (every write this provider instance
//!   sends) makes the written name, or the whole collection, bypass read-ahead for the rest of the
//!   provider's life (one Terraform command), which also covers a listing that was in flight
//!   while the write happened.
//!
//! This module knows nothing about HTTP: the listing is a closure returning pages, so it is
//! unit-tested with counters.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use super::Page;

/// How long a listing answers reads, counted from when it started (so no answer is older than
/// this). Read-ahead never outlives the provider process, i.e. one Terraform command, and a
/// refresh reads its objects in no defined order anyway, so an answer this old is no staler than
/// a plain GET made later in the same refresh; the window only has to cover a slow refresh (a
/// plan of 1,000 instances takes 2 s on a quiet machine, a minute on a loaded CI runner).
pub const WINDOW: Duration = Duration::from_secs(30);

/// The most records one listing keeps (per collection): the memory bound for huge projects.
pub const MAX_ITEMS: usize = 10_000;

/// Read-ahead over collections of `V` (one kind of record), each collection named by a key
/// (`""` for the project's instances, the instance name for its sub-resources).
pub struct ReadAhead<V> {
    window: Duration,
    max_items: usize,
    collections: Mutex<HashMap<String, Arc<Collection<V>>>>,
    /// Names written by this provider instance, per collection.
    touched_names: Mutex<HashSet<(String, String)>>,
    /// Collections written by this provider instance (every name in them bypasses read-ahead).
    touched_collections: Mutex<HashSet<String>>,
}

struct Collection<V> {
    /// Reads of this collection since the provider started; a listing's page budget is the
    /// number seen since it started.
    reads: AtomicUsize,
    listing: tokio::sync::Mutex<Option<Listing<V>>>,
}

/// What one listing has fetched so far.
struct Listing<V> {
    started: Instant,
    /// `reads` when the listing started.
    reads_at_start: usize,
    items: HashMap<String, V>,
    /// Records fetched so far (handed out ones included): what [`MAX_ITEMS`] bounds.
    fetched: usize,
    /// The greatest name listed so far: pages come in name order, so every name up to it has
    /// been seen.
    last: Option<String>,
    next: Option<String>,
    pages: usize,
    /// Every page is in (or the listing failed or hit the memory bound: nothing more to fetch).
    done: bool,
}

impl<V> Listing<V> {
    /// Whether the listing says anything about `name`: fetched up to or past it, or complete.
    fn covers(&self, name: &str) -> bool {
        (self.done && self.next.is_none()) || self.last.as_deref().is_some_and(|l| name <= l)
    }
}

impl<V> Default for ReadAhead<V> {
    fn default() -> Self {
        ReadAhead::new(WINDOW, MAX_ITEMS)
    }
}

impl<V> ReadAhead<V> {
    pub fn new(window: Duration, max_items: usize) -> Self {
        ReadAhead {
            window,
            max_items: max_items.max(1),
            collections: Mutex::default(),
            touched_names: Mutex::default(),
            touched_collections: Mutex::default(),
        }
    }

    /// `name` in `collection` as a listing within the window has it, or `None` when read-ahead does
    /// not know (not listed, listed as absent, listing failed, written by us): then the caller GETs.
    ///
    /// `list` fetches one page: `Ok(None)` means the collection itself does not exist (an
    /// instance's databases when the instance is gone), which lists as empty.
    pub async fn get<F, Fut, E>(&self, collection: &str, name: &str, mut list: F) -> Option<V>
    where
        F: FnMut(Option<String>) -> Fut,
        Fut: Future<Output = Result<Option<Page<(String, V)>>, E>>,
        E: std::fmt::Display,
    {
        if self.is_touched(collection, name) {
            return None;
        }
        let coll = self.collection(collection);
        coll.reads.fetch_add(1, Ordering::SeqCst);
        let mut guard = coll.listing.lock().await;
        let now = Instant::now();
        let listing = match guard.take() {
            Some(l) if now.duration_since(l.started) < self.window => l,
            _ => Listing {
                started: now,
                reads_at_start: coll.reads.load(Ordering::SeqCst).saturating_sub(1),
                items: HashMap::new(),
                fetched: 0,
                last: None,
                next: None,
                pages: 0,
                done: false,
            },
        };
        let listing = guard.insert(listing);
        loop {
            if listing.covers(name) {
                // Taken, not copied: a refresh reads each object once, so what was handed out is
                // memory the listing no longer needs. A second read of the name (rare) is not
                // known here and GETs, like any name the listing lacks.
                return listing.items.remove(name);
            }
            let budget = coll
                .reads
                .load(Ordering::SeqCst)
                .saturating_sub(listing.reads_at_start);
            if listing.done || listing.pages >= budget || listing.fetched >= self.max_items {
                return None;
            }
            match list(listing.next.clone()).await {
                Ok(Some(page)) => {
                    listing.pages += 1;
                    listing.fetched += page.items.len();
                    for (key, value) in page.items {
                        if listing.last.as_deref().is_none_or(|l| key.as_str() > l) {
                            listing.last = Some(key.clone());
                        }
                        listing.items.insert(key, value);
                    }
                    listing.done = page.next.is_none();
                    listing.next = page.next;
                }
                Ok(None) => {
                    listing.pages += 1;
                    listing.done = true;
                    listing.next = None;
                }
                Err(e) => {
                    // Each reader falls back to its own GET, which reports the error properly.
                    tracing::debug!(collection, error = %e, "read-ahead listing failed; reading one by one");
                    listing.done = true;
                    listing.next = Some(String::new());
                    listing.last = None;
                    listing.items.clear();
                }
            }
        }
    }

    /// This provider instance is writing `name` in `collection`: from now on it is read with a GET.
    pub fn touch(&self, collection: &str, name: &str) {
        if let Ok(mut t) = self.touched_names.lock() {
            t.insert((collection.to_string(), name.to_string()));
        }
    }

    /// This provider instance is writing in (or the owner of) `collection`: every name in it is
    /// read with a GET from now on.
    pub fn touch_collection(&self, collection: &str) {
        if let Ok(mut t) = self.touched_collections.lock() {
            t.insert(collection.to_string());
        }
    }

    fn is_touched(&self, collection: &str, name: &str) -> bool {
        // A poisoned lock (a panic elsewhere) must not turn into a stale answer.
        let by_collection = self
            .touched_collections
            .lock()
            .map_or(true, |t| t.contains(collection));
        by_collection
            || self.touched_names.lock().map_or(true, |t| {
                t.contains(&(collection.to_string(), name.to_string()))
            })
    }

    fn collection(&self, key: &str) -> Arc<Collection<V>> {
        let mut map = match self.collections.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(key.to_string())
            .or_insert_with(|| {
                Arc::new(Collection {
                    reads: AtomicUsize::new(0),
                    listing: tokio::sync::Mutex::new(None),
                })
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    type PageResult = Result<Option<Page<(String, usize)>>, String>;

    /// A collection of `n` records named `r0000`… (name order = page order), listed `size` at a
    /// time, each page taking a millisecond; counts the page requests.
    fn lister(
        n: usize,
        size: usize,
        calls: Arc<AtomicUsize>,
    ) -> impl FnMut(Option<String>) -> std::pin::Pin<Box<dyn Future<Output = PageResult> + Send>>
    {
        move |token| {
            calls.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(1)).await;
                let start: usize = token.map_or(0, |t| t.parse().unwrap_or(0));
                let end = (start + size).min(n);
                let items = (start..end).map(|i| (format!("r{i:04}"), i)).collect();
                let next = (end < n).then(|| end.to_string());
                Ok(Some(Page { items, next }))
            })
        }
    }

    #[tokio::test]
    async fn one_listing_answers_every_read_in_the_window() {
        let ra = Arc::new(ReadAhead::new(Duration::from_secs(60), 1000));
        let calls = Arc::new(AtomicUsize::new(0));
        // 10 concurrent readers: the first lists while the others wait for it (single flight),
        // and each extends the page budget by one, so the 3 pages are fetched once.
        let readers: Vec<_> = (0..10)
            .map(|i| {
                let (ra, calls) = (ra.clone(), calls.clone());
                tokio::spawn(async move {
                    ra.get("", &format!("r{:04}", i * 25), lister(250, 100, calls))
                        .await
                })
            })
            .collect();
        let mut got = Vec::new();
        for r in readers {
            got.push(r.await.expect("reader"));
        }
        assert_eq!(got, (0..10).map(|i| Some(i * 25)).collect::<Vec<_>>());
        assert_eq!(calls.load(Ordering::SeqCst), 3, "3 pages, listed once");
        // Later reads in the window cost nothing; a record is handed out once, so a second
        // read of a name is "not known" (the caller GETs), still without a call.
        for i in 0..250 {
            let found = ra
                .get("", &format!("r{i:04}"), lister(250, 100, calls.clone()))
                .await;
            assert_eq!(found, if i % 25 == 0 { None } else { Some(i) }, "r{i:04}");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn one_read_in_a_huge_collection_lists_one_page() {
        let ra = ReadAhead::new(Duration::from_secs(60), 100_000);
        let calls = Arc::new(AtomicUsize::new(0));
        // The name is beyond the first page: after its one page the reader gets "not known"
        // (it GETs) rather than paging through the whole project.
        assert_eq!(
            ra.get("", "r9000", lister(10_000, 100, calls.clone()))
                .await,
            None
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // A second reader may fetch one more page.
        assert_eq!(
            ra.get("", "r0150", lister(10_000, 100, calls.clone()))
                .await,
            Some(150)
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn memory_is_bounded() {
        let ra = ReadAhead::new(Duration::from_secs(60), 200);
        let calls = Arc::new(AtomicUsize::new(0));
        for i in 0..50 {
            ra.get("", &format!("r{i:04}"), lister(10_000, 100, calls.clone()))
                .await;
        }
        assert_eq!(
            ra.get("", "r5000", lister(10_000, 100, calls.clone()))
                .await,
            None,
            "beyond the bound: read one by one"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2, "no more than 200 records");
    }

    #[tokio::test]
    async fn the_window_expires() {
        let ra = ReadAhead::new(Duration::from_millis(30), 1000);
        let calls = Arc::new(AtomicUsize::new(0));
        assert_eq!(
            ra.get("", "r0001", lister(5, 100, calls.clone())).await,
            Some(1)
        );
        assert_eq!(
            ra.get("", "r0002", lister(5, 100, calls.clone())).await,
            Some(2)
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(40)).await;
        assert_eq!(
            ra.get("", "r0003", lister(5, 100, calls.clone())).await,
            Some(3)
        );
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "listed again after the window"
        );
    }

    #[tokio::test]
    async fn a_miss_is_not_known_rather_than_gone() {
        let ra = ReadAhead::new(Duration::from_secs(60), 1000);
        let calls = Arc::new(AtomicUsize::new(0));
        assert_eq!(
            ra.get("", "r0002", lister(5, 100, calls.clone())).await,
            Some(2)
        );
        // Complete listing without it: still `None` = "confirm with a GET", not "deleted".
        assert_eq!(ra.get("", "zzz", lister(5, 100, calls.clone())).await, None);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_collection_that_does_not_exist_lists_as_empty() {
        let ra: ReadAhead<usize> = ReadAhead::new(Duration::from_secs(60), 1000);
        let calls = Arc::new(AtomicUsize::new(0));
        let gone = |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            std::future::ready(Ok::<_, String>(None))
        };
        assert_eq!(ra.get("inst", "a", gone).await, None);
        assert_eq!(ra.get("inst", "b", gone).await, None);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_listing_sends_every_reader_to_its_own_get() {
        let ra: ReadAhead<usize> = ReadAhead::new(Duration::from_secs(60), 1000);
        let calls = Arc::new(AtomicUsize::new(0));
        let failing = |_| {
            calls.fetch_add(1, Ordering::SeqCst);
            std::future::ready(Err::<Option<Page<(String, usize)>>, _>("HTTP 503"))
        };
        assert_eq!(ra.get("", "a", failing).await, None);
        assert_eq!(ra.get("", "b", failing).await, None);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "not retried within the window"
        );
    }

    #[tokio::test]
    async fn what_we_write_is_never_answered_from_a_listing() {
        let ra = ReadAhead::new(Duration::from_secs(60), 1000);
        let calls = Arc::new(AtomicUsize::new(0));
        assert_eq!(
            ra.get("", "r0001", lister(5, 100, calls.clone())).await,
            Some(1)
        );
        ra.touch("", "r0001");
        assert_eq!(
            ra.get("", "r0001", lister(5, 100, calls.clone())).await,
            None
        );
        assert_eq!(
            ra.get("", "r0002", lister(5, 100, calls.clone())).await,
            Some(2)
        );
        ra.touch_collection("");
        assert_eq!(
            ra.get("", "r0002", lister(5, 100, calls.clone())).await,
            None
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}

//! Building newly registered segments' members and timers from the store: one scan for all
//! of them, evaluated on several threads while the scan reads on.

use std::{
    panic,
    sync::{Mutex, PoisonError, mpsc},
    thread,
};

use chrono::{DateTime, Utc};

use crate::{
    customer::{Customer, CustomerId},
    error::StoreError,
    segment::{Matcher, Segment},
    store::Store,
};

/// How many customers the build reads from the store at a time.
const SCAN_BATCH: usize = 1024;

/// At most this many threads evaluate (besides the one reading the store).
const MAX_THREADS: usize = 8;

/// A segment to build.
#[derive(Debug, Clone, Copy)]
pub(super) struct Job<'a> {
    pub segment: &'a Segment,
    /// Whether the segment depends on time (and so has timers).
    pub time: bool,
}

/// What the build found for each job, in the jobs' order: the members, and the customers'
/// first changes if the segment depends on time.
#[derive(Debug)]
pub(super) struct Built {
    pub members: Vec<Vec<CustomerId>>,
    pub timers: Vec<Vec<(CustomerId, DateTime<Utc>)>>,
}

/// One thread's share of [`Built`], and what it evaluates with.
struct Part<'a> {
    jobs: &'a [Job<'a>],
    now: DateTime<Utc>,
    matchers: Vec<Matcher>,
    members: Vec<Vec<CustomerId>>,
    timers: Vec<Vec<(CustomerId, DateTime<Utc>)>>,
}

impl<'a> Part<'a> {
    fn new(jobs: &'a [Job<'a>], now: DateTime<Utc>) -> Part<'a> {
        let matchers = jobs.iter().map(|j| j.segment.at(now)).collect();
        Part { jobs, now, matchers, members: vec![Vec::new(); jobs.len()], timers: vec![Vec::new(); jobs.len()] }
    }

    /// Evaluates every job for every customer of `batch`.
    fn add(&mut self, batch: &[Customer]) {
        for c in batch {
            for (k, (job, matcher)) in self.jobs.iter().zip(&self.matchers).enumerate() {
                let value = matcher.matches(c);
                if value {
                    self.members[k].push(c.id());
                }
                if job.time {
                    if let Some(h) = job.segment.next_change(c, self.now, value) {
                        self.timers[k].push((c.id(), h));
                    }
                }
            }
        }
    }
}

/// Scans `store` once and evaluates `jobs` for every customer at `now`: their members and,
/// for the time-dependent ones, each customer's next change. A store of more than one batch
/// is evaluated on up to [`MAX_THREADS`] threads (as many as the machine has) while this one
/// reads the next batches.
pub(super) fn build<'a, S: Store + ?Sized>(
    store: &S,
    jobs: &'a [Job<'a>],
    now: DateTime<Utc>,
) -> Result<Built, StoreError> {
    let first = store.scan(None, SCAN_BATCH)?;
    let threads = thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_THREADS);
    let parts = if first.len() < SCAN_BATCH || threads == 1 || jobs.is_empty() {
        let mut part = Part::new(jobs, now);
        each_batch(store, first, |batch| {
            part.add(&batch);
            true
        })?;
        vec![part]
    } else {
        in_parallel(store, jobs, now, first, threads)?
    };
    let mut built = Built { members: vec![Vec::new(); jobs.len()], timers: vec![Vec::new(); jobs.len()] };
    for part in parts {
        for (all, found) in built.members.iter_mut().zip(part.members) {
            all.extend(found);
        }
        for (all, found) in built.timers.iter_mut().zip(part.timers) {
            all.extend(found);
        }
    }
    Ok(built)
}

/// [`build`] with `threads` evaluating threads fed batches by this one, starting with
/// `first`.
fn in_parallel<'a, S: Store + ?Sized>(
    store: &S,
    jobs: &'a [Job<'a>],
    now: DateTime<Utc>,
    first: Vec<Customer>,
    threads: usize,
) -> Result<Vec<Part<'a>>, StoreError> {
    let (send, receive) = mpsc::sync_channel::<Vec<Customer>>(2 * threads);
    let receive = Mutex::new(receive);
    thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut part = Part::new(jobs, now);
                    loop {
                        // The lock is held only to take a batch.
                        let batch = receive.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        match batch {
                            Ok(batch) => part.add(&batch),
                            Err(mpsc::RecvError) => return part,
                        }
                    }
                })
            })
            .collect();
        // A failed send means every worker is gone (panicked): joining them says why.
        let read = each_batch(store, first, |batch| send.send(batch).is_ok());
        drop(send);
        let parts: Vec<Part> =
            workers.into_iter().map(|w| w.join().unwrap_or_else(|payload| panic::resume_unwind(payload))).collect();
        read.map(|()| parts)
    })
}

/// Calls `f` with `first` and each following batch of the store, in id order, until a batch
/// comes back short (the last) or `f` says to stop.
fn each_batch<S: Store + ?Sized>(
    store: &S,
    first: Vec<Customer>,
    mut f: impl FnMut(Vec<Customer>) -> bool,
) -> Result<(), StoreError> {
    let mut batch = first;
    loop {
        let last = batch.last().map(Customer::id).filter(|_| batch.len() == SCAN_BATCH);
        if !f(batch) {
            return Ok(());
        }
        let Some(last) = last else { return Ok(()) };
        batch = store.scan(Some(last), SCAN_BATCH)?;
        if batch.is_empty() {
            return Ok(());
        }
    }
}

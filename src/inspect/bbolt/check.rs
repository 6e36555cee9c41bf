//! bbolt's `tx.Check()`: every page below the high water mark is reachable exactly once or
//! free. `etcdctl snapshot status` runs it first and refuses a db that fails it; the messages
//! are bbolt's. Unlike bbolt, cycles and unreadable pages are reported, not followed forever.

use std::collections::HashSet;
use std::ops::ControlFlow;

use super::meta::NO_FREELIST;
use super::page::{FREELIST, type_name};
use super::{Bolt, Bucket, MAX_DEPTH};
use crate::error::{Error, Result};
use crate::inspect::source::PageSource;

/// At most this many problems are collected; a shredded file would otherwise list every page.
pub const MAX_PROBLEMS: usize = 100;

struct Checker<'b, S> {
    db: &'b Bolt<S>,
    reachable: HashSet<u64>,
    freed: HashSet<u64>,
    problems: Vec<String>,
    /// Entries the check may still visit. Every real entry needs a 16-byte element header,
    /// so a file cannot hold more than its size / 16; overlapping hostile elements (many
    /// entries naming the same nested bucket) would otherwise make the walk exponential.
    budget: u64,
    /// The first read error of the source: the db could not be read, which says nothing
    /// about its consistency (issue 9, item 11).
    io: Option<Error>,
}

impl<S> Checker<'_, S> {
    fn problem(&mut self, p: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(p);
        }
    }

    /// A page that failed to load: a problem of the db, or a read error kept aside.
    fn failed(&mut self, e: Error) {
        if matches!(e, Error::Io(_)) {
            self.io.get_or_insert(e);
        } else {
            self.problem(e.to_string());
        }
    }
}

impl<S: PageSource> Bolt<S> {
    /// Runs bbolt's integrity check; an empty list means the db is consistent. A page the
    /// source fails to read is listed with its I/O error; [`Bolt::try_check`] returns it.
    pub fn check(&self) -> Vec<String> {
        let (mut problems, io) = self.run_check();
        problems.extend(io.map(|e| e.to_string()));
        problems
    }

    /// [`Bolt::check`], failing with the first read error of the source instead.
    pub fn try_check(&self) -> Result<Vec<String>> {
        match self.run_check() {
            (_, Some(e)) => Err(e),
            (problems, None) => Ok(problems),
        }
    }

    fn run_check(&self) -> (Vec<String>, Option<Error>) {
        let mut c = Checker {
            db: self,
            reachable: HashSet::from([0, 1]),
            freed: HashSet::new(),
            problems: Vec::new(),
            // The file, not the high water mark: a truncated db may claim far more.
            budget: self.size().min(self.source().size()) / 16 + 1024,
            io: None,
        };
        let meta = *self.meta();
        let stored_freelist = meta.freelist != NO_FREELIST;
        if stored_freelist {
            match self.page(meta.freelist) {
                Ok(p) if p.flags & FREELIST == 0 => c.problem(format!(
                    "invalid freelist page: {}, page type is {}",
                    p.id,
                    type_name(p.flags)
                )),
                Ok(p) => {
                    for i in 0..=u64::from(p.overflow) {
                        c.reachable.insert(meta.freelist + i);
                    }
                    match p.freelist_ids() {
                        Ok(ids) => {
                            for id in ids {
                                if !c.freed.insert(id) {
                                    c.problem(format!("page {id}: already freed"));
                                }
                            }
                        }
                        Err(e) => c.failed(e),
                    }
                }
                Err(e) => c.failed(e),
            }
        }
        let root = self.root();
        c.check_bucket(&root);
        if stored_freelist {
            for i in 0..meta.pgid {
                // A truncated db may claim far more pages than it has: stop where the
                // list stops.
                if c.problems.len() >= MAX_PROBLEMS {
                    break;
                }
                if !c.reachable.contains(&i) && !c.freed.contains(&i) {
                    c.problem(format!("page {i}: unreachable unfreed"));
                }
            }
        }
        (c.problems, c.io)
    }

    /// Counts pages of each kind under a bucket (its own tree, not nested buckets).
    pub fn bucket_pages(&self, bucket: &Bucket) -> Result<PageStats> {
        let mut st = PageStats::default();
        if bucket.is_inline() {
            st.inline = true;
            return Ok(st);
        }
        let mut seen = HashSet::new();
        let mut stack = vec![(bucket.header.root, 1usize)];
        while let Some((id, depth)) = stack.pop() {
            if !seen.insert(id) {
                return Err(Error::BadDb {
                    page: Some(id),
                    problem: "multiple references".into(),
                });
            }
            if depth > MAX_DEPTH {
                return Err(Error::BadDb {
                    page: Some(id),
                    problem: format!("tree deeper than {MAX_DEPTH} levels"),
                });
            }
            let p = self.page(id)?;
            st.depth = st.depth.max(depth);
            st.overflow += u64::from(p.overflow);
            if p.is_leaf() {
                st.leaf += 1;
            } else if p.is_branch() {
                st.branch += 1;
                for i in (0..usize::from(p.count)).rev() {
                    stack.push((p.branch(i)?.pgid, depth + 1));
                }
            }
        }
        Ok(st)
    }
}

/// Page counts of one bucket's tree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PageStats {
    /// Branch pages.
    pub branch: u64,
    /// Leaf pages.
    pub leaf: u64,
    /// Overflow pages (continuations of large pages).
    pub overflow: u64,
    /// Levels of the tree.
    pub depth: usize,
    /// Stored inline in the parent's value (no pages of its own).
    pub inline: bool,
}

impl<S: PageSource> Checker<'_, S> {
    fn check_bucket(&mut self, b: &Bucket) {
        if b.is_inline() {
            return self.check_children(b);
        }
        let hwm = self.db.meta().pgid;
        if self.reachable.contains(&b.header.root) {
            // Its children were (or are being) checked through the first reference.
            return self.problem(format!("page {}: multiple references", b.header.root));
        }
        let mut stack = vec![(b.header.root, 1usize)];
        while let Some((id, depth)) = stack.pop() {
            if self.problems.len() >= MAX_PROBLEMS {
                return;
            }
            if id >= hwm {
                self.problem(format!("page {id}: out of bounds: {hwm}"));
                continue;
            }
            if self.reachable.contains(&id) {
                self.problem(format!("page {id}: multiple references"));
                continue;
            }
            if depth > MAX_DEPTH {
                self.problem(format!("page {id}: tree deeper than {MAX_DEPTH} levels"));
                continue;
            }
            let p = match self.db.page(id) {
                Ok(p) => p,
                Err(e) => {
                    self.reachable.insert(id);
                    self.failed(e);
                    continue;
                }
            };
            for i in 0..=u64::from(p.overflow) {
                if i > 0 && !self.reachable.insert(id + i) {
                    self.problem(format!("page {}: multiple references", id + i));
                }
            }
            self.reachable.insert(id);
            if self.freed.contains(&id) {
                self.problem(format!("page {id}: reachable freed"));
            } else if !p.is_leaf() && !p.is_branch() {
                self.problem(format!("page {id}: invalid type: {}", type_name(p.flags)));
            } else if p.is_branch() {
                for i in (0..usize::from(p.count)).rev() {
                    match p.branch(i) {
                        Ok(e) => stack.push((e.pgid, depth + 1)),
                        Err(e) => self.failed(e),
                    }
                }
            }
        }
        self.check_children(b);
    }

    /// Checks the buckets nested in `b`.
    fn check_children(&mut self, b: &Bucket) {
        if b.level >= MAX_DEPTH {
            self.problem(format!(
                "page {}: buckets nested more than {MAX_DEPTH} deep",
                b.root_page()
            ));
            return;
        }
        let mut children = Vec::new();
        let mut budget = self.budget;
        let r = self.db.walk(b, None, &mut |e| {
            if budget == 0 {
                return Err(Error::BadDb {
                    page: Some(e.page),
                    problem: "more entries than the file can hold (overlapping elements)".into(),
                });
            }
            budget -= 1;
            if e.is_bucket {
                children.push(b.child(&e));
            }
            Ok(ControlFlow::Continue(()))
        });
        self.budget = budget;
        if let Err(e) = r {
            self.failed(e);
        }
        for child in children {
            match child {
                Ok(c) => self.check_bucket(&c),
                Err(e) => self.failed(e),
            }
        }
    }
}

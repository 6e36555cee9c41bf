//! Read-only inspection of etcd's files, pure Rust for native and wasm builds: a bbolt
//! reader ([`bbolt`]), etcd's mvcc keyspace ([`mvcc`]), `etcdctl snapshot status`
//! ([`status`]), the other buckets ([`info`]) and the v2 store JSON of `.snap` data
//! ([`v2store`]).
//!
//! Everything reads through a [`PageSource`] (positioned reads; slices, `Bytes` and native
//! files implement it), so a large db is read a page at a time. Input is treated as hostile:
//! every offset, length and page id is checked, tree walks are bounded and detect cycles,
//! and every failure is an [`Error::BadDb`] naming the page and the problem.
//!
//! ```no_run
//! # fn main() -> etcd_snap::Result<()> {
//! use etcd_snap::inspect::{Db, RangeQuery};
//! let bytes = std::fs::read("member/snap/db")?;
//! let db = Db::open(bytes)?;
//! println!("{:?}", db.status()?);
//! let mvcc = db.mvcc()?;
//! for kv in mvcc.range(&RangeQuery::prefix(b"/registry/"))?.kvs {
//!     println!("{}", String::from_utf8_lossy(&kv.key));
//! }
//! # Ok(()) }
//! ```

pub mod bbolt;
pub mod etcdctl;
pub mod info;
pub mod keys;
pub mod mvcc;
pub mod mvccpb;
pub mod schema;
pub mod source;
pub mod status;
pub mod stream;
pub mod trailer;
pub mod v2store;
pub mod verdict;

pub use bbolt::Bolt;
pub use info::{BucketInfo, ClusterInfo, MvccMeta};
pub use keys::{KeyEntry, KeyPage, KeyPageQuery, KeySort};
pub use mvcc::{Event, Mvcc, PrefixSpace, RangeQuery, RangeResult, Revision};
pub use mvccpb::KeyValue;
pub use schema::{Compat, SchemaVersion};
#[cfg(not(target_arch = "wasm32"))]
pub use source::FileSource;
pub use source::{Cached, PageSource, Prefix};
pub use status::Status;
pub use trailer::Trailer;
pub use v2store::{CustomNode, Member, MetaOnlyRule, V2Store};
pub use verdict::listing_verdict;

use crate::error::Result;

/// How to open a db.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenOptions {
    /// Check the sha256 trailer of an `etcdctl snapshot save` file (reads the whole file
    /// once). On by default, as in `etcdctl snapshot restore`.
    pub verify_trailer: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            verify_trailer: true,
        }
    }
}

/// An etcd db (`member/snap/db`, a `.snap.db`, or an `etcdctl snapshot save` file).
#[derive(Debug)]
pub struct Db<S> {
    bolt: Bolt<Prefix<S>>,
    trailer: Trailer,
}

impl<S: PageSource> Db<S> {
    /// Opens with default options.
    pub fn open(src: S) -> Result<Self> {
        Self::open_with(src, OpenOptions::default())
    }

    /// Opens: a compressed file is named as such; then the trailer (if any, after a check
    /// that the db before it is as long as its meta page says), then bbolt's meta pages.
    pub fn open_with(src: S, opts: OpenOptions) -> Result<Self> {
        verdict::not_compressed(&src)?;
        if opts.verify_trailer {
            verdict::check_truncated_backup(&src)?;
        }
        let (len, trailer) = trailer::check(&src, opts.verify_trailer)?;
        let bolt = Bolt::open(Prefix::new(src, len))?;
        Ok(Db { bolt, trailer })
    }

    /// The bbolt layer.
    pub fn bolt(&self) -> &Bolt<Prefix<S>> {
        &self.bolt
    }

    /// The sha256 trailer state.
    pub fn trailer(&self) -> Trailer {
        self.trailer
    }

    /// `snapshot status` as the etcd that wrote the db prints it by default
    /// ([`Db::schema_version`]'s [`Compat`]; runs bbolt's integrity check first).
    pub fn status(&self) -> Result<Status> {
        match self.schema_version() {
            Ok(v) => self.status_as(v.compat),
            // etcd's own error (the integrity check's, most likely) comes first.
            Err(e) => self.status_as(Compat::V3_4).and(Err(e)),
        }
    }

    /// `snapshot status` as `compat`'s `etcdctl`/`etcdutl` prints it.
    pub fn status_as(&self, compat: Compat) -> Result<Status> {
        status::status(&self.bolt, compat)
    }

    /// The storage schema version by etcd 3.6's rules (see [`schema`]).
    pub fn schema_version(&self) -> Result<SchemaVersion> {
        schema::schema_version(&self.bolt)
    }

    /// Damage bbolt reads through without a word, found so far (see [`Bolt::warnings`]): the
    /// answers are then etcdctl's, and the CLIs print these as `warning: ...` lines.
    pub fn warnings(&self) -> Vec<String> {
        self.bolt.warnings()
    }

    /// bbolt's integrity check: an empty list means consistent.
    pub fn check(&self) -> Vec<String> {
        self.bolt.check()
    }

    /// Top-level buckets with totals.
    pub fn buckets(&self) -> Result<Vec<BucketInfo>> {
        info::buckets(&self.bolt)
    }

    /// What the non-key buckets say (meta, members, leases, auth, alarms).
    pub fn cluster_info(&self) -> Result<ClusterInfo> {
        info::cluster_info(&self.bolt)
    }

    /// Answers `q` key by key into `sink` in bounded memory (no index; see [`stream`]):
    /// the keyspace is scanned in windows of at most `budget` bytes.
    pub fn range_stream(
        &self,
        q: &RangeQuery,
        budget: usize,
        sink: &mut dyn stream::RangeSink,
    ) -> Result<stream::RangeTail> {
        let meta = info::mvcc_meta(&self.bolt)?;
        stream::range(&self.bolt, meta.compact_revision(), q, budget, sink)
    }

    /// Indexes the keyspace for range queries, histories and space totals.
    pub fn mvcc(&self) -> Result<Mvcc<'_, Prefix<S>>> {
        let meta = info::mvcc_meta(&self.bolt)?;
        Mvcc::build(&self.bolt, meta.compact_revision())
    }
}

pub use crate::error::{BadDb, go_bytes};

/// Serializes bytes as a lossy UTF-8 string (for display-only names).
pub(crate) fn ser_lossy<Ser: serde::Serializer>(b: &[u8], s: Ser) -> Result<Ser::Ok, Ser::Error> {
    s.serialize_str(&String::from_utf8_lossy(b))
}

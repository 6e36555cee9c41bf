//! The one error type. Messages are etcd's own strings wherever etcd has one, so logs and
//! scripts written against etcd keep working; [`Error::code`] is the stable identifier that
//! the JavaScript layer exposes as `error.code`.

pub use crate::io_error::{IoError, IoErrorKind, go_reason};

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every failure etcd-snap reports.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// etcd `ErrNoSnapshot`.
    #[error("snap: no available snapshot")]
    NoSnapshot,
    /// etcd `ErrEmptySnapshot`: zero-length file, zero CRC or empty data.
    #[error("snap: empty snapshot")]
    EmptySnapshot,
    /// etcd `ErrCRCMismatch`.
    #[error("snap: crc mismatch")]
    CrcMismatch,
    /// etcd `ErrNoDBSnapshot`.
    #[error("snap: snapshot file doesn't exist")]
    NoDbSnapshot,
    /// A protobuf decode failure, worded as gogo-protobuf words it.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// etcd `ioutil.ErrShortRead`. Unlike etcd, the underlying cause (if any) is kept as
    /// [`std::error::Error::source`] instead of being masked.
    #[error("ioutil: short read")]
    ShortRead {
        /// What the inner reader reported, when it failed rather than ended early.
        #[source]
        cause: Option<Box<Error>>,
    },
    /// etcd `ioutil.ErrExpectEOF`: the body was longer than declared.
    #[error("ioutil: expect EOF")]
    ExpectEof,
    /// etcd `rafthttp.ErrExceedSizeLimit`.
    #[error("rafthttp: error limit exceeded")]
    ExceedSizeLimit,
    /// etcd's `cleanupSnapdir` failure; the wording is etcd's, misleading as it is.
    #[error("failed to remove orphaned .snap.db file {name}: {source}")]
    RemoveOrphan {
        /// The `db.tmp*` name that could not be removed.
        name: String,
        /// Why.
        #[source]
        source: Box<Error>,
    },
    /// A storage backend failure, worded like Go's `*os.PathError` (`open <path>: <reason>`).
    #[error(transparent)]
    Io(#[from] IoError),
    /// The caller passed something unusable (a bad name, a malformed argument).
    #[error("{0}")]
    InvalidArgument(String),
    /// A bbolt/etcd db that cannot be read (hostile or corrupt input): names the page, if
    /// one is to blame, and the problem.
    #[error("{}", BadDb::describe(*page, problem))]
    BadDb {
        /// The page at fault, when the problem is in one page.
        page: Option<u64>,
        /// What is wrong, in bbolt's words where bbolt has some.
        problem: String,
    },
    /// The sha256 trailer of an `etcdctl snapshot save` file does not match: etcd's message
    /// (`snapshot/v3_snapshot.go`, `expected sha256 %v, got %v`) with the digests in hex
    /// rather than Go's decimal byte lists, so they can be compared with `sha256sum`.
    #[error("expected sha256 {}, got {}", hex_bytes(expected), hex_bytes(actual))]
    DbHashMismatch {
        /// The trailer's digest.
        expected: [u8; 32],
        /// The digest of the db bytes before it.
        actual: [u8; 32],
    },
    /// etcd `mvcc.ErrCompacted`.
    #[error("mvcc: required revision has been compacted")]
    Compacted,
    /// etcd `mvcc.ErrFutureRev`.
    #[error("mvcc: required revision is a future revision")]
    FutureRev,
    /// Go `io.EOF`: a snapshot body that ended before its first byte.
    #[error("EOF")]
    Eof,
    /// rafthttp `errMemberRemoved` (the peer answered 403).
    #[error("the member has been permanently removed from the cluster")]
    MemberRemoved,
    /// rafthttp `errIncompatibleVersion` (412 `incompatible version`).
    #[error("incompatible version")]
    IncompatibleVersion,
    /// rafthttp `errClusterIDMismatch` (412 `cluster ID mismatch`).
    #[error("cluster ID mismatch")]
    ClusterIdMismatch,
    /// A 412 with any other body, worded as rafthttp's `checkPostResponse`.
    #[error("unhandled error {0:?} when precondition failed")]
    PreconditionFailed(String),
    /// Any other status (200 included), worded as rafthttp's `checkPostResponse`.
    #[error("unexpected http status {status} while posting to {url:?}")]
    HttpStatus {
        /// Go's `http.StatusText` of the status.
        status: String,
        /// The URL posted to.
        url: String,
    },
    /// The POST itself failed (connect, reset, timeout), worded as Go's `*url.Error`.
    #[error("Post {url:?}: {detail}")]
    Transport {
        /// The URL posted to.
        url: String,
        /// What failed.
        detail: String,
    },
    /// A snapshot receiver at one of its bounds (issue 9): answered 503, retry later.
    #[error("{0}")]
    Busy(String),
    /// etcd `wal.ErrCRCMismatch`: a segment's `crc` record does not continue the running CRC
    /// (etcd wal/wal.go:480).
    #[error("wal: crc mismatch")]
    WalCrcMismatch,
    /// etcd `walpb.ErrCRCMismatch`: a record's CRC is not the running CRC over its data
    /// (etcd wal/decoder.go:110).
    #[error("walpb: crc mismatch")]
    WalRecordCrcMismatch,
    /// etcd `wal.ErrFileNotFound`: no `*.wal` segment, none at or before the snapshot index,
    /// or a gap in the sequence numbers (etcd wal/wal.go:380, wal/util.go:87).
    #[error("wal: file not found")]
    WalFileNotFound,
    /// etcd `wal.ErrSliceOutOfRange`: an entry whose index leaves a gap after the entries read
    /// so far (etcd wal/wal.go:458).
    #[error("wal: slice bounds out of range")]
    WalSliceOutOfRange,
    /// etcd `wal.ErrSnapshotNotFound`: read-mode `ReadAll` found no snapshot record equal to
    /// the one it was opened at (etcd wal/wal.go:532).
    #[error("wal: snapshot not found")]
    WalSnapshotNotFound,
    /// etcd `wal.ErrSnapshotMismatch`: a snapshot record with the index opened at but another
    /// term (etcd wal/wal.go:490).
    #[error("wal: snapshot mismatch")]
    WalSnapshotMismatch,
    /// etcd `wal.ErrMetadataConflict`: two metadata records that differ (etcd wal/wal.go:470).
    #[error("wal: conflicting metadata found")]
    WalMetadataConflict,
    /// Go's `io.ErrUnexpectedEOF` from the WAL decoder: a record cut short, or a torn write
    /// (a zeroed sector inside a bad record of the last segment; etcd wal/decoder.go:92-112).
    #[error("unexpected EOF")]
    WalUnexpectedEof,
    /// etcd 3.4 `wal.ErrMaxWALEntrySizeLimitExceeded`: a record of 10 MiB or more
    /// (etcd 3.4.23 wal/decoder.go:87).
    #[error("wal: max entry size limit exceeded")]
    WalMaxEntrySize,
    /// etcd 3.5's record longer than what is left of its segment: `io.ErrUnexpectedEOF`
    /// wrapped with the detail (etcd v3.5.16 server/wal/decoder.go:85-88), so it is tolerated
    /// wherever an unexpected EOF is.
    #[error(
        "unexpected EOF: [wal] max entry size limit exceeded when decoding {}, recBytes: {rec_bytes}, fileSize({file_size}) - offset({offset}) - padBytes({pad_bytes}) = entryLimit({limit})",
        crate::go_fmt::quote(file.as_bytes())
    )]
    WalMaxEntrySizeEof {
        /// The segment's base name.
        file: String,
        /// The record length from the length word.
        rec_bytes: i64,
        /// The segment's size when opened.
        file_size: i64,
        /// The decoder's last valid offset in the segment.
        offset: i64,
        /// The padding from the length word.
        pad_bytes: i64,
        /// `file_size - offset - pad_bytes`.
        limit: i64,
    },
    /// `ReadAll`'s error for a record type it does not know (etcd wal/wal.go:497).
    #[error("unexpected block type {0}")]
    WalUnexpectedBlockType(i64),
    /// An entry, HardState or snapshot record whose data does not decode: etcd *panics* here
    /// (`pbutil.MustUnmarshal`, etcd 3.4.23 pkg/pbutil/pbutil.go:42), with this message.
    #[error("unmarshal should never fail ({0})")]
    WalUnmarshalPanic(DecodeError),
}

/// A protobuf decode failure, worded exactly as gogo-protobuf (etcd 3.4) words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Input ended inside a field.
    #[error("unexpected EOF")]
    UnexpectedEof,
    /// A varint longer than 64 bits.
    #[error("proto: integer overflow")]
    IntegerOverflow,
    /// A length prefix that is negative as an int.
    #[error("proto: negative length found during unmarshaling")]
    NegativeLength,
    /// A known field arrived with the wrong wire type.
    #[error("proto: wrong wireType = {wire_type} for field {field}")]
    WrongWireType {
        /// The wire type seen.
        wire_type: u8,
        /// The Go field name (`Crc`, `Data`, ...).
        field: &'static str,
    },
    /// Wire type 6 or 7.
    #[error("proto: illegal wireType {0}")]
    IllegalWireType(u8),
    /// An end-group key outside a group.
    #[error("proto: {0}: wiretype end group for non-group")]
    EndGroup(&'static str),
    /// Field number ≤ 0 after gogo's `int32(key >> 3)`; gogo prints the whole key varint as
    /// the "wire type".
    #[error("proto: {message}: illegal tag {field} (wire type {key})")]
    IllegalTag {
        /// The proto message name.
        message: &'static str,
        /// The field number as gogo computed it (0 or negative).
        field: i32,
        /// The whole key varint.
        key: u64,
    },
    /// A failure gogo has no wording for (kept as prost reported it).
    #[error("proto: {0}")]
    Other(String),
}

impl Error {
    /// Stable machine-readable code, also used as `error.code` in JavaScript.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NoSnapshot => "ERR_NO_SNAPSHOT",
            Error::EmptySnapshot => "ERR_EMPTY_SNAPSHOT",
            Error::CrcMismatch => "ERR_CRC_MISMATCH",
            Error::NoDbSnapshot => "ERR_NO_DB_SNAPSHOT",
            Error::Decode(_) => "ERR_DECODE",
            Error::ShortRead { .. } => "ERR_SHORT_READ",
            Error::ExpectEof => "ERR_EXPECT_EOF",
            Error::ExceedSizeLimit => "ERR_LIMIT_EXCEEDED",
            Error::RemoveOrphan { .. } => "ERR_REMOVE_ORPHAN",
            Error::Io(e) => e.kind.code(),
            Error::InvalidArgument(_) => "ERR_INVALID_ARGUMENT",
            Error::BadDb { .. } => "ERR_BAD_DB",
            Error::DbHashMismatch { .. } => "ERR_DB_HASH_MISMATCH",
            Error::Compacted => "ERR_COMPACTED",
            Error::FutureRev => "ERR_FUTURE_REV",
            Error::Eof => "ERR_EOF",
            Error::MemberRemoved => "ERR_MEMBER_REMOVED",
            Error::IncompatibleVersion => "ERR_INCOMPATIBLE_VERSION",
            Error::ClusterIdMismatch => "ERR_CLUSTER_ID_MISMATCH",
            Error::PreconditionFailed(_) => "ERR_PRECONDITION_FAILED",
            Error::HttpStatus { .. } => "ERR_HTTP_STATUS",
            Error::Transport { .. } => "ERR_TRANSPORT",
            Error::Busy(_) => "ERR_BUSY",
            Error::WalCrcMismatch => "ERR_WAL_CRC_MISMATCH",
            Error::WalRecordCrcMismatch => "ERR_WALPB_CRC_MISMATCH",
            Error::WalFileNotFound => "ERR_WAL_FILE_NOT_FOUND",
            Error::WalSliceOutOfRange => "ERR_WAL_SLICE_OUT_OF_RANGE",
            Error::WalSnapshotNotFound => "ERR_WAL_SNAPSHOT_NOT_FOUND",
            Error::WalSnapshotMismatch => "ERR_WAL_SNAPSHOT_MISMATCH",
            Error::WalMetadataConflict => "ERR_WAL_METADATA_CONFLICT",
            Error::WalUnexpectedEof => "ERR_WAL_UNEXPECTED_EOF",
            Error::WalMaxEntrySize => "ERR_WAL_MAX_ENTRY_SIZE",
            Error::WalMaxEntrySizeEof { .. } => "ERR_WAL_MAX_ENTRY_SIZE_EOF",
            Error::WalUnexpectedBlockType(_) => "ERR_WAL_UNEXPECTED_BLOCK_TYPE",
            Error::WalUnmarshalPanic(_) => "ERR_WAL_UNMARSHAL_PANIC",
        }
    }

    /// Every code [`Error::code`] can return (a storage error's is its [`IoErrorKind::code`]):
    /// what reaches JavaScript as `error.code`. The TypeScript union `EtcdSnapError["code"]`
    /// (`src/wasm/mod.rs`) is checked against it by a test.
    pub const ALL_CODES: &'static [&'static str] = &[
        "ERR_NO_SNAPSHOT",
        "ERR_EMPTY_SNAPSHOT",
        "ERR_CRC_MISMATCH",
        "ERR_NO_DB_SNAPSHOT",
        "ERR_DECODE",
        "ERR_SHORT_READ",
        "ERR_EXPECT_EOF",
        "ERR_LIMIT_EXCEEDED",
        "ERR_REMOVE_ORPHAN",
        "ERR_INVALID_ARGUMENT",
        "ERR_BAD_DB",
        "ERR_DB_HASH_MISMATCH",
        "ERR_COMPACTED",
        "ERR_FUTURE_REV",
        "ERR_EOF",
        "ERR_MEMBER_REMOVED",
        "ERR_INCOMPATIBLE_VERSION",
        "ERR_CLUSTER_ID_MISMATCH",
        "ERR_PRECONDITION_FAILED",
        "ERR_HTTP_STATUS",
        "ERR_TRANSPORT",
        "ERR_BUSY",
        "ERR_WAL_CRC_MISMATCH",
        "ERR_WALPB_CRC_MISMATCH",
        "ERR_WAL_FILE_NOT_FOUND",
        "ERR_WAL_SLICE_OUT_OF_RANGE",
        "ERR_WAL_SNAPSHOT_NOT_FOUND",
        "ERR_WAL_SNAPSHOT_MISMATCH",
        "ERR_WAL_METADATA_CONFLICT",
        "ERR_WAL_UNEXPECTED_EOF",
        "ERR_WAL_MAX_ENTRY_SIZE",
        "ERR_WAL_MAX_ENTRY_SIZE_EOF",
        "ERR_WAL_UNEXPECTED_BLOCK_TYPE",
        "ERR_WAL_UNMARSHAL_PANIC",
        "ERR_NOT_FOUND",
        "ERR_ALREADY_EXISTS",
        "ERR_IS_A_DIRECTORY",
        "ERR_LOCKED",
        "ERR_NO_SPACE",
        "ERR_PERMISSION_DENIED",
        "ERR_SHORT_WRITE",
        "ERR_UNSUPPORTED",
        "ERR_IO",
        "ERR_NOT_REGULAR_FILE",
        "ERR_TOO_LARGE",
    ];

    /// Shorthand for a storage error.
    pub fn io(
        kind: IoErrorKind,
        op: &'static str,
        path: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Error::Io(IoError {
            kind,
            op,
            path: path.into(),
            detail: detail.into(),
        })
    }

    /// The storage error kind, if this is a storage error.
    pub fn io_kind(&self) -> Option<IoErrorKind> {
        match self {
            Error::Io(e) => Some(e.kind),
            _ => None,
        }
    }

    /// True for a storage "not found".
    pub fn is_not_found(&self) -> bool {
        self.io_kind() == Some(IoErrorKind::NotFound)
    }
}

/// Carries an [`Error`] through `std::io::Error` (the `AsyncRead` error type) and back out
/// unchanged, so typed errors survive a trip through readers.
impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        std::io::Error::other(e)
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            return *e.into_inner().unwrap().downcast::<Error>().unwrap();
        }
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            return Error::Decode(DecodeError::UnexpectedEof);
        }
        Error::os("read", "", &e)
    }
}

impl Error {
    /// An OS error as the crate's error, worded as Go's `*os.PathError`
    /// (`open /dir/x.snap: no such file or directory`).
    pub fn os(op: &'static str, path: impl Into<String>, e: &std::io::Error) -> Error {
        Error::io(IoErrorKind::of_os(e), op, path, go_reason(e))
    }
}

/// Formats an [`Error::BadDb`].
#[derive(Debug)]
pub struct BadDb;

impl BadDb {
    /// `page N: problem`, or the problem alone.
    pub fn describe(page: Option<u64>, problem: &str) -> String {
        match page {
            Some(p) => format!("page {p}: {problem}"),
            None => problem.to_owned(),
        }
    }
}

/// Lower-case hex of `b`, as `sha256sum` prints a digest.
pub fn hex_bytes(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Go's `%v` of a byte slice (`[1 2 3]`), as etcd's sha256 mismatch message prints it.
pub fn go_bytes(b: &[u8]) -> String {
    let parts: Vec<String> = b.iter().map(u8::to_string).collect();
    format!("[{}]", parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::{Error, IoError, IoErrorKind as K};

    /// One value of every variant; the exhaustive match stops the build when a variant is
    /// added without being listed here (and so, through the test below, in `ALL_CODES`).
    fn one_of_each() -> Vec<Error> {
        let io = |kind| {
            Error::Io(IoError {
                kind,
                op: "open",
                path: String::new(),
                detail: String::new(),
            })
        };
        let mut all = vec![
            Error::NoSnapshot,
            Error::EmptySnapshot,
            Error::CrcMismatch,
            Error::NoDbSnapshot,
            Error::Decode(super::DecodeError::UnexpectedEof),
            Error::ShortRead { cause: None },
            Error::ExpectEof,
            Error::ExceedSizeLimit,
            Error::RemoveOrphan {
                name: String::new(),
                source: Box::new(Error::Eof),
            },
            Error::InvalidArgument(String::new()),
            Error::BadDb {
                page: None,
                problem: String::new(),
            },
            Error::DbHashMismatch {
                expected: [0; 32],
                actual: [0; 32],
            },
            Error::Compacted,
            Error::FutureRev,
            Error::Eof,
            Error::MemberRemoved,
            Error::IncompatibleVersion,
            Error::ClusterIdMismatch,
            Error::PreconditionFailed(String::new()),
            Error::HttpStatus {
                status: String::new(),
                url: String::new(),
            },
            Error::Transport {
                url: String::new(),
                detail: String::new(),
            },
            Error::Busy(String::new()),
            Error::WalCrcMismatch,
            Error::WalRecordCrcMismatch,
            Error::WalFileNotFound,
            Error::WalSliceOutOfRange,
            Error::WalSnapshotNotFound,
            Error::WalSnapshotMismatch,
            Error::WalMetadataConflict,
            Error::WalUnexpectedEof,
            Error::WalMaxEntrySize,
            Error::WalMaxEntrySizeEof {
                file: String::new(),
                rec_bytes: 0,
                file_size: 0,
                offset: 0,
                pad_bytes: 0,
                limit: 0,
            },
            Error::WalUnexpectedBlockType(0),
            Error::WalUnmarshalPanic(super::DecodeError::UnexpectedEof),
        ];
        for kind in [
            K::NotFound,
            K::AlreadyExists,
            K::IsADirectory,
            K::Locked,
            K::NoSpace,
            K::PermissionDenied,
            K::ShortWrite,
            K::Unsupported,
            K::Other,
            K::NotRegular,
            K::TooLarge,
        ] {
            match kind {
                K::NotFound
                | K::AlreadyExists
                | K::IsADirectory
                | K::Locked
                | K::NoSpace
                | K::PermissionDenied
                | K::ShortWrite
                | K::Unsupported
                | K::Other
                | K::NotRegular
                | K::TooLarge => all.push(io(kind)),
            }
        }
        for e in &all {
            match e {
                Error::NoSnapshot
                | Error::EmptySnapshot
                | Error::CrcMismatch
                | Error::NoDbSnapshot
                | Error::Decode(_)
                | Error::ShortRead { .. }
                | Error::ExpectEof
                | Error::ExceedSizeLimit
                | Error::RemoveOrphan { .. }
                | Error::Io(_)
                | Error::InvalidArgument(_)
                | Error::BadDb { .. }
                | Error::DbHashMismatch { .. }
                | Error::Compacted
                | Error::FutureRev
                | Error::Eof
                | Error::MemberRemoved
                | Error::IncompatibleVersion
                | Error::ClusterIdMismatch
                | Error::PreconditionFailed(_)
                | Error::HttpStatus { .. }
                | Error::Transport { .. }
                | Error::Busy(_)
                | Error::WalCrcMismatch
                | Error::WalRecordCrcMismatch
                | Error::WalFileNotFound
                | Error::WalSliceOutOfRange
                | Error::WalSnapshotNotFound
                | Error::WalSnapshotMismatch
                | Error::WalMetadataConflict
                | Error::WalUnexpectedEof
                | Error::WalMaxEntrySize
                | Error::WalMaxEntrySizeEof { .. }
                | Error::WalUnexpectedBlockType(_)
                | Error::WalUnmarshalPanic(_) => {}
            }
        }
        all
    }

    #[test]
    fn all_codes_are_the_codes_errors_have() {
        let codes: Vec<&str> = one_of_each().iter().map(Error::code).collect();
        assert_eq!(codes, Error::ALL_CODES);
    }

    /// The hand-written TypeScript union of `error.code` names exactly the Rust codes.
    #[test]
    fn the_typescript_code_union_is_the_rust_list() {
        let ts = include_str!("wasm/mod.rs");
        let start = ts
            .find("export interface EtcdSnapError")
            .expect("EtcdSnapError");
        let body = &ts[start..];
        let body = &body[body.find("code:").expect("code:") + 5..];
        let body = &body[..body.find(';').expect(";")];
        let mut union: Vec<&str> = body
            .split('|')
            .map(|c| c.trim().trim_matches('"'))
            .filter(|c| !c.is_empty())
            .collect();
        let mut rust = Error::ALL_CODES.to_vec();
        union.sort_unstable();
        rust.sort_unstable();
        assert_eq!(union, rust, "EtcdSnapError's code union in src/wasm/mod.rs");
    }
}

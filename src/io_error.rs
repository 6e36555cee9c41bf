//! Storage failures: their kinds, and the one map from each platform's errors onto them (OS
//! errors natively, Node `code`s and DOMException names in JavaScript), worded as Go words
//! them. A leaf: [`crate::error`] carries an [`IoError`] as `Error::Io`.

use std::fmt;

/// What kind of storage failure happened; backends map their platform errors onto these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IoErrorKind {
    /// The name does not exist.
    NotFound,
    /// The name exists and the operation required that it did not.
    AlreadyExists,
    /// The name is a directory where a file was expected.
    IsADirectory,
    /// Another process or tab holds the directory lock.
    Locked,
    /// The disk or the origin's quota is full.
    NoSpace,
    /// Permission denied.
    PermissionDenied,
    /// A write accepted fewer bytes than it was given.
    ShortWrite,
    /// The operation is not supported by this backend.
    Unsupported,
    /// Anything else.
    Other,
    /// The name is not a regular file (a FIFO, socket or device, possibly behind a symlink):
    /// never read, so it cannot hang or flood a reader, and never quarantined by `Load`.
    NotRegular,
    /// The file is too large for this runtime (a size or allocation limit of ours, not damage):
    /// never a reason to quarantine a file (issue 9, item 5).
    TooLarge,
}

impl IoErrorKind {
    /// Stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            IoErrorKind::NotFound => "ERR_NOT_FOUND",
            IoErrorKind::AlreadyExists => "ERR_ALREADY_EXISTS",
            IoErrorKind::IsADirectory => "ERR_IS_A_DIRECTORY",
            IoErrorKind::Locked => "ERR_LOCKED",
            IoErrorKind::NoSpace => "ERR_NO_SPACE",
            IoErrorKind::PermissionDenied => "ERR_PERMISSION_DENIED",
            IoErrorKind::ShortWrite => "ERR_SHORT_WRITE",
            IoErrorKind::Unsupported => "ERR_UNSUPPORTED",
            IoErrorKind::Other => "ERR_IO",
            IoErrorKind::NotRegular => "ERR_NOT_REGULAR_FILE",
            IoErrorKind::TooLarge => "ERR_TOO_LARGE",
        }
    }
}

/// A storage failure: operation, path and the platform's reason, displayed as Go's
/// `*os.PathError` is (`open /dir/x.snap: no such file or directory`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoError {
    /// The failure class.
    pub kind: IoErrorKind,
    /// The operation, in Go's words (`open`, `read`, `rename`, `remove`, `sync`, ...).
    pub op: &'static str,
    /// The path or name as the backend knows it.
    pub path: String,
    /// The platform's reason, lowercase as Go prints it.
    pub detail: String,
}

impl fmt::Display for IoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.op, self.detail)
        } else {
            write!(f, "{} {}: {}", self.op, self.path, self.detail)
        }
    }
}

impl std::error::Error for IoError {}

impl IoErrorKind {
    /// The one map from an OS error (`std::io::Error`) to a kind; every native caller (the
    /// `std::fs` backend, the CLI's own file access) goes through it. A held lock is not an OS
    /// error here: the lock code reports [`IoErrorKind::Locked`] itself.
    pub fn of_os(e: &std::io::Error) -> IoErrorKind {
        use std::io::ErrorKind as K;
        const ENOSPC: i32 = 28;
        const EDQUOT: i32 = 122;
        match e.kind() {
            K::NotFound => IoErrorKind::NotFound,
            K::AlreadyExists => IoErrorKind::AlreadyExists,
            K::PermissionDenied => IoErrorKind::PermissionDenied,
            K::IsADirectory => IoErrorKind::IsADirectory,
            K::StorageFull | K::QuotaExceeded => IoErrorKind::NoSpace,
            K::WriteZero => IoErrorKind::ShortWrite,
            K::Unsupported => IoErrorKind::Unsupported,
            _ if cfg!(target_os = "linux") && matches!(e.raw_os_error(), Some(ENOSPC | EDQUOT)) => {
                IoErrorKind::NoSpace
            }
            _ => IoErrorKind::Other,
        }
    }
}

impl IoErrorKind {
    /// The one map from a JavaScript error to a kind: its `code` (Node's `E*`, or one of our
    /// own `ERR_*` codes coming back from a JS backend) first, else its DOMException `name`
    /// (OPFS, Web Locks). Every JS-facing backend (Node fs, OPFS, JS objects) goes through it.
    pub fn of_js(code: Option<&str>, name: Option<&str>) -> IoErrorKind {
        let by_code = match code {
            Some("ENOENT" | "ERR_NOT_FOUND") => Some(IoErrorKind::NotFound),
            Some("EEXIST" | "ERR_ALREADY_EXISTS") => Some(IoErrorKind::AlreadyExists),
            Some("EISDIR" | "ERR_IS_A_DIRECTORY") => Some(IoErrorKind::IsADirectory),
            Some("ENOSPC" | "EDQUOT" | "EFBIG" | "ERR_NO_SPACE") => Some(IoErrorKind::NoSpace),
            Some("EACCES" | "EPERM" | "EROFS" | "ERR_PERMISSION_DENIED") => {
                Some(IoErrorKind::PermissionDenied)
            }
            Some("ERR_LOCKED") => Some(IoErrorKind::Locked),
            Some("ERR_SHORT_WRITE") => Some(IoErrorKind::ShortWrite),
            Some("ERR_UNSUPPORTED") => Some(IoErrorKind::Unsupported),
            Some("ERR_NOT_REGULAR_FILE") => Some(IoErrorKind::NotRegular),
            Some("ERR_TOO_LARGE" | "ERR_FS_FILE_TOO_LARGE") => Some(IoErrorKind::TooLarge),
            _ => None,
        };
        by_code.unwrap_or(match name {
            Some("NotFoundError") => IoErrorKind::NotFound,
            Some("QuotaExceededError") => IoErrorKind::NoSpace,
            // A file where a directory was expected or the reverse (getFileHandle on a directory).
            Some("TypeMismatchError") => IoErrorKind::IsADirectory,
            // An open sync access handle or writable holds the file.
            Some("NoModificationAllowedError") => IoErrorKind::Locked,
            Some("NotAllowedError" | "SecurityError") => IoErrorKind::PermissionDenied,
            _ => IoErrorKind::Other,
        })
    }

    /// Go's wording (`strerror`, lowercase) for the Node error codes a file system reports.
    pub fn go_text(code: &str) -> Option<&'static str> {
        Some(match code {
            "ENOENT" => "no such file or directory",
            "EEXIST" => "file exists",
            "EISDIR" => "is a directory",
            "ENOTDIR" => "not a directory",
            "EACCES" => "permission denied",
            "EPERM" => "operation not permitted",
            "ENOSPC" => "no space left on device",
            "EDQUOT" => "disk quota exceeded",
            "EROFS" => "read-only file system",
            "EBUSY" => "device or resource busy",
            "EMFILE" => "too many open files",
            "ENFILE" => "too many open files in system",
            "ENOTEMPTY" => "directory not empty",
            "EIO" => "input/output error",
            "EBADF" => "bad file descriptor",
            "EINVAL" => "invalid argument",
            "EXDEV" => "invalid cross-device link",
            "ENAMETOOLONG" => "file name too long",
            "ELOOP" => "too many levels of symbolic links",
            "EAGAIN" => "resource temporarily unavailable",
            "EFBIG" => "file too large",
            "EPIPE" => "broken pipe",
            _ => return None,
        })
    }
}

/// Go prints OS errors as the lowercase strerror text without Rust's ` (os error N)` tail.
pub fn go_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    let s = match s.find(" (os error ") {
        Some(i) => &s[..i],
        None => &s[..],
    };
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::IoErrorKind as K;

    /// Node codes, our own codes and DOMException names all go through the one map; the code
    /// wins over the name.
    #[test]
    fn js_errors_map_to_kinds() {
        assert_eq!(K::of_js(Some("ENOENT"), None), K::NotFound);
        assert_eq!(K::of_js(Some("ERR_LOCKED"), Some("Error")), K::Locked);
        assert_eq!(K::of_js(Some("EFBIG"), None), K::NoSpace);
        assert_eq!(K::of_js(Some("ERR_FS_FILE_TOO_LARGE"), None), K::TooLarge);
        assert_eq!(K::of_js(None, Some("TypeMismatchError")), K::IsADirectory);
        assert_eq!(
            K::of_js(None, Some("NoModificationAllowedError")),
            K::Locked
        );
        assert_eq!(K::of_js(None, Some("QuotaExceededError")), K::NoSpace);
        assert_eq!(K::of_js(None, Some("InvalidStateError")), K::Other);
        assert_eq!(
            K::of_js(Some("EEXIST"), Some("NotFoundError")),
            K::AlreadyExists
        );
        assert_eq!(K::go_text("ENOENT"), Some("no such file or directory"));
        assert_eq!(K::go_text("ERR_LOCKED"), None);
    }

    /// The OPFS backend had its own table, which read a refused permission as `ERR_IO`; with
    /// one map every backend says `ERR_PERMISSION_DENIED`, as the Node and JS-object ones did.
    #[test]
    fn a_refused_permission_is_the_same_kind_on_every_backend() {
        for name in ["NotAllowedError", "SecurityError"] {
            assert_eq!(K::of_js(None, Some(name)), K::PermissionDenied);
            assert_eq!(K::of_js(None, Some(name)).code(), "ERR_PERMISSION_DENIED");
        }
    }
}

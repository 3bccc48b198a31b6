//! Errors: every variant carries the errno a POSIX caller would see.

/// Errno values (Linux numbering) so the crate needs no libc in its default build.
pub mod errno {
    /// Operation not permitted.
    pub const EPERM: i32 = 1;
    /// No such file or directory.
    pub const ENOENT: i32 = 2;
    /// I/O error.
    pub const EIO: i32 = 5;
    /// Bad file descriptor.
    pub const EBADF: i32 = 9;
    /// Resource temporarily unavailable (also `EWOULDBLOCK`).
    pub const EAGAIN: i32 = 11;
    /// Permission denied.
    pub const EACCES: i32 = 13;
    /// Device or resource busy.
    pub const EBUSY: i32 = 16;
    /// File exists.
    pub const EEXIST: i32 = 17;
    /// Invalid cross-device link.
    pub const EXDEV: i32 = 18;
    /// Not a directory.
    pub const ENOTDIR: i32 = 20;
    /// Is a directory.
    pub const EISDIR: i32 = 21;
    /// Invalid argument.
    pub const EINVAL: i32 = 22;
    /// File too large.
    pub const EFBIG: i32 = 27;
    /// Too many links.
    pub const EMLINK: i32 = 31;
    /// File name too long.
    pub const ENAMETOOLONG: i32 = 36;
    /// Directory not empty.
    pub const ENOTEMPTY: i32 = 39;
    /// Too many levels of symbolic links.
    pub const ELOOP: i32 = 40;
    /// No data (used for `SEEK_DATA` past the last data).
    pub const ENXIO: i32 = 6;
    /// Value too large for defined data type.
    pub const EOVERFLOW: i32 = 75;
}

/// What can go wrong in a file-system call. [`FsError::errno`] gives the POSIX errno.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FsError {
    /// A path component does not exist (`ENOENT`).
    #[error("no such file or directory: {path}")]
    NotFound {
        /// The path (or name) that was looked up.
        path: String,
    },
    /// The name already exists (`EEXIST`).
    #[error("file exists: {path}")]
    Exists {
        /// The existing path.
        path: String,
    },
    /// A non-final path component, or an `O_DIRECTORY` target, is not a directory (`ENOTDIR`).
    #[error("not a directory: {path}")]
    NotDir {
        /// The offending path.
        path: String,
    },
    /// The operation needs a non-directory (`EISDIR`).
    #[error("is a directory: {path}")]
    IsDir {
        /// The offending path.
        path: String,
    },
    /// `rmdir` or a replacing `rename` on a directory with entries (`ENOTEMPTY`).
    #[error("directory not empty: {path}")]
    NotEmpty {
        /// The directory.
        path: String,
    },
    /// A file descriptor that is not open, or not open for this access (`EBADF`).
    #[error("bad file descriptor: {fd}")]
    BadFd {
        /// The descriptor number.
        fd: i32,
    },
    /// An argument out of range: bad flags, negative offsets, renaming a directory into
    /// itself (`EINVAL`).
    #[error("invalid argument: {reason}")]
    Invalid {
        /// Why the argument was rejected.
        reason: String,
    },
    /// A path with a NUL byte (`EINVAL`; the kernel cannot even express it).
    #[error("path contains a NUL byte")]
    NulInPath,
    /// A name over 255 bytes or a path over 4096 bytes (`ENAMETOOLONG`).
    #[error("name too long ({len} bytes)")]
    NameTooLong {
        /// The length that was rejected.
        len: usize,
    },
    /// Symbolic-link resolution exceeded 40 hops (`ELOOP`).
    #[error("too many levels of symbolic links: {path}")]
    Loop {
        /// The path being resolved.
        path: String,
    },
    /// An operation the file system refuses on this object, e.g. `link` to a directory
    /// (`EPERM`).
    #[error("operation not permitted: {reason}")]
    NotPermitted {
        /// What was refused.
        reason: String,
    },
    /// A byte-range lock or flock held by another owner conflicts (`EAGAIN`).
    #[error("lock held by another owner")]
    WouldBlock,
    /// The file would exceed the maximum file size (`EFBIG`).
    #[error("file too large")]
    TooLarge,
    /// `SEEK_DATA` / `SEEK_HOLE` past the end of the file (`ENXIO`).
    #[error("no data at or after offset {offset}")]
    NoData {
        /// The requested offset.
        offset: u64,
    },
    /// Too many hard links (`EMLINK`).
    #[error("too many links")]
    TooManyLinks,
    /// Rename across stores (`EXDEV`): never produced by one [`crate::Fs`], kept for hosts.
    #[error("cross-device link")]
    CrossDevice,
    /// The transaction's reads were overwritten by a concurrent commit; the invocation must
    /// restart (`EAGAIN`). [`crate::Fs::invoke`] restarts on it by itself.
    #[error("transaction conflict on {keys} key(s)")]
    Conflict {
        /// How many read keys were stale.
        keys: usize,
    },
    /// [`crate::Fs::invoke`] gave up after this many attempts, each one conflicting (`EAGAIN`).
    #[error("gave up after {attempts} conflicting attempts")]
    RetriesExhausted {
        /// Attempts made.
        attempts: u32,
    },
    /// The transaction was already committed or aborted (`EINVAL`).
    #[error("transaction already finished")]
    Finished,
    /// The durable store holds bytes that do not decode, or cannot be opened (`EIO`).
    #[error("corrupt store: {detail}")]
    Corrupt {
        /// What failed to decode or open.
        detail: String,
    },
    /// The durable store failed an I/O (`EIO`).
    #[error("storage I/O error: {detail}")]
    Io {
        /// The backend's message.
        detail: String,
    },
}

impl FsError {
    /// The POSIX errno for this error (Linux numbering).
    pub fn errno(&self) -> i32 {
        use errno::*;
        match self {
            FsError::NotFound { .. } => ENOENT,
            FsError::Exists { .. } => EEXIST,
            FsError::NotDir { .. } => ENOTDIR,
            FsError::IsDir { .. } => EISDIR,
            FsError::NotEmpty { .. } => ENOTEMPTY,
            FsError::BadFd { .. } => EBADF,
            FsError::Invalid { .. } | FsError::NulInPath | FsError::Finished => EINVAL,
            FsError::NameTooLong { .. } => ENAMETOOLONG,
            FsError::Loop { .. } => ELOOP,
            FsError::NotPermitted { .. } => EPERM,
            FsError::WouldBlock | FsError::Conflict { .. } | FsError::RetriesExhausted { .. } => {
                EAGAIN
            }
            FsError::TooLarge => EFBIG,
            FsError::NoData { .. } => ENXIO,
            FsError::TooManyLinks => EMLINK,
            FsError::CrossDevice => EXDEV,
            FsError::Corrupt { .. } | FsError::Io { .. } => EIO,
        }
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        FsError::Invalid {
            reason: reason.into(),
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = FsError> = std::result::Result<T, E>;

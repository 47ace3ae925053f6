//! The error of every reader and decoder in this crate.

use alloc::string::String;

/// Why a document could not be read, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    /// A path such as `resourceSpans[0].scopeSpans[1].spans[3].traceId`; empty for the whole
    /// document.
    pub path: String,
    /// What was wrong there.
    pub message: String,
}

impl core::fmt::Display for ReadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl core::error::Error for ReadError {}

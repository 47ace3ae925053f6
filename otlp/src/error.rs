//! The error of every reader and decoder in this crate.

use alloc::string::String;
use alloc::vec::Vec;

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

/// What a lenient reader or decoder kept of a document, and why each item it left out (a span
/// or a log record) was rejected, in document order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Partial<T> {
    /// Everything that read, grouped as in the document.
    pub data: T,
    /// One error per item left out, naming its path.
    pub rejected: Vec<ReadError>,
}

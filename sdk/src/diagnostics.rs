//! The SDK's own troubles, counted. They never travel through the SDK's exporter and never
//! become exceptions in the host.

/// Counters of what the SDK had to drop or could not do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics {
    /// Finished spans dropped because the export queue was full.
    pub spans_dropped: u64,
    /// Log records dropped because the export queue was full.
    pub logs_dropped: u64,
    /// Open spans dropped unended, the oldest first, to make room for a new one when
    /// `max_open_spans` (10,000) were open: spans an app or a library started and never ended.
    pub spans_evicted: u64,
    /// Calls that named a span that had already ended or never existed.
    pub stale_handles: u64,
    /// Attributes dropped because a span, event, link or record had too many.
    pub attributes_dropped: u64,
    /// Events dropped because a span had too many.
    pub events_dropped: u64,
    /// Links dropped because a span had too many.
    pub links_dropped: u64,
    /// Exports that failed for good (reported by the platform layer).
    pub exports_failed: u64,
    /// Exports retried after a retryable failure.
    pub exports_retried: u64,
    /// Spans or records the receiver rejected in a partial success.
    pub records_rejected: u64,
    /// Errors caught at the API boundary (bad arguments, instrumentation failures).
    pub api_errors: u64,
}

//! The SDK core: open spans, the active-span stack, bounded export queues and OTLP encoding.
//!
//! It is single-threaded by design (a page or an isolate runs one thread of JavaScript) and
//! never panics on bad input: unknown handles, full queues and too many attributes are counted
//! in [`Diagnostics`] and otherwise ignored.
//!
//! Spans are kept in a compact store rather than in the OTLP data model: an open span is a
//! slot with fixed fields and byte buffers of already encoded attributes, events and links
//! (the buffers stay with the slot, so a steady stream of spans allocates nothing), and an
//! ended span is one protobuf `Span` message appended to the export queue. A batch is the
//! resource and scope header, whose lengths are known, followed by the queued bytes; OTLP/JSON
//! (the `json` feature) is written from that batch.

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

#[cfg(feature = "json")]
mod json;
mod records;
mod wire;

pub(crate) use edgescope_otlp::{SpanId, TraceId};
#[allow(unused_imports)] // `number` and `Reader` serve the wasm exports (`js`).
pub(crate) use records::{number, Reader};

#[cfg(feature = "otel-api")]
use edgescope_otlp::LogRecord;
use edgescope_otlp::{AnyValue, InstrumentationScope, KeyValue, Resource, SpanKind, StatusCode};
use wire::{Attributes, Value};

use crate::platform;
use crate::propagation::{SpanContext, FLAG_RANDOM, FLAG_SAMPLED};
use crate::{Diagnostics, Sampler};

/// Settings fixed at start-up.
#[derive(Clone, Debug)]
pub struct Config {
    /// `service.name` of the resource.
    pub service_name: String,
    /// More resource attributes (`service.version`, `deployment.environment.name`, …).
    pub resource_attributes: Vec<KeyValue>,
    /// Finished spans waiting for export; more are dropped and counted.
    pub max_queue_size: usize,
    /// Log records waiting for export; more are dropped and counted.
    pub max_log_queue_size: usize,
    /// Spans or records in one export request (0 is the default, 512).
    pub max_export_batch_size: usize,
    /// Spans open at once; a start beyond it drops the oldest open span unended (counted in
    /// `spans_evicted`); with 0, every start yields a no-op handle.
    pub max_open_spans: usize,
    /// Attributes per span, event, link or record (not the resource's: it holds up to 128).
    pub max_attributes: usize,
    /// Longest string attribute value, in characters (Unicode scalar values, as OpenTelemetry's
    /// limit counts them; byte arrays in bytes); 0 for no limit.
    pub max_attribute_value_length: usize,
    /// Events per span.
    pub max_events: usize,
    /// Links per span.
    pub max_links: usize,
    /// Which new traces are recorded.
    pub sampler: Sampler,
    /// Record spans of traces the sampler dropped, and export them when any span of the trace
    /// in this process ends with an error.
    pub keep_errors: bool,
    /// Mask secrets in attribute values, log messages, status messages and span and event names
    /// (see [`crate::redact`]).
    pub redact: bool,
    /// More query parameter names to treat as secrets in URL attributes.
    pub redact_params: Vec<String>,
}

impl Config {
    /// A span's or an event's name as it is kept: with its secrets masked when redaction is on.
    pub(crate) fn clean_name<'a>(&self, name: &'a str) -> Cow<'a, str> {
        if self.redact {
            crate::redact::redact_name(name, &self.redact_params)
        } else {
            Cow::Borrowed(name)
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            service_name: "unknown_service".into(),
            resource_attributes: Vec::new(),
            max_queue_size: 2048,
            max_log_queue_size: 2048,
            max_export_batch_size: 512,
            max_open_spans: 10_000,
            max_attributes: 128,
            max_attribute_value_length: 0,
            max_events: 128,
            max_links: 128,
            sampler: Sampler::default(),
            keep_errors: false,
            redact: true,
            redact_params: Vec::new(),
        }
    }
}

/// Log severities, with their OpenTelemetry severity numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Severity {
    /// 1
    Trace = 1,
    /// 5
    Debug = 5,
    /// 9
    Info = 9,
    /// 13
    Warn = 13,
    /// 17
    Error = 17,
    /// 21
    Fatal = 21,
}

impl Severity {
    /// The severity for a number, rounded down to its range; `None` outside 1–24.
    pub fn from_number(n: u8) -> Option<Severity> {
        Some(match n {
            1..=4 => Severity::Trace,
            5..=8 => Severity::Debug,
            9..=12 => Severity::Info,
            13..=16 => Severity::Warn,
            17..=20 => Severity::Error,
            21..=24 => Severity::Fatal,
            _ => return None,
        })
    }

    fn text(self) -> &'static str {
        edgescope_otlp::severity_name(self as i32)
    }
}

/// How [`Sdk::start_span_with`] starts a span.
#[derive(Clone, Copy, Debug, Default)]
pub struct StartOptions<'a> {
    /// An explicit parent (remote or local); without it the active span, when `use_active`.
    pub parent: Option<&'a SpanContext>,
    /// Fall back to the active span when there is no explicit parent.
    pub use_active: bool,
    /// Start time in Unix nanoseconds; now when absent.
    pub start_time_unix_nano: Option<u64>,
    /// The instrumentation scope, from [`Sdk::scope_id`]; 0 is the SDK's own.
    pub scope: u16,
    /// The explicit parent is a local span that has ended (work that outlives it): the new span
    /// ends a local part of its trace as a root does, where `keep_errors` decides on the trace.
    pub parent_ended: bool,
}

/// The trace and span a log record belongs to ([`Sdk::log_cut`]).
#[derive(Clone, Debug)]
pub enum Correlation {
    /// The active span, if any.
    Active,
    /// An open span; none when it has ended.
    Span(Handle),
    /// The kept context of a span that has ended: a record written by work that outlives its
    /// span (a timer, a call after the response) still belongs to its trace.
    Ended(SpanContext),
}

/// A span as the caller holds it: a slot index and the slot's generation, so that a handle
/// to an ended span can never reach a newer span in the same slot. `Handle::NONE` is the no-op
/// span that is handed out when a span cannot be recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Handle(pub u32);

impl Handle {
    /// A span that records nothing.
    pub const NONE: Handle = Handle(0);

    fn new(index: usize, generation: u16) -> Handle {
        Handle(((generation as u32) << 16) | (index as u32 + 1))
    }

    fn index(self) -> Option<usize> {
        (self.0 & 0xffff).checked_sub(1).map(|i| i as usize)
    }

    fn generation(self) -> u16 {
        (self.0 >> 16) as u16
    }
}

/// An open span. The buffers are kept when the span ends, for the slot's next span.
#[derive(Default)]
struct OpenSpan {
    trace_id: TraceId,
    span_id: SpanId,
    parent_span_id: Option<SpanId>,
    /// OTLP span flags: W3C trace flags in the low byte; bit 8 says whether the parent's
    /// remoteness is known, bit 9 that the parent is remote.
    flags: u32,
    kind: SpanKind,
    start_time_unix_nano: u64,
    name: String,
    trace_state: String,
    /// Encoded `KeyValue`s (field 9 of `Span`).
    attributes: Attributes,
    /// Encoded `Span.Event`s (field 11): `count` events, `dropped` more.
    events: Attributes,
    /// Encoded `Span.Link`s (field 13).
    links: Attributes,
    status: StatusCode,
    status_message: String,
    /// Index into `Sdk::scopes`.
    scope: u16,
    /// The sampler kept the trace: the span is exported when it ends.
    sampled: bool,
    /// Attributes, events and links are kept (sampled, or held for `keep_errors`).
    recording: bool,
    /// No parent in this process: when it ends, the trace's held spans are decided.
    local_root: bool,
    /// Its parent here had ended when it started (work after a request's span): a local root
    /// only while no true local root of its trace is open.
    late_root: bool,
}

impl OpenSpan {
    fn body_size(&self, end: u64) -> usize {
        use wire::*;
        field_size(1, 16)
            + field_size(2, 8)
            + bytes_size(3, self.trace_state.len())
            + self.parent_span_id.map_or(0, |_| field_size(4, 8))
            + bytes_size(5, self.name.len())
            + uint_size(6, self.kind as u64)
            + fixed64_size(7, self.start_time_unix_nano)
            + fixed64_size(8, end)
            + self.attributes.buf.len()
            + uint_size(10, self.attributes.dropped as u64)
            + self.events.buf.len()
            + uint_size(12, self.events.dropped as u64)
            + self.links.buf.len()
            + uint_size(14, self.links.dropped as u64)
            + self.status_size().map_or(0, |n| field_size(15, n))
            + fixed32_size(16, self.flags)
    }

    fn status_size(&self) -> Option<usize> {
        (self.status != StatusCode::Unset || !self.status_message.is_empty())
            .then(|| wire::bytes_size(2, self.status_message.len()) + wire::uint_size(3, self.status as u64))
    }

    /// Appends the span as field 2 of `ScopeSpans` (a tag, its length, the message).
    fn encode(&self, end: u64, out: &mut Vec<u8>) {
        let size = self.body_size(end);
        wire::write(out, wire::field_size(2, size), |w| {
            w.header(2, size);
            w.bytes(1, &self.trace_id.0);
            w.bytes(2, &self.span_id.0);
            w.bytes(3, self.trace_state.as_bytes());
            if let Some(p) = &self.parent_span_id {
                w.bytes(4, &p.0);
            }
            w.bytes(5, self.name.as_bytes());
            w.uint(6, self.kind as u64);
            w.fixed64(7, self.start_time_unix_nano);
            w.fixed64(8, end);
            w.slice(&self.attributes.buf);
            w.uint(10, self.attributes.dropped as u64);
            w.slice(&self.events.buf);
            w.uint(12, self.events.dropped as u64);
            w.slice(&self.links.buf);
            w.uint(14, self.links.dropped as u64);
            if let Some(n) = self.status_size() {
                w.header(15, n);
                w.bytes(2, self.status_message.as_bytes());
                w.uint(3, self.status as u64);
            }
            w.fixed32(16, self.flags);
        });
    }
}

struct Slot {
    generation: u16,
    open: bool,
    /// When the span was opened, in spans opened before it (wrapping): the oldest goes first at
    /// the limit.
    opened: u32,
    span: OpenSpan,
}

/// Encoded messages waiting for export (spans or log records), each with its scope.
#[derive(Default)]
struct Queue {
    /// The messages, each with its field tag and length, oldest first from `head`.
    bytes: Vec<u8>,
    head: usize,
    /// Scope index and encoded length of each message, oldest first.
    entries: Vec<(u16, u32)>,
}

impl Queue {
    fn len(&self) -> usize {
        self.entries.len()
    }

    fn push(&mut self, scope: u16, message: impl FnOnce(&mut Vec<u8>)) {
        let at = self.bytes.len();
        message(&mut self.bytes);
        self.entries.push((scope, (self.bytes.len() - at) as u32));
    }

    /// Drops the oldest `n` messages.
    fn consume(&mut self, n: usize) {
        let bytes: usize = self.entries.get(..n).unwrap_or_default().iter().map(|(_, len)| *len as usize).sum();
        crate::drop_front(&mut self.entries, n);
        self.head += bytes;
        if self.entries.is_empty() {
            self.bytes.clear();
            self.head = 0;
        } else if self.head > self.bytes.len() / 2 {
            crate::drop_front(&mut self.bytes, self.head);
            self.head = 0;
        }
    }

    /// An `Export{Trace,Logs}ServiceRequest` of the oldest `n` messages: both requests have the
    /// same shape (resource list 1 → resource 1, scope list 2 → scope 1, messages 2), so one
    /// writer serves spans and log records. Messages are grouped by scope in order of first
    /// appearance, keeping their order within a scope.
    fn request(&self, n: usize, resource: &[u8], scopes: &[ScopeBytes]) -> Vec<u8> {
        let entries = self.entries.get(..n).unwrap_or_default();
        // (scope, bytes of its messages); one entry in the common case.
        let mut groups: Vec<(u16, usize)> = Vec::new();
        for &(scope, len) in entries {
            match groups.iter_mut().find(|g| g.0 == scope) {
                Some(g) => g.1 += len as usize,
                None => groups.push((scope, len as usize)),
            }
        }
        let scope_list_size = |&(scope, bytes): &(u16, usize)| {
            let s = scopes.get(scope as usize);
            #[cfg(feature = "otel-api")]
            let bytes = bytes + s.map_or(0, |s| wire::bytes_size(3, s.schema_url.len()));
            wire::field_size(1, s.map_or(0, |s| s.body.len())) + bytes
        };
        let resource_list: usize = wire::field_size(1, resource.len())
            + groups.iter().map(|g| wire::field_size(2, scope_list_size(g))).sum::<usize>();
        let mut out = Vec::new();
        wire::write(&mut out, wire::field_size(1, resource_list), |w| {
            w.header(1, resource_list);
            w.header(1, resource.len());
            w.slice(resource);
            for g in &groups {
                w.header(2, scope_list_size(g));
                let scope = scopes.get(g.0 as usize).map_or(&[][..], |s| s.body.as_slice());
                w.header(1, scope.len());
                w.slice(scope);
                // Before the messages (fields may come in any order): a message run stays whole.
                #[cfg(feature = "otel-api")]
                w.bytes(3, scopes.get(g.0 as usize).map_or(&[][..], |s| s.schema_url.as_bytes()));
                if groups.len() == 1 {
                    // One scope: the messages are contiguous.
                    let end = self.head + g.1;
                    w.slice(self.bytes.get(self.head..end).unwrap_or_default());
                    continue;
                }
                let mut at = self.head;
                for &(s, len) in entries {
                    let end = at + len as usize;
                    if s == g.0 {
                        w.slice(self.bytes.get(at..end).unwrap_or_default());
                    }
                    at = end;
                }
            }
        });
        out
    }
}

/// An ended span of an unsampled trace, held under `keep_errors`.
struct Held {
    scope: u16,
    trace_id: TraceId,
    error: bool,
    bytes: Vec<u8>,
}

/// Ids drawn (64 bits each) before the id generator takes a fresh seed from the host.
const RESEED_DRAWS: u32 = 65_536;

/// Longest buffer a slot keeps for its next span; a span with more gives its buffers back.
const KEEP_CAPACITY: usize = 4096;

/// The SDK state for one page or isolate.
pub struct Sdk {
    config: Config,
    resource: Resource,
    /// The resource as an encoded `Resource` message body, written once.
    resource_bytes: Vec<u8>,
    /// Open spans; `free` lists the empty slots so that handles stay small.
    slots: Vec<Slot>,
    free: Vec<usize>,
    /// The generation of a new slot: past every generation of the SDK this one replaced (see
    /// [`Sdk::replace`]), so that no handle of that SDK names a span of this one.
    first_generation: u16,
    /// Spans opened so far, wrapping (see `Slot::opened`).
    opened: u32,
    /// Spans made active by `withSpan`; the last is the parent of new spans and the span of new
    /// log records. Entries are removed by identity, since async callbacks may end out of order.
    active: Vec<Handle>,
    /// Ended spans, encoded, waiting for export.
    spans: Queue,
    /// Log records, encoded, waiting for export.
    logs: Queue,
    /// Instrumentation scopes; 0 is the SDK's own, others come from the `opentelemetry` API.
    scopes: Vec<InstrumentationScope>,
    /// The same scopes as encoded `InstrumentationScope` message bodies.
    scope_bytes: Vec<ScopeBytes>,
    /// Attributes handed over one at a time by the JS layer before the call that uses them.
    staged: Vec<KeyValue>,
    /// Attributes every new span and log record gets (`session.id`, `user.id`); they change
    /// during a page's life, so they cannot be resource attributes.
    common: Vec<KeyValue>,
    /// Scratch attribute list for events, links and log records, reused.
    scratch: Attributes,
    /// Random bytes drawn in blocks of 170 spans' ids, so that an id costs no call into the
    /// host (a call to `crypto.getRandomValues` costs about as much as a span).
    ids: [u64; 4],
    ids_left: u32,
    /// Ended spans of unsampled traces, held under `keep_errors` until their local root ends.
    held: Vec<Held>,
    /// Traces recently kept because of an error, so that spans ending late follow them.
    kept_traces: Vec<TraceId>,
    diagnostics: Diagnostics,
    /// Messages queued before a reconfiguration changed the resource, oldest first, each with
    /// the resource they were recorded under (see [`Sdk::reconfigure`]).
    #[cfg(feature = "otel-api")]
    retired: Vec<Retired>,
}

/// Export queues set aside by [`Sdk::reconfigure`] with the resource of their messages.
#[cfg(feature = "otel-api")]
struct Retired {
    resource_bytes: Vec<u8>,
    spans: Queue,
    logs: Queue,
}

/// At most this many sets of queues wait with an earlier resource; the oldest beyond it is
/// dropped (and counted).
#[cfg(feature = "otel-api")]
const MAX_RETIRED: usize = 4;

impl core::fmt::Debug for Sdk {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sdk")
            .field("service_name", &self.config.service_name)
            .field("open_spans", &(self.slots.len() - self.free.len()))
            .field("queued_spans", &self.spans.len())
            .field("queued_logs", &self.logs.len())
            .finish()
    }
}

/// An instrumentation scope as each export writes it: the encoded `InstrumentationScope` body
/// and, given through the `opentelemetry` API, the schema URL of its `ScopeSpans`/`ScopeLogs`.
struct ScopeBytes {
    body: Vec<u8>,
    #[cfg(feature = "otel-api")]
    schema_url: String,
}

fn scope_bytes(s: &InstrumentationScope, schema_url: &str) -> ScopeBytes {
    #[cfg(not(feature = "otel-api"))]
    let _ = schema_url;
    ScopeBytes {
        body: scope_body(s),
        #[cfg(feature = "otel-api")]
        schema_url: String::from(schema_url),
    }
}

fn scope_body(s: &InstrumentationScope) -> Vec<u8> {
    let mut b = Vec::new();
    let size = wire::bytes_size(1, s.name.len()) + wire::bytes_size(2, s.version.len());
    wire::write(&mut b, size, |w| {
        w.bytes(1, s.name.as_bytes());
        w.bytes(2, s.version.as_bytes());
    });
    wire::model_attributes(&mut b, 3, &s.attributes);
    let dropped = s.dropped_attributes_count as u64;
    wire::write(&mut b, wire::uint_size(4, dropped), |w| w.uint(4, dropped));
    b
}

impl Sdk {
    /// An SDK with the given settings. Takes no time and draws no random values, so it may be
    /// created at module load (workerd forbids randomness outside a request).
    pub fn new(config: Config) -> Sdk {
        let (resource, resource_bytes) = resource_of(&config);
        let scope = InstrumentationScope {
            name: "edgescope".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            ..Default::default()
        };
        Sdk {
            resource,
            resource_bytes,
            scope_bytes: vec![scope_bytes(&scope, "")],
            scopes: vec![scope],
            config,
            slots: Vec::new(),
            free: Vec::new(),
            first_generation: 0,
            opened: 0,
            active: Vec::new(),
            spans: Queue::default(),
            logs: Queue::default(),
            staged: Vec::new(),
            common: Vec::new(),
            scratch: Attributes::default(),
            ids: [0; 4],
            ids_left: 0,
            held: Vec::new(),
            kept_traces: Vec::new(),
            diagnostics: Diagnostics::default(),
            #[cfg(feature = "otel-api")]
            retired: Vec::new(),
        }
    }

    /// Applies a new `config` to this SDK without losing what it holds (the Rust API's second
    /// `TracerProvider::new`): open spans stay open and end under it, the instrumentation scopes
    /// keep their ids, the diagnostics keep counting. Queued spans and records stay queued; when
    /// the resource changes, they are set aside with the resource they were recorded under and
    /// exported first, under it. Spans still open end under the new resource.
    #[cfg(feature = "otel-api")]
    pub fn reconfigure(&mut self, config: Config) {
        let (resource, resource_bytes) = resource_of(&config);
        if resource_bytes != self.resource_bytes && (self.spans.len() > 0 || self.logs.len() > 0) {
            if self.retired.len() >= MAX_RETIRED {
                let oldest = self.retired.remove(0);
                self.diagnostics.spans_dropped += oldest.spans.len() as u64;
                self.diagnostics.logs_dropped += oldest.logs.len() as u64;
            }
            self.retired.push(Retired {
                resource_bytes: core::mem::take(&mut self.resource_bytes),
                spans: core::mem::take(&mut self.spans),
                logs: core::mem::take(&mut self.logs),
            });
        }
        self.resource = resource;
        self.resource_bytes = resource_bytes;
        self.config = config;
    }

    /// A span id drawn as a span's is, for a span that is not recorded.
    #[cfg(feature = "otel-api")]
    pub fn random_span_id(&mut self) -> SpanId {
        self.new_span_id()
    }

    /// A trace id drawn as a new trace's is, for a span that is not recorded.
    #[cfg(feature = "otel-api")]
    pub fn random_trace_id(&mut self) -> TraceId {
        self.new_trace_id()
    }

    /// Replaces this SDK with a fresh one for `config` (a second `init`). A span still open here
    /// is dropped with it, and its handle stays stale in the new one: the new slots start past
    /// every generation handed out here (until the 16-bit generations wrap, as one slot's do),
    /// so ending or changing it is a counted no-op and never reaches a new span in its slot.
    #[inline]
    pub fn replace(&mut self, config: Config) {
        let first = self.slots.iter().fold(self.first_generation, |g, s| g.max(s.generation.wrapping_add(1)));
        *self = Sdk::new(config);
        self.first_generation = first;
    }

    /// Turns redaction on or off, with extra secret query parameter names.
    pub fn set_redaction(&mut self, enabled: bool, extra_params: Vec<String>) {
        self.config.redact = enabled;
        self.config.redact_params = extra_params;
        // The resource's values are redacted by the same rules.
        (self.resource, self.resource_bytes) = resource_of(&self.config);
    }

    /// The resource every span and record is exported with.
    pub fn resource(&self) -> &Resource {
        &self.resource
    }

    /// What the SDK dropped or could not do so far.
    pub fn diagnostics(&self) -> Diagnostics {
        self.diagnostics
    }

    /// Lets the platform layer count its own troubles (failed exports, caught exceptions).
    pub fn diagnostics_mut(&mut self) -> &mut Diagnostics {
        &mut self.diagnostics
    }

    /// 64 random bits for an id: xoshiro256++ seeded with 32 bytes of the host's
    /// cryptographic randomness, and seeded afresh every `RESEED_DRAWS` draws. A call to the
    /// host's generator costs microseconds in Node (4 KB blocks of it were 3% of a span's
    /// time); W3C Trace Context asks for random or pseudo-random ids, which this is.
    fn random_u64(&mut self) -> u64 {
        if self.ids_left == 0 {
            let mut seed = [0u8; 32];
            platform::fill_random(&mut seed);
            for (i, word) in self.ids.iter_mut().enumerate() {
                let mut w = 0u64;
                for b in seed.iter().skip(8 * i).take(8).rev() {
                    w = w << 8 | *b as u64;
                }
                *word = w;
            }
            if self.ids == [0; 4] {
                // The all-zero state only ever yields zero.
                self.ids[0] = 1;
            }
            self.ids_left = RESEED_DRAWS;
        }
        self.ids_left -= 1;
        let s = &mut self.ids;
        let out = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }

    fn new_span_id(&mut self) -> SpanId {
        loop {
            let id = SpanId(self.random_u64().to_le_bytes());
            if id.is_valid() {
                return id;
            }
        }
    }

    fn new_trace_id(&mut self) -> TraceId {
        loop {
            let (a, b) = (self.random_u64(), self.random_u64());
            // `a`'s bytes then `b`'s, little-endian (one value: no slice copies with length checks).
            let id = TraceId(((u128::from(b) << 64) | u128::from(a)).to_le_bytes());
            if id.is_valid() {
                return id;
            }
        }
    }

    fn slot(&self, h: Handle) -> Option<&OpenSpan> {
        let slot = self.slots.get(h.index()?)?;
        (slot.generation == h.generation() && slot.open).then_some(&slot.span)
    }

    fn slot_mut(&mut self, h: Handle) -> Option<&mut OpenSpan> {
        let slot = self.slots.get_mut(h.index()?)?;
        (slot.generation == h.generation() && slot.open).then_some(&mut slot.span)
    }

    /// The innermost active span that is still open.
    pub fn active_span(&self) -> Option<Handle> {
        self.active.iter().rev().copied().find(|h| self.slot(*h).is_some())
    }

    /// Makes a span the parent of spans and records created until [`Sdk::deactivate`].
    pub fn activate(&mut self, h: Handle) {
        if self.slot(h).is_some() {
            self.active.push(h);
        }
    }

    /// Removes the most recent activation of `h`, wherever it is in the stack.
    pub fn deactivate(&mut self, h: Handle) {
        if let Some(pos) = self.active.iter().rposition(|a| *a == h) {
            crate::remove_at(&mut self.active, pos);
        }
    }

    /// The trace id, span id and W3C trace flags of an open span (no trace state: nothing to copy).
    pub fn span_ids(&self, h: Handle) -> Option<([u8; 16], [u8; 8], u8)> {
        let s = self.slot(h)?;
        Some((s.trace_id.0, s.span_id.0, s.flags as u8))
    }

    /// The propagation context of an open span.
    pub fn span_context(&self, h: Handle) -> Option<SpanContext> {
        let s = self.slot(h)?;
        Some(SpanContext {
            trace_id: s.trace_id,
            span_id: s.span_id,
            flags: s.flags as u8,
            trace_state: s.trace_state.clone(),
            is_remote: false,
        })
    }

    /// Queues an attribute for the next [`Sdk::start_span`] or [`Sdk::log`] call.
    pub fn stage_attribute(&mut self, key: &str, value: AnyValue) {
        self.staged.push(KeyValue::new(key, value));
    }

    /// Sets (or, with `None`, removes) an attribute that every new span and log record gets.
    pub fn set_common_attribute(&mut self, key: &str, value: Option<AnyValue>) {
        self.common.retain(|kv| kv.key != key);
        if let Some(value) = value {
            self.common.push(KeyValue::new(key, value));
        }
    }

    /// Takes the attributes staged so far.
    pub fn take_staged(&mut self) -> Vec<KeyValue> {
        core::mem::take(&mut self.staged)
    }

    /// The index of an instrumentation scope with its schema URL (empty for none), added on
    /// first use (at most 256 scopes; further ones share the SDK's own).
    #[cfg(feature = "otel-api")]
    pub fn scope_id(&mut self, scope: InstrumentationScope, schema_url: &str) -> u16 {
        let same = |(s, b): (&InstrumentationScope, &ScopeBytes)| *s == scope && b.schema_url == schema_url;
        if let Some(i) = self.scopes.iter().zip(&self.scope_bytes).position(same) {
            return i as u16;
        }
        if self.scopes.len() >= 256 {
            return 0;
        }
        self.scope_bytes.push(scope_bytes(&scope, schema_url));
        self.scopes.push(scope);
        (self.scopes.len() - 1) as u16
    }

    /// The id of the scope named `name` with `version` and no attributes (as JavaScript's
    /// `getTracer` names one), added when new (at most 256): [`Sdk::scope_id`] without comparing attributes.
    pub fn scope_named(&mut self, name: &str, version: &str) -> u16 {
        // One the `opentelemetry` API added with a schema URL is another scope.
        #[cfg(feature = "otel-api")]
        let plain = |i: usize| self.scope_bytes[i].schema_url.is_empty();
        #[cfg(not(feature = "otel-api"))]
        let plain = |_: usize| true;
        let same = |(i, s): (usize, &InstrumentationScope)| {
            s.name == name && s.version == version && s.attributes.is_empty() && plain(i)
        };
        match self.scopes.iter().enumerate().position(same) {
            Some(i) => i as u16,
            None if self.scopes.len() >= 256 => 0,
            None => {
                let scope = InstrumentationScope {
                    name: String::from(name),
                    version: String::from(version),
                    ..Default::default()
                };
                self.scope_bytes.push(scope_bytes(&scope, ""));
                self.scopes.push(scope);
                (self.scopes.len() - 1) as u16
            }
        }
    }

    /// Starts a span. Its parent is `parent` when given (a remote context from `traceparent`),
    /// else the active span, else none: the span starts a new trace.
    pub fn start_span(&mut self, name: &str, kind: SpanKind, parent: Option<&SpanContext>) -> Handle {
        self.start_span_with(name, kind, StartOptions { parent, use_active: true, ..StartOptions::default() })
    }

    /// Starts a span with explicit options.
    pub fn start_span_with(&mut self, name: &str, kind: SpanKind, options: StartOptions<'_>) -> Handle {
        let staged = core::mem::take(&mut self.staged);
        let active;
        let parent = match options.parent {
            Some(p) => Some(p),
            None if options.use_active => {
                active = self.active_span().and_then(|h| self.span_context(h));
                active.as_ref()
            }
            None => None,
        };
        let trace_id = parent.map_or_else(|| self.new_trace_id(), |p| p.trace_id);
        let sampled = self.config.sampler.should_sample(&trace_id, parent);
        let span_id = self.new_span_id();
        let start = options.start_time_unix_nano.unwrap_or_else(platform::now_unix_nanos);
        let scopes = self.scopes.len();
        let keep_errors = self.config.keep_errors;
        let name = self.config.clean_name(name);
        let Some((handle, s)) = self.open_slot() else { return Handle::NONE };
        // Only the sampled flag may change; the random flag describes the trace id.
        let (flags, remote) = parent.map_or((FLAG_RANDOM, false), |p| (p.flags & !FLAG_SAMPLED, p.is_remote));
        let flags = flags | if sampled { FLAG_SAMPLED } else { 0 };
        s.trace_id = trace_id;
        s.span_id = span_id;
        s.parent_span_id = parent.map(|p| p.span_id);
        s.flags = flags as u32 | 0x100 | if remote { 0x200 } else { 0 };
        s.kind = kind;
        s.start_time_unix_nano = start;
        s.name.clear();
        s.name.push_str(&name);
        s.trace_state.clear();
        if let Some(p) = parent {
            s.trace_state.push_str(&p.trace_state);
        }
        s.scope = if (options.scope as usize) < scopes { options.scope } else { 0 };
        s.sampled = sampled;
        s.recording = sampled || keep_errors;
        s.local_root = options.parent_ended || parent.is_none_or(|p| p.is_remote);
        s.late_root = options.parent_ended && parent.is_some();
        if s.recording && !(self.common.is_empty() && staged.is_empty()) {
            let common = core::mem::take(&mut self.common);
            for kv in common.iter().chain(&staged) {
                if let Some(v) = &kv.value {
                    self.set_attribute_ref(handle, &kv.key, v.into());
                }
            }
            self.common = common;
        }
        handle
    }

    #[cfg(feature = "records")]
    /// Opens a span that JavaScript started (ADR 0011) with the ids, flags and sampling
    /// decision it made, so that the core can take it over: events, links, a status, or being
    /// made active need the core. `flags` are the W3C trace flags; `parent` is a span of this
    /// process or none (a local root). Common attributes are not added: JavaScript hands over
    /// the attributes the span already has; `dropped_attributes` is how many it dropped beyond
    /// the limit (already counted in the diagnostics). `Handle::NONE` when too many spans are
    /// open.
    pub fn adopt_span(
        &mut self,
        name: &str,
        kind: SpanKind,
        ids: (TraceId, SpanId, Option<SpanId>),
        flags: u8,
        start_time_unix_nano: u64,
        dropped_attributes: u32,
    ) -> Handle {
        let name = self.config.clean_name(name);
        let Some((handle, s)) = self.open_slot() else { return Handle::NONE };
        s.attributes.dropped = dropped_attributes;
        let sampled = flags & FLAG_SAMPLED != 0;
        (s.trace_id, s.span_id, s.parent_span_id) = ids;
        s.flags = flags as u32 | 0x100;
        s.kind = kind;
        s.start_time_unix_nano = start_time_unix_nano;
        s.name.clear();
        s.name.push_str(&name);
        s.trace_state.clear();
        s.scope = 0;
        s.sampled = sampled;
        s.recording = sampled;
        s.local_root = ids.2.is_none();
        s.late_root = false;
        handle
    }

    /// A free slot, opened and emptied, with its handle. With `max_open_spans` open, the oldest
    /// are dropped unended (counted): a span never ended is lost, as in OpenTelemetry JS, but
    /// an app or a library that leaks spans does not switch tracing off. `None` only when no
    /// span may be open at all.
    fn open_slot(&mut self) -> Option<(Handle, &mut OpenSpan)> {
        if self.slots.len() - self.free.len() >= self.config.max_open_spans {
            // The oldest open spans go: the one opened longest ago and those opened within 1/64 of
            // the limit after it (ages count spans opened since, wrapping), so that a page that
            // keeps leaking spans scans the slots once per batch, not once per span.
            let now = self.opened;
            let oldest = self.slots.iter().filter(|s| s.open).map(|s| now.wrapping_sub(s.opened)).max()?;
            let cut = oldest.saturating_sub(self.config.max_open_spans as u32 / 64);
            for index in 0..self.slots.len() {
                let Some(slot) = self.slots.get_mut(index) else { break };
                if !slot.open || now.wrapping_sub(slot.opened) < cut {
                    continue;
                }
                let evicted = Handle::new(index, slot.generation);
                slot.open = false;
                slot.generation = slot.generation.wrapping_add(1);
                self.free.push(index);
                self.deactivate(evicted);
                self.diagnostics.spans_evicted += 1;
            }
        }
        let opened = self.opened;
        self.opened = opened.wrapping_add(1);
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot {
                    generation: self.first_generation,
                    open: false,
                    opened,
                    span: OpenSpan::default(),
                });
                self.slots.len() - 1
            }
        };
        let slot = self.slots.get_mut(index)?;
        slot.open = true;
        slot.opened = opened;
        let s = &mut slot.span;
        s.attributes.clear();
        s.events.clear();
        s.links.clear();
        s.status = StatusCode::Unset;
        s.status_message.clear();
        Some((Handle::new(index, slot.generation), s))
    }

    /// Applies the redaction and length limits to `v` and records it in `list` as field
    /// `field`, replacing an entry with the same key, or counts a drop.
    fn record(
        config: &Config,
        diagnostics: &mut Diagnostics,
        list: &mut Attributes,
        field: u32,
        key: &str,
        v: Value<'_>,
    ) {
        let max_len = config.max_attribute_value_length;
        let owned: AnyValue;
        let redacted: String;
        let v = match v {
            Value::Str(s) => {
                let mut s = s;
                if config.redact {
                    if let Some(r) = crate::redact::redact_attribute(key, s, &config.redact_params) {
                        redacted = r;
                        s = &redacted;
                    }
                }
                Value::Str(if max_len > 0 { cut_chars(s, max_len) } else { s })
            }
            Value::Any(any) => {
                let mut any = any.clone();
                if config.redact {
                    redact_value(key, Some(&mut any), &config.redact_params);
                }
                if max_len > 0 {
                    truncate_value(&mut any, max_len);
                }
                owned = any;
                Value::from(&owned)
            }
            other => other,
        };
        if !list.set(field, key, v, config.max_attributes) {
            diagnostics.attributes_dropped += 1;
        }
    }

    fn set_attribute_ref(&mut self, h: Handle, key: &str, v: Value<'_>) {
        let Some(index) = h.index() else { return };
        match self.slots.get_mut(index) {
            Some(slot) if slot.open && slot.generation == h.generation() => {
                if slot.span.recording {
                    Self::record(&self.config, &mut self.diagnostics, &mut slot.span.attributes, 9, key, v);
                }
            }
            _ => self.stale(h),
        }
    }

    /// Fills the scratch list with the staged (and, for records, common) attributes, each field `field`.
    fn stage_into_scratch(&mut self, field: u32, common: bool) {
        let staged = core::mem::take(&mut self.staged);
        self.scratch.clear();
        let list = if common { &self.common[..] } else { &[] };
        for kv in list.iter().chain(&staged) {
            if let Some(v) = &kv.value {
                Self::record(&self.config, &mut self.diagnostics, &mut self.scratch, field, &kv.key, v.into());
            }
        }
    }

    fn recording_span(&mut self, h: Handle) -> Option<&mut OpenSpan> {
        match self.slot(h) {
            None => {
                self.stale(h);
                None
            }
            Some(s) if !s.recording => None,
            Some(_) => self.slot_mut(h),
        }
    }

    /// Adds an event with the staged attributes.
    pub fn add_event(&mut self, h: Handle, name: &str) {
        self.add_event_at(h, name, None)
    }

    /// Adds an event at a given time (Unix nanoseconds; now when absent).
    pub fn add_event_at(&mut self, h: Handle, name: &str, time: Option<u64>) {
        self.add_event_counted(h, name, time, 0)
    }

    /// [`Sdk::add_event_at`] for an event that had `dropped` attributes before it came here (an
    /// `opentelemetry` `Event`'s `dropped_attributes_count`): they count with those the limit drops.
    pub fn add_event_counted(&mut self, h: Handle, name: &str, time: Option<u64>, dropped: u32) {
        let time_unix_nano = time.unwrap_or_else(platform::now_unix_nanos);
        let max_events = self.config.max_events;
        match self.recording_span(h) {
            None => {
                self.staged.clear();
                return;
            }
            Some(s) if s.events.count as usize >= max_events => {
                s.events.dropped += 1;
                self.staged.clear();
                self.diagnostics.events_dropped += 1;
                return;
            }
            Some(_) => {}
        }
        self.stage_into_scratch(3, false);
        self.scratch.dropped = self.scratch.dropped.saturating_add(dropped);
        let name = self.config.clean_name(name);
        let a = &self.scratch;
        let size = wire::fixed64_size(1, time_unix_nano)
            + wire::bytes_size(2, name.len())
            + a.buf.len()
            + wire::uint_size(4, a.dropped as u64);
        if let Some(s) = self.slots.get_mut(h.index().unwrap_or(usize::MAX)) {
            let e = &mut s.span.events;
            wire::write(&mut e.buf, wire::field_size(11, size), |w| {
                w.header(11, size);
                w.fixed64(1, time_unix_nano);
                w.bytes(2, name.as_bytes());
                w.slice(&a.buf);
                w.uint(4, a.dropped as u64);
            });
            e.count += 1;
        }
    }

    /// Adds an `exception` event with `exception.type`, `exception.message` and
    /// `exception.stacktrace` (empty parts are left out), plus the staged attributes.
    pub fn record_exception(&mut self, h: Handle, kind: &str, message: &str, stacktrace: &str) {
        self.record_exception_at(h, kind, message, stacktrace, None)
    }

    /// [`Sdk::record_exception`] at a given time (Unix nanoseconds; now when absent).
    pub fn record_exception_at(&mut self, h: Handle, kind: &str, message: &str, stacktrace: &str, time: Option<u64>) {
        // Before the staged attributes: an attribute of the caller's with the same key replaces
        // one made here (OpenTelemetry's RecordException: "the additional attributes take
        // precedence"), and the attribute limit cuts the caller's last, never these.
        for (key, value) in
            [("exception.stacktrace", stacktrace), ("exception.message", message), ("exception.type", kind)]
        {
            if !value.is_empty() {
                self.staged.insert(0, KeyValue::new(key, value));
            }
        }
        self.add_event_at(h, "exception", time);
    }

    /// Links the span to another span, with the staged attributes.
    pub fn add_link(&mut self, h: Handle, to: &SpanContext) {
        self.add_link_counted(h, to, 0)
    }

    /// [`Sdk::add_link`] for a link that had `dropped` attributes before it came here (an
    /// `opentelemetry` `Link`'s `dropped_attributes_count`): they count with those the limit drops.
    pub fn add_link_counted(&mut self, h: Handle, to: &SpanContext, dropped: u32) {
        let max_links = self.config.max_links;
        match self.recording_span(h) {
            None => {
                self.staged.clear();
                return;
            }
            Some(s) if s.links.count as usize >= max_links => {
                s.links.dropped += 1;
                self.staged.clear();
                self.diagnostics.links_dropped += 1;
                return;
            }
            Some(_) => {}
        }
        self.stage_into_scratch(4, false);
        self.scratch.dropped = self.scratch.dropped.saturating_add(dropped);
        let a = &self.scratch;
        let flags = to.flags as u32 | 0x100 | if to.is_remote { 0x200 } else { 0 };
        let size = wire::field_size(1, 16)
            + wire::field_size(2, 8)
            + wire::bytes_size(3, to.trace_state.len())
            + a.buf.len()
            + wire::uint_size(5, a.dropped as u64)
            + wire::fixed32_size(6, flags);
        if let Some(s) = self.slots.get_mut(h.index().unwrap_or(usize::MAX)) {
            let l = &mut s.span.links;
            wire::write(&mut l.buf, wire::field_size(13, size), |w| {
                w.header(13, size);
                w.bytes(1, &to.trace_id.0);
                w.bytes(2, &to.span_id.0);
                w.bytes(3, to.trace_state.as_bytes());
                w.slice(&a.buf);
                w.uint(5, a.dropped as u64);
                w.fixed32(6, flags);
            });
            l.count += 1;
        }
    }

    /// Sets (or replaces) an attribute on an open span.
    pub fn set_attribute(&mut self, h: Handle, key: &str, value: AnyValue) {
        self.set_attribute_ref(h, key, (&value).into())
    }

    /// Sets a string attribute on an open span without an owned value.
    pub fn set_attribute_str(&mut self, h: Handle, key: &str, value: &str) {
        self.set_attribute_ref(h, key, Value::Str(value))
    }

    /// Sets an integer attribute on an open span.
    pub fn set_attribute_int(&mut self, h: Handle, key: &str, value: i64) {
        self.set_attribute_ref(h, key, Value::Int(value))
    }

    /// Sets a floating-point attribute on an open span.
    pub fn set_attribute_double(&mut self, h: Handle, key: &str, value: f64) {
        self.set_attribute_ref(h, key, Value::Double(value))
    }

    /// Sets a boolean attribute on an open span.
    pub fn set_attribute_bool(&mut self, h: Handle, key: &str, value: bool) {
        self.set_attribute_ref(h, key, Value::Bool(value))
    }

    /// Sets the status of an open span. `Ok` is final; `Unset` never overrides an earlier status.
    /// An error's message is redacted as a log message is (it is often an exception's message).
    pub fn set_status(&mut self, h: Handle, code: StatusCode, message: &str) {
        let message = if self.config.redact {
            crate::redact::redact_text(message, &self.config.redact_params)
        } else {
            message.into()
        };
        let Some(s) = self.slot_mut(h) else {
            return self.stale(h);
        };
        if s.status == StatusCode::Ok || code == StatusCode::Unset {
            return;
        }
        s.status = code;
        s.status_message.clear();
        if code == StatusCode::Error {
            s.status_message.push_str(&message);
        }
    }

    /// Renames an open span.
    pub fn update_name(&mut self, h: Handle, name: &str) {
        let name = self.config.clean_name(name);
        match self.slot_mut(h) {
            Some(s) => {
                s.name.clear();
                s.name.push_str(&name);
            }
            None => self.stale(h),
        }
    }

    /// Ends a span and queues it for export; ending it again does nothing.
    pub fn end_span(&mut self, h: Handle) {
        self.end_span_at(h, None)
    }

    /// Ends a span at a given time (Unix nanoseconds; now when absent).
    pub fn end_span_at(&mut self, h: Handle, time: Option<u64>) {
        let Some(index) = h.index() else { return };
        let Some(slot) = self.slots.get_mut(index).filter(|s| s.generation == h.generation() && s.open) else {
            return self.stale(h);
        };
        slot.open = false;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index);
        self.deactivate(h);
        let Some(slot) = self.slots.get_mut(index) else { return };
        let s = &mut slot.span;
        // A clock that stepped back must not produce a negative duration.
        let end = time.unwrap_or_else(platform::now_unix_nanos).max(s.start_time_unix_nano);
        if s.sampled {
            if self.spans.len() >= self.config.max_queue_size {
                self.diagnostics.spans_dropped += 1;
            } else {
                self.spans.push(s.scope, |out| s.encode(end, out));
            }
        } else if s.recording {
            let mut bytes = Vec::with_capacity(s.body_size(end) + 4);
            s.encode(end, &mut bytes);
            let held = Held { scope: s.scope, trace_id: s.trace_id, error: s.status == StatusCode::Error, bytes };
            let (local_root, late_root) = (s.local_root, s.late_root);
            // A span whose parent had ended decides on its trace as a root only if the trace's
            // root here has ended too; while that root is open, it waits for it as any child.
            let root_open = late_root
                && self
                    .slots
                    .iter()
                    .any(|o| o.open && o.span.trace_id == held.trace_id && o.span.local_root && !o.span.late_root);
            self.hold(held, local_root && !root_open);
        }
        // A span with a very long value gives its buffers back rather than keep them.
        if let Some(slot) = self.slots.get_mut(index) {
            let s = &mut slot.span;
            for b in [&mut s.attributes.buf, &mut s.events.buf, &mut s.links.buf] {
                if b.capacity() > KEEP_CAPACITY {
                    *b = Vec::new();
                }
            }
        }
    }

    fn enqueue(&mut self, span: Held) {
        if self.spans.len() >= self.config.max_queue_size {
            self.diagnostics.spans_dropped += 1;
        } else {
            self.spans.push(span.scope, |out| out.extend_from_slice(&span.bytes));
        }
    }

    /// `keep_errors`: holds an ended span of an unsampled trace until its local root ends, then
    /// exports the trace's held spans if any of them is an error, or drops them.
    fn hold(&mut self, span: Held, local_root: bool) {
        let trace_id = span.trace_id;
        if self.kept_traces.contains(&trace_id) {
            return self.enqueue(span);
        }
        if self.held.len() >= self.config.max_queue_size {
            crate::remove_at(&mut self.held, 0);
            self.diagnostics.spans_dropped += 1;
        }
        self.held.push(span);
        if !local_root {
            return;
        }
        let (trace, rest): (Vec<_>, Vec<_>) =
            core::mem::take(&mut self.held).into_iter().partition(|s| s.trace_id == trace_id);
        self.held = rest;
        if trace.iter().any(|s| s.error) {
            if self.kept_traces.len() == 64 {
                crate::remove_at(&mut self.kept_traces, 0);
            }
            self.kept_traces.push(trace_id);
            trace.into_iter().for_each(|s| self.enqueue(s));
        }
    }

    fn stale(&mut self, h: Handle) {
        if h != Handle::NONE {
            self.diagnostics.stale_handles += 1;
        }
    }

    /// Records a log line, correlated with the active span, with the staged attributes.
    pub fn log(&mut self, severity: Severity, message: &str) {
        self.log_in(severity, message, None)
    }

    /// Records a log line correlated with `span` (an open span), else with the active span.
    pub fn log_in(&mut self, severity: Severity, message: &str, span: Option<Handle>) {
        self.log_event_in(severity, message, span, "")
    }

    /// [`Sdk::log_in`] for an event: a record with the LogRecord's `event_name` (OTLP 1.5, as
    /// OpenTelemetry's event conventions name it, `browser.web_vital`); none when empty.
    pub fn log_event_in(&mut self, severity: Severity, message: &str, span: Option<Handle>, event_name: &str) {
        let context = span.map_or(Correlation::Active, Correlation::Span);
        self.log_cut(severity, message, context, event_name, usize::MAX);
    }

    /// [`Sdk::log_event_in`] with the body cut to at most `max` bytes, at a character boundary,
    /// after redaction (which sees the whole message, so a secret the cut splits is masked
    /// whole); true when it was cut.
    pub fn log_cut(
        &mut self,
        severity: Severity,
        message: &str,
        context: Correlation,
        event_name: &str,
        max: usize,
    ) -> bool {
        let now = platform::now_unix_nanos();
        let context = match context {
            Correlation::Ended(cx) => Some(cx),
            Correlation::Span(h) => self.span_context(h),
            Correlation::Active => self.active_span().and_then(|h| self.span_context(h)),
        };
        self.stage_into_scratch(6, true);
        let redacted = if self.config.redact {
            crate::redact::redact_text(message, &self.config.redact_params)
        } else {
            message.into()
        };
        let body = cut(&redacted, max);
        let attributes = core::mem::take(&mut self.scratch);
        self.queue_record(
            0,
            &Record {
                time: now,
                observed: now,
                severity: severity as i32,
                severity_text: severity.text(),
                body: Some(Value::Str(body)),
                attributes: &attributes,
                flags: context.as_ref().map_or(0, |c| c.flags as u32),
                trace_id: context.as_ref().map(|c| c.trace_id),
                span_id: context.as_ref().map(|c| c.span_id),
                event_name,
            },
        );
        self.scratch = attributes;
        body.len() < redacted.len()
    }

    /// Queues a finished log record of scope `scope` (from [`Sdk::scope_id`]) with the rules
    /// every span attribute gets: the redaction of the body (as a log message, and the strings
    /// of a map or a list by their keys) and of the attributes (by their keys), the value-length
    /// limit and the attribute count limit on the attributes (counted when they drop some);
    /// attributes with an empty key are dropped and counted. A record without an observed time
    /// gets now. (The `opentelemetry` logs API's; not in the npm modules.)
    #[cfg(feature = "otel-api")]
    pub fn emit_record(&mut self, scope: u16, mut record: LogRecord) {
        if self.logs.len() >= self.config.max_log_queue_size {
            self.diagnostics.logs_dropped += 1;
            return;
        }
        let observed = if record.observed_time_unix_nano == 0 {
            platform::now_unix_nanos()
        } else {
            record.observed_time_unix_nano
        };
        if self.config.redact {
            // A body's map is redacted as an attribute's: each string by its own key.
            redact_value("", record.body.as_mut(), &self.config.redact_params);
        }
        let mut attributes = Attributes { dropped: record.dropped_attributes_count, ..Attributes::default() };
        for kv in &record.attributes {
            match &kv.value {
                Some(v) if !kv.key.is_empty() => {
                    Self::record(&self.config, &mut self.diagnostics, &mut attributes, 6, &kv.key, v.into())
                }
                // An empty key is not an attribute (OpenTelemetry's common spec); no value, none.
                _ => self.diagnostics.attributes_dropped += 1,
            }
        }
        let scope = if (scope as usize) < self.scopes.len() { scope } else { 0 };
        self.queue_record(
            scope,
            &Record {
                time: record.time_unix_nano,
                observed,
                severity: record.severity_number,
                severity_text: &record.severity_text,
                body: record.body.as_ref().map(Value::from),
                attributes: &attributes,
                flags: record.flags,
                trace_id: record.trace_id,
                span_id: record.span_id,
                event_name: &record.event_name,
            },
        );
    }

    fn queue_record(&mut self, scope: u16, r: &Record<'_>) {
        if self.logs.len() >= self.config.max_log_queue_size {
            self.diagnostics.logs_dropped += 1;
            return;
        }
        self.logs.push(scope, |out| r.encode(out));
    }

    /// Whether an open span records attributes, events and links.
    pub fn is_recording(&self, h: Handle) -> bool {
        self.slot(h).is_some_and(|s| s.recording)
    }

    /// Finished spans waiting for export.
    pub fn queued_spans(&self) -> usize {
        #[cfg(feature = "otel-api")]
        return self.spans.len() + self.retired.iter().map(|r| r.spans.len()).sum::<usize>();
        #[cfg(not(feature = "otel-api"))]
        self.spans.len()
    }

    /// Log records waiting for export.
    pub fn queued_logs(&self) -> usize {
        #[cfg(feature = "otel-api")]
        return self.logs.len() + self.retired.iter().map(|r| r.logs.len()).sum::<usize>();
        #[cfg(not(feature = "otel-api"))]
        self.logs.len()
    }

    /// Spans or records in one export request: a size of 0, which would never export, is the
    /// default's.
    fn batch_size(&self) -> usize {
        match self.config.max_export_batch_size {
            0 => 512,
            n => n,
        }
    }

    /// Takes up to `max` messages of `queue` as a protobuf request whose size, encoded as
    /// `protobuf` says, is at most `max_bytes`: halves the count until it fits (a single message
    /// larger than that is taken anyway).
    fn take(&mut self, logs: bool, max_bytes: usize, protobuf: bool) -> Option<Vec<u8>> {
        #[cfg(feature = "otel-api")]
        if let Some(batch) = self.take_retired(logs, max_bytes, protobuf) {
            return Some(batch);
        }
        let queue = if logs { &self.logs } else { &self.spans };
        let mut n = queue.len().min(self.batch_size());
        while n > 0 {
            let bytes = queue.request(n, &self.resource_bytes, &self.scope_bytes);
            let bytes = if protobuf { bytes } else { to_json(bytes, logs) };
            if bytes.len() <= max_bytes || n == 1 {
                if logs { &mut self.logs } else { &mut self.spans }.consume(n);
                return Some(bytes);
            }
            n /= 2;
        }
        None
    }

    /// [`Sdk::take`] from the oldest queue a reconfiguration set aside, under its resource.
    #[cfg(feature = "otel-api")]
    fn take_retired(&mut self, logs: bool, max_bytes: usize, protobuf: bool) -> Option<Vec<u8>> {
        self.retired.retain(|r| r.spans.len() > 0 || r.logs.len() > 0);
        let max_batch = self.batch_size();
        let scopes = &self.scope_bytes;
        let retired = self.retired.iter_mut().find(|r| if logs { r.logs.len() } else { r.spans.len() } > 0)?;
        let queue = if logs { &mut retired.logs } else { &mut retired.spans };
        let mut n = queue.len().min(max_batch);
        while n > 0 {
            let bytes = queue.request(n, &retired.resource_bytes, scopes);
            let bytes = if protobuf { bytes } else { to_json(bytes, logs) };
            if bytes.len() <= max_bytes || n == 1 {
                queue.consume(n);
                return Some(bytes);
            }
            n /= 2;
        }
        None
    }

    /// Takes the largest batch of finished spans (halving from a full batch) whose encoding
    /// fits in `max_bytes`, for page-hide exports that must stay within the browser's keepalive
    /// budget. A single span larger than that is taken anyway. `None` when none are queued.
    pub fn take_traces_within(&mut self, max_bytes: usize, protobuf: bool) -> Option<Vec<u8>> {
        self.take(false, max_bytes, protobuf)
    }

    /// [`Sdk::take_traces_within`] for log records.
    pub fn take_logs_within(&mut self, max_bytes: usize, protobuf: bool) -> Option<Vec<u8>> {
        self.take(true, max_bytes, protobuf)
    }

    /// Takes up to one batch of finished spans as an OTLP/JSON `ExportTraceServiceRequest`.
    #[cfg(feature = "json")]
    pub fn take_traces_json(&mut self) -> Option<String> {
        self.take(false, usize::MAX, false).map(into_string)
    }

    /// Takes up to one batch of finished spans as an OTLP protobuf `ExportTraceServiceRequest`.
    pub fn take_traces_proto(&mut self) -> Option<Vec<u8>> {
        self.take(false, usize::MAX, true)
    }

    /// Takes up to one batch of log records as an OTLP/JSON `ExportLogsServiceRequest`.
    #[cfg(feature = "json")]
    pub fn take_logs_json(&mut self) -> Option<String> {
        self.take(true, usize::MAX, false).map(into_string)
    }

    /// Takes up to one batch of log records as an OTLP protobuf `ExportLogsServiceRequest`.
    pub fn take_logs_proto(&mut self) -> Option<Vec<u8>> {
        self.take(true, usize::MAX, true)
    }
}

/// A log record's fields, borrowed, for encoding into the queue.
struct Record<'a> {
    time: u64,
    observed: u64,
    severity: i32,
    severity_text: &'a str,
    body: Option<Value<'a>>,
    attributes: &'a Attributes,
    flags: u32,
    trace_id: Option<TraceId>,
    span_id: Option<SpanId>,
    event_name: &'a str,
}

impl Record<'_> {
    /// Appends the record as field 2 of `ScopeLogs`.
    fn encode(&self, out: &mut Vec<u8>) {
        use wire::*;
        let body = self.body.map(value_size);
        let size = fixed64_size(1, self.time)
            + uint_size(2, self.severity as u32 as u64)
            + bytes_size(3, self.severity_text.len())
            + body.map_or(0, |n| field_size(5, n))
            + self.attributes.buf.len()
            + uint_size(7, self.attributes.dropped as u64)
            + fixed32_size(8, self.flags)
            + self.trace_id.map_or(0, |_| field_size(9, 16))
            + self.span_id.map_or(0, |_| field_size(10, 8))
            + fixed64_size(11, self.observed)
            + bytes_size(12, self.event_name.len());
        write(out, field_size(2, size), |w| {
            w.header(2, size);
            w.fixed64(1, self.time);
            w.uint(2, self.severity as u32 as u64);
            w.bytes(3, self.severity_text.as_bytes());
            if let (Some(v), Some(n)) = (self.body, body) {
                w.header(5, n);
                value(w, v);
            }
            w.slice(&self.attributes.buf);
            w.uint(7, self.attributes.dropped as u64);
            w.fixed32(8, self.flags);
            if let Some(t) = &self.trace_id {
                w.bytes(9, &t.0);
            }
            if let Some(s) = &self.span_id {
                w.bytes(10, &s.0);
            }
            w.fixed64(11, self.observed);
            w.bytes(12, self.event_name.as_bytes());
        });
    }
}

/// A protobuf request re-written as OTLP/JSON (the `json` feature; without it, protobuf).
fn to_json(bytes: Vec<u8>, logs: bool) -> Vec<u8> {
    #[cfg(feature = "json")]
    return json::request(&bytes, logs).into_bytes();
    #[cfg(not(feature = "json"))]
    {
        let _ = logs;
        bytes
    }
}

#[cfg(feature = "json")]
fn into_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_default()
}

/// Whole and safe numbers become OTLP ints, others doubles.
pub(crate) fn is_int(n: f64) -> bool {
    n.abs() <= 9_007_199_254_740_991.0 && n == (n as i64) as f64
}

/// `s` cut to at most `max` characters (Unicode scalar values), as OpenTelemetry's attribute
/// value length limit counts them ("counting any character in it as 1").
pub(crate) fn cut_chars(s: &str, max: usize) -> &str {
    // At most one character per byte: a string of no more bytes than `max` is whole.
    if s.len() <= max {
        return s;
    }
    // A character starts at each byte that is not a continuation byte (`10xxxxxx`).
    let mut seen = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if b & 0xC0 != 0x80 {
            if seen == max {
                return s.get(..i).unwrap_or(s);
            }
            seen += 1;
        }
    }
    s
}

/// `s` cut to at most `max` bytes at a character boundary.
fn cut(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or(s)
}

/// Attributes a resource holds, the SDK's own included: OpenTelemetry exempts resources from the
/// attribute limits of spans and records (`max_attributes`), but a resource goes with every
/// export.
const MAX_RESOURCE_ATTRIBUTES: usize = 128;

/// The resource of `config` and its protobuf: the SDK's attributes, then the configured ones (a
/// key given again replaces the value; an empty key, and keys beyond
/// [`MAX_RESOURCE_ATTRIBUTES`], are dropped and counted), their secrets masked when redaction is
/// on. Without a service name, `unknown_service`, as OpenTelemetry's resource asks.
#[inline(never)]
fn resource_of(config: &Config) -> (Resource, Vec<u8>) {
    let service = if config.service_name.is_empty() { "unknown_service" } else { config.service_name.as_str() };
    let mut attributes = vec![
        KeyValue::new("service.name", service),
        KeyValue::new("telemetry.sdk.name", "edgescope"),
        // The semantic conventions' value for the API the app calls: the npm module's JavaScript
        // API (the Node entry says `nodejs` itself), or the Rust crate's.
        KeyValue::new("telemetry.sdk.language", if cfg!(feature = "js-exports") { "webjs" } else { "rust" }),
        KeyValue::new("telemetry.sdk.version", env!("CARGO_PKG_VERSION")),
    ];
    let mut dropped = 0u32;
    for kv in &config.resource_attributes {
        let mut kv = kv.clone();
        if config.redact {
            redact_value(&kv.key, kv.value.as_mut(), &config.redact_params);
        }
        let full = attributes.len() >= MAX_RESOURCE_ATTRIBUTES;
        match attributes.iter_mut().find(|a| a.key == kv.key) {
            Some(existing) => existing.value = kv.value,
            None if !full && !kv.key.is_empty() => attributes.push(kv),
            None => dropped += 1,
        }
    }
    let mut bytes = Vec::new();
    wire::model_attributes(&mut bytes, 1, &attributes);
    if dropped > 0 {
        let n = u64::from(dropped);
        wire::write(&mut bytes, wire::uint_size(2, n), |w| w.uint(2, n));
    }
    (Resource { attributes, dropped_attributes_count: dropped }, bytes)
}

/// Redacts a string value (or the strings of an array or a map) in place; bytes that are UTF-8 as
/// that text (they stay bytes); other bytes only by their key's name.
fn redact_value(key: &str, value: Option<&mut AnyValue>, extra: &[String]) {
    match value {
        Some(AnyValue::String(s)) => {
            if let Some(r) = crate::redact::redact_attribute(key, s, extra) {
                *s = r;
            }
        }
        Some(AnyValue::Bytes(b)) => {
            // Bytes that are no UTF-8 (binary data) stand for one character: under a secret's
            // name they are masked whole, as a string is; their content is not scanned (a scan
            // of them as text cost the module 144-450 B gzip).
            let text = core::str::from_utf8(b).unwrap_or("\u{FFFD}");
            if let Some(r) = crate::redact::redact_attribute(key, text, extra) {
                *b = r.into_bytes();
            }
        }
        Some(AnyValue::Array(items)) => items.iter_mut().for_each(|i| redact_value(key, Some(i), extra)),
        // A map's strings under their own keys (`{ request: { "url.full": … } }` as a URL), or
        // all under its own when that is a secret's (`{ tokens: { access: … } }`).
        Some(AnyValue::KvList(entries)) => {
            let secret = crate::redact::is_secret_name(key.as_bytes());
            entries.iter_mut().for_each(|kv| redact_value(if secret { key } else { &kv.key }, kv.value.as_mut(), extra))
        }
        _ => {}
    }
}

/// Cuts strings (also inside arrays and maps) to at most `max` bytes at a character boundary, and
/// bytes values to `max` bytes.
fn truncate_value(v: &mut AnyValue, max: usize) {
    match v {
        AnyValue::String(s) if s.len() > max => {
            let end = cut_chars(s, max).len();
            // SAFETY: `cut_chars` ends on a char boundary.
            unsafe { s.as_mut_vec().truncate(end) };
        }
        AnyValue::Array(items) => items.iter_mut().for_each(|i| truncate_value(i, max)),
        AnyValue::KvList(entries) => {
            entries.iter_mut().filter_map(|kv| kv.value.as_mut()).for_each(|v| truncate_value(v, max))
        }
        AnyValue::Bytes(b) => b.truncate(max),
        _ => {}
    }
}

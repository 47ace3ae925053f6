//! The SDK core: open spans, the active-span stack, bounded export queues and OTLP encoding.
//!
//! It is single-threaded by design (a page or an isolate runs one thread of JavaScript) and
//! never panics on bad input: unknown handles, full queues and too many attributes are counted
//! in [`Diagnostics`] and otherwise ignored.

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

#[cfg(feature = "json")]
use edgescope_otlp::json;
use edgescope_otlp::{
    proto, AnyValue, Event, InstrumentationScope, KeyValue, Link, LogRecord, LogsData, Resource, ResourceLogs,
    ResourceSpans, ScopeLogs, ScopeSpans, Span, SpanId, SpanKind, Status, StatusCode, TraceId, TracesData,
};

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
    /// Spans or records in one export request.
    pub max_export_batch_size: usize,
    /// Spans open at once; a start beyond it yields a no-op handle.
    pub max_open_spans: usize,
    /// Attributes per span, event, link or record.
    pub max_attributes: usize,
    /// Longest string attribute value (in bytes, cut at a character boundary); 0 for no limit.
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
    /// Mask secrets in attribute values and log messages (see [`crate::redact`]).
    pub redact: bool,
    /// More query parameter names to treat as secrets in URL attributes.
    pub redact_params: Vec<String>,
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

struct Slot {
    generation: u16,
    span: Option<OpenSpan>,
}

struct OpenSpan {
    data: Span,
    /// Index into `Sdk::scopes`.
    scope: u16,
    /// The sampler kept the trace: the span is exported when it ends.
    sampled: bool,
    /// Attributes, events and links are kept (sampled, or held for `keep_errors`).
    recording: bool,
    /// No parent in this process: when it ends, the trace's held spans are decided.
    local_root: bool,
}

/// The SDK state for one page or isolate.
pub struct Sdk {
    config: Config,
    resource: Resource,
    /// Open spans; `free` lists the empty slots so that handles stay small.
    slots: Vec<Slot>,
    free: Vec<usize>,
    /// Spans made active by `withSpan`; the last is the parent of new spans and the span of new
    /// log records. Entries are removed by identity, since async callbacks may end out of order.
    active: Vec<Handle>,
    /// Ended spans with their scope index, waiting for export.
    spans: Vec<(u16, Span)>,
    /// Log records with their scope index, waiting for export.
    logs: Vec<(u16, LogRecord)>,
    /// Instrumentation scopes; 0 is the SDK's own, others come from the `opentelemetry` API.
    scopes: Vec<InstrumentationScope>,
    /// Attributes handed over one at a time by the JS layer before the call that uses them.
    staged: Vec<KeyValue>,
    /// Attributes every new span and log record gets (`session.id`, `user.id`); they change
    /// during a page's life, so they cannot be resource attributes.
    common: Vec<KeyValue>,
    /// Random bytes drawn in blocks, so that an id costs no call into the host.
    random: [u8; 192],
    random_used: usize,
    /// Ended spans of unsampled traces, held under `keep_errors` until their local root ends.
    held: Vec<(u16, Span)>,
    /// Traces recently kept because of an error, so that spans ending late follow them.
    kept_traces: Vec<TraceId>,
    diagnostics: Diagnostics,
}

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

impl Sdk {
    /// An SDK with the given settings. Takes no time and draws no random values, so it may be
    /// created at module load (workerd forbids randomness outside a request).
    pub fn new(config: Config) -> Sdk {
        let mut attributes = vec![
            KeyValue::new("service.name", config.service_name.as_str()),
            KeyValue::new("telemetry.sdk.name", "edgescope"),
            KeyValue::new("telemetry.sdk.language", "webjs"),
            KeyValue::new("telemetry.sdk.version", env!("CARGO_PKG_VERSION")),
        ];
        for kv in &config.resource_attributes {
            match attributes.iter_mut().find(|a| a.key == kv.key) {
                Some(existing) => existing.value = kv.value.clone(),
                None => attributes.push(kv.clone()),
            }
        }
        Sdk {
            resource: Resource { attributes, dropped_attributes_count: 0 },
            scopes: vec![InstrumentationScope {
                name: "edgescope".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                ..Default::default()
            }],
            config,
            slots: Vec::new(),
            free: Vec::new(),
            active: Vec::new(),
            spans: Vec::new(),
            logs: Vec::new(),
            staged: Vec::new(),
            common: Vec::new(),
            random: [0; 192],
            random_used: 192,
            held: Vec::new(),
            kept_traces: Vec::new(),
            diagnostics: Diagnostics::default(),
        }
    }

    /// Turns redaction on or off, with extra secret query parameter names.
    pub fn set_redaction(&mut self, enabled: bool, extra_params: Vec<String>) {
        self.config.redact = enabled;
        self.config.redact_params = extra_params;
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

    fn random_bytes<const N: usize>(&mut self) -> [u8; N] {
        if self.random_used + N > self.random.len() {
            platform::fill_random(&mut self.random);
            self.random_used = 0;
        }
        let mut out = [0u8; N];
        out.copy_from_slice(&self.random[self.random_used..self.random_used + N]);
        self.random_used += N;
        out
    }

    fn new_span_id(&mut self) -> SpanId {
        loop {
            let id = SpanId(self.random_bytes::<8>());
            if id.is_valid() {
                return id;
            }
        }
    }

    fn new_trace_id(&mut self) -> TraceId {
        loop {
            let id = TraceId(self.random_bytes::<16>());
            if id.is_valid() {
                return id;
            }
        }
    }

    fn slot(&self, h: Handle) -> Option<&OpenSpan> {
        let slot = self.slots.get(h.index()?)?;
        if slot.generation != h.generation() {
            return None;
        }
        slot.span.as_ref()
    }

    fn slot_mut(&mut self, h: Handle) -> Option<&mut OpenSpan> {
        let slot = self.slots.get_mut(h.index()?)?;
        if slot.generation != h.generation() {
            return None;
        }
        slot.span.as_mut()
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
            self.active.remove(pos);
        }
    }

    /// The propagation context of an open span.
    pub fn span_context(&self, h: Handle) -> Option<SpanContext> {
        let s = self.slot(h)?;
        Some(SpanContext {
            trace_id: s.data.trace_id,
            span_id: s.data.span_id,
            flags: s.data.flags as u8,
            trace_state: s.data.trace_state.clone(),
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

    /// The index of an instrumentation scope, added on first use (at most 256 scopes; further
    /// ones share the SDK's own).
    pub fn scope_id(&mut self, scope: InstrumentationScope) -> u16 {
        if let Some(i) = self.scopes.iter().position(|s| *s == scope) {
            return i as u16;
        }
        if self.scopes.len() >= 256 {
            return 0;
        }
        self.scopes.push(scope);
        (self.scopes.len() - 1) as u16
    }

    /// Starts a span. Its parent is `parent` when given (a remote context from `traceparent`),
    /// else the active span, else none: the span starts a new trace.
    pub fn start_span(&mut self, name: &str, kind: SpanKind, parent: Option<&SpanContext>) -> Handle {
        self.start_span_with(name, kind, StartOptions { parent, use_active: true, ..StartOptions::default() })
    }

    /// Starts a span with explicit options.
    pub fn start_span_with(&mut self, name: &str, kind: SpanKind, options: StartOptions<'_>) -> Handle {
        let staged = core::mem::take(&mut self.staged);
        if self.slots.len() - self.free.len() >= self.config.max_open_spans {
            self.diagnostics.spans_refused += 1;
            return Handle::NONE;
        }
        let parent = match options.parent {
            Some(p) => Some(p.clone()),
            None if options.use_active => self.active_span().and_then(|h| self.span_context(h)),
            None => None,
        };
        let trace_id = parent.as_ref().map_or_else(|| self.new_trace_id(), |p| p.trace_id);
        let sampled = self.config.sampler.should_sample(&trace_id, parent.as_ref());
        let recording = sampled || self.config.keep_errors;
        let (parent_span_id, flags, trace_state, remote) = match &parent {
            // Only the sampled flag may change; the random flag describes the trace id.
            Some(p) => (Some(p.span_id), p.flags & !FLAG_SAMPLED, p.trace_state.clone(), p.is_remote),
            None => (None, FLAG_RANDOM, String::new(), false),
        };
        let flags = flags | if sampled { FLAG_SAMPLED } else { 0 };
        let mut data = Span {
            trace_id,
            span_id: self.new_span_id(),
            trace_state,
            parent_span_id,
            // OTLP span flags: W3C trace flags in the low byte; bit 8 says whether the parent's
            // remoteness is known, bit 9 that the parent is remote.
            flags: flags as u32 | 0x100 | if remote { 0x200 } else { 0 },
            name: name.to_owned(),
            kind,
            start_time_unix_nano: options.start_time_unix_nano.unwrap_or_else(platform::now_unix_nanos),
            ..Default::default()
        };
        if recording {
            for kv in self.common.clone().into_iter().chain(staged) {
                self.push_attribute(&mut data.attributes, &mut data.dropped_attributes_count, kv);
            }
        }
        let scope = if (options.scope as usize) < self.scopes.len() { options.scope } else { 0 };
        let open = OpenSpan { data, scope, sampled, recording, local_root: parent.is_none_or(|p| p.is_remote) };
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot { generation: 0, span: None });
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[index];
        slot.span = Some(open);
        Handle::new(index, slot.generation)
    }

    /// Applies the attribute limits: replaces an existing key, cuts long strings, drops and
    /// counts attributes beyond the count limit.
    fn push_attribute(&mut self, list: &mut Vec<KeyValue>, dropped: &mut u32, mut kv: KeyValue) {
        if self.config.redact {
            redact_value(&kv.key, kv.value.as_mut(), &self.config.redact_params);
        }
        let max_len = self.config.max_attribute_value_length;
        if max_len > 0 {
            if let Some(v) = kv.value.as_mut() {
                truncate_value(v, max_len);
            }
        }
        if let Some(existing) = list.iter_mut().find(|a| a.key == kv.key) {
            existing.value = kv.value;
        } else if list.len() < self.config.max_attributes {
            list.push(kv);
        } else {
            *dropped += 1;
            self.diagnostics.attributes_dropped += 1;
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
        let staged = core::mem::take(&mut self.staged);
        let time_unix_nano = time.unwrap_or_else(platform::now_unix_nanos);
        let max_events = self.config.max_events;
        let Some(s) = self.recording_span(h) else { return };
        if s.data.events.len() >= max_events {
            s.data.dropped_events_count += 1;
            self.diagnostics.events_dropped += 1;
            return;
        }
        let mut event = Event { time_unix_nano, name: name.to_owned(), ..Default::default() };
        for kv in staged {
            self.push_attribute(&mut event.attributes, &mut event.dropped_attributes_count, kv);
        }
        if let Some(s) = self.slot_mut(h) {
            s.data.events.push(event);
        }
    }

    /// Adds an `exception` event with `exception.type`, `exception.message` and
    /// `exception.stacktrace` (empty parts are left out), plus the staged attributes.
    pub fn record_exception(&mut self, h: Handle, kind: &str, message: &str, stacktrace: &str) {
        for (key, value) in
            [("exception.type", kind), ("exception.message", message), ("exception.stacktrace", stacktrace)]
        {
            if !value.is_empty() {
                self.staged.push(KeyValue::new(key, value));
            }
        }
        self.add_event(h, "exception");
    }

    /// Links the span to another span, with the staged attributes.
    pub fn add_link(&mut self, h: Handle, to: &SpanContext) {
        let staged = core::mem::take(&mut self.staged);
        let max_links = self.config.max_links;
        let Some(s) = self.recording_span(h) else { return };
        if s.data.links.len() >= max_links {
            s.data.dropped_links_count += 1;
            self.diagnostics.links_dropped += 1;
            return;
        }
        let mut link = Link {
            trace_id: to.trace_id,
            span_id: to.span_id,
            trace_state: to.trace_state.clone(),
            flags: to.flags as u32 | 0x100 | if to.is_remote { 0x200 } else { 0 },
            ..Default::default()
        };
        for kv in staged {
            self.push_attribute(&mut link.attributes, &mut link.dropped_attributes_count, kv);
        }
        if let Some(s) = self.slot_mut(h) {
            s.data.links.push(link);
        }
    }

    /// Sets (or replaces) an attribute on an open span.
    pub fn set_attribute(&mut self, h: Handle, key: &str, value: AnyValue) {
        let Some(s) = self.recording_span(h) else { return };
        let (mut attributes, mut dropped) = (core::mem::take(&mut s.data.attributes), s.data.dropped_attributes_count);
        self.push_attribute(&mut attributes, &mut dropped, KeyValue::new(key, value));
        if let Some(s) = self.slot_mut(h) {
            s.data.attributes = attributes;
            s.data.dropped_attributes_count = dropped;
        }
    }

    /// Sets the status of an open span. `Ok` is final; `Unset` never overrides an earlier status.
    pub fn set_status(&mut self, h: Handle, code: StatusCode, message: &str) {
        let Some(s) = self.slot_mut(h) else {
            return self.stale(h);
        };
        if s.data.status.code == StatusCode::Ok || code == StatusCode::Unset {
            return;
        }
        s.data.status =
            Status { code, message: if code == StatusCode::Error { message.to_owned() } else { String::new() } };
    }

    /// Renames an open span.
    pub fn update_name(&mut self, h: Handle, name: &str) {
        match self.slot_mut(h) {
            Some(s) => s.data.name = name.to_owned(),
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
        let Some(slot) = self.slots.get_mut(index).filter(|s| s.generation == h.generation() && s.span.is_some())
        else {
            return self.stale(h);
        };
        let Some(mut open) = slot.span.take() else {
            return;
        };
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index);
        self.deactivate(h);
        // A clock that stepped back must not produce a negative duration.
        open.data.end_time_unix_nano =
            time.unwrap_or_else(platform::now_unix_nanos).max(open.data.start_time_unix_nano);
        if open.sampled {
            self.enqueue((open.scope, open.data));
        } else if open.recording {
            self.hold((open.scope, open.data), open.local_root);
        }
    }

    fn enqueue(&mut self, span: (u16, Span)) {
        if self.spans.len() >= self.config.max_queue_size {
            self.diagnostics.spans_dropped += 1;
        } else {
            self.spans.push(span);
        }
    }

    /// `keep_errors`: holds an ended span of an unsampled trace until its local root ends, then
    /// exports the trace's held spans if any of them is an error, or drops them.
    fn hold(&mut self, span: (u16, Span), local_root: bool) {
        let trace_id = span.1.trace_id;
        if self.kept_traces.contains(&trace_id) {
            return self.enqueue(span);
        }
        if self.held.len() >= self.config.max_queue_size {
            self.held.remove(0);
            self.diagnostics.spans_dropped += 1;
        }
        self.held.push(span);
        if !local_root {
            return;
        }
        let (trace, rest): (Vec<_>, Vec<_>) =
            core::mem::take(&mut self.held).into_iter().partition(|(_, s)| s.trace_id == trace_id);
        self.held = rest;
        if trace.iter().any(|(_, s)| s.status.code == StatusCode::Error) {
            if self.kept_traces.len() == 64 {
                self.kept_traces.remove(0);
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
        let staged = core::mem::take(&mut self.staged);
        let now = platform::now_unix_nanos();
        let context = span.or_else(|| self.active_span()).and_then(|h| self.span_context(h));
        let mut record = LogRecord {
            time_unix_nano: now,
            observed_time_unix_nano: now,
            severity_number: severity as i32,
            severity_text: severity.text().into(),
            body: Some(AnyValue::String(if self.config.redact {
                crate::redact::redact_text(message).into_owned()
            } else {
                message.to_owned()
            })),
            flags: context.as_ref().map_or(0, |c| c.flags as u32),
            trace_id: context.as_ref().map(|c| c.trace_id),
            span_id: context.as_ref().map(|c| c.span_id),
            ..Default::default()
        };
        for kv in self.common.clone().into_iter().chain(staged) {
            self.push_attribute(&mut record.attributes, &mut record.dropped_attributes_count, kv);
        }
        self.emit_record(0, record);
    }

    /// Queues a finished log record of scope `scope` (from [`Sdk::scope_id`]), applying the
    /// attribute limits; a record without an observed time gets now.
    pub fn emit_record(&mut self, scope: u16, mut record: LogRecord) {
        if self.logs.len() >= self.config.max_log_queue_size {
            self.diagnostics.logs_dropped += 1;
            return;
        }
        if record.observed_time_unix_nano == 0 {
            record.observed_time_unix_nano = platform::now_unix_nanos();
        }
        if record.attributes.len() > self.config.max_attributes {
            let extra = record.attributes.len() - self.config.max_attributes;
            record.attributes.truncate(self.config.max_attributes);
            record.dropped_attributes_count += extra as u32;
            self.diagnostics.attributes_dropped += extra as u64;
        }
        let scope = if (scope as usize) < self.scopes.len() { scope } else { 0 };
        self.logs.push((scope, record));
    }

    /// Whether an open span records attributes, events and links.
    pub fn is_recording(&self, h: Handle) -> bool {
        self.slot(h).is_some_and(|s| s.recording)
    }

    /// Finished spans waiting for export.
    pub fn queued_spans(&self) -> usize {
        self.spans.len()
    }

    /// Log records waiting for export.
    pub fn queued_logs(&self) -> usize {
        self.logs.len()
    }

    fn take_spans(&mut self) -> Option<TracesData> {
        if self.spans.is_empty() {
            return None;
        }
        let n = self.spans.len().min(self.config.max_export_batch_size);
        let spans: Vec<(u16, Span)> = self.spans.drain(..n).collect();
        Some(self.traces_data(spans))
    }

    fn traces_data(&self, spans: Vec<(u16, Span)>) -> TracesData {
        let mut scope_spans: Vec<ScopeSpans> = Vec::new();
        for (scope, span) in spans {
            match scope_spans.iter_mut().find(|ss| ss.scope == self.scopes[scope as usize]) {
                Some(ss) => ss.spans.push(span),
                None => scope_spans.push(ScopeSpans {
                    scope: self.scopes[scope as usize].clone(),
                    spans: vec![span],
                    schema_url: String::new(),
                }),
            }
        }
        TracesData {
            resource_spans: vec![ResourceSpans {
                resource: self.resource.clone(),
                scope_spans,
                schema_url: String::new(),
            }],
        }
    }

    /// Takes the largest batch of finished spans (halving from a full batch) whose encoding
    /// fits in `max_bytes`, for page-hide exports that must stay within the browser's keepalive
    /// budget. A single span larger than that is taken anyway. `None` when none are queued.
    pub fn take_traces_within(&mut self, max_bytes: usize, protobuf: bool) -> Option<Vec<u8>> {
        let mut n = self.spans.len().min(self.config.max_export_batch_size);
        while n > 0 {
            let data = self.traces_data(self.spans[..n].to_vec());
            let bytes = encode_traces(&data, protobuf);
            if bytes.len() <= max_bytes || n == 1 {
                self.spans.drain(..n);
                return Some(bytes);
            }
            n /= 2;
        }
        None
    }

    /// [`Sdk::take_traces_within`] for log records.
    pub fn take_logs_within(&mut self, max_bytes: usize, protobuf: bool) -> Option<Vec<u8>> {
        let mut n = self.logs.len().min(self.config.max_export_batch_size);
        while n > 0 {
            let data = self.logs_data(self.logs[..n].to_vec());
            let bytes = encode_logs(&data, protobuf);
            if bytes.len() <= max_bytes || n == 1 {
                self.logs.drain(..n);
                return Some(bytes);
            }
            n /= 2;
        }
        None
    }

    fn take_records(&mut self) -> Option<LogsData> {
        if self.logs.is_empty() {
            return None;
        }
        let n = self.logs.len().min(self.config.max_export_batch_size);
        let records: Vec<(u16, LogRecord)> = self.logs.drain(..n).collect();
        Some(self.logs_data(records))
    }

    fn logs_data(&self, records: Vec<(u16, LogRecord)>) -> LogsData {
        let mut scope_logs: Vec<ScopeLogs> = Vec::new();
        for (scope, record) in records {
            match scope_logs.iter_mut().find(|sl| sl.scope == self.scopes[scope as usize]) {
                Some(sl) => sl.log_records.push(record),
                None => scope_logs.push(ScopeLogs {
                    scope: self.scopes[scope as usize].clone(),
                    log_records: vec![record],
                    schema_url: String::new(),
                }),
            }
        }
        LogsData {
            resource_logs: vec![ResourceLogs {
                resource: self.resource.clone(),
                scope_logs,
                schema_url: String::new(),
            }],
        }
    }

    /// Takes up to one batch of finished spans as an OTLP/JSON `ExportTraceServiceRequest`.
    #[cfg(feature = "json")]
    pub fn take_traces_json(&mut self) -> Option<String> {
        self.take_spans().map(|d| json::write_traces_with(&d, platform::format_f64))
    }

    /// Takes up to one batch of finished spans as an OTLP protobuf `ExportTraceServiceRequest`.
    pub fn take_traces_proto(&mut self) -> Option<Vec<u8>> {
        self.take_spans().map(|d| proto::encode_traces(&d))
    }

    /// Takes up to one batch of log records as an OTLP/JSON `ExportLogsServiceRequest`.
    #[cfg(feature = "json")]
    pub fn take_logs_json(&mut self) -> Option<String> {
        self.take_records().map(|d| json::write_logs_with(&d, platform::format_f64))
    }

    /// Takes up to one batch of log records as an OTLP protobuf `ExportLogsServiceRequest`.
    pub fn take_logs_proto(&mut self) -> Option<Vec<u8>> {
        self.take_records().map(|d| proto::encode_logs(&d))
    }
}

/// A batch as OTLP protobuf, or OTLP/JSON when `protobuf` is false and the `json` feature is on.
fn encode_traces(data: &TracesData, protobuf: bool) -> Vec<u8> {
    #[cfg(feature = "json")]
    if !protobuf {
        return json::write_traces_with(data, platform::format_f64).into_bytes();
    }
    let _ = protobuf;
    proto::encode_traces(data)
}

/// [`encode_traces`] for log records.
fn encode_logs(data: &LogsData, protobuf: bool) -> Vec<u8> {
    #[cfg(feature = "json")]
    if !protobuf {
        return json::write_logs_with(data, platform::format_f64).into_bytes();
    }
    let _ = protobuf;
    proto::encode_logs(data)
}

/// Redacts a string value (or the strings of an array) in place.
fn redact_value(key: &str, value: Option<&mut AnyValue>, extra: &[String]) {
    match value {
        Some(AnyValue::String(s)) => {
            if let Some(r) = crate::redact::redact_attribute(key, s, extra) {
                *s = r;
            }
        }
        Some(AnyValue::Array(items)) => items.iter_mut().for_each(|i| redact_value(key, Some(i), extra)),
        _ => {}
    }
}

/// Cuts strings (also inside arrays) to at most `max` bytes at a character boundary.
fn truncate_value(v: &mut AnyValue, max: usize) {
    match v {
        AnyValue::String(s) if s.len() > max => {
            let mut end = max;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s.truncate(end);
        }
        AnyValue::Array(items) => items.iter_mut().for_each(|i| truncate_value(i, max)),
        _ => {}
    }
}

//! The core's work per span, for an instruction count that machine load cannot blur: 20,000
//! spans with three attributes (two strings, one integer), ended and encoded as OTLP protobuf
//! in batches of 256, as `bench/spans.mjs` drives them through JavaScript.
//!
//! ```sh
//! cargo build -p edgescope --example core_spans --profile wasm-release
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/core_spans.out target/wasm-release/examples/core_spans
//! callgrind_annotate /tmp/core_spans.out | head -40
//! ```
//! Native code at `-Oz`, not wasm: the counts show where the core spends its work, and how a
//! change moves it; wall-clock figures against OpenTelemetry JS come from `bench/spans.mjs`.

use edgescope::{Config, Sdk, SpanKind};

const SPANS: usize = 20_000;

fn main() {
    let mut sdk = Sdk::new(Config { service_name: "bench".into(), ..Config::default() });
    let mut bytes = 0;
    for i in 0..SPANS {
        let h = sdk.start_span("op", SpanKind::Internal, None);
        sdk.set_attribute_str(h, "http.request.method", "GET");
        sdk.set_attribute_int(h, "http.response.status_code", 200);
        sdk.set_attribute_str(h, "url.path", "/todos");
        sdk.end_span(h);
        if i % 256 == 255 {
            while let Some(batch) = sdk.take_traces_proto() {
                bytes += batch.len();
            }
        }
    }
    while let Some(batch) = sdk.take_traces_proto() {
        bytes += batch.len();
    }
    println!("{SPANS} spans, {bytes} bytes of OTLP protobuf");
}

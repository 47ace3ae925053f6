//! The core's work per span recorded in JavaScript (ADR 0011), for an instruction count that
//! machine load cannot blur: 20,000 records of spans with three attributes (two strings, one
//! integer), as `sdk/js/api.js` writes them, encoded into the export queue in batches of 512
//! and taken as OTLP protobuf, as `bench/spans.mjs` drives them.
//!
//! ```sh
//! cargo build -p edgescope --example record_spans --profile wasm-release
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/record_spans.out target/wasm-release/examples/record_spans
//! callgrind_annotate /tmp/record_spans.out | head -40
//! ```
//! Native code at `-Oz`, as for `core_spans`, which counts the same spans recorded by the core.

use edgescope::{Config, Sdk};

const SPANS: usize = 20_000;
const BATCH: usize = 512;

/// One record: ids, flags, kind, times, name, then the attributes (see sdk/src/sdk/records.rs).
fn record(out: &mut Vec<u8>, i: u32) {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    for w in [i ^ 0x9e37_79b9, i, 7, i.rotate_left(9), i | 1, 3] {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&0x103u32.to_le_bytes());
    out.extend_from_slice(&[1, 0, 0, 0]);
    let start = 1.7e12 + i as f64 * 0.01;
    out.extend_from_slice(&start.to_le_bytes());
    out.extend_from_slice(&(start + 0.005).to_le_bytes());
    let text = |out: &mut Vec<u8>, s: &str| {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    };
    text(out, "op");
    out.extend_from_slice(&3u32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.push(0);
    text(out, "GET");
    out.extend_from_slice(&1u32.to_le_bytes());
    out.push(1);
    out.extend_from_slice(&200f64.to_le_bytes());
    out.extend_from_slice(&2u32.to_le_bytes());
    out.push(0);
    text(out, "/todos");
    let len = (out.len() - at) as u32;
    out[at..at + 4].copy_from_slice(&len.to_le_bytes());
}

fn main() {
    let keys: Vec<String> = ["http.request.method", "http.response.status_code", "url.path"].map(String::from).into();
    let mut sdk = Sdk::new(Config { service_name: "bench".into(), max_queue_size: 4096, ..Config::default() });
    let mut records = Vec::new();
    let mut bytes = 0;
    for i in 0..SPANS {
        record(&mut records, i as u32);
        if i % BATCH == BATCH - 1 || i == SPANS - 1 {
            sdk.record_spans(&records, &keys);
            records.clear();
            while let Some(batch) = sdk.take_traces_proto() {
                bytes += batch.len();
            }
        }
    }
    println!("{SPANS} spans, {bytes} bytes of OTLP protobuf");
}

use crate::support;

use edgescope_collector::Settings;
use edgescope_otlp::{proto, KeyValue, Resource, ResourceSpans, ScopeSpans, Span, SpanId, TraceId, TracesData};
use support::{get, request, Collector};

fn batch(n: u64, spans: u64) -> Vec<u8> {
    let spans = (0..spans)
        .map(|i| Span {
            trace_id: TraceId([(n as u8).wrapping_add(1); 16]),
            span_id: SpanId((n * 100_000 + i + 1).to_be_bytes()),
            name: "work".into(),
            start_time_unix_nano: 1,
            end_time_unix_nano: 2,
            attributes: vec![KeyValue::new("payload", "x".repeat(200))],
            ..Default::default()
        })
        .collect();
    proto::encode_traces(&TracesData {
        resource_spans: vec![ResourceSpans {
            resource: Resource { attributes: vec![KeyValue::new("service.name", "load")], ..Default::default() },
            scope_spans: vec![ScopeSpans { spans, ..Default::default() }],
            ..Default::default()
        }],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_beyond_the_pending_writes_get_503_with_retry_after_and_what_got_200_is_all_stored() {
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings { data_dir: dir.path().to_owned(), max_pending_writes: 1, ..Settings::default() };
    let collector = Collector::start_with(settings).await;
    let addr = collector.otlp;
    let answers = futures_join(
        (0..16u64)
            .map(|n| async move {
                let a =
                    request(addr, "POST", "/v1/traces", &[("Content-Type", "application/x-protobuf")], &batch(n, 2000))
                        .await;
                (n, a.status, a.header("retry-after").map(str::to_owned))
            })
            .collect(),
    )
    .await;
    let accepted: Vec<u64> = answers.iter().filter(|(_, s, _)| *s == 200).map(|(n, _, _)| *n).collect();
    let refused: Vec<_> = answers.iter().filter(|(_, s, _)| *s == 503).collect();
    assert_eq!(accepted.len() + refused.len(), 16, "only 200 or 503: {answers:?}");
    assert!(!refused.is_empty(), "one pending write at a time must refuse some of 16 concurrent batches");
    assert!(refused.iter().all(|(_, _, r)| r.as_deref() == Some("1")), "503 carries Retry-After");
    // Every accepted batch is stored whole; no refused one is.
    for n in 0..16u64 {
        let id = TraceId([(n as u8).wrapping_add(1); 16]).to_hex();
        let answer = get(collector.ui, &format!("/api/v3/traces/{id}")).await;
        if accepted.contains(&n) {
            assert_eq!(answer.status, 200);
            let spans = answer.json()["result"]["resourceSpans"][0]["scopeSpans"][0]["spans"].as_array().unwrap().len();
            assert_eq!(spans, 2000);
        } else {
            assert_eq!(answer.status, 404, "a refused batch left nothing behind");
        }
    }
    collector.stop().await;
}

async fn futures_join<F: std::future::Future + Send + 'static>(futures: Vec<F>) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

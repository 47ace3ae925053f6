//! An export's body is inflated and decoded on the blocking threads, not the server's: a body of
//! many gzip members (cheap to send, seconds of CPU to inflate) must not stop other requests,
//! `/health` among them. The suite's runtime has one thread, so without this the health check
//! would wait for the exports.
use crate::support;

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use support::{get, request, Collector};

#[tokio::test]
async fn health_answers_while_exports_of_many_gzip_members_are_inflated() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    let member = {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"").unwrap();
        gz.finish().unwrap()
    };
    let body: Arc<Vec<u8>> = Arc::new(member.repeat(100_000));
    let finished = Arc::new(AtomicUsize::new(0));
    let exports: Vec<_> = (0..2)
        .map(|_| {
            let (body, finished, otlp) = (body.clone(), finished.clone(), collector.otlp);
            tokio::spawn(async move {
                let headers = [("Content-Type", "application/json"), ("Content-Encoding", "gzip")];
                let answer = request(otlp, "POST", "/v1/logs", &headers, &body).await;
                finished.fetch_add(1, Ordering::SeqCst);
                answer
            })
        })
        .collect();
    // Both exports have arrived and are being inflated.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let health = get(collector.ui, "/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(finished.load(Ordering::SeqCst), 0, "health answered while the exports were still inflated");
    for export in exports {
        // Empty once inflated: no OTLP request.
        let answer = export.await.unwrap();
        assert_eq!(answer.status, 400, "{}", answer.body);
    }
    collector.stop().await;
}

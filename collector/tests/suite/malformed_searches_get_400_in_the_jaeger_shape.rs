use crate::support;

use support::{find_traces, get, seed, Collector};

const SERVICE: (&str, &str) = ("query.service_name", "example-service-1");
const MIN: (&str, &str) = ("query.start_time_min", "2017-01-01T00:00:00Z");
const MAX: (&str, &str) = ("query.start_time_max", "2018-01-01T00:00:00Z");

fn assert_bad_request(answer: &support::Response, needle: &str, what: &str) {
    assert_eq!(answer.status, 400, "{what}: {}", answer.body);
    let body = answer.json();
    assert_eq!(body["error"]["httpCode"], 400, "{what}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains(needle), "{what}: {message:?} should mention {needle:?}");
}

#[tokio::test]
async fn searches_missing_a_required_parameter_or_with_an_unreadable_one_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let collector = Collector::start(dir.path()).await;
    seed(&collector, &["jaeger-integration-example_trace.json"]).await;
    assert_eq!(find_traces(collector.ui, &[SERVICE, MIN, MAX]).await.status, 200, "the well-formed search");

    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[SERVICE], "query.start_time_min"),
        (&[SERVICE, MIN], "query.start_time_max"),
        (&[SERVICE, ("query.start_time_min", "2017-01-01"), MAX], "malformed parameter query.start_time_min"),
        (&[SERVICE, MIN, ("query.startTimeMax", "1514764800")], "malformed parameter query.startTimeMax"),
        (&[SERVICE, MIN, ("query.start_time_max", "2017-01-01T00:00:00Z")], "earlier"),
        (&[SERVICE, MIN, MAX, ("query.duration_min", "10")], "malformed parameter query.duration_min"),
        (&[SERVICE, MIN, MAX, ("query.duration_max", "1d")], "malformed parameter query.duration_max"),
        (&[SERVICE, MIN, MAX, ("query.duration_max", "-1s")], "negative"),
        (&[SERVICE, MIN, MAX, ("query.duration_min", "2s"), ("query.duration_max", "1s")], "less than"),
        (&[SERVICE, MIN, MAX, ("query.search_depth", "-1")], "malformed parameter query.search_depth"),
        (&[SERVICE, MIN, MAX, ("query.search_depth", "10001")], "query.search_depth"),
        (&[SERVICE, MIN, MAX, ("query.attributes", r#"{"a":1}"#)], "malformed parameter query.attributes"),
        (&[SERVICE, MIN, MAX, ("query.attributes", "a=1")], "malformed parameter query.attributes"),
        (&[SERVICE, MIN, MAX, ("query.raw_traces", "maybe")], "malformed parameter query.raw_traces"),
    ];
    for (params, needle) in cases {
        assert_bad_request(&find_traces(collector.ui, params).await, needle, &format!("{params:?}"));
    }

    assert_bad_request(&get(collector.ui, "/api/v3/operations").await, "service", "operations without a service");
    assert_bad_request(&get(collector.ui, "/api/v3/operations?service=").await, "service", "an empty service");
    collector.stop().await;
}

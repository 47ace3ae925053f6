//! Requests to the collector's query API, each returning a typed `Result`.

use edgescope_otlp::read::{self, Ids};
use edgescope_otlp::{LogsData, TracesData};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// A failed request, in words for the error panel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError(pub(crate) String);

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn js_error(context: &str, e: wasm_bindgen::JsValue) -> ApiError {
    let detail = js_sys::Error::from(e).message().as_string().unwrap_or_else(|| "unknown error".into());
    ApiError(format!("{context}: {detail}"))
}

async fn get_json(url: &str) -> Result<serde_json::Value, ApiError> {
    let window = web_sys::window().ok_or_else(|| ApiError("no window".into()))?;
    let response = JsFuture::from(window.fetch_with_str(url)).await.map_err(|e| js_error(url, e))?;
    let response: web_sys::Response = response.dyn_into().map_err(|e| js_error(url, e))?;
    let text = JsFuture::from(response.text().map_err(|e| js_error(url, e))?).await.map_err(|e| js_error(url, e))?;
    let text = text.as_string().unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| ApiError(format!("{url} answered {}: not JSON ({e})", response.status())))?;
    if !response.ok() {
        let message = json["error"]["message"].as_str().or(json["message"].as_str()).unwrap_or("request failed");
        return Err(ApiError(format!("{url} answered {}: {message}", response.status())));
    }
    Ok(json)
}

/// One row of the recent-traces list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TraceSummary {
    pub(crate) trace_id: String,
    pub(crate) root_service: String,
    pub(crate) root_name: String,
    pub(crate) start: u64,
    pub(crate) duration: u64,
    pub(crate) span_count: u64,
    pub(crate) error_count: u64,
}

fn num(v: &serde_json::Value) -> u64 {
    v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).unwrap_or(0)
}

pub(crate) async fn recent_traces() -> Result<Vec<TraceSummary>, ApiError> {
    let json = get_json("/api/traces?limit=100").await?;
    let list = json["traces"].as_array().ok_or_else(|| ApiError("/api/traces: no `traces` array".into()))?;
    Ok(list
        .iter()
        .map(|t| TraceSummary {
            trace_id: t["traceId"].as_str().unwrap_or_default().to_owned(),
            root_service: t["rootService"].as_str().unwrap_or_default().to_owned(),
            root_name: t["rootName"].as_str().unwrap_or_default().to_owned(),
            start: num(&t["startTimeUnixNano"]),
            duration: num(&t["durationNanos"]),
            span_count: num(&t["spanCount"]),
            error_count: num(&t["errorCount"]),
        })
        .collect())
}

pub(crate) async fn trace(trace_id: &str) -> Result<TracesData, ApiError> {
    let url = format!("/api/v3/traces/{trace_id}");
    let json = get_json(&url).await?;
    read::traces(&json, Ids::Tolerant).map_err(|e| ApiError(format!("{url}: not an OTLP trace: {e}")))
}

pub(crate) async fn recent_logs() -> Result<LogsData, ApiError> {
    let json = get_json("/api/logs?limit=500").await?;
    read::logs(&json, Ids::Tolerant).map_err(|e| ApiError(format!("/api/logs: not OTLP logs: {e}")))
}

/// The log records of one trace, from the collector's logs API.
pub(crate) async fn trace_logs(trace_id: &str) -> Result<LogsData, ApiError> {
    let url = format!("/api/logs?limit=1000&trace_id={trace_id}");
    let json = get_json(&url).await?;
    read::logs(&json, Ids::Tolerant).map_err(|e| ApiError(format!("{url}: not OTLP logs: {e}")))
}

//! The request side of Jaeger's query API v3 HTTP gateway: its parameter names and values.
//!
//! Names follow Jaeger: the camelCase form (`query.serviceName`) is read first, then the
//! snake_case form (`query.service_name`) that older clients send. An empty value counts as
//! absent and the first of repeated values wins, as with Go's `url.Values.Get`.

const SPAN_KIND: &[&str] = &["spanKind", "span_kind"];

/// The decoded query string of a request, in order.
#[derive(Debug)]
pub(crate) struct Params<'a>(pub(crate) &'a [(String, String)]);

impl<'a> Params<'a> {
    /// The first non-empty value under the first of `names` that has one, with that name.
    fn get(&self, names: &[&'static str]) -> Option<(&'static str, &'a str)> {
        names.iter().find_map(|&name| {
            let value = self.0.iter().find(|(k, _)| k == name)?.1.as_str();
            (!value.is_empty()).then_some((name, value))
        })
    }
}

/// `GET /api/v3/operations`: the service (required here) and the span kind to keep, if any.
pub(crate) fn operations_query<'a>(params: &Params<'a>) -> Result<(&'a str, Option<&'a str>), String> {
    let (_, service) = params.get(&["service"]).ok_or("the `service` parameter is required")?;
    Ok((service, params.get(SPAN_KIND).map(|(_, kind)| kind)))
}

/// The span kind as Jaeger's HTTP gateway writes it in an operation list: lower case, with an
/// unspecified kind shown as `internal`.
pub(crate) fn span_kind_name(kind: edgescope_otlp::SpanKind) -> &'static str {
    match kind {
        edgescope_otlp::SpanKind::Unspecified => "internal",
        other => other.name(),
    }
}

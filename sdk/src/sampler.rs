//! Head samplers: which new spans are recorded and exported.
//!
//! The trace-id ratio sampler is consistent across services: it reads the randomness that W3C
//! Trace Context Level 2 places in the rightmost 7 bytes of the trace id, so every service with
//! the same ratio makes the same decision for the same trace.

#[allow(unused_imports)]
use alloc::{borrow::ToOwned, boxed::Box, format, string::String, vec, vec::Vec};

use edgescope_otlp::TraceId;

use crate::propagation::{SpanContext, FLAG_SAMPLED};

/// A sampling rule, configured once.
#[derive(Clone, Debug, PartialEq)]
pub enum Sampler {
    /// Record and export every span.
    AlwaysOn,
    /// Record nothing (contexts still propagate, with the sampled flag clear).
    AlwaysOff,
    /// Keep a fraction (0–1) of traces, decided from the trace id.
    TraceIdRatio(f64),
    /// Follow the parent's sampled flag; use the inner sampler for root spans.
    ParentBased(Box<Sampler>),
}

impl Default for Sampler {
    /// OpenTelemetry's default: parent-based, always on for roots.
    fn default() -> Self {
        Sampler::ParentBased(Box::new(Sampler::AlwaysOn))
    }
}

/// The 56 random bits of a trace id (its rightmost 7 bytes).
fn randomness(trace_id: &TraceId) -> u64 {
    trace_id.0[9..].iter().fold(0u64, |acc, b| acc << 8 | *b as u64)
}

impl Sampler {
    /// Whether a span of `trace_id` with `parent` is sampled.
    pub fn should_sample(&self, trace_id: &TraceId, parent: Option<&SpanContext>) -> bool {
        match self {
            Sampler::AlwaysOn => true,
            Sampler::AlwaysOff => false,
            Sampler::TraceIdRatio(ratio) => {
                // NaN and anything at or below zero keep nothing.
                if ratio.is_nan() || *ratio <= 0.0 {
                    return false;
                }
                if *ratio >= 1.0 {
                    return true;
                }
                // Sampled when the randomness reaches the rejection threshold (1 - p) * 2^56.
                let threshold = ((1.0 - ratio) * (1u64 << 56) as f64) as u64;
                randomness(trace_id) >= threshold
            }
            Sampler::ParentBased(root) => match parent {
                Some(p) => p.flags & FLAG_SAMPLED != 0,
                None => root.should_sample(trace_id, None),
            },
        }
    }

    /// The sampler named by `OTEL_TRACES_SAMPLER` and its argument; `None` for unknown names.
    pub fn from_env(name: &str, arg: Option<&str>) -> Option<Sampler> {
        Sampler::from_name(name, arg.and_then(|a| a.trim().parse::<f64>().ok()))
    }

    /// [`Sampler::from_env`] with the ratio already a number (out of range or absent: 1). ASCII
    /// whitespace around the name is ignored (`str::trim`'s Unicode tables would cost the wasm
    /// module 0.4 KB gzip).
    pub fn from_name(name: &str, ratio: Option<f64>) -> Option<Sampler> {
        let ratio = ratio.filter(|r| (0.0..=1.0).contains(r)).unwrap_or(1.0);
        Some(match name.trim_ascii() {
            "always_on" => Sampler::AlwaysOn,
            "always_off" => Sampler::AlwaysOff,
            "traceidratio" => Sampler::TraceIdRatio(ratio),
            "parentbased_always_on" => Sampler::ParentBased(Box::new(Sampler::AlwaysOn)),
            "parentbased_always_off" => Sampler::ParentBased(Box::new(Sampler::AlwaysOff)),
            "parentbased_traceidratio" => Sampler::ParentBased(Box::new(Sampler::TraceIdRatio(ratio))),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(last7: u64) -> TraceId {
        let mut b = [0xab; 16];
        b[9..].copy_from_slice(&last7.to_be_bytes()[1..]);
        TraceId(b)
    }

    #[test]
    fn the_ratio_decision_depends_only_on_the_random_bits_of_the_trace_id() {
        let half = Sampler::TraceIdRatio(0.5);
        assert!(!half.should_sample(&id((1 << 55) - 1), None));
        assert!(half.should_sample(&id(1 << 55), None));
        assert!(Sampler::TraceIdRatio(1.0).should_sample(&id(0), None));
        assert!(!Sampler::TraceIdRatio(0.0).should_sample(&id((1 << 56) - 1), None));
        assert!(!Sampler::TraceIdRatio(f64::NAN).should_sample(&id((1 << 56) - 1), None));
    }

    #[test]
    fn the_ratio_keeps_about_that_fraction_of_random_traces() {
        let sampler = Sampler::TraceIdRatio(0.25);
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let kept = (0..20_000)
            .filter(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                sampler.should_sample(&id(state >> 8), None)
            })
            .count();
        assert!((4_600..5_400).contains(&kept), "kept {kept} of 20000");
    }

    #[test]
    fn parent_based_follows_the_parent_and_uses_the_root_sampler_otherwise() {
        let s = Sampler::ParentBased(Box::new(Sampler::AlwaysOff));
        let sampled = SpanContext { flags: FLAG_SAMPLED, ..Default::default() };
        let unsampled = SpanContext { flags: 0, ..Default::default() };
        assert!(s.should_sample(&id(0), Some(&sampled)));
        assert!(!s.should_sample(&id(0), Some(&unsampled)));
        assert!(!s.should_sample(&id(0), None));
        assert!(Sampler::default().should_sample(&id(0), None));
    }

    #[test]
    fn environment_names_map_to_samplers() {
        assert_eq!(Sampler::from_env("traceidratio", Some("0.1")), Some(Sampler::TraceIdRatio(0.1)));
        assert_eq!(Sampler::from_env("traceidratio", Some("7")), Some(Sampler::TraceIdRatio(1.0)), "out of range");
        assert_eq!(
            Sampler::from_env("parentbased_always_off", None),
            Some(Sampler::ParentBased(Box::new(Sampler::AlwaysOff)))
        );
        assert_eq!(Sampler::from_env("jaeger_remote", None), None);
        assert_eq!(Sampler::from_name(" always_off\t\n", None), Some(Sampler::AlwaysOff), "blanks around the name");
    }
}

//! The minimap: the whole trace in a strip of fixed height, rows bucketed into bands, with the
//! zoomed time range and the rows in view marked. Drag across it to zoom to a time range;
//! click it to scroll the waterfall there.

use crate::num::fixed;
use leptos::prelude::*;

use super::{service_colour, State, ROW_HEIGHT};

/// Bands drawn at most: one per row for small traces, fewer for large ones.
const BANDS: usize = 120;

/// One band: rows `first..last` span `left..right` of the trace's time.
struct Band {
    top: f64,
    height: f64,
    left: f64,
    right: f64,
    colour: &'static str,
    error: bool,
}

#[component]
pub(super) fn Minimap(state: State) -> impl IntoView {
    let bands: Vec<Band> = state.trace.with_value(|t| {
        let n = t.rows.len();
        let count = n.clamp(1, BANDS);
        (0..count)
            .filter_map(|b| {
                let rows = &t.rows[b * n / count..((b + 1) * n / count).max(b * n / count + 1).min(n)];
                let left = rows.iter().map(|r| r.offset).fold(f64::INFINITY, f64::min);
                let right = rows.iter().map(|r| r.offset + r.width).fold(0.0, f64::max);
                Some(Band {
                    top: b as f64 * 100.0 / count as f64,
                    height: 100.0 / count as f64,
                    left: left.is_finite().then_some(left)?,
                    right,
                    colour: service_colour(&t.services[rows.first()?.service]),
                    error: rows.iter().any(|r| r.error),
                })
            })
            .collect()
    });
    let drag_from = StoredValue::new(None::<f64>);
    let fraction_x = |ev: &leptos::ev::MouseEvent| {
        let el: web_sys::Element = event_target(ev);
        (ev.offset_x() as f64 / el.client_width().max(1) as f64).clamp(0.0, 1.0)
    };
    let on_down = move |ev: leptos::ev::PointerEvent| {
        ev.prevent_default();
        // The strip keeps the pointer until it is let go, also beyond its edges: a drag to the
        // end of the trace is let go past the strip's right edge (or below its 64 px).
        let el: web_sys::Element = event_target(&ev);
        let _ = el.set_pointer_capture(ev.pointer_id());
        drag_from.set_value(Some(fraction_x(&ev)));
    };
    let on_up = move |ev: leptos::ev::PointerEvent| {
        let Some(from) = drag_from.get_value() else { return };
        drag_from.set_value(None);
        let to = fraction_x(&ev);
        let el: web_sys::Element = event_target(&ev);
        if (to - from).abs() * el.client_width() as f64 > 4.0 {
            state.zoom.set((from.min(to), from.max(to)));
        } else {
            // A click: scroll to the first visible row at that height of the trace.
            let y = (ev.offset_y() as f64 / el.client_height().max(1) as f64).clamp(0.0, 1.0);
            let row = state.trace.with_value(|t| (y * t.rows.len() as f64) as usize);
            let pos = state.visible.with_untracked(|v| v.partition_point(|&k| k < row));
            state.scroll_to(pos, true);
        }
    };
    let zoom_box = move || {
        let (z0, z1) = state.zoom.get();
        format!("left:{}%;width:{}%", fixed(z0 * 100.0, 3), fixed((z1 - z0) * 100.0, 3))
    };
    let view_box = move || {
        let n = state.trace.with_value(|t| t.rows.len()).max(1) as f64;
        let first = (state.scroll_top.get() / ROW_HEIGHT) as usize;
        let shown = (state.viewport.get() / ROW_HEIGHT) as usize;
        state.visible.with(|v| {
            let (a, b) = (
                v.get(first).copied().unwrap_or(0),
                v.get((first + shown).min(v.len().max(1) - 1)).copied().unwrap_or(0),
            );
            format!(
                "top:{}%;height:max({}%,2px)",
                fixed(a as f64 * 100.0 / n, 3),
                fixed((b.saturating_sub(a) + 1) as f64 * 100.0 / n, 3)
            )
        })
    };
    view! {
        <div class="minimap" data-testid="minimap" on:pointerdown=on_down on:pointerup=on_up
            on:pointercancel=move |_| drag_from.set_value(None)
            title="Drag to zoom to a time range; click to scroll there">
            {bands.into_iter().map(|b| {
                let style = format!(
                    "top:{}%;height:max({}%,1px);left:{}%;width:max({}%,1px);background:{}",
                    fixed(b.top, 3), fixed(b.height, 3), fixed(b.left * 100.0, 3), fixed((b.right - b.left) * 100.0, 3),
                    if b.error { "var(--error)" } else { b.colour },
                );
                view! { <div class="band" style=style></div> }
            }).collect_view()}
            <div class="minimap-zoom" data-testid="minimap-zoom" style=zoom_box></div>
            <div class="minimap-view" style=view_box></div>
        </div>
    }
}

//! Where the health page's service map draws its boxes, edges and edge labels.
//!
//! Services stand in columns by their depth in the call graph (the longest call chain from a
//! service nobody calls). An edge between neighbouring columns is a straight line through the
//! gap between them. Any other edge (one that skips a column, goes back to an earlier column or
//! stays in its own) is routed around the boxes: out into the gap right of its caller, up to a
//! lane of its own above every box, across, down the gap left of the callee and into it, with
//! its label on the lane. So no edge and no label runs over a box.

use crate::num::fixed;

/// A service's box, centred on its position: its width and height.
pub const BOX_W: f64 = 120.0;
/// See [`BOX_W`].
pub const BOX_H: f64 = 28.0;
/// From one column's centre to the next, and from one row's centre to the next.
const COLUMN: f64 = 200.0;
const ROW: f64 = 60.0;
/// The first column's centre: room on its left for the routed edges' way down.
const LEFT: f64 = 100.0;
/// The vertical distance between two lanes; a label of two lines sits above its lane.
const LANE: f64 = 30.0;
/// From one line of an edge's label to the next.
pub const LABEL_LINE: f64 = 12.0;
/// Where the routed edges leave and enter the gaps, kept apart by a few pixels each.
const GAP_IN: f64 = 8.0;
const GAP_STEP: f64 = 5.0;
const GAP_SLOTS: usize = 6;

/// The map's layout.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The services, sorted, with the centre of each one's box.
    pub nodes: Vec<(String, (f64, f64))>,
    /// One per edge given, in that order.
    pub edges: Vec<EdgeLayout>,
    /// The drawing's size, every box, line and label inside it.
    pub width: f64,
    /// See `width`.
    pub height: f64,
}

/// How one edge is drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeLayout {
    /// The corners of its line, from the caller's box to the callee's.
    pub points: Vec<(f64, f64)>,
    /// Where its label's first line sits (centred there); each further line 12 px lower.
    pub label: (f64, f64),
    /// Whether it goes around the boxes by a lane.
    pub routed: bool,
}

impl EdgeLayout {
    /// Its line as an SVG path.
    pub fn path(&self) -> String {
        // Through `fixed`, not `format!` of an f64, which would pull core's float printing
        // into the module (about 10 KB gzip).
        let mut out = String::new();
        for (i, (x, y)) in self.points.iter().enumerate() {
            out.push_str(if i == 0 { "M" } else { " L" });
            out.push_str(&fixed(*x, 0));
            out.push(' ');
            out.push_str(&fixed(*y, 0));
        }
        out
    }
}

/// Lays out services (those of `edges`, caller and callee, and `extra`) and the `edges` between
/// them; `label_lines` is how many lines each edge's label has.
pub fn layout(edges: &[(&str, &str)], extra: &[String], label_lines: impl Fn(usize) -> usize) -> Layout {
    let mut names: Vec<String> =
        edges.iter().flat_map(|(p, c)| [p.to_string(), c.to_string()]).chain(extra.iter().cloned()).collect();
    names.sort_unstable();
    names.dedup();
    let index = |n: &str| names.binary_search_by(|x| x.as_str().cmp(n)).unwrap_or(0);
    let pairs: Vec<(usize, usize)> = edges.iter().map(|(p, c)| (index(p), index(c))).collect();
    let depth = depths(names.len(), &pairs);
    let adjacent = |p: usize, c: usize| depth[c] == depth[p] + 1;
    let routed = edges.iter().filter(|(p, c)| !adjacent(index(p), index(c))).count();
    // The lanes above the boxes; the first row's centre below the last lane.
    let top = if routed == 0 { 30.0 } else { (routed as f64 + 1.0) * LANE + BOX_H / 2.0 + 8.0 };
    let columns = depth.iter().max().map_or(1, |d| d + 1);
    let mut rows = vec![0usize; columns];
    let mut centre = vec![(0.0, 0.0); names.len()];
    for (i, &d) in depth.iter().enumerate() {
        centre[i] = (LEFT + d as f64 * COLUMN, top + rows[d] as f64 * ROW);
        rows[d] += 1;
    }
    let mut lane = 0;
    let edges = edges
        .iter()
        .enumerate()
        .map(|(n, (p, c))| {
            let ((x1, y1), (x2, y2)) = (centre[index(p)], centre[index(c)]);
            let (from, to) = ((x1 + BOX_W / 2.0, y1), (x2 - BOX_W / 2.0, y2));
            if adjacent(index(p), index(c)) {
                let label = ((from.0 + to.0) / 2.0, (y1 + y2) / 2.0 - 4.0);
                return EdgeLayout { points: vec![from, to], label, routed: false };
            }
            let y = (lane as f64 + 1.0) * LANE;
            let slot = (lane % GAP_SLOTS) as f64 * GAP_STEP;
            lane += 1;
            let (out_x, in_x) = (from.0 + GAP_IN + slot, to.0 - GAP_IN - slot);
            let points = vec![from, (out_x, y1), (out_x, y), (in_x, y), (in_x, y2), to];
            // On the lane, between its ends, its last line just above the line.
            let above = 4.0 + LABEL_LINE * label_lines(n).saturating_sub(1) as f64;
            EdgeLayout { points, label: ((out_x + in_x) / 2.0, y - above), routed: true }
        })
        .collect();
    let width = LEFT + (columns as f64 - 1.0) * COLUMN + BOX_W / 2.0 + 40.0;
    let height = top + rows.iter().max().copied().unwrap_or(1) as f64 * ROW;
    Layout { nodes: names.into_iter().zip(centre).collect(), edges, width, height }
}

/// Each service's column: the longest call chain to it from a service nobody calls, over the
/// calls that close no cycle (a depth-first walk from those services, then the others, leaves
/// out each call back to a service still on its path; calls to itself count for nothing).
fn depths(n: usize, edges: &[(usize, usize)]) -> Vec<usize> {
    // The calls of each service, as (callee, index of the call).
    let mut out_of: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    let mut called = vec![false; n];
    for (i, &(p, c)) in edges.iter().enumerate() {
        if p != c {
            out_of[p].push((c, i));
            called[c] = true;
        }
    }
    // 0: not seen, 1: on the current path, 2: done.
    let mut state = vec![0u8; n];
    let mut back = vec![false; edges.len()];
    let starts = (0..n).filter(|&i| !called[i]).chain((0..n).filter(|&i| called[i]));
    for start in starts {
        if state[start] != 0 {
            continue;
        }
        // An explicit stack of (service, next callee to look at), so deep graphs need no recursion.
        let mut stack = vec![(start, 0usize)];
        state[start] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&(c, call)) = out_of[node].get(*next) {
                *next += 1;
                match state[c] {
                    0 => {
                        state[c] = 1;
                        stack.push((c, 0));
                    }
                    1 => back[call] = true,
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
    let mut depth = vec![0usize; n];
    for _ in 0..n {
        let mut changed = false;
        for (&(p, c), &back) in edges.iter().zip(&back) {
            if p != c && !back && depth[c] < depth[p] + 1 {
                depth[c] = depth[p] + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    depth
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the point lies inside a box (its border not included).
    fn in_box(layout: &Layout, (x, y): (f64, f64)) -> Option<&str> {
        layout
            .nodes
            .iter()
            .find(|(_, (cx, cy))| (x - cx).abs() < BOX_W / 2.0 - 0.5 && (y - cy).abs() < BOX_H / 2.0 - 0.5)
            .map(|(n, _)| n.as_str())
    }

    /// Every pixel of every edge's line, and the box a label (up to 70 px wide, its lines from
    /// its point down) would cover: none of them inside a box.
    fn assert_clear(layout: &Layout, lines: usize) {
        for (n, e) in layout.edges.iter().enumerate() {
            for pair in e.points.windows(2) {
                let ((x1, y1), (x2, y2)) = (pair[0], pair[1]);
                let steps = (x2 - x1).abs().max((y2 - y1).abs()).ceil() as usize;
                for s in 0..=steps {
                    let t = s as f64 / steps.max(1) as f64;
                    let p = (x1 + (x2 - x1) * t, y1 + (y2 - y1) * t);
                    assert_eq!(in_box(layout, p), None, "edge {n} runs over a box at {p:?}: {e:?}");
                }
            }
            let (lx, ly) = e.label;
            for dx in [-35.0, 0.0, 35.0] {
                for dy in (0..=lines).map(|l| l as f64 * LABEL_LINE - 10.0) {
                    let p = (lx + dx, ly + dy);
                    assert_eq!(in_box(layout, p), None, "edge {n}'s label covers a box at {p:?}: {e:?}");
                }
            }
        }
    }

    #[test]
    fn a_chain_is_drawn_in_columns_with_straight_edges() {
        let map = layout(&[("web", "api"), ("api", "db")], &[], |_| 1);
        let at = |n: &str| map.nodes.iter().find(|(name, _)| name == n).unwrap().1;
        assert!(at("web").0 < at("api").0 && at("api").0 < at("db").0);
        assert!(map.edges.iter().all(|e| !e.routed && e.points.len() == 2));
        assert_eq!(map.edges[0].points, [(at("web").0 + 60.0, at("web").1), (at("api").0 - 60.0, at("api").1)]);
        assert_clear(&map, 1);
    }

    #[test]
    fn edges_that_skip_a_column_go_back_or_stay_in_one_go_around_every_box() {
        // web calls api and db directly; api calls db and auth; auth calls web back; api calls
        // itself; a service nobody calls stands alone in the first column.
        let edges = [
            ("web", "api"),
            ("api", "db"),
            ("web", "db"),
            ("api", "auth"),
            ("auth", "web"),
            ("api", "api"),
            ("web", "cache"),
            ("cache", "db"),
        ];
        let map = layout(&edges, &["cron".to_owned()], |_| 2);
        assert_clear(&map, 2);
        let column = |n: &str| map.nodes.iter().find(|(name, _)| name == n).unwrap().1 .0;
        // The cycle web → api → auth → web is cut at one call, which goes back a column or more;
        // only that call and api's call to itself do. Calls to the next column are straight,
        // every other call is routed.
        let back: Vec<_> = edges.iter().filter(|(p, c)| column(c) <= column(p)).collect();
        assert_eq!(back.len(), 2, "{back:?} in {:?}", map.nodes);
        assert!(back.contains(&&("api", "api")));
        for (e, drawn) in edges.iter().zip(&map.edges) {
            assert_eq!(drawn.routed, column(e.1) != column(e.0) + 200.0, "{e:?}");
        }
        assert_eq!(column("cron"), 100.0);
        // Without the cycle: web calls db directly past api, which is routed; the rest is not.
        let dag = layout(&edges[..3], &[], |_| 1);
        assert_eq!(dag.edges.iter().map(|e| e.routed).collect::<Vec<_>>(), [false, false, true]);
        assert_clear(&dag, 1);
        // Each routed edge has its own lane, above every box.
        let lanes: Vec<f64> = map.edges.iter().filter(|e| e.routed).map(|e| e.points[2].1).collect();
        let first_box_top = map.nodes.iter().map(|(_, (_, y))| y - BOX_H / 2.0).fold(f64::INFINITY, f64::min);
        assert!(lanes.windows(2).all(|w| w[1] > w[0]), "{lanes:?}");
        assert!(lanes.iter().all(|&y| y < first_box_top - 4.0), "{lanes:?} under {first_box_top}");
        // Everything inside the drawing.
        for e in &map.edges {
            assert!(e.points.iter().all(|&(x, y)| x >= 0.0 && x <= map.width && y >= 0.0 && y <= map.height), "{e:?}");
        }
        assert_eq!(map.edges[2].path().split(" L").count(), 6);
    }
}

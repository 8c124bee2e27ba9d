//! Drawing a laid-out [`Topology`] into a [`Surface`]: components as labelled boxes, inboxes
//! and outboxes as small labelled squares round them, links as lines; and the [`View`] that
//! maps the layout's plane to the surface (pan and zoom) and finds the node under a point.

use super::layout::{Layout, Point};
use super::model::{NodeKey, NodeKind, Topology};
use crate::font::TextMetrics;
use crate::surface::{Rect, Rgb, Surface};

/// The text height of every label (the font's own 8 pixels: crisp at any zoom).
pub const LABEL_HEIGHT: usize = 8;

/// The colours a [`TopologyStyle`] uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopologyStyle {
    /// The background.
    pub background: Rgb,
    /// Label text.
    pub text: Rgb,
    /// A component's border.
    pub component_border: Rgb,
    /// The border of the node being dragged.
    pub held_border: Rgb,
    /// Inbox squares.
    pub inbox: Rgb,
    /// Outbox squares.
    pub outbox: Rgb,
    /// Nodes of any other type.
    pub other: Rgb,
    /// A component's links to its own boxes.
    pub own_link: Rgb,
    /// Links from an outbox to an inbox (Kamaelia's green).
    pub link: Rgb,
    /// Passthrough links, inbox to inbox or outbox to outbox (Kamaelia's orange).
    pub passthrough: Rgb,
    /// The palette components are filled from (chosen by a hash of the name's kind, so
    /// components of one kind share a colour).
    pub component_fills: Vec<Rgb>,
}

impl Default for TopologyStyle {
    fn default() -> Self {
        TopologyStyle {
            background: Rgb::WHITE,
            text: Rgb::BLACK,
            component_border: Rgb(64, 64, 96),
            held_border: Rgb(0, 0, 255),
            inbox: Rgb(0, 128, 0),
            outbox: Rgb(192, 32, 32),
            other: Rgb(128, 128, 128),
            own_link: Rgb(192, 192, 192),
            link: Rgb(0, 160, 0),
            passthrough: Rgb(224, 128, 0),
            component_fills: vec![
                Rgb(255, 220, 200),
                Rgb(200, 230, 255),
                Rgb(220, 255, 210),
                Rgb(255, 250, 190),
                Rgb(235, 215, 255),
                Rgb(210, 245, 245),
            ],
        }
    }
}

/// Where the layout's plane shows on a surface: `center` (a world point) sits in the middle
/// of a `width`×`height` surface, magnified by `zoom`.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct View {
    /// The world point shown at the surface's centre.
    pub center: Point,
    /// Surface pixels per world unit.
    pub zoom: f32,
    /// The surface's width.
    pub width: usize,
    /// The surface's height.
    pub height: usize,
}

impl View {
    /// A view of a `width`×`height` surface centred on the world origin at zoom 1.
    pub fn new(width: usize, height: usize) -> Self {
        View { center: (0.0, 0.0), zoom: 1.0, width, height }
    }

    /// The surface point of world point `p`.
    pub fn to_screen(&self, p: Point) -> Point {
        (
            (p.0 - self.center.0) * self.zoom + self.width as f32 / 2.0,
            (p.1 - self.center.1) * self.zoom + self.height as f32 / 2.0,
        )
    }

    /// The world point under surface point `s`.
    pub fn to_world(&self, s: Point) -> Point {
        (
            (s.0 - self.width as f32 / 2.0) / self.zoom + self.center.0,
            (s.1 - self.height as f32 / 2.0) / self.zoom + self.center.1,
        )
    }

    /// Moves the view so that what was under surface point `from` is under `to`.
    pub fn drag(&mut self, from: Point, to: Point) {
        self.center.0 -= (to.0 - from.0) / self.zoom;
        self.center.1 -= (to.1 - from.1) / self.zoom;
    }

    /// Zooms by `factor` (kept between 0.05 and 8), keeping the centre.
    pub fn zoom_by(&mut self, factor: f32) {
        self.zoom = (self.zoom * factor).clamp(0.05, 8.0);
    }

    /// Centres and zooms (never above 1) so every node of `layout` shows, with a margin.
    pub fn fit(&mut self, layout: &Layout) {
        let Some(((x0, y0), (x1, y1))) = layout.bounds() else { return };
        self.center = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let margin = 80.0;
        let zx = self.width as f32 / (x1 - x0 + 2.0 * margin);
        let zy = self.height as f32 / (y1 - y0 + 2.0 * margin);
        self.zoom = zx.min(zy).clamp(0.05, 1.0);
    }

    /// The node drawn at surface point `s`: the topmost one whose shape (as [`render`] draws
    /// it) holds the point, within a few pixels for the small ones.
    pub fn node_at(&self, topo: &Topology, layout: &Layout, s: Point) -> Option<NodeKey> {
        let mut best: Option<(u8, f32, &NodeKey)> = None;
        for (key, p) in layout.positions() {
            let Some(node) = topo.node(key) else { continue };
            let c = self.to_screen(p);
            let (dx, dy) = ((s.0 - c.0).abs(), (s.1 - c.1).abs());
            let (hw, hh, layer) = match node.kind {
                NodeKind::Component => {
                    let r = component_rect(c, &short_name(&node.name));
                    (r.w as f32 / 2.0, r.h as f32 / 2.0, 0)
                }
                _ => (BOX_HALF as f32 + 3.0, BOX_HALF as f32 + 3.0, 1),
            };
            if dx <= hw && dy <= hh {
                let d = dx * dx + dy * dy;
                // Components are drawn over boxes: prefer them, then the nearest centre.
                if best.is_none_or(|(l, bd, _)| layer < l || (layer == l && d < bd)) {
                    best = Some((layer, d, key));
                }
            }
        }
        best.map(|(_, _, k)| k.clone())
    }
}

/// Half the side of an inbox or outbox square.
const BOX_HALF: i32 = 4;

/// A component's label: its name without the module path (Kamaelia's `abbreviate` keeps the
/// last part of a dotted name).
pub fn short_name(name: &str) -> String {
    name.rsplit('.').next().unwrap_or(name).to_string()
}

/// The rectangle a component with label `label` is drawn in, centred on `c`.
fn component_rect(c: Point, label: &str) -> Rect {
    let m = TextMetrics::new(LABEL_HEIGHT);
    let w = (m.width(label) + 10).max(24);
    let h = m.line_height + 8;
    Rect::new((c.0 - w as f32 / 2.0).round() as i32, (c.1 - h as f32 / 2.0).round() as i32, w, h)
}

/// The rectangle a component's label is drawn in, when the component is at surface point
/// `c` (for tests and hit checks).
pub fn component_label_rect(c: Point, name: &str) -> Rect {
    let label = short_name(name);
    let r = component_rect(c, &label);
    let m = TextMetrics::new(LABEL_HEIGHT);
    Rect::new(r.x + 5, r.y + 4, m.width(&label), m.line_height)
}

/// Draws a line from `a` to `b`, clipped to the surface (Liang–Barsky, then Bresenham), so
/// a line mostly off the surface costs only what shows.
pub fn draw_line(s: &mut Surface, a: Point, b: Point, colour: Rgb) {
    let (w, h) = (s.width as f32 - 1.0, s.height as f32 - 1.0);
    if w < 0.0 || h < 0.0 || !(a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite()) {
        return;
    }
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f32, 1.0f32);
    for (p, q) in [(-dx, a.0), (dx, w - a.0), (-dy, a.1), (dy, h - a.1)] {
        if p == 0.0 {
            if q < 0.0 {
                return;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    if t0 > t1 {
        return;
    }
    let (mut x, mut y) = ((a.0 + t0 * dx).round() as i64, (a.1 + t0 * dy).round() as i64);
    let (x1, y1) = ((a.0 + t1 * dx).round() as i64, (a.1 + t1 * dy).round() as i64);
    let (ddx, ddy) = ((x1 - x).abs(), -(y1 - y).abs());
    let (sx, sy) = (if x < x1 { 1 } else { -1 }, if y < y1 { 1 } else { -1 });
    let mut err = ddx + ddy;
    loop {
        s.set(x, y, colour);
        if x == x1 && y == y1 {
            break;
        }
        let e2 = 2 * err;
        if e2 >= ddy {
            err += ddy;
            x += sx;
        }
        if e2 <= ddx {
            err += ddx;
            y += sy;
        }
    }
}

/// A small hash of a component's kind (its name up to the last `_`), to choose its colour.
fn kind_hash(name: &str) -> usize {
    let short = short_name(name);
    let kind = short.rsplit_once('_').map_or(short.as_str(), |(k, _)| k);
    kind.bytes().fold(5381usize, |h, b| h.wrapping_mul(33) ^ usize::from(b))
}

/// Draws `topo` as laid out by `layout` into `s`, seen through `view`: the background, links
/// (a component's links to its boxes grey, outbox-to-inbox links green, passthroughs orange,
/// each box-to-box link with an arrowhead at its sink), inboxes and outboxes as squares
/// (green, red) labelled above or below, on the side away from their component, and components as filled
/// boxes labelled with their short name. Box labels are left out below zoom 0.5, where
/// they would only crowd. The node being dragged has a blue border.
pub fn render(s: &mut Surface, topo: &Topology, layout: &Layout, view: &View, style: &TopologyStyle) {
    s.fill(style.background);
    let screen = |k: &NodeKey| layout.position(k).map(|p| view.to_screen(p));
    let (sw, sh) = (s.width as f32, s.height as f32);
    let visible = |p: Point, margin: f32| p.0 >= -margin && p.1 >= -margin && p.0 <= sw + margin && p.1 <= sh + margin;
    // Where each box's component is, to put its label on the far side.
    let mut owner_of: std::collections::HashMap<&NodeKey, Point> = std::collections::HashMap::new();
    let mut lines = Vec::with_capacity(topo.link_count());
    for (a, b) in topo.links() {
        let (Some(na), Some(nb)) = (topo.node(a), topo.node(b)) else { continue };
        let (Some(pa), Some(pb)) = (screen(a), screen(b)) else { continue };
        let colour = match (&na.kind, &nb.kind) {
            (NodeKind::Component, k) if k.is_box() => {
                owner_of.insert(b, pa);
                style.own_link
            }
            (k, NodeKind::Component) if k.is_box() => {
                owner_of.insert(a, pb);
                style.own_link
            }
            (NodeKind::Inbox, NodeKind::Inbox) | (NodeKind::Outbox, NodeKind::Outbox) => style.passthrough,
            _ => style.link,
        };
        let arrow = colour != style.own_link;
        lines.push((pa, pb, colour, arrow));
    }
    for &(pa, pb, colour, arrow) in &lines {
        draw_line(s, pa, pb, colour);
        if arrow {
            draw_arrowhead(s, pa, pb, colour);
        }
    }
    let held = layout.held();
    let label_boxes = view.zoom >= 0.5;
    // Boxes and other nodes, then components over them.
    for (key, p) in layout.positions() {
        let Some(node) = topo.node(key) else { continue };
        let c = view.to_screen(p);
        if !visible(c, 200.0) {
            continue;
        }
        let colour = match node.kind {
            NodeKind::Component => continue,
            NodeKind::Inbox => style.inbox,
            NodeKind::Outbox => style.outbox,
            NodeKind::Other(_) => style.other,
        };
        let (cx, cy) = (c.0.round() as i32, c.1.round() as i32);
        let side = (2 * BOX_HALF + 1) as usize;
        s.fill_rect(Rect::new(cx - BOX_HALF, cy - BOX_HALF, side, side), colour);
        if held == Some(key) {
            s.border(Rect::new(cx - BOX_HALF - 2, cy - BOX_HALF - 2, side + 4, side + 4), 1, style.held_border);
        }
        if label_boxes || !node.kind.is_box() {
            let m = TextMetrics::new(LABEL_HEIGHT);
            let w = m.width(&node.name) as f32;
            // Centred over the box, on the side away from its component (below it if the
            // component is above), so the labels at both ends of a link do not meet.
            let away = owner_of.get(key).map_or(0.0, |o| c.1 - o.1);
            let x = c.0 - w / 2.0;
            let y = if away > 0.0 {
                c.1 + BOX_HALF as f32 + 2.0
            } else {
                c.1 - BOX_HALF as f32 - 2.0 - m.line_height as f32
            };
            s.draw_text(x.round() as i32, y.round() as i32, &node.name, LABEL_HEIGHT, style.text);
        }
    }
    for (key, p) in layout.positions() {
        let Some(node) = topo.node(key) else { continue };
        if node.kind != NodeKind::Component {
            continue;
        }
        let c = view.to_screen(p);
        if !visible(c, 400.0) {
            continue;
        }
        let label = short_name(&node.name);
        let r = component_rect(c, &label);
        let fill = style.component_fills[kind_hash(&node.name) % style.component_fills.len().max(1)];
        s.fill_rect(r, fill);
        let border = if held == Some(key) { style.held_border } else { style.component_border };
        s.border(r, if held == Some(key) { 2 } else { 1 }, border);
        let lr = component_label_rect(c, &node.name);
        s.draw_text(lr.x, lr.y, &label, LABEL_HEIGHT, style.text);
    }
}

/// A small arrowhead at `b`'s end of the line `a`→`b`, just outside `b`'s square.
fn draw_arrowhead(s: &mut Surface, a: Point, b: Point, colour: Rgb) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let d = (dx * dx + dy * dy).sqrt();
    if d < 12.0 {
        return;
    }
    let (ux, uy) = (dx / d, dy / d);
    let tip = (b.0 - ux * (BOX_HALF as f32 + 2.0), b.1 - uy * (BOX_HALF as f32 + 2.0));
    for side in [-1.0f32, 1.0] {
        let wing = (tip.0 - ux * 7.0 - side * uy * 4.0, tip.1 - uy * 7.0 + side * ux * 4.0);
        draw_line(s, tip, wing, colour);
    }
}

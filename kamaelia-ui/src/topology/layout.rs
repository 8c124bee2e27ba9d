//! A force-directed layout for a [`Topology`]: springs along links, short-range repulsion
//! found through spatial grids (so a step costs about the number of nodes, not its square),
//! damping, and a cap on speed.

use std::collections::HashMap;

use super::model::{NodeKey, NodeKind, PositionSpec, Topology};

/// The forces of a [`Layout`], in pixels (world units) and pixels per step. The defaults
/// follow Kamaelia's `AxonLaws`: components keep well apart unless linked, a component's
/// boxes sit close around it, and linked boxes are held a bond's length apart.
#[derive(Clone, Debug, PartialEq)]
pub struct LayoutParams {
    /// Components repel each other within this distance (default 280).
    pub component_radius: f32,
    /// ... with this force when they touch, falling linearly to zero at the radius (default 8).
    pub component_repulsion: f32,
    /// A component and a box (or any other node) repel within this distance, so boxes keep
    /// off other components' labels (default 80).
    pub component_box_radius: f32,
    /// ... with this force when they touch, falling linearly to zero (default 4).
    pub component_box_repulsion: f32,
    /// Two boxes (or other nodes) repel within this distance (default 40).
    pub near_radius: f32,
    /// ... with this force when they touch, falling linearly to zero (default 3).
    pub near_repulsion: f32,
    /// The length of a link between a component and one of its boxes (default 40).
    pub own_link_length: f32,
    /// The length of any other link (default 100).
    pub link_length: f32,
    /// How hard a link pulls or pushes, per pixel away from its length (default 0.06).
    pub spring: f32,
    /// The largest force one link applies (default 8).
    pub max_spring_force: f32,
    /// The fraction of its speed a node keeps from one step to the next (default 0.6).
    pub damping: f32,
    /// The fastest a node moves, in pixels per step (default 24).
    pub max_speed: f32,
    /// Below this speed a node stops; when every node has stopped the layout is settled
    /// (default 0.05).
    pub rest_speed: f32,
}

impl Default for LayoutParams {
    fn default() -> Self {
        LayoutParams {
            component_radius: 280.0,
            component_repulsion: 8.0,
            component_box_radius: 80.0,
            component_box_repulsion: 4.0,
            near_radius: 40.0,
            near_repulsion: 3.0,
            own_link_length: 40.0,
            link_length: 100.0,
            spring: 0.06,
            max_spring_force: 8.0,
            damping: 0.6,
            max_speed: 24.0,
            rest_speed: 0.05,
        }
    }
}

/// The shapes the layout tells apart.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Shape {
    Component,
    Box,
    Other,
}

fn shape_of(kind: &NodeKind) -> Shape {
    match kind {
        NodeKind::Component => Shape::Component,
        NodeKind::Inbox | NodeKind::Outbox => Shape::Box,
        NodeKind::Other(_) => Shape::Other,
    }
}

/// A point in the layout's plane (world coordinates, pixels at zoom 1).
pub type Point = (f32, f32);

/// A uniform grid of cells holding node indices, rebuilt every step.
#[derive(Default, Debug)]
struct Grid {
    cell: f32,
    cells: HashMap<(i32, i32), Vec<u32>>,
}

impl Grid {
    fn rebuild(&mut self, cell: f32, members: impl Iterator<Item = (u32, Point)>) {
        self.cell = cell;
        for v in self.cells.values_mut() {
            v.clear();
        }
        for (i, p) in members {
            self.cells.entry(self.cell_of(p)).or_default().push(i);
        }
        self.cells.retain(|_, v| !v.is_empty());
    }

    fn cell_of(&self, p: Point) -> (i32, i32) {
        ((p.0 / self.cell).floor() as i32, (p.1 / self.cell).floor() as i32)
    }

    /// Calls `f(i, j)` once for every pair of members in the same or neighbouring cells.
    fn pairs(&self, mut f: impl FnMut(u32, u32)) {
        const HALF: [(i32, i32); 4] = [(1, 0), (-1, 1), (0, 1), (1, 1)];
        for (&(cx, cy), here) in &self.cells {
            for (a, &i) in here.iter().enumerate() {
                for &j in &here[a + 1..] {
                    f(i, j);
                }
            }
            for (dx, dy) in HALF {
                if let Some(there) = self.cells.get(&(cx + dx, cy + dy)) {
                    for &i in here {
                        for &j in there {
                            f(i, j);
                        }
                    }
                }
            }
        }
    }
}

/// A force-directed layout of a [`Topology`].
///
/// [`sync`](Self::sync) brings it up to date with the topology (new nodes are placed next
/// to a neighbour already placed, or at their `x,y` position spec, or at random near the
/// middle; removed nodes are forgotten; the rest keep their places). [`step`](Self::step)
/// moves every node once: springs along links pull linked nodes to their length, nearby
/// nodes push each other apart, and speeds are damped and capped, so the layout comes to
/// rest ([`is_settled`](Self::is_settled)). Repulsion is short-range and found through two
/// spatial grids (one of components, one of every node), so a step costs time in proportion
/// to the number of nodes and their near neighbours: thousands of nodes stay interactive.
/// A viewer caps the steps it runs per frame.
///
/// A node can be held (being dragged: [`hold`](Self::hold)): the forces do not move it.
/// Randomness comes from a seeded generator ([`with_seed`](Self::with_seed)), so a layout is
/// reproducible.
#[derive(Debug)]
pub struct Layout {
    params: LayoutParams,
    keys: Vec<NodeKey>,
    index: HashMap<NodeKey, usize>,
    shapes: Vec<Shape>,
    pos: Vec<Point>,
    vel: Vec<Point>,
    /// Links as (a, b, rest length).
    edges: Vec<(u32, u32, f32)>,
    held: Option<usize>,
    frozen: bool,
    seen: Option<u64>,
    rng: u64,
    moving: f32,
    pair_checks: usize,
    components: Grid,
    everything: Grid,
}

impl Default for Layout {
    fn default() -> Self {
        Self::new()
    }
}

impl Layout {
    /// An empty layout with the default forces.
    pub fn new() -> Self {
        Self::with_seed(0x9E37_79B9_7F4A_7C15)
    }

    /// An empty layout whose random placements come from `seed`.
    pub fn with_seed(seed: u64) -> Self {
        Layout {
            params: LayoutParams::default(),
            keys: Vec::new(),
            index: HashMap::new(),
            shapes: Vec::new(),
            pos: Vec::new(),
            vel: Vec::new(),
            edges: Vec::new(),
            held: None,
            frozen: false,
            seen: None,
            rng: seed | 1,
            moving: f32::INFINITY,
            pair_checks: 0,
            components: Grid::default(),
            everything: Grid::default(),
        }
    }

    /// Sets the forces.
    #[must_use]
    pub fn params(mut self, params: LayoutParams) -> Self {
        self.params = params;
        self
    }

    /// The forces in use.
    pub fn layout_params(&self) -> &LayoutParams {
        &self.params
    }

    /// A random number in [0, 1) (xorshift64*).
    fn random(&mut self) -> f32 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        let r = self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (r >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Brings the layout up to date with `topo` (does nothing if it has not changed since
    /// the last call).
    pub fn sync(&mut self, topo: &Topology) {
        if self.seen == Some(topo.generation()) {
            return;
        }
        self.seen = Some(topo.generation());
        self.frozen = topo.is_frozen();
        let held_key = self.held.map(|i| self.keys[i].clone());
        let mut keys = Vec::with_capacity(topo.node_count());
        let mut shapes = Vec::with_capacity(topo.node_count());
        let mut pos: Vec<Option<Point>> = Vec::with_capacity(topo.node_count());
        let mut vel = Vec::with_capacity(topo.node_count());
        let mut hints = Vec::with_capacity(topo.node_count());
        for (k, n) in topo.nodes() {
            let old = self.index.get(k).copied();
            keys.push(k.clone());
            shapes.push(shape_of(&n.kind));
            pos.push(old.map(|i| self.pos[i]));
            vel.push(old.map_or((0.0, 0.0), |i| self.vel[i]));
            hints.push(n.position);
        }
        let index: HashMap<NodeKey, usize> = keys.iter().enumerate().map(|(i, k)| (k.clone(), i)).collect();
        let mut edges = Vec::with_capacity(topo.link_count());
        let mut adjacent: Vec<Vec<u32>> = vec![Vec::new(); keys.len()];
        for (a, b) in topo.links() {
            let (Some(&i), Some(&j)) = (index.get(a), index.get(b)) else { continue };
            let own = (shapes[i] == Shape::Component) != (shapes[j] == Shape::Component)
                && (shapes[i] == Shape::Box || shapes[j] == Shape::Box);
            let rest = if own { self.params.own_link_length } else { self.params.link_length };
            edges.push((i as u32, j as u32, rest));
            adjacent[i].push(j as u32);
            adjacent[j].push(i as u32);
        }
        self.place_new(&mut pos, &shapes, &hints, &adjacent);
        self.keys = keys;
        self.shapes = shapes;
        // Every node was just placed.
        self.pos = pos.into_iter().map(|p| p.unwrap_or((0.0, 0.0))).collect();
        self.vel = vel;
        self.edges = edges;
        self.index = index;
        self.held = held_key.and_then(|k| self.index.get(&k).copied());
        self.moving = f32::INFINITY;
    }

    /// Places the nodes without a position: next to a placed neighbour (breadth first, so a
    /// component's boxes gather round it), else at their position spec, else at random round
    /// the middle of what is placed.
    fn place_new(&mut self, pos: &mut [Option<Point>], shapes: &[Shape], hints: &[PositionSpec], adj: &[Vec<u32>]) {
        let n = pos.len();
        let placed: Vec<Point> = pos.iter().flatten().copied().collect();
        let centre = if placed.is_empty() {
            (0.0, 0.0)
        } else {
            let (sx, sy) = placed.iter().fold((0.0, 0.0), |(x, y), p| (x + p.0, y + p.1));
            (sx / placed.len() as f32, sy / placed.len() as f32)
        };
        let spread = 60.0 + 40.0 * (n as f32).sqrt();
        let mut queue = std::collections::VecDeque::new();
        for i in 0..n {
            if pos[i].is_none() && adj[i].iter().any(|&j| pos[j as usize].is_some()) {
                queue.push_back(i);
            }
        }
        // Components first among the unconnected seeds, so boxes follow their component.
        let mut seeds: Vec<usize> = (0..n).filter(|&i| pos[i].is_none()).collect();
        seeds.sort_by_key(|&i| shapes[i] != Shape::Component);
        let mut seeds = seeds.into_iter();
        loop {
            while let Some(i) = queue.pop_front() {
                if pos[i].is_some() {
                    continue;
                }
                let Some(&j) = adj[i].iter().find(|&&j| pos[j as usize].is_some()) else { continue };
                let anchor = pos[j as usize].unwrap_or(centre);
                let own = shapes[i] == Shape::Box && shapes[j as usize] == Shape::Component;
                let r = if own { self.params.own_link_length } else { self.params.link_length };
                let a = self.random() * std::f32::consts::TAU;
                pos[i] = Some((anchor.0 + r * a.cos(), anchor.1 + r * a.sin()));
                queue.extend(adj[i].iter().map(|&k| k as usize).filter(|&k| pos[k].is_none()));
            }
            let Some(seed) = seeds.find(|&i| pos[i].is_none()) else { break };
            pos[seed] = Some(match hints[seed] {
                PositionSpec::At(x, y) => (x as f32, y as f32),
                PositionSpec::Auto => {
                    let (dx, dy) = (self.random() - 0.5, self.random() - 0.5);
                    (centre.0 + 2.0 * spread * dx, centre.1 + 2.0 * spread * dy)
                }
            });
            queue.extend(adj[seed].iter().map(|&k| k as usize).filter(|&k| pos[k].is_none()));
        }
    }

    /// Moves every node once; returns the fastest speed (pixels this step). A frozen layout
    /// (`FREEZE ALL`) does not move.
    pub fn step(&mut self) -> f32 {
        let n = self.pos.len();
        if self.frozen || n == 0 {
            self.moving = 0.0;
            return 0.0;
        }
        let mut force = vec![(0.0f32, 0.0f32); n];
        let mut checks = 0usize;
        let pos = &self.pos;
        let shapes = &self.shapes;
        // Components repel each other far (one grid); every other pair repels near (another).
        let p = &self.params;
        let (cr, cf) = (p.component_radius, p.component_repulsion);
        let (br, bf) = (p.component_box_radius, p.component_box_repulsion);
        let (nr, nf) = (p.near_radius, p.near_repulsion);
        self.components.rebuild(cr, (0..n).filter(|&i| shapes[i] == Shape::Component).map(|i| (i as u32, pos[i])));
        self.everything.rebuild(br.max(nr), (0..n).map(|i| (i as u32, pos[i])));
        let mut push = |i: u32, j: u32, radius: f32, strength: f32| {
            checks += 1;
            let (i, j) = (i as usize, j as usize);
            let (dx, dy) = (pos[j].0 - pos[i].0, pos[j].1 - pos[i].1);
            let d2 = dx * dx + dy * dy;
            if d2 >= radius * radius {
                return;
            }
            let d = d2.sqrt();
            let (ux, uy) = if d > 1e-3 {
                (dx / d, dy / d)
            } else {
                // On top of each other: part them in a direction fixed by their indices.
                let a = ((i * 7919 + j * 104_729) % 360) as f32 * std::f32::consts::PI / 180.0;
                (a.cos(), a.sin())
            };
            let f = strength * (1.0 - d / radius);
            force[i].0 -= ux * f;
            force[i].1 -= uy * f;
            force[j].0 += ux * f;
            force[j].1 += uy * f;
        };
        self.components.pairs(|i, j| push(i, j, cr, cf));
        self.everything.pairs(|i, j| {
            match (shapes[i as usize] == Shape::Component, shapes[j as usize] == Shape::Component) {
                (true, true) => {}
                (false, false) => push(i, j, nr, nf),
                _ => push(i, j, br, bf),
            }
        });
        let (k, max_f) = (self.params.spring, self.params.max_spring_force);
        for &(a, b, rest) in &self.edges {
            let (a, b) = (a as usize, b as usize);
            let (dx, dy) = (pos[b].0 - pos[a].0, pos[b].1 - pos[a].1);
            let d = (dx * dx + dy * dy).sqrt().max(1e-3);
            let f = (k * (d - rest)).clamp(-max_f, max_f);
            let (fx, fy) = (dx / d * f, dy / d * f);
            force[a].0 += fx;
            force[a].1 += fy;
            force[b].0 -= fx;
            force[b].1 -= fy;
        }
        let p = &self.params;
        let mut fastest = 0.0f32;
        let held = self.held;
        for (i, ((f, v), q)) in force.iter().zip(self.vel.iter_mut()).zip(self.pos.iter_mut()).enumerate() {
            if Some(i) == held {
                *v = (0.0, 0.0);
                continue;
            }
            let (mut vx, mut vy) = ((v.0 + f.0) * p.damping, (v.1 + f.1) * p.damping);
            let speed = (vx * vx + vy * vy).sqrt();
            if speed > p.max_speed {
                vx *= p.max_speed / speed;
                vy *= p.max_speed / speed;
            } else if speed < p.rest_speed {
                vx = 0.0;
                vy = 0.0;
            }
            *v = (vx, vy);
            q.0 += vx;
            q.1 += vy;
            fastest = fastest.max(speed.min(p.max_speed));
        }
        self.pair_checks = checks;
        self.moving = fastest;
        fastest
    }

    /// Runs up to `max_steps` steps, stopping early once settled; returns the steps run.
    pub fn run(&mut self, max_steps: usize) -> usize {
        for done in 0..max_steps {
            if self.is_settled() {
                return done;
            }
            self.step();
        }
        max_steps
    }

    /// True once the last step moved no node faster than the rest speed (or the layout is
    /// frozen or empty).
    pub fn is_settled(&self) -> bool {
        self.frozen || self.pos.is_empty() || self.moving < self.params.rest_speed
    }

    /// How many pairs of nodes the last step looked at for repulsion (a measure of its cost;
    /// far below n² for a spread-out layout).
    pub fn last_pair_checks(&self) -> usize {
        self.pair_checks
    }

    /// How many nodes.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// True with no nodes.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Where a node is.
    pub fn position(&self, key: &NodeKey) -> Option<Point> {
        self.index.get(key).map(|&i| self.pos[i])
    }

    /// Moves a node to `p` (and stops it); false if there is no such node. The layout is
    /// unsettled, so the others adjust.
    pub fn set_position(&mut self, key: &NodeKey, p: Point) -> bool {
        let Some(&i) = self.index.get(key) else { return false };
        self.pos[i] = p;
        self.vel[i] = (0.0, 0.0);
        self.moving = f32::INFINITY;
        true
    }

    /// Holds a node still (it is being dragged), or lets go with `None`.
    pub fn hold(&mut self, key: Option<&NodeKey>) {
        self.held = key.and_then(|k| self.index.get(k).copied());
        self.moving = f32::INFINITY;
    }

    /// The node held, if any.
    pub fn held(&self) -> Option<&NodeKey> {
        self.held.map(|i| &self.keys[i])
    }

    /// Every node and where it is.
    pub fn positions(&self) -> impl Iterator<Item = (&NodeKey, Point)> {
        self.keys.iter().zip(self.pos.iter().copied())
    }

    /// The smallest rectangle holding every node, as (min, max) corners.
    pub fn bounds(&self) -> Option<(Point, Point)> {
        let mut it = self.pos.iter();
        let first = *it.next()?;
        Some(it.fold((first, first), |((x0, y0), (x1, y1)), &(x, y)| ((x0.min(x), y0.min(y)), (x1.max(x), y1.max(y)))))
    }
}

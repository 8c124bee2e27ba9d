//! TopologyViewer (Kamaelia's `TopologyViewer` with the AxonVisualiser's particle types): a
//! window showing a topology as it arrives, laid out by forces, with nodes that can be
//! dragged.

use std::fmt;
use std::time::{Duration, Instant};

use axon_core::{Component, ComponentBuilder, ControlWatch, Next, Signal, pause, pause_until};

use super::layout::{Layout, LayoutParams, Point};
use super::model::{NodeKey, Topology, TopologyEvent, TopologyMessage};
use super::render::{TopologyStyle, View, render};
use crate::Display;
use crate::display::{DisplayBoxes, DisplayClient, Listen, Placement};
use crate::event::{Event, Key, MouseButton};
use crate::surface::Surface;

/// The default window title of a [`TopologyViewer`].
pub const VIEWER_TITLE: &str = "Axon Visualiser";

/// Builds a TopologyViewer; see [`TopologyViewer`].
#[must_use = "a builder does nothing until `build` is called"]
pub struct TopologyViewerBuilder {
    placement: Placement,
    fps: u32,
    steps_per_frame: usize,
    params: LayoutParams,
    style: TopologyStyle,
    seed: u64,
}

impl fmt::Debug for TopologyViewerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TopologyViewerBuilder")
            .field("size", &self.placement.size)
            .field("fps", &self.fps)
            .field("steps_per_frame", &self.steps_per_frame)
            .finish_non_exhaustive()
    }
}

/// Kamaelia's `TopologyViewer` as the AxonVisualiser configures it: shows the topology that
/// arrives on `inbox` (the visualiser protocol, reference §1.15, as [`TopologyMessage`]s from
/// any number of systems), laid out by a force-directed [`Layout`] and drawn by [`render`]:
/// components as labelled boxes, inboxes and outboxes as small labelled squares round them,
/// links as lines.
///
/// Input: a left button pressed on a node and released elsewhere moves the node there (the
/// window reports button presses and releases, not the movement in between, so the node
/// jumps to where it is dropped; while the button is down it is held still and outlined in
/// blue); pressed on the background and released elsewhere, it pans the view. `+` and `-`
/// zoom; the arrow keys pan; `f` fits the whole topology in the window again (which the view
/// does by itself until the user first pans, zooms or drags).
///
/// Configuration: `size` (800×600), `position` (0, 0) and `title` ([`VIEWER_TITLE`]) of its
/// surface, `display` (default: the scheduler's, see [`Display::of`]), `fps` (30: at most
/// this many redraws a second), `steps_per_frame` (3: layout steps per redraw, Kamaelia's
/// `simCyclesPerRedraw`), `layout` forces ([`LayoutParams`]), `style` ([`TopologyStyle`]),
/// `seed` (for the layout's random placements).
///
/// Boxes:
/// - `inbox: TopologyMessage`: commands (as token lists), read errors and disconnections,
///   each from one system. A system's nodes are removed when it disconnects.
/// - `control: Signal`: shutdown signalling.
/// - `outbox: String`: one line for each command that could not be applied or line that
///   could not be read (Kamaelia's `("ERROR", text)`), naming the system.
/// - `signal: Signal`: signals passed on; `ErrorInformation` if it cannot have a window; the
///   signal that ended it.
/// - `events: Event`, `callback: DisplayReply`, `display_signal: DisplayRequest`: the display
///   protocol.
///
/// Life: it redraws only while the layout moves or the topology changes (at most `fps` times
/// a second); once the layout has settled it waits, using no CPU, for input.
///
/// Shutdown: the standard contract ([`ControlWatch`](axon_core::ControlWatch)): on
/// `ProducerFinished` it first applies the messages already in `inbox` (reporting their
/// errors). It gives its surface back when it stops. If its window is closed it sends its own
/// `ShutdownMicroprocess` and stops; if it cannot have a window it sends `ErrorInformation`,
/// then `ShutdownMicroprocess`, and stops (a viewer without a window has nothing to do).
///
/// Differs from Kamaelia: nodes of several systems are kept apart (each system's `DEL ALL`
/// clears only its own); an `ADD NODE` of an unknown type shows a plain node (the original
/// ignores it); no `GET ALL`/`GET_NAME` replies; dragging is press-and-drop.
#[derive(Debug)]
pub struct TopologyViewer;

impl TopologyViewer {
    /// A viewer with the defaults.
    #[allow(clippy::new_ret_no_self, reason = "components are ordinary Components, as every Kamaelia constructor")]
    pub fn new() -> Component {
        Self::builder().build()
    }

    /// A builder.
    pub fn builder() -> TopologyViewerBuilder {
        let mut placement = Placement::new((800, 600), (0, 0));
        placement.title = Some(VIEWER_TITLE.to_string());
        TopologyViewerBuilder {
            placement,
            fps: 30,
            steps_per_frame: 3,
            params: LayoutParams::default(),
            style: TopologyStyle::default(),
            seed: 0x5EED,
        }
    }
}

/// What a press started.
enum Press {
    /// A node is held; it goes where the button is released.
    Node(NodeKey),
    /// The background: the view follows the release.
    Pan(Point),
}

impl TopologyViewerBuilder {
    /// Its size (default 800×600).
    pub fn size(mut self, width: usize, height: usize) -> Self {
        self.placement.size = (width.max(1), height.max(1));
        self
    }

    /// Where it goes in its window (default (0, 0)).
    pub fn position(mut self, x: i32, y: i32) -> Self {
        self.placement.position = (x, y);
        self
    }

    /// Its window's title (default [`VIEWER_TITLE`]).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.placement.title = Some(title.into());
        self
    }

    /// The display service to use (default: the scheduler's, see [`Display::of`]).
    pub fn display(mut self, display: Display) -> Self {
        self.placement.display = Some(display);
        self
    }

    /// At most this many redraws a second (default 30; at least 1).
    pub fn fps(mut self, fps: u32) -> Self {
        self.fps = fps.max(1);
        self
    }

    /// Layout steps per redraw (default 3; at least 1).
    pub fn steps_per_frame(mut self, steps: usize) -> Self {
        self.steps_per_frame = steps.max(1);
        self
    }

    /// The layout's forces.
    pub fn layout(mut self, params: LayoutParams) -> Self {
        self.params = params;
        self
    }

    /// The colours.
    pub fn style(mut self, style: TopologyStyle) -> Self {
        self.style = style;
        self
    }

    /// The seed of the layout's random placements.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Builds the viewer.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("TopologyViewer");
        let io = b.standard::<TopologyMessage, String>();
        let boxes = DisplayBoxes::declare(&mut b);
        let TopologyViewerBuilder { placement, fps, steps_per_frame, params, style, seed } = self;
        b.run(move |ctx| async move {
            let mut watch = ControlWatch::new(io.control, io.signal);
            let listen = Listen { keys: true, mouse: true };
            let client = match DisplayClient::connect(&ctx, boxes, &placement, listen, &mut watch).await {
                Ok(c) if c.is_connected() => c,
                // No window (already reported): nothing to do.
                Ok(_) => return watch.finish(Signal::ShutdownMicroprocess).await,
                Err(stop) => return watch.finish(stop).await,
            };
            let (w, h) = placement.size;
            let mut topo = Topology::new();
            let mut layout = Layout::with_seed(seed).params(params);
            let mut view = View::new(w, h);
            let mut frame = Surface::new(w, h, style.background);
            let frame_time = Duration::from_secs(1) / fps;
            let mut next_frame = Instant::now();
            let mut dirty = true;
            let mut auto_fit = true;
            let mut press: Option<Press> = None;
            let end = 'run: loop {
                if client.refused(&ctx, &mut watch).await {
                    break 'run Signal::ShutdownMicroprocess;
                }
                let mut finished = None;
                while let Some(next) = watch.try_next(&io.inbox) {
                    let TopologyMessage { source, event } = match next {
                        Next::Data(m) => m,
                        Next::End(s) if s.is_shutdown() => break 'run s,
                        Next::End(s) => {
                            finished = Some(s);
                            break;
                        }
                        // `Other` comes only under `SignalPolicy::Deliver`; this watch forwards.
                        Next::Other(_) => continue,
                    };
                    let report = match event {
                        TopologyEvent::Command(tokens) => match topo.apply_tokens(source, &tokens) {
                            Ok(changed) => {
                                dirty |= changed;
                                None
                            }
                            Err(e) => Some(e.to_string()),
                        },
                        TopologyEvent::Error(e) => Some(e),
                        TopologyEvent::Closed => {
                            dirty |= topo.remove_source(source);
                            None
                        }
                    };
                    if let Some(e) = report {
                        if let Err(stop) = watch.send(&io.outbox, format!("system {source}: {e}")).await {
                            break 'run stop.signal;
                        }
                    }
                }
                if let Some(s) = finished {
                    break s;
                }
                while let Some(e) = client.events().try_recv() {
                    layout.sync(&topo);
                    let at = |x: i32, y: i32| (x as f32, y as f32);
                    match e {
                        Event::MouseDown { x, y, button: MouseButton::Left } => {
                            press = Some(match view.node_at(&topo, &layout, at(x, y)) {
                                Some(k) => {
                                    layout.hold(Some(&k));
                                    Press::Node(k)
                                }
                                None => Press::Pan(at(x, y)),
                            });
                        }
                        Event::MouseUp { x, y, button: MouseButton::Left } => match press.take() {
                            Some(Press::Node(k)) => {
                                layout.set_position(&k, view.to_world(at(x, y)));
                                layout.hold(None);
                                auto_fit = false;
                            }
                            Some(Press::Pan(from)) => {
                                view.drag(from, at(x, y));
                                auto_fit = false;
                            }
                            None => {}
                        },
                        Event::Text('+' | '=') => {
                            view.zoom_by(1.25);
                            auto_fit = false;
                        }
                        Event::Text('-') => {
                            view.zoom_by(0.8);
                            auto_fit = false;
                        }
                        Event::Text('f') => auto_fit = true,
                        Event::KeyDown(k @ (Key::Left | Key::Right | Key::Up | Key::Down)) => {
                            let step = 60.0;
                            let (dx, dy) = match k {
                                Key::Left => (step, 0.0),
                                Key::Right => (-step, 0.0),
                                Key::Up => (0.0, step),
                                _ => (0.0, -step),
                            };
                            view.drag((0.0, 0.0), (dx, dy));
                            auto_fit = false;
                        }
                        Event::Closed => break 'run Signal::ShutdownMicroprocess,
                        _ => continue,
                    }
                    dirty = true;
                }
                layout.sync(&topo);
                let moving = !layout.is_settled();
                if (dirty || moving) && Instant::now() >= next_frame {
                    layout.run(steps_per_frame);
                    if auto_fit {
                        view.fit(&layout);
                    }
                    render(&mut frame, &topo, &layout, &view, &style);
                    if let Err(stop) = client.show(&mut watch, &frame).await {
                        break stop;
                    }
                    dirty = false;
                    next_frame = Instant::now() + frame_time;
                }
                if dirty || !layout.is_settled() {
                    // The next frame is due: wait for it (or for input, which comes first).
                    let _woken = pause_until(next_frame).await;
                } else {
                    pause().await;
                }
            };
            client.close(&mut watch).await;
            watch.finish(end).await;
        })
    }
}

//! The AxonVisualiser's parts: the topology model the visualiser protocol builds
//! ([`Topology`], [`Command`]), its force-directed [`Layout`], drawing it into a
//! [`Surface`](crate::Surface) ([`render`], [`View`]), and the window component showing it
//! ([`TopologyViewer`]). The model, layout and drawing are plain types, tested without a
//! window.
//!
//! ```
//! use kamaelia_ui::{Layout, Surface, Rgb, Topology, TopologyStyle, View, render};
//!
//! let mut topo = Topology::new();
//! for line in [
//!     ["ADD", "NODE", "5", "Src_5", "randompos", "component"].as_slice(),
//!     &["ADD", "NODE", "(5, 'o', 'outbox')", "outbox", "randompos", "outbox"],
//!     &["ADD", "LINK", "5", "(5, 'o', 'outbox')"],
//! ] {
//!     topo.apply_tokens(1, line).unwrap();
//! }
//! let mut layout = Layout::new();
//! layout.sync(&topo);
//! layout.run(200);
//! let mut view = View::new(320, 240);
//! view.fit(&layout);
//! let mut frame = Surface::new(320, 240, Rgb::WHITE);
//! render(&mut frame, &topo, &layout, &view, &TopologyStyle::default());
//! assert!(frame.count(frame.rect(), Rgb::BLACK) > 0, "labels are drawn");
//! ```

mod layout;
mod model;
mod render;
mod viewer;

pub use layout::{Layout, LayoutParams, Point};
pub use model::{
    Command, CommandError, Node, NodeKey, NodeKind, PositionSpec, SourceId, Topology, TopologyEvent, TopologyMessage,
};
pub use render::{LABEL_HEIGHT, TopologyStyle, View, component_label_rect, draw_line, render, short_name};
pub use viewer::{TopologyViewer, TopologyViewerBuilder, VIEWER_TITLE};

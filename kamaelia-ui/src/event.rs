//! [`Event`]: what the display service sends a component about its window (Kamaelia's pygame
//! events), and the keys and mouse buttons they name.

/// A key, as minifb names it (`Key::A`, `Key::Enter`, `Key::Backspace`, `Key::Escape` ...).
pub use minifb::Key;

/// A mouse button.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum MouseButton {
    /// The left (primary) button.
    Left,
    /// The middle button (or wheel press).
    Middle,
    /// The right button.
    Right,
}

/// Something that happened in a component's window, delivered to its `events` inbox.
///
/// Key events go to every surface in the focused window that asked for keys; mouse events go
/// to every surface in the window that asked for the mouse, with the position relative to
/// that surface's top-left corner (so it may lie outside the surface: each component decides
/// what is inside, as Kamaelia's Button does); `Closed` goes to every surface of a window the
/// user closed. Tests put events straight into a component's `events` inbox, the same way.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A key went down (repeats while held, as the keyboard repeats).
    KeyDown(Key),
    /// A key went up.
    KeyUp(Key),
    /// A character was typed (after the keyboard layout and shift are applied). Control
    /// characters (Enter, Backspace, Esc, Tab ...) come only as [`Event::KeyDown`].
    Text(char),
    /// A mouse button went down at (`x`, `y`), relative to the surface.
    MouseDown {
        /// Pixels from the surface's left edge.
        x: i32,
        /// Pixels from the surface's top edge.
        y: i32,
        /// Which button.
        button: MouseButton,
    },
    /// A mouse button went up at (`x`, `y`), relative to the surface.
    MouseUp {
        /// Pixels from the surface's left edge.
        x: i32,
        /// Pixels from the surface's top edge.
        y: i32,
        /// Which button.
        button: MouseButton,
    },
    /// The window showing the surface was closed (Kamaelia's pygame `QUIT`).
    Closed,
}

//! [`LineReader`]: bytes from a socket in, one [`Input`] per line out: the text, or the
//! reason the line was refused (too long, not UTF-8), in its place among the lines.

use axon_core::{Component, ComponentBuilder};
use kamaelia_util::{LineFramer, OverlongPolicy, Utf8Policy, decode_line};

use super::session::Input;

/// Frames the client's bytes into lines for the board's stages.
///
/// Framing is [`LineFramer`]'s: LF or CRLF ends a line; a line longer than the limit
/// (default [`MAX_LINE`](crate::MAX_LINE), its terminator not counted) is discarded and
/// reported; a line that is not UTF-8 is reported with its bytes. Unlike
/// [`ChunksToLines`](kamaelia_util::ChunksToLines), which reports refused lines on a box of
/// their own, the reports come out of the same `outbox` as the lines, so a stage sees a
/// refused line exactly where it was (inside a message body, say).
///
/// Boxes:
/// - `inbox: Vec<u8>`: chunks of the stream, cut anywhere.
/// - `control: Signal`: on `ProducerFinished` it frames what is in `inbox`, sends a last line
///   that has no terminator, passes the signal on and stops; on `ShutdownMicroprocess` it
///   stops at once and passes it on; other signals are passed on.
/// - `outbox: Input` (`Result<String, FramingError>`): the lines, in order.
/// - `signal: Signal`: the signals passed on.
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct LineReader {
    max_line: usize,
}

impl Default for LineReader {
    fn default() -> Self {
        Self::new()
    }
}

impl LineReader {
    /// A reader refusing lines longer than [`MAX_LINE`](crate::MAX_LINE) bytes.
    pub fn new() -> Self {
        LineReader { max_line: crate::MAX_LINE }
    }

    /// Refuses lines longer than `max` bytes instead.
    ///
    /// # Panics
    /// If `max` is 0.
    pub fn max_line_length(mut self, max: usize) -> Self {
        assert!(max > 0, "a line limit of 0 bytes would refuse every line");
        self.max_line = max;
        self
    }

    /// The component.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("LineReader");
        let io = b.standard::<Vec<u8>, Input>();
        let mut framer = LineFramer::with_limit(self.max_line, OverlongPolicy::Refuse);
        b.run(move |_ctx| async move {
            let take = |framer: &mut LineFramer, out: &mut Vec<Input>| {
                while let Some(frame) = framer.next_frame() {
                    out.push(frame.and_then(|line| decode_line(line, Utf8Policy::Report)));
                }
            };
            let mut driver = io.driver();
            let mut end = driver
                .run(|chunk: Vec<u8>, out| {
                    framer.push(&chunk);
                    take(&mut framer, out);
                })
                .await;
            if end.is_producer_finished() {
                framer.finish();
                let mut last = Vec::new();
                take(&mut framer, &mut last);
                for line in last {
                    if let Err(stop) = driver.emit(line).await {
                        end = stop.signal;
                        break;
                    }
                }
            }
            driver.finish(end).await;
        })
    }
}

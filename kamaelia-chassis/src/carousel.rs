//! Carousel: a child made by a factory for each `next` message, replaced in turn.

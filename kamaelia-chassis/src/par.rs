//! Par: children run side by side, their outputs merged, control fanned out.

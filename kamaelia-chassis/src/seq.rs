//! Seq: children run one after another.

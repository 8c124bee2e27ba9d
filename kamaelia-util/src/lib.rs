//! Kamaelia utility components: transformers, console reader/echoer, sources, sinks, splitters.
//!
//! Not built yet: this crate is filled by the chassis/util issue.

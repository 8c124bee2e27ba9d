//! Kamaelia chassis: Pipeline, Graphline, Par, Seq, Carousel, TPipe and the Backplane.
//!
//! Not built yet: this crate is filled by the chassis/util issue. It exists now so that the
//! workspace has the shape of the design card and the dependency rules can be checked.

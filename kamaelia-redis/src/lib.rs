//! Kamaelia across processes and hosts, on Redis Streams.

#[cfg(feature = "testing")]
pub mod testing;

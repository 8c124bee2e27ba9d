//! Time-based components: TimedShutdown, MessageRateLimit, byte-rate request controls, OnDemandLimit.

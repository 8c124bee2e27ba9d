//! Sources and sinks: DataSource, TriggeredSource, OneShot, TriggeredOneShot, Clock, NullSink.

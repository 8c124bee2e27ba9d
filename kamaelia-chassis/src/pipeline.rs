//! Pipeline: children linked outbox -> inbox and signal -> control in a row (optionally circular).

//! Grep: passes lines that match (or, inverted, do not match) a regular expression.

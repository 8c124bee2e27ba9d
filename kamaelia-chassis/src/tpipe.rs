//! TPipe: a tee that copies (split) or diverts (route) matching messages to a child.

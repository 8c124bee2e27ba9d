//! Follow: emits each line appended to a file, like `tail -F`, driven by notify events.

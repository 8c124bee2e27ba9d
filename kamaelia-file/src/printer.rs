//! Printer: writes each message to stdout or any writer.

//! WriteFile: writes each message to a file (Kamaelia's SimpleFileWriter), optionally atomically.

//! UnixProcess: a subprocess with stdin, stdout and stderr as boxes.

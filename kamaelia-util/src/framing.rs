//! chunks_to_lines and lines_to_tokenlists: the line and token framers text protocols use.

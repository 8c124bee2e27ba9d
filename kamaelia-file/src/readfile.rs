//! ReadFile: reads a file in lines, blocks or at a bit rate (Kamaelia's ReadFileAdaptor).

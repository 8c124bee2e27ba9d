//! ConsoleReader (threaded) and ConsoleEchoer.

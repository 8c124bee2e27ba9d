//! Kamaelia windows on minifb: TextDisplayer, Textbox, Ticker, Button.
//!
//! Not built yet: this crate is filled by the kamaelia-ui issue.

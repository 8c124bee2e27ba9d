//! Chooser and ForwardIteratingChooser.

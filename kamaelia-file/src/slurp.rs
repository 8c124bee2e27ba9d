//! FileSlurper and Mover: whole-file reads and moves, one per message.

//! [`ServerControl`]: a TCP server's `control` and `signal`, and how the terminal signal it is
//! told is passed on to each of its connections (shared by ServerCore and SingleServer).

use axon_core::{ComponentId, ControlWatch, Inbox, Outbox, Signal};

/// The `control` and `signal` of a server, on a [`ControlWatch`] (other signals are passed
/// on): notes the first terminal signal, says what each connection is to be told of it,
/// and passes it on once the server is done.
pub(crate) struct ServerControl {
    watch: ControlWatch,
    me: ComponentId,
    /// The terminal signal that is stopping the server, once one has come. Later ones add
    /// nothing: a server stopping because its producer finished is not hurried by a shutdown.
    stopping: Option<Signal>,
}

/// What a server tells one connection when it is told to stop.
pub(crate) struct Stop {
    shutdown: bool,
    me: ComponentId,
}

impl Stop {
    /// For whoever handles the connection's data (a protocol; for a SingleServer, the
    /// connection's adapter itself): `ShutdownMicroprocess` for a shutdown (stop now), else
    /// `ProducerFinished` naming the server, "server stopping" (finish, then close).
    pub(crate) fn to_handler(&self) -> Signal {
        if self.shutdown {
            Signal::ShutdownMicroprocess
        } else {
            Signal::ProducerFinished { caller: Some(self.me), message: Some("server stopping".into()) }
        }
    }

    /// For the socket's adapter behind a protocol: `ShutdownMicroprocess` for a shutdown
    /// (close now); nothing otherwise (the protocol closes it when it has finished).
    pub(crate) fn to_socket(&self) -> Option<Signal> {
        self.shutdown.then_some(Signal::ShutdownMicroprocess)
    }
}

impl ServerControl {
    pub(crate) fn new(control: Inbox<Signal>, signal: Outbox<Signal>, me: ComponentId) -> Self {
        ServerControl { watch: ControlWatch::new(control, signal), me, stopping: None }
    }

    /// Looks at `control`, passing other signals on. The first time a terminal signal is
    /// there (`ProducerFinished`, `ShutdownMicroprocess`, `Shutdown`), returns what to tell
    /// each connection.
    pub(crate) fn check(&mut self) -> Option<Stop> {
        let end = self.watch.check().or_else(|| self.watch.take_finished())?;
        if self.stopping.is_some() {
            return None;
        }
        let stop = Stop { shutdown: end.is_shutdown(), me: self.me };
        self.stopping = Some(end);
        Some(stop)
    }

    /// True once a terminal signal has come.
    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.is_some()
    }

    /// Sends a signal of the server's own (after the signals the watch kept).
    pub(crate) async fn emit(&mut self, s: Signal) {
        self.watch.emit(s).await;
    }

    /// Reports a problem as `ErrorInformation` naming the server.
    pub(crate) async fn error(&mut self, message: String) {
        self.emit(Signal::ErrorInformation { caller: Some(self.me), message }).await;
    }

    /// Ends the server's signalling: the terminal signal it was told (or, if it ends on its
    /// own, nothing more).
    pub(crate) async fn finish(mut self) {
        match self.stopping.take() {
            Some(end) => self.watch.finish(end).await,
            None => self.watch.close().await,
        }
    }
}

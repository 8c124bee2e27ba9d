//! The plumbing every stage shares ([`StageIo`]): reading lines (those handed over by the
//! stage before first), writing lines, asking a service and waiting for its reply while
//! still obeying `control`, and ending so that the next stage gets what this one did not read.

use std::collections::VecDeque;

use axon_core::{ComponentBuilder, ControlWatch, Ctx, Inbox, InboxRef, Next, Outbox, Signal, pause};

use super::db::{DbOp, DbReply, DbRequest};
use super::session::{BoardServices, ConnectionInfo, Input, SESSION_KEY, Session, read, update};

/// How many lines a stage's inbox holds before the line reader in front of it waits (and,
/// behind it, TCP slows the client down).
pub const STAGE_INBOX: usize = 64;

/// The boxes every stage declares: the four standard ones (`inbox: Input`,
/// `outbox: Vec<u8>`) and `dbreply`, where the database's replies arrive.
pub(crate) struct StageBoxes {
    inbox: Inbox<Input>,
    control: Inbox<Signal>,
    outbox: Outbox<Vec<u8>>,
    signal: Outbox<Signal>,
    db_reply: Inbox<DbReply>,
}

impl StageBoxes {
    pub(crate) fn declare(b: &mut ComponentBuilder) -> Self {
        StageBoxes {
            inbox: b.inbox_with_capacity("inbox", STAGE_INBOX),
            control: b.control(),
            outbox: b.outbox("outbox"),
            signal: b.signal(),
            db_reply: b.inbox("dbreply"),
        }
    }
}

/// What a stage waits for in the board: a line from the client, or a notice for its user.
pub(crate) enum Event<N> {
    Line(Input),
    Notice(N),
}

/// A running stage's boxes, session and services.
pub(crate) struct StageIo {
    ctx: Ctx,
    watch: ControlWatch,
    /// `None` once handed over at the end.
    inbox: Option<Inbox<Input>>,
    outbox: Outbox<Vec<u8>>,
    /// Lines to read before the inbox: those the previous stage did not read.
    pending: VecDeque<Input>,
    pub(crate) session: Session,
    pub(crate) services: BoardServices,
    db_reply: Inbox<DbReply>,
    db_reply_ref: InboxRef<DbReply>,
}

impl StageIo {
    /// Takes over the boxes and picks up the lines the previous stage handed over.
    pub(crate) fn start(ctx: Ctx, boxes: StageBoxes, session: Session, services: BoardServices) -> Self {
        let pending = update(&session, SESSION_KEY, |c: &mut ConnectionInfo| std::mem::take(&mut c.pending));
        let db_reply_ref = ctx.component().inbox_ref::<DbReply>("dbreply").expect("every stage declares dbreply");
        StageIo {
            db_reply_ref,
            ctx,
            watch: ControlWatch::new(boxes.control, boxes.signal),
            inbox: Some(boxes.inbox),
            outbox: boxes.outbox,
            pending: pending.into(),
            session,
            services,
            db_reply: boxes.db_reply,
        }
    }

    /// The session as it is now.
    pub(crate) fn conn(&self) -> ConnectionInfo {
        read(&self.session, SESSION_KEY)
    }

    /// Changes the session.
    pub(crate) fn update_conn<R>(&self, f: impl FnMut(&mut ConnectionInfo) -> R) -> R {
        update(&self.session, SESSION_KEY, f)
    }

    /// The next line. `Err` when the stage must end: the terminal signal to pass on (a
    /// `ProducerFinished` only once every line already received has been read).
    pub(crate) async fn line(&mut self) -> Result<Input, Signal> {
        if let Some(l) = self.pending.pop_front() {
            return Ok(l);
        }
        let Some(inbox) = &self.inbox else { return Err(Signal::producer_finished_by(self.ctx.id())) };
        loop {
            match self.watch.next(inbox).await {
                Next::Data(l) => return Ok(l),
                // The default policy forwards other signals: none is handed out.
                Next::Other(_) => continue,
                Next::End(s) => return Err(s),
            }
        }
    }

    /// The next line or notice, whichever comes first (notices first when both wait).
    pub(crate) async fn event<N: Send + 'static>(&mut self, notices: &Inbox<N>) -> Result<Event<N>, Signal> {
        if let Some(l) = self.pending.pop_front() {
            return Ok(Event::Line(l));
        }
        let Some(inbox) = &self.inbox else { return Err(Signal::producer_finished_by(self.ctx.id())) };
        loop {
            if let Some(end) = self.watch.check() {
                return Err(end);
            }
            if let Some(n) = notices.try_recv() {
                return Ok(Event::Notice(n));
            }
            match self.watch.try_next(inbox) {
                Some(Next::Data(l)) => return Ok(Event::Line(l)),
                Some(Next::End(s)) => return Err(s),
                Some(Next::Other(_)) => {}
                // A delivery into any of our inboxes (lines, notices, control) wakes us.
                None => pause().await,
            }
        }
    }

    /// Sends bytes to the client, waiting for room; a shutdown meanwhile ends the stage.
    pub(crate) async fn send(&mut self, bytes: Vec<u8>) -> Result<(), Signal> {
        self.watch.send(&self.outbox, bytes).await.map_err(Signal::from)
    }

    /// Sends `msg` out of another of the stage's outboxes, as [`send`](Self::send) does.
    pub(crate) async fn send_on<T: Send + 'static>(&mut self, out: &Outbox<T>, msg: T) -> Result<(), Signal> {
        self.watch.send(out, msg).await.map_err(Signal::from)
    }

    /// Sends a line (`\r\n` added).
    pub(crate) async fn say(&mut self, line: impl AsRef<str>) -> Result<(), Signal> {
        let line = line.as_ref();
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        self.send(bytes).await
    }

    /// Sends several lines in one message.
    pub(crate) async fn say_all(&mut self, lines: impl IntoIterator<Item = String>) -> Result<(), Signal> {
        let mut bytes = Vec::new();
        for l in lines {
            bytes.extend_from_slice(l.as_bytes());
            bytes.extend_from_slice(b"\r\n");
        }
        self.send(bytes).await
    }

    /// Sends a prompt (no line end: the client types after it).
    pub(crate) async fn prompt(&mut self, text: &str) -> Result<(), Signal> {
        self.send(text.as_bytes().to_vec()).await
    }

    /// Asks the database and waits for its reply (see [`ask`](Self::ask)).
    pub(crate) async fn db(&mut self, op: DbOp) -> Result<DbReply, Signal> {
        let request = DbRequest { op, reply: self.db_reply_ref.clone() };
        ask(&mut self.watch, &self.services.db, request, &self.db_reply).await
    }

    /// Sends `request` to a service's inbox and waits for the reply on `reply` (one of this
    /// stage's inboxes), obeying `control` meanwhile: a shutdown ends the wait; a
    /// `ProducerFinished` does not (the request is under way: a post will be committed, so
    /// the user must hear so); it is noted, and ends the stage once the lines already
    /// received have been read.
    pub(crate) async fn ask<Q: Send + 'static, R: Send + 'static>(
        &mut self,
        to: &InboxRef<Q>,
        request: Q,
        reply: &Inbox<R>,
    ) -> Result<R, Signal> {
        ask(&mut self.watch, to, request, reply).await
    }

    /// Ends the stage. `Ok`: it did its part; the lines it did not read go to the session
    /// for the next stage, and its own `ProducerFinished` goes out (a Seq takes it as "next
    /// stage"). `Err(signal)`: it was told to stop; the signal is passed on.
    pub(crate) async fn finish(mut self, how: Result<(), Signal>) {
        let end = match how {
            Ok(()) => {
                self.hand_over();
                Signal::producer_finished_by(self.ctx.id())
            }
            Err(s) => s,
        };
        self.watch.finish(end).await;
    }

    /// Removes this stage's inbox (unlinking whatever fed it, so the next line waits in the
    /// Seq's inbox for the next stage instead of landing here after we have gone) and puts
    /// what it held, after the lines still pending, into the session.
    fn hand_over(&mut self) {
        let Some(inbox) = self.inbox.take() else { return };
        self.pending.extend(self.ctx.delete_inbox(inbox));
        let rest: Vec<Input> = self.pending.drain(..).collect();
        if !rest.is_empty() {
            self.update_conn(|c| {
                let mut all = rest.clone();
                all.append(&mut c.pending);
                c.pending = all;
            });
        }
    }
}

async fn ask<Q: Send + 'static, R: Send + 'static>(
    watch: &mut ControlWatch,
    to: &InboxRef<Q>,
    request: Q,
    reply: &Inbox<R>,
) -> Result<R, Signal> {
    watch.deliver(to, request).await.map_err(Signal::from)?;
    loop {
        if let Some(r) = reply.try_recv() {
            return Ok(r);
        }
        if let Some(end) = watch.check() {
            return Err(end);
        }
        // Woken by the reply's delivery (or by a signal, or a line arriving meanwhile).
        pause().await;
    }
}

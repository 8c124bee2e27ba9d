//! [`PasswordHasher`]: a threaded component that hashes and checks passwords (argon2id,
//! a fresh random salt per password), so the deliberately slow work never runs on the
//! scheduler's thread nor holds up the database's.

use std::fmt;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use axon_core::{Component, ComponentBuilder, ControlWatch, InboxRef, Next};

/// What to do with a password.
#[derive(Clone, PartialEq, Eq)]
pub enum HashOp {
    /// Hash it with a new salt: [`HashAnswer::Hashed`].
    Hash {
        /// The password.
        password: String,
    },
    /// Check it against a stored hash: [`HashAnswer::Verified`].
    Verify {
        /// The password typed.
        password: String,
        /// The stored PHC string (`$argon2id$v=19$...`).
        hash: String,
    },
}

impl fmt::Debug for HashOp {
    // Passwords stay out of logs and panic messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HashOp::Hash { .. } => f.write_str("Hash { .. }"),
            HashOp::Verify { .. } => f.write_str("Verify { .. }"),
        }
    }
}

/// The answer to a [`HashOp`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HashAnswer {
    /// The PHC string of the password hashed (salt and parameters included).
    Hashed(String),
    /// Whether the password matched.
    Verified(bool),
}

/// Hashing failed: a stored hash that cannot be read, or no randomness for a salt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashError(pub String);

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "password hashing failed: {}", self.0)
    }
}

impl std::error::Error for HashError {}

/// The reply to a [`HashRequest`].
pub type HashReply = Result<HashAnswer, HashError>;

/// A request to the hasher, with the inbox its [`HashReply`] goes to.
#[derive(Debug)]
pub struct HashRequest {
    /// What to do.
    pub op: HashOp,
    /// Where the reply goes.
    pub reply: InboxRef<HashReply>,
}

/// How many requests may wait for the hasher; a stage asking beyond that waits.
pub const HASHER_INBOX: usize = 256;

/// Does one [`HashOp`] on the calling thread (what the component does per request).
pub fn hash_op(op: &HashOp) -> HashReply {
    // Argon2id v19 with the crate's default cost (19 MiB, 2 passes): OWASP's recommendation.
    let argon2 = Argon2::default();
    match op {
        HashOp::Hash { password } => argon2
            .hash_password(password.as_bytes())
            .map(|h| HashAnswer::Hashed(h.to_string()))
            .map_err(|e| HashError(e.to_string())),
        HashOp::Verify { password, hash } => {
            let parsed = PasswordHash::new(hash).map_err(|e| HashError(format!("stored hash unreadable: {e}")))?;
            Ok(HashAnswer::Verified(argon2.verify_password(password.as_bytes(), &parsed).is_ok()))
        }
    }
}

/// Kamaelia-style builder for the hasher component: `PasswordHasher::new().build()`.
///
/// Threaded: each request is worked on the component's own OS thread, one at a time. Boxes:
/// - `inbox: HashRequest` (bounded, [`HASHER_INBOX`]).
/// - `control: Signal`: `ProducerFinished` answers what is waiting, then is passed on;
///   `ShutdownMicroprocess` stops after the request in hand; other signals are passed on.
/// - `outbox: ()`: unused (replies go where each request says).
/// - `signal: Signal`: the terminal signal, and the others passed on.
#[derive(Debug, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct PasswordHasher {}

impl PasswordHasher {
    /// The hasher.
    pub fn new() -> Self {
        PasswordHasher {}
    }

    /// The threaded component.
    pub fn build(self) -> Component {
        let mut b = ComponentBuilder::new("PasswordHasher");
        let inbox = b.inbox_with_capacity::<HashRequest>("inbox", HASHER_INBOX);
        let control = b.control();
        let _outbox = b.outbox::<()>("outbox");
        let signal = b.signal();
        b.run_threaded(move |tctx| {
            let mut watch = ControlWatch::new(control, signal);
            let end = loop {
                match watch.next_blocking(&tctx, &inbox) {
                    Next::Data(r) => {
                        // Reply inboxes are unbounded; one whose stage has gone just drops it.
                        let _ = r.reply.try_send(hash_op(&r.op));
                    }
                    Next::Other(_) => continue,
                    Next::End(s) => break s,
                }
            };
            watch.finish_blocking(end);
        })
    }
}

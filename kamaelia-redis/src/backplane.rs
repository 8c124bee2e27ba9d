//! [`RedisBackplane`]: a local Backplane whose publishers and subscribers reach every process
//! bridged to the same name, each message delivered exactly once to every subscriber.

use std::marker::PhantomData;

use axon_core::{Component, ComponentBuilder, ControlWatch, Signal, pause};
use kamaelia_chassis::{PlugSplitter, backplane_config_service, backplane_inbox_service};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Codec, Error, Origin, PublishBridge, PublishStats, RemotePolicy, SubscribeBridge, SubscribeStats};

/// A drop-in for `kamaelia_chassis::Backplane` carried across processes by a Redis stream.
///
/// Inside: a local [`PlugSplitter`], a [`PublishBridge`] (a forwarder) in front of it, and
/// a [`SubscribeBridge`] feeding it. It registers the same services as a Backplane, so
/// `PublishTo(name)` and `SubscribeTo(name)` work unchanged: what a local publisher sends
/// goes to the local subscribers at once and to the stream; what other processes publish
/// comes from the stream to the local subscribers. The subscribe bridge skips this process's
/// own entries, so no local subscriber sees a message twice, and nothing is echoed back.
///
/// Boxes:
/// - `inbox: T`: publish (as a Backplane's `inbox`).
/// - `control: Signal`: `ProducerFinished` drains (what was published is written to Redis and
///   delivered locally), `ShutdownMicroprocess` stops at once; passed to every part.
/// - `signal: Signal` (out): passed on when every part has stopped.
/// - `error: Error` (out): both bridges' reports (lost connection, gaps, dead letters).
///
/// While Redis is down, local publishers and subscribers carry on (the publish bridge keeps
/// up to its outage buffer for Redis); remote messages resume when it is back.
///
/// Activation fails, as for a Backplane, if the name is already used on the scheduler.
#[must_use = "a builder does nothing until `build` is called"]
pub struct RedisBackplane<T> {
    name: String,
    publish: PublishBridge<T>,
    subscribe: SubscribeBridge<T>,
    _t: PhantomData<fn(T) -> T>,
}

impl<T: Clone + Serialize + DeserializeOwned + Send + 'static> RedisBackplane<T> {
    /// Backplane `name`, bridged through the server at `url`, messages as JSON.
    pub fn new(url: impl Into<String>, name: impl Into<String>) -> Self {
        Self::with_codec(url, name, Codec::json())
    }
}

impl<T: Clone + Send + 'static> RedisBackplane<T> {
    /// Backplane `name`, bridged through the server at `url`, messages encoded by `codec`.
    pub fn with_codec(url: impl Into<String>, name: impl Into<String>, codec: Codec<T>) -> Self {
        let (url, name) = (url.into(), name.into());
        RedisBackplane {
            publish: PublishBridge::with_codec(url.clone(), name.clone(), codec).forwarder(true),
            subscribe: SubscribeBridge::with_codec(url, name.clone(), codec),
            name,
            _t: PhantomData,
        }
    }

    /// This process's identity in the stream (default [`Origin::process`]).
    pub fn origin(mut self, origin: Origin) -> Self {
        self.publish = self.publish.origin(origin.clone());
        self.subscribe = self.subscribe.origin(origin);
        self
    }

    /// Names this process's consumer group (kept across restarts; default: one per run,
    /// removed when it ends cleanly).
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.subscribe = self.subscribe.group(group);
        self
    }

    /// How publishers treat this process when it falls behind (default lossless).
    pub fn policy(mut self, policy: RemotePolicy) -> Self {
        self.subscribe = self.subscribe.policy(policy);
        self
    }

    /// Counters of the publishing side.
    pub fn publish_stats(&self) -> PublishStats {
        self.publish.stats()
    }

    /// Counters of the subscribing side.
    pub fn subscribe_stats(&self) -> SubscribeStats {
        self.subscribe.stats()
    }

    /// Builds the component.
    pub fn build(self) -> Component {
        let RedisBackplane { name, publish, subscribe, .. } = self;
        let splitter = PlugSplitter::<T>::new().build();
        let publisher = publish.build();
        let subscriber = subscribe.build();
        let mut b = ComponentBuilder::new("RedisBackplane");
        let _inbox = b.inbox::<T>("inbox");
        let control = b.control();
        let signal = b.signal();
        let _error = b.outbox::<Error>("error");
        let ctx = b.ctx();
        let me = ctx.component();
        for child in [&splitter, &publisher, &subscriber] {
            ctx.add_child(child);
        }
        for (from, to) in [
            ((&me, "inbox"), (&publisher, "inbox")),
            ((&publisher, "outbox"), (&splitter, "inbox")),
            ((&subscriber, "outbox"), (&splitter, "inbox")),
            ((&publisher, "error"), (&me, "error")),
            ((&subscriber, "error"), (&me, "error")),
        ] {
            // Infallible: boxes just declared, with matching types, unlinked.
            ctx.link(from, to).expect("a RedisBackplane's own links always link");
        }
        drop(me);
        let (in_service, config_service) = (backplane_inbox_service(&name), backplane_config_service(&name));
        let (hook_in, hook_config) = (in_service.clone(), config_service.clone());
        let (hook_pub, hook_split) = (publisher.clone(), splitter.clone());
        b.on_activate(move |ctx| {
            let services = ctx.services();
            let taken = |service: &str| {
                format!(
                    "backplane {name:?} ({}): the name is already in use on this scheduler (service {service:?})",
                    ctx.name()
                )
            };
            services.register(&hook_in, &hook_pub, "inbox").map_err(|_| taken(&hook_in))?;
            if services.register(&hook_config, &hook_split, "configuration").is_err() {
                let _ = services.deregister(&hook_in);
                return Err(taken(&hook_config));
            }
            Ok(())
        });
        b.run(move |ctx| async move {
            let mut watch = ControlWatch::new(control, signal);
            for child in [&splitter, &publisher, &subscriber] {
                if let Err(e) = ctx.activate(child) {
                    let message = format!("{}: cannot start {}: {e}", ctx.name(), child.name());
                    watch.emit(Signal::ErrorInformation { caller: Some(ctx.id()), message }).await;
                }
            }
            // Wait for a terminal signal, or for the parts to end by themselves.
            let end = loop {
                if let Some(s) = watch.check() {
                    break s;
                }
                if let Some(s) = watch.take_finished() {
                    break s;
                }
                if ctx.children_done() {
                    break Signal::producer_finished_by(ctx.id());
                }
                pause().await;
            };
            // The bridges first (the publisher drains into the splitter), then the splitter.
            for child in [&subscriber, &publisher] {
                tell(child, end.clone());
            }
            while !(subscriber.is_finished() && publisher.is_finished()) {
                pause().await;
            }
            tell(&splitter, end.clone());
            ctx.wait_for_children().await;
            let services = ctx.services();
            for (service, owner) in [(&in_service, &publisher), (&config_service, &splitter)] {
                if services.retrieve(service).is_ok_and(|(c, _)| &c == owner) {
                    let _ = services.deregister(service);
                }
            }
            watch.finish(end).await;
        })
    }
}

/// Puts a signal into a child's control (unbounded: never refused unless it has ended).
fn tell(child: &Component, s: Signal) {
    if let Ok(control) = child.inbox_ref::<Signal>("control") {
        let _ = control.try_send(s);
    }
}

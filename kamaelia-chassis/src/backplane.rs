//! Backplane, PublishTo and SubscribeTo: named publish/subscribe on a plug splitter.

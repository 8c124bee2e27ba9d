//! Sort: collects until ProducerFinished, then emits in order.

//! Fanout, Router, ConditionalSplitter, TwoWaySplitter and the N-way Balancer.

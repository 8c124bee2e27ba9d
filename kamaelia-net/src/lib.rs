//! Kamaelia networking on mio: Selector, TcpServer, TcpClient, ServerCore, UDP and multicast.
//!
//! Not built yet: this crate is filled by the networking issue.

//! Loopback ports for servers the tests start as child processes (sshd, aiosmtpd, the daemon's dashboard).

/// A free loopback port for a server the test starts as a child process. Chosen below the
/// kernel's ephemeral range (32768-60999): a port from bind(0) is ephemeral, and between
/// releasing it and the child binding it an outgoing connection of a parallel test can take it
/// as its source port (seen as EADDRINUSE in CI). Ports 20000-32767 are never handed out that way.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, RandomState};
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    for _ in 0..1000 {
        let n = RandomState::new().hash_one((std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)));
        let port = 20000 + (n % 12768) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free loopback port in 20000-32767")
}

/// Wait (bounded, polling every 50 ms) until something accepts connections on 127.0.0.1:`port`.
pub fn wait_for_port(port: u16, timeout: std::time::Duration) -> bool {
    super::wait_until(timeout, || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok())
}

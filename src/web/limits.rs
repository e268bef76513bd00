//! Dashboard connection limits: at most [`Limits::max_connections`] connections at once (more
//! wait in the kernel's backlog, not on our file descriptors), each closed when it sends
//! nothing for [`Limits::idle`], when it is still sending after [`Limits::slow`], or when it
//! stops taking a response for [`Limits::idle`].

use axum::serve::Listener;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// The dashboard's limits (defaults: 256 connections, 20 s idle, 120 s to finish reading).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    /// Longest wait for the next byte from the client (between requests too), and for the
    /// client to take response bytes.
    pub idle: Duration,
    /// A connection still being read from this long after it opened is closed (a client
    /// sending its request a byte at a time).
    pub slow: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_connections: 256, idle: Duration::from_secs(20), slow: Duration::from_secs(120) }
    }
}

impl Limits {
    /// The defaults, or `ENTRYWATCH_WEB_LIMITS=<connections>,<idle secs>,<slow secs>` (tests).
    pub fn from_env() -> Limits {
        let d = Limits::default();
        let Ok(v) = std::env::var("ENTRYWATCH_WEB_LIMITS") else { return d };
        let n: Vec<u64> = v.split(',').filter_map(|x| x.trim().parse().ok()).collect();
        match n.as_slice() {
            [c, i, s] if *c > 0 && *i > 0 && *s > 0 => {
                Limits { max_connections: *c as usize, idle: Duration::from_secs(*i), slow: Duration::from_secs(*s) }
            }
            _ => d,
        }
    }
}

/// A TCP listener that applies [`Limits`].
pub struct LimitedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
    limits: Limits,
}

impl LimitedListener {
    pub fn new(inner: TcpListener, limits: Limits) -> LimitedListener {
        LimitedListener { inner, permits: Arc::new(Semaphore::new(limits.max_connections.max(1))), limits }
    }
}

impl Listener for LimitedListener {
    type Io = Guarded;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Guarded, SocketAddr) {
        loop {
            // Take a slot first: at the limit, new connections wait in the backlog.
            let Ok(permit) = self.permits.clone().acquire_owned().await else {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            };
            match self.inner.accept().await {
                Ok((io, addr)) => return (Guarded::new(io, permit, self.limits), addr),
                Err(e) => {
                    drop(permit);
                    if !matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionRefused
                            | io::ErrorKind::ConnectionAborted
                            | io::ErrorKind::ConnectionReset
                    ) {
                        // EMFILE and the like: say so and give the process a moment.
                        tracing::warn!(error = %e, "DashboardAcceptFailed");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// One accepted connection: holds its slot until dropped, times out idle and slow peers.
pub struct Guarded {
    io: TcpStream,
    _permit: OwnedSemaphorePermit,
    opened: Instant,
    limits: Limits,
    read_timer: Pin<Box<Sleep>>,
    read_armed: bool,
    write_timer: Pin<Box<Sleep>>,
    write_armed: bool,
}

impl Guarded {
    fn new(io: TcpStream, permit: OwnedSemaphorePermit, limits: Limits) -> Guarded {
        let now = Instant::now();
        Guarded {
            io,
            _permit: permit,
            opened: now,
            limits,
            read_timer: Box::pin(tokio::time::sleep_until(now + limits.idle)),
            read_armed: false,
            write_timer: Box::pin(tokio::time::sleep_until(now + limits.idle)),
            write_armed: false,
        }
    }
}

fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("dashboard connection closed: {what}"))
}

impl AsyncRead for Guarded {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(r) => {
                this.read_armed = false;
                Poll::Ready(r)
            }
            Poll::Pending => {
                if !this.read_armed {
                    let deadline = (Instant::now() + this.limits.idle).min(this.opened + this.limits.slow);
                    this.read_timer.as_mut().reset(deadline);
                    this.read_armed = true;
                }
                match this.read_timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(timed_out("idle or too slow"))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl Guarded {
    /// A write that completed disarms the stall timer; one that is pending arms it once, and a
    /// client that stops reading for the idle limit gets its connection closed.
    fn write_progress(&mut self, cx: &mut Context<'_>, r: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
        match r {
            Poll::Ready(r) => {
                self.write_armed = false;
                Poll::Ready(r)
            }
            Poll::Pending => {
                if !self.write_armed {
                    self.write_timer.as_mut().reset(Instant::now() + self.limits.idle);
                    self.write_armed = true;
                }
                match self.write_timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(timed_out("the client stopped reading"))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let r = Pin::new(&mut this.io).poll_write(cx, data);
        this.write_progress(cx, r)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let r = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.write_progress(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

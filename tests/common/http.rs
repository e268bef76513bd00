//! The dashboard in tests: a minimal HTTP/1.1 client (one request per connection over TCP on
//! loopback, chunked bodies decoded) and the dashboard served on a loopback port until dropped.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn ctype(&self) -> &str {
        self.header("content-type").unwrap_or("")
    }
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

pub fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(i) = b.windows(2).position(|w| w == b"\r\n") else { return out };
        let n = usize::from_str_radix(std::str::from_utf8(&b[..i]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[i + 2..i + 2 + n]);
        b = &b[i + 2 + n + 2..];
    }
}

/// One request; panics when the connection fails.
pub fn req(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Resp {
    try_req(addr, method, path, headers).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// One request, the connection's failure as an error (a server that is not (yet) listening,
/// or one that closes the connection early); a 10 s read timeout.
pub fn try_req(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Result<Resp, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| format!("connect to {addr}: {e}"))?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).map_err(|e| e.to_string())?;
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str("\r\n");
    s.write_all(r.as_bytes()).map_err(|e| format!("write to {addr}: {e}"))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).map_err(|e| format!("read from {addr}: {e}"))?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no end of the header")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no status line: {head}"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked")) {
        body = dechunk(&body);
    }
    Ok(Resp { status, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

/// GET `path` on 127.0.0.1:`port` as (status, body); status 0 with the error as body when the
/// connection fails (for polling a daemon's dashboard).
pub fn get_port(port: u16, path: &str) -> (u16, String) {
    match try_req(SocketAddr::from(([127, 0, 0, 1], port)), "GET", path, &[]) {
        Ok(r) => (r.status, r.body),
        Err(e) => (0, e),
    }
}

pub fn get(addr: SocketAddr, path: &str) -> Resp {
    req(addr, "GET", path, &[])
}

/// The dashboard (`web::router`) over a model, served on a free loopback port until dropped.
/// (`tests/readmodel.rs` builds one around `serve_store_on`, as the daemon serves the dashboard.)
pub struct Server {
    pub addr: SocketAddr,
    pub stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serve `model` with `clock` and `auth` on 127.0.0.1 (a port the system picks).
pub fn serve(
    model: Arc<dyn entrywatch::view::ReadModel>,
    clock: entrywatch::clock::Clock,
    auth: entrywatch::web::Auth,
) -> Server {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    spawn(listener, move |listener, stop| async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        entrywatch::web::serve_on(listener, entrywatch::web::router(model, clock, auth), stop).await.unwrap();
    })
}

/// Run a server future on its own runtime thread, on `listener`, until the [`Server`] is
/// dropped (the future gets the listener and the stop signal).
pub fn spawn<F, Fut>(listener: std::net::TcpListener, run: F) -> Server
where
    F: FnOnce(std::net::TcpListener, std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>) -> Fut
        + Send
        + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(run(
            listener,
            Box::pin(async move {
                let _ = rx.await;
            }),
        ));
    });
    Server { addr, stop: Some(tx), thread: Some(thread) }
}

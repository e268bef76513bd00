//! The daemon side of the command socket: accepts local clients, runs their data commands
//! against the daemon's open store (on the blocking pool, never on the pipeline's threads) and
//! streams the output back; takes files handed over by `ingest` through the same pipeline.

use super::{
    frame, frame_header, same_dir, server_path, FileHead, Job, Request, FRAME_CHUNK, IO_TIMEOUT, MAX_CLIENTS,
    MAX_FILES, MAX_FILE_BYTES, MAX_HEADER_BYTES, PROTOCOL_VERSION, SOCKET_NAME,
};
use crate::cli::dispatch::{exec, Ctx, Io};
use crate::cli::entries::{ingest_items, print_outcomes, unknown_inbox, Item, Staging};
use crate::clock::Clock;
use crate::config::Config;
use crate::ingest::{Outcome, Pipeline};
use std::cell::RefCell;
use std::future::Future;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, watch, Notify, OwnedSemaphorePermit, Semaphore};

/// What the socket serves from: the daemon's pipeline (its store), its live configuration and
/// the tasks to wake after files were applied (mailer, deadline scheduler).
pub struct Backend {
    pub pipeline: Arc<Pipeline>,
    pub config: watch::Receiver<Arc<Config>>,
    pub wake: Vec<Arc<Notify>>,
}

/// Held while files handed over by `ingest` go through the pipeline.
static INGESTING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A bound command socket (mode 0660: the daemon's user and group). The path must fit a Unix
/// socket address (about 107 bytes).
pub struct Server {
    listener: std::os::unix::net::UnixListener,
    path: PathBuf,
    /// `<data-dir>/entrywatch.sock` pointing at a socket that lives elsewhere.
    link: Option<PathBuf>,
}

fn timed_out() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, "the client was silent too long")
}

/// Remove a leftover socket (or link) at `path`, unless something answers on it.
fn clear_stale(path: &Path) -> std::io::Result<()> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(());
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::AddrInUse,
            format!("another process answers on {}", path.display()),
        ));
    }
    std::fs::remove_file(path)
}

impl Server {
    /// Bind where [`server_path`] says (before the runtime starts, so the socket exists once the
    /// daemon says it is ready). When that is not in the data dir, a link
    /// `<data-dir>/entrywatch.sock` points at it so clients find it from their config.
    pub fn bind(data_dir: &Path) -> std::io::Result<Server> {
        let path = server_path(data_dir);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        clear_stale(&path)?;
        let listener = std::os::unix::net::UnixListener::bind(&path)?;
        listener.set_nonblocking(true)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o660))?;
        let mut link = None;
        let in_data_dir = data_dir.join(SOCKET_NAME);
        if path != in_data_dir && clear_stale(&in_data_dir).is_ok() {
            match std::os::unix::fs::symlink(&path, &in_data_dir) {
                Ok(()) => link = Some(in_data_dir),
                Err(e) => tracing::warn!(link = %in_data_dir.display(), error = %e, "SocketLinkFailed"),
            }
        }
        Ok(Server { listener, path, link })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Accept clients until `shutdown` completes, then remove the socket. At most
    /// [`MAX_CLIENTS`] commands run at once; a client that stalls is dropped after [`IO_TIMEOUT`].
    pub async fn serve(self, backend: Arc<Backend>, shutdown: impl Future<Output = ()>) {
        let listener = match self.listener.try_clone().and_then(UnixListener::from_std) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!(socket = %self.path.display(), error = %e, "SocketFailed");
                shutdown.await;
                return;
            }
        };
        tracing::info!(socket = %self.path.display(), "SocketListening");
        let permits = Arc::new(Semaphore::new(MAX_CLIENTS));
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((conn, _)) => {
                        let permit = permits.clone().try_acquire_owned().ok();
                        let backend = backend.clone();
                        tokio::spawn(async move {
                            if let Err(e) = handle(conn, backend, permit).await {
                                tracing::warn!(error = %e, "SocketClientDropped");
                            }
                        });
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "SocketAcceptFailed");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                }
            }
        }
        let _ = std::fs::remove_file(&self.path);
        if let Some(l) = &self.link {
            let _ = std::fs::remove_file(l);
        }
    }
}

async fn write_frame(wr: &mut OwnedWriteHalf, kind: u8, payload: &[u8]) -> std::io::Result<()> {
    let send = async {
        wr.write_all(&frame_header(kind, payload.len())).await?;
        wr.write_all(payload).await
    };
    tokio::time::timeout(IO_TIMEOUT, send).await.map_err(|_| timed_out())?
}

async fn refuse(wr: &mut OwnedWriteHalf, why: &str) -> std::io::Result<()> {
    write_frame(wr, frame::REFUSED, why.as_bytes()).await?;
    wr.shutdown().await
}

async fn read_request(rd: &mut OwnedReadHalf) -> std::io::Result<Result<Request, String>> {
    let len = tokio::time::timeout(IO_TIMEOUT, rd.read_u32()).await.map_err(|_| timed_out())??;
    if len > MAX_HEADER_BYTES {
        return Ok(Err(format!("the request is {len} bytes; the limit is {MAX_HEADER_BYTES}")));
    }
    // Grown as the bytes arrive: an announced length alone reserves nothing.
    let mut buf = Vec::new();
    let mut limited = (&mut *rd).take(u64::from(len));
    tokio::time::timeout(IO_TIMEOUT, limited.read_to_end(&mut buf)).await.map_err(|_| timed_out())??;
    if buf.len() != len as usize {
        return Ok(Err(format!("the request ended after {} of {len} bytes", buf.len())));
    }
    Ok(serde_json::from_slice(&buf).map_err(|e| format!("the request is not readable: {e}")))
}

/// One client: read its request, check it, run it, stream the output.
async fn handle(conn: UnixStream, b: Arc<Backend>, permit: Option<OwnedSemaphorePermit>) -> std::io::Result<()> {
    let (mut rd, mut wr) = conn.into_split();
    let Some(_permit) = permit else {
        return refuse(&mut wr, &format!("busy: {MAX_CLIENTS} commands are running; try again in a moment")).await;
    };
    let req = match read_request(&mut rd).await? {
        Ok(r) => r,
        Err(why) => return refuse(&mut wr, &why).await,
    };
    if req.version != PROTOCOL_VERSION {
        let why = format!(
            "the client speaks protocol {}, this daemon {PROTOCOL_VERSION}: use the same entrywatch version as the daemon",
            req.version
        );
        return refuse(&mut wr, &why).await;
    }
    let config = b.config.borrow().clone();
    // The data dir whose store this daemon holds (a reload cannot move it).
    let served = &b.pipeline.layout().data_dir;
    if !same_dir(&req.data_dir, served) {
        write_frame(&mut wr, frame::WRONG_STORE, served.display().to_string().as_bytes()).await?;
        return wr.shutdown().await;
    }
    let clock = req.now.map(Clock::Fixed).unwrap_or(Clock::System);
    match req.job {
        Job::Query(q) => {
            write_frame(&mut wr, frame::ACCEPT, b"").await?;
            let ctx = Ctx { config: (*config).clone(), store: b.pipeline.store().clone(), clock };
            stream(&mut wr, move |io, _| exec(&q, &ctx, io)).await
        }
        Job::Ingest { inbox, json, files } => {
            let Some(ib) = config.inbox(&inbox).cloned() else {
                return refuse(&mut wr, &unknown_inbox(&config, &inbox)).await;
            };
            if files.len() > MAX_FILES {
                return refuse(&mut wr, &format!("{} files in one ingest; the limit is {MAX_FILES}", files.len()))
                    .await;
            }
            if let Some(f) = files.iter().find(|f| f.len > MAX_FILE_BYTES) {
                let why = format!("{} is {} bytes; the limit is {MAX_FILE_BYTES}", f.shown, f.len);
                return refuse(&mut wr, &why).await;
            }
            write_frame(&mut wr, frame::ACCEPT, b"").await?;
            let staging = Staging::new(served);
            let items = receive_files(&mut rd, &staging, &files).await?;
            let pipeline = b.pipeline.clone();
            let wake = b.wake.clone();
            stream(&mut wr, move |io, extra| {
                // One handed-over batch at a time: two claims of one name never race each other.
                let one_at_a_time = INGESTING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                let results = ingest_items(&pipeline, &ib, &items, false, io.err);
                drop(one_at_a_time);
                drop(staging);
                if results.iter().any(|(_, r)| matches!(r, Ok(Outcome::Applied { .. }))) {
                    for w in &wake {
                        w.notify_one();
                    }
                }
                let taken: Vec<bool> = results.iter().map(|(_, r)| r.is_ok()).collect();
                extra(frame::TAKEN, serde_json::to_vec(&taken).unwrap_or_default());
                print_outcomes(&results, json, io)
            })
            .await
        }
    }
}

/// Write each handed-over file into the staging folder (bounded by its announced length, each
/// read by [`IO_TIMEOUT`]).
async fn receive_files(rd: &mut OwnedReadHalf, staging: &Staging, files: &[FileHead]) -> std::io::Result<Vec<Item>> {
    let mut items = Vec::with_capacity(files.len());
    let mut buf = vec![0u8; FRAME_CHUNK];
    for (n, f) in files.iter().enumerate() {
        if let Some(p) = &f.problem {
            items.push(Item { shown: f.shown.clone(), path: Err(p.clone()) });
            continue;
        }
        let to = staging.path(n, &f.shown)?;
        let mut file = tokio::fs::File::create(&to).await?;
        let mut left = f.len;
        while left > 0 {
            let want = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
            let got = tokio::time::timeout(IO_TIMEOUT, rd.read(&mut buf[..want])).await.map_err(|_| timed_out())??;
            if got == 0 {
                return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the client stopped mid-file"));
            }
            file.write_all(&buf[..got]).await?;
            left -= got as u64;
        }
        file.sync_all().await?;
        items.push(Item { shown: f.shown.clone(), path: Ok(to) });
    }
    Ok(items)
}

/// Output of a command running on the blocking pool, cut into frames in the order written
/// (stdout and stderr interleaved as the command wrote them).
struct Frames {
    kind: u8,
    buf: Vec<u8>,
    tx: mpsc::Sender<(u8, Vec<u8>)>,
}

impl Frames {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::take(&mut self.buf);
        self.tx
            .blocking_send((self.kind, chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))
    }

    fn write(&mut self, kind: u8, data: &[u8]) -> std::io::Result<()> {
        if kind != self.kind {
            self.send()?;
            self.kind = kind;
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= FRAME_CHUNK || kind == frame::ERR {
            self.send()?;
        }
        Ok(())
    }
}

/// stdout or stderr of a command the daemon runs.
struct Stream {
    kind: u8,
    frames: Rc<RefCell<Frames>>,
}

impl Write for Stream {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.frames.borrow_mut().write(self.kind, data)?;
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.frames.borrow_mut().send()
    }
}

/// Run `f` on the blocking pool, sending what it writes as frames, then its exit code. A
/// command that panics is reported to the client (exit 101) and logged; the daemon goes on.
async fn stream<F>(wr: &mut OwnedWriteHalf, f: F) -> std::io::Result<()>
where
    F: FnOnce(&mut Io, &mut dyn FnMut(u8, Vec<u8>)) -> i32 + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<(u8, Vec<u8>)>(16);
    let task = tokio::task::spawn_blocking(move || {
        let frames = Rc::new(RefCell::new(Frames { kind: frame::OUT, buf: Vec::new(), tx: tx.clone() }));
        let mut out = Stream { kind: frame::OUT, frames: frames.clone() };
        let mut err = Stream { kind: frame::ERR, frames: frames.clone() };
        let extra_tx = tx.clone();
        let mut extra = |kind: u8, payload: Vec<u8>| {
            let _ = frames.borrow_mut().send();
            let _ = extra_tx.blocking_send((kind, payload));
        };
        let code = f(&mut Io { out: &mut out, err: &mut err, tty: false }, &mut extra);
        let _ = frames.borrow_mut().send();
        let _ = tx.blocking_send((frame::EXIT, code.to_be_bytes().to_vec()));
    });
    let mut finished = false;
    while let Some((kind, payload)) = rx.recv().await {
        write_frame(wr, kind, &payload).await?;
        finished |= kind == frame::EXIT;
    }
    if !finished {
        if let Err(e) = task.await {
            tracing::error!(error = %e, "SocketCommandFailed");
        }
        write_frame(
            wr,
            frame::ERR,
            b"error: the daemon failed while running this command (a bug; its log says more)\n",
        )
        .await?;
        write_frame(wr, frame::EXIT, &101i32.to_be_bytes()).await?;
    }
    wr.shutdown().await
}

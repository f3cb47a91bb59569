//! The sandbox's HTTP/1.1 server on loopback: one thread per connection, keep-alive, bodies by
//! Content-Length. Requests are parsed with `httparse`; serving is ours because the sandbox must
//! be able to close a connection without answering and to leave one hanging, which server
//! crates that always answer (tiny_http sends a 500 for a dropped request) cannot do.
//!
//! Shared state: the set of open connections, so that a stop can shut every one of them at once.

use crate::stop::{Stop, Waited};
use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Requests larger than this are refused; X's own limit for a post body is far smaller.
const MAX_BODY_BYTES: usize = 1024 * 1024;
const MAX_HEADERS: usize = 64;
/// Connection threads do little and hold no big buffers.
const CONNECTION_STACK: usize = 256 * 1024;

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// How long to wait before answering.
    pub delay: Duration,
}

impl Response {
    pub fn json(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn form(status: u16, body: impl Into<String>) -> Response {
        Response {
            status,
            headers: vec![(
                "Content-Type".into(),
                "application/x-www-form-urlencoded".into(),
            )],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn with_header(mut self, name: &str, value: impl ToString) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// What the handler wants done with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Answer(Response),
    /// Close the connection without an answer.
    Drop,
    /// Never answer; the connection stays open until the client gives up or the server stops.
    Hang,
}

pub type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running server. `stop` (or dropping it) closes every connection and joins every thread.
pub struct Server {
    address: SocketAddr,
    stopping: Arc<AtomicBool>,
    switch: crate::stop::StopSwitch,
    connections: Arc<Connections>,
    acceptor: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Connections {
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, TcpStream>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Connections {
    fn lock_open(&self) -> std::sync::MutexGuard<'_, HashMap<u64, TcpStream>> {
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Server {
    /// Serves on 127.0.0.1:`port` (0 picks a free port). Never binds anything but loopback.
    pub fn start(port: u16, handler: Arc<Handler>) -> io::Result<Server> {
        let listener = listen(port)?;
        let address = listener.local_addr()?;
        let stopping = Arc::new(AtomicBool::new(false));
        let (switch, stop) = crate::stop::channel();
        let connections = Arc::new(Connections::default());
        let acceptor = {
            let stopping = Arc::clone(&stopping);
            let connections = Arc::clone(&connections);
            std::thread::Builder::new()
                .name("sandbox accept".into())
                .spawn(move || accept(listener, handler, stopping, stop, connections))?
        };
        Ok(Server {
            address,
            stopping,
            switch,
            connections,
            acceptor: Some(acceptor),
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Closes the listener and every connection, and joins every thread.
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        let Some(acceptor) = self.acceptor.take() else {
            return;
        };
        self.stopping.store(true, Ordering::SeqCst);
        self.switch.stop();
        // `accept` blocks; one last connection wakes it to see the flag.
        let _ = TcpStream::connect(self.address);
        let _ = acceptor.join();
        for stream in self.connections.lock_open().values() {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        let threads = std::mem::take(
            &mut *self
                .connections
                .threads
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        for thread in threads {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// A listener on 127.0.0.1 with a deep accept queue: std's is 128, and ten thousand bots
/// connecting at once would see their connections dropped and retried seconds later, which X's
/// front ends do not do.
fn listen(port: u16) -> io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    socket.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, port)).into())?;
    socket.listen(ACCEPT_QUEUE)?;
    Ok(socket.into())
}

/// Connections waiting to be accepted (the kernel caps it at net.core.somaxconn).
const ACCEPT_QUEUE: i32 = 16_384;

fn accept(
    listener: TcpListener,
    handler: Arc<Handler>,
    stopping: Arc<AtomicBool>,
    stop: Stop,
    connections: Arc<Connections>,
) {
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let id = connections.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(clone) = stream.try_clone() {
            connections.lock_open().insert(id, clone);
        }
        let handler = Arc::clone(&handler);
        let stop = stop.clone();
        let registry = Arc::clone(&connections);
        let spawned = std::thread::Builder::new()
            .name("sandbox connection".into())
            .stack_size(CONNECTION_STACK)
            .spawn(move || {
                serve(stream, handler.as_ref(), &stop);
                registry.lock_open().remove(&id);
            });
        let mut threads = connections
            .threads
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Finished connections are joined as new ones come, so the list stays short.
        let (done, running): (Vec<_>, Vec<_>) =
            threads.drain(..).partition(JoinHandle::is_finished);
        *threads = running;
        for thread in done {
            let _ = thread.join();
        }
        match spawned {
            Ok(thread) => threads.push(thread),
            Err(error) => {
                log::error!("sandbox: cannot start a connection thread: {error}");
                connections.lock_open().remove(&id);
            }
        }
    }
}

/// Answers requests on one connection until it closes.
fn serve(stream: TcpStream, handler: &Handler, stop: &Stop) {
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    let mut writer = writer;
    let mut reader = BufReader::new(stream);
    loop {
        let request = match read_request(&mut reader) {
            Ok(Some(request)) => request,
            Ok(None) => return,
            Err(error) => {
                let answer =
                    Response::json(400, problem_body(400, "Bad Request", &error.to_string()));
                let _ = write_response(&mut writer, &answer, false);
                return;
            }
        };
        let keep_alive = !request
            .header("Connection")
            .is_some_and(|value| value.eq_ignore_ascii_case("close"));
        match handler(&request) {
            Reply::Answer(response) => {
                if !response.delay.is_zero()
                    && stop.wait_until(Instant::now() + response.delay) == Waited::Stopped
                {
                    return;
                }
                if write_response(&mut writer, &response, keep_alive).is_err() || !keep_alive {
                    return;
                }
            }
            Reply::Drop => {
                let _ = writer.shutdown(std::net::Shutdown::Both);
                return;
            }
            Reply::Hang => {
                // Answer nothing. The client sends nothing more while it waits, so this read
                // ends only when it gives up and closes, or when a stop shuts the socket.
                let mut byte = [0u8; 1];
                let _ = reader.read(&mut byte);
                return;
            }
        }
    }
}

/// Reads one request; `None` when the client closed the connection between requests.
fn read_request(reader: &mut BufReader<TcpStream>) -> io::Result<Option<Request>> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        let read = reader.read_until(b'\n', &mut head)?;
        if read == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "request cut short",
                ))
            };
        }
        if head[before..] == *b"\r\n" || head[before..] == *b"\n" {
            if before == 0 {
                // Stray blank lines between requests are allowed (RFC 9112 §2.2).
                head.clear();
                continue;
            }
            break;
        }
        if head.len() > 64 * 1024 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
    }
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut slots);
    parsed
        .parse(&head)
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error.to_string()))?;
    let target = parsed.path.unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|header| {
            (
                header.name.to_string(),
                String::from_utf8_lossy(header.value).trim().to_string(),
            )
        })
        .collect();
    let mut request = Request {
        method: parsed.method.unwrap_or("GET").to_string(),
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body: Vec::new(),
    };
    if request
        .header("Transfer-Encoding")
        .is_some_and(|value| value.to_ascii_lowercase().contains("chunked"))
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "chunked request bodies are not supported: send Content-Length",
        ));
    }
    let length: usize = match request.header("Content-Length") {
        Some(value) => value
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "bad Content-Length"))?,
        None => 0,
    };
    if length > MAX_BODY_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "request body too large",
        ));
    }
    request.body = vec![0; length];
    reader.read_exact(&mut request.body)?;
    Ok(Some(request))
}

fn write_response(writer: &mut TcpStream, response: &Response, keep_alive: bool) -> io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nContent-Length: {}\r\nConnection: {}\r\n",
        response.status,
        reason(response.status),
        response.body.len(),
        if keep_alive { "keep-alive" } else { "close" }
    );
    for (name, value) in &response.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&response.body);
    writer.write_all(out.as_bytes())?;
    writer.flush()
}

/// A problem-details body (RFC 7807) in X's style.
pub fn problem_body(status: u16, title: &str, detail: &str) -> String {
    serde_json::json!({
        "title": title,
        "detail": detail,
        "type": "about:blank",
        "status": status,
    })
    .to_string()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

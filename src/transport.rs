//! The TCP layer under the flock's HTTP client: ureq's connector chain (CONNECT proxy, then
//! this, then rustls) with this module in place of ureq's own TCP transport, which made twelve
//! system calls and two TCP segments per post. Here a post over a kept-alive connection makes
//! four calls and one segment (measured with `examples/post_cost.rs`; see BENCHMARKS.md):
//!
//! - A request goes out in one write. ureq hands over the head and the body separately; two
//!   writes mean two segments, and the server wakes for each.
//! - Socket timeouts are set rounded up to whole seconds, so they change about once a second
//!   rather than before every read and write (ureq sets the exact time left each time). A
//!   timeout can therefore end up to a second late.
//! - Whether an idle connection is still open is asked with one non-blocking peek, not by
//!   switching the socket to non-blocking and back around a read.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, ShutdownHandle,
    Transport,
};
use ureq::{Error, Timeout};

/// Opens plain TCP connections, unless an earlier connector in the chain (a proxy) already has.
#[derive(Debug, Default)]
pub struct TcpConnector;

impl<In: Transport> Connector<In> for TcpConnector {
    type Out = Either<In, TcpTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, Error> {
        if let Some(chained) = chained {
            return Ok(Some(Either::A(chained)));
        }
        let stream = connect(details)?;
        if details.config.no_delay() {
            stream.set_nodelay(true)?;
        }
        let stream = Arc::new(stream);
        // Lets ureq's Agent::shutdown interrupt a read or write blocked on this socket.
        (details.register_shutdown)(Arc::downgrade(&stream) as Weak<dyn ShutdownHandle>)?;
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        Ok(Some(Either::B(TcpTransport {
            stream,
            buffers,
            unsent: Vec::new(),
            read_timeout: None,
            write_timeout: None,
        })))
    }
}

/// Tries each resolved address in turn, each with an equal share of the time left.
fn connect(details: &ConnectionDetails) -> Result<TcpStream, Error> {
    let deadline = details
        .timeout
        .not_zero()
        .map(|after| Instant::now() + *after);
    let addrs = &details.addrs;
    let mut last = None;
    for (tried, addr) in addrs.iter().enumerate() {
        let result = match deadline {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Error::Timeout(details.timeout.reason));
                }
                let share = left / (addrs.len() - tried) as u32;
                TcpStream::connect_timeout(addr, share.max(Duration::from_millis(10)))
            }
            None => TcpStream::connect(addr),
        };
        match result {
            Ok(stream) => return Ok(stream),
            Err(e) if timed_out(&e) => last = Some(Error::Timeout(Timeout::Connect)),
            Err(e) => last = Some(Error::Io(e)),
        }
    }
    Err(last.unwrap_or_else(|| {
        Error::Io(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            "the host has no address to connect to",
        ))
    }))
}

/// A blocking read or write that ran out of its socket timeout (Unix says "would block").
fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

fn io_error(e: io::Error, reason: Timeout) -> Error {
    if timed_out(&e) {
        Error::Timeout(reason)
    } else {
        Error::Io(e)
    }
}

/// Bytes held back before they are written anyway: more than any request the flock makes.
const SEND_AT: usize = 64 * 1024;

pub struct TcpTransport {
    stream: Arc<TcpStream>,
    buffers: LazyBuffers,
    /// Output given to `transmit_output` and not yet written: written in one go before the
    /// next read, or once it reaches `SEND_AT`.
    unsent: Vec<u8>,
    /// The socket's timeouts as last set, to set them only when they change.
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
}

impl std::fmt::Debug for TcpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpTransport")
            .field("peer", &self.stream.peer_addr().ok())
            .field("unsent", &self.unsent.len())
            .finish()
    }
}

/// `timeout` as the socket is given it: `None` for no timeout, otherwise rounded up to whole
/// seconds (a timeout under a second is kept as it is).
pub fn socket_timeout(timeout: &NextTimeout) -> Option<Duration> {
    let after = *timeout.not_zero()?;
    if after < Duration::from_secs(1) {
        return Some(after);
    }
    let whole = after.as_secs() + u64::from(after.subsec_nanos() > 0);
    Some(Duration::from_secs(whole))
}

/// An error when ureq's time for this step has run out.
fn check(timeout: NextTimeout) -> Result<NextTimeout, Error> {
    if !timeout.after.is_not_happening() && timeout.after.is_zero() {
        Err(Error::Timeout(timeout.reason))
    } else {
        Ok(timeout)
    }
}

impl TcpTransport {
    fn send_unsent(&mut self, timeout: NextTimeout) -> Result<(), Error> {
        let timeout = check(timeout)?;
        let wanted = socket_timeout(&timeout);
        if wanted != self.write_timeout {
            self.stream.set_write_timeout(wanted)?;
            self.write_timeout = wanted;
        }
        let result = (&*self.stream).write_all(&self.unsent);
        self.unsent.clear();
        result.map_err(|e| io_error(e, timeout.reason))
    }
}

impl Transport for TcpTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), Error> {
        let timeout = check(timeout.for_write())?;
        self.unsent
            .extend_from_slice(&self.buffers.output()[..amount]);
        if self.unsent.len() >= SEND_AT {
            self.send_unsent(timeout)?;
        }
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        if !self.unsent.is_empty() {
            self.send_unsent(timeout.for_write())?;
        }
        let timeout = check(timeout.for_read())?;
        let wanted = socket_timeout(&timeout);
        if wanted != self.read_timeout {
            self.stream.set_read_timeout(wanted)?;
            self.read_timeout = wanted;
        }
        let input = self.buffers.input_append_buf();
        let read = loop {
            match (&*self.stream).read(input) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let amount = read.map_err(|e| io_error(e, timeout.reason))?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.unsent.is_empty() && idle_and_open(&self.stream)
    }
}

/// True when the peer has neither closed the connection nor sent anything unasked.
#[cfg(target_os = "linux")]
fn idle_and_open(stream: &TcpStream) -> bool {
    use rustix::net::{RecvFlags, recv};
    let mut byte = [0u8; 1];
    matches!(
        recv(stream, &mut byte, RecvFlags::PEEK | RecvFlags::DONTWAIT),
        Err(rustix::io::Errno::AGAIN)
    )
}

#[cfg(not(target_os = "linux"))]
fn idle_and_open(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return false;
    }
    let mut byte = [0u8; 1];
    let idle = matches!(stream.peek(&mut byte), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
    stream.set_nonblocking(false).is_ok() && idle
}

#[cfg(test)]
mod tests {
    use super::*;
    use ureq::unversioned::transport::time;

    fn after(duration: Duration) -> NextTimeout {
        NextTimeout {
            after: time::Duration::Exact(duration),
            ..NextTimeout::default()
        }
    }

    #[test]
    fn timeouts_round_up_to_whole_seconds() {
        let at = |ms| socket_timeout(&after(Duration::from_millis(ms)));
        assert_eq!(at(30_000), Some(Duration::from_secs(30)));
        assert_eq!(at(29_999), Some(Duration::from_secs(30)));
        assert_eq!(at(29_001), Some(Duration::from_secs(30)));
        assert_eq!(at(1_500), Some(Duration::from_secs(2)));
        assert_eq!(at(250), Some(Duration::from_millis(250)));
        assert_eq!(socket_timeout(&NextTimeout::default()), None);
    }

    #[test]
    fn an_idle_connection_is_open_and_a_closed_or_chatty_one_is_not() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let client = TcpStream::connect(listener.local_addr().expect("addr")).expect("connect");
        let (mut server, _) = listener.accept().expect("accept");
        assert!(idle_and_open(&client));
        server.write_all(b"x").expect("write");
        server.flush().expect("flush");
        wait_for(|| !idle_and_open(&client));
        // The peeked byte is still there to read.
        let mut byte = [0u8; 1];
        (&client).read_exact(&mut byte).expect("read");
        assert!(idle_and_open(&client));
        drop(server);
        wait_for(|| !idle_and_open(&client));
    }

    fn transport(stream: TcpStream) -> TcpTransport {
        TcpTransport {
            stream: Arc::new(stream),
            buffers: LazyBuffers::new(1024, 64),
            unsent: Vec::new(),
            read_timeout: None,
            write_timeout: None,
        }
    }

    #[test]
    fn a_request_is_written_in_one_go_when_its_answer_is_awaited() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut client =
            transport(TcpStream::connect(listener.local_addr().expect("addr")).expect("connect"));
        let (mut server, _) = listener.accept().expect("accept");
        server.set_nonblocking(true).expect("nonblocking");
        // ureq hands over the head and the body separately, each through the output buffer.
        for part in [
            &b"POST / HTTP/1.1\r\ncontent-length: 4\r\n\r\n"[..],
            b"body",
        ] {
            client.buffers().output()[..part.len()].copy_from_slice(part);
            client
                .transmit_output(part.len(), NextTimeout::default())
                .expect("transmit");
        }
        let mut got = [0u8; 128];
        let nothing = server.read(&mut got).expect_err("nothing sent yet");
        assert_eq!(nothing.kind(), io::ErrorKind::WouldBlock);
        server.set_nonblocking(false).expect("blocking");
        let answering = std::thread::spawn(move || {
            let mut request = Vec::new();
            while !request.ends_with(b"body") {
                let n = server.read(&mut got).expect("read");
                assert!(n > 0, "closed early");
                request.extend_from_slice(&got[..n]);
            }
            server.write_all(b"HTTP/1.1 200 OK\r\n").expect("answer");
            request
        });
        assert!(
            client
                .await_input(after(Duration::from_secs(30)))
                .expect("answer")
        );
        assert_eq!(client.buffers().input(), b"HTTP/1.1 200 OK\r\n");
        let request = answering.join().expect("server thread");
        assert_eq!(request, b"POST / HTTP/1.1\r\ncontent-length: 4\r\n\r\nbody");
        assert_eq!(client.read_timeout, Some(Duration::from_secs(30)));
    }

    #[test]
    fn a_silent_server_times_the_read_out() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut client =
            transport(TcpStream::connect(listener.local_addr().expect("addr")).expect("connect"));
        let _server = listener.accept().expect("accept");
        let started = Instant::now();
        let error = client
            .await_input(after(Duration::from_millis(100)))
            .expect_err("a timeout");
        assert!(matches!(error, Error::Timeout(_)), "{error:?}");
        assert!(started.elapsed() >= Duration::from_millis(90));
    }

    fn wait_for(done: impl Fn() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < deadline, "never happened");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

//! A forwarding proxy on loopback that speaks SOCKS5 (without authentication) and HTTP
//! CONNECT, and records where each tunnel it opened led.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Dropping it closes every tunnel and joins every thread it started.
pub struct TestProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accepting: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    tunnels: Mutex<Vec<String>>,
    /// Both ends of every connection, to shut down when the proxy stops.
    sockets: Mutex<Vec<TcpStream>>,
    stopping: AtomicBool,
}

impl Shared {
    /// Keeps a handle on `socket` to shut it down at the stop (at once, if that has begun).
    fn track(&self, socket: &TcpStream) -> io::Result<()> {
        let mut sockets = self.sockets.lock().unwrap();
        if self.stopping.load(Ordering::SeqCst) {
            let _ = socket.shutdown(Shutdown::Both);
        }
        sockets.push(socket.try_clone()?);
        Ok(())
    }
}

impl TestProxy {
    pub fn start() -> TestProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port for the proxy");
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let serving = Arc::clone(&shared);
        let accepting = std::thread::spawn(move || {
            let mut connections = Vec::new();
            for client in listener.incoming().map_while(Result::ok) {
                if serving.stopping.load(Ordering::SeqCst) {
                    break;
                }
                let shared = Arc::clone(&serving);
                connections.push(std::thread::spawn(move || {
                    let _ = tunnel(client, &shared);
                }));
            }
            for connection in connections {
                let _ = connection.join();
            }
        });
        TestProxy {
            addr,
            shared,
            accepting: Some(accepting),
        }
    }

    /// The proxy's URL with `scheme` ("socks5", "http").
    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}", self.addr)
    }

    /// "host:port" of each tunnel opened so far.
    pub fn tunnels(&self) -> Vec<String> {
        self.shared.tunnels.lock().unwrap().clone()
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        {
            let sockets = self.shared.sockets.lock().unwrap();
            self.shared.stopping.store(true, Ordering::SeqCst);
            for socket in sockets.iter() {
                let _ = socket.shutdown(Shutdown::Both);
            }
        }
        // Wakes the accepting thread, which then sees the stop.
        let _ = TcpStream::connect(self.addr);
        if let Some(accepting) = self.accepting.take() {
            let _ = accepting.join();
        }
    }
}

fn tunnel(mut client: TcpStream, shared: &Shared) -> io::Result<()> {
    shared.track(&client)?;
    let mut first = [0u8; 1];
    client.read_exact(&mut first)?;
    let socks = first[0] == 5;
    let target = if socks {
        socks5_target(&mut client)?
    } else {
        connect_target(&mut client, first[0])?
    };
    shared.tunnels.lock().unwrap().push(target.clone());
    let upstream = TcpStream::connect(&target)?;
    shared.track(&upstream)?;
    if socks {
        // Succeeded; bound to 0.0.0.0:0.
        client.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0])?;
    } else {
        client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    }
    let (mut client_in, mut upstream_out) = (client.try_clone()?, upstream.try_clone()?);
    let forward = std::thread::spawn(move || {
        let _ = io::copy(&mut client_in, &mut upstream_out);
        let _ = upstream_out.shutdown(std::net::Shutdown::Write);
    });
    let (mut upstream_in, mut client_out) = (upstream, client);
    let _ = io::copy(&mut upstream_in, &mut client_out);
    let _ = client_out.shutdown(std::net::Shutdown::Write);
    let _ = forward.join();
    Ok(())
}

/// RFC 1928: the greeting (version already read), then a CONNECT request.
fn socks5_target(client: &mut TcpStream) -> io::Result<String> {
    let mut count = [0u8; 1];
    client.read_exact(&mut count)?;
    let mut methods = vec![0u8; usize::from(count[0])];
    client.read_exact(&mut methods)?;
    // No authentication.
    client.write_all(&[5, 0])?;
    let mut head = [0u8; 4];
    client.read_exact(&mut head)?;
    assert_eq!(&head[..3], &[5, 1, 0], "a SOCKS5 CONNECT");
    let host = match head[3] {
        1 => {
            let mut ip = [0u8; 4];
            client.read_exact(&mut ip)?;
            Ipv4Addr::from(ip).to_string()
        }
        4 => {
            let mut ip = [0u8; 16];
            client.read_exact(&mut ip)?;
            format!("[{}]", Ipv6Addr::from(ip))
        }
        _ => {
            let mut len = [0u8; 1];
            client.read_exact(&mut len)?;
            let mut name = vec![0u8; usize::from(len[0])];
            client.read_exact(&mut name)?;
            String::from_utf8_lossy(&name).into_owned()
        }
    };
    let mut port = [0u8; 2];
    client.read_exact(&mut port)?;
    Ok(format!("{host}:{}", u16::from_be_bytes(port)))
}

/// "CONNECT host:port HTTP/1.1" and headers up to the blank line (first byte already read).
fn connect_target(client: &mut TcpStream, first: u8) -> io::Result<String> {
    let mut head = vec![first];
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        client.read_exact(&mut byte)?;
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let mut words = head.split_whitespace();
    assert_eq!(words.next(), Some("CONNECT"), "{head}");
    Ok(words.next().unwrap_or_default().to_string())
}

//! A forward proxy on loopback that one test owns: it tunnels `CONNECT` and relays absolute-form
//! requests (what the AWS SDK sends for `http://` endpoints), and records the destination of every
//! connection it serves, so a test can tell which requests went through it.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};

pub struct CountingProxy {
    /// `http://127.0.0.1:<port>`, for `HTTPS_PROXY` / `HTTP_PROXY`.
    pub url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl CountingProxy {
    pub fn start() -> CountingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let record = record.clone();
                std::thread::spawn(move || serve(client, &record));
            }
        });
        CountingProxy { url, seen }
    }

    /// `METHOD host:port` of each connection served, in order.
    pub fn seen(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// One client connection: its first request says where to; the rest is relayed byte for byte.
fn serve(mut client: TcpStream, record: &Mutex<Vec<String>>) {
    let mut head = Vec::new();
    let mut byte = [0_u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut parts = head.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return;
    };
    let (authority, forwarded) = if method == "CONNECT" {
        (target.to_owned(), None)
    } else {
        // `GET http://host:port/path HTTP/1.1` → `GET /path HTTP/1.1` to host:port.
        let rest = target.trim_start_matches("http://");
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = if path.is_empty() { "/" } else { path };
        (authority.to_owned(), Some(head.replacen(target, path, 1)))
    };
    let authority = if authority.contains(':') {
        authority
    } else {
        format!("{authority}:80")
    };
    record
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(format!("{method} {authority}"));
    let Ok(mut upstream) = TcpStream::connect(&authority) else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    let sent = match &forwarded {
        None => client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n"),
        Some(head) => upstream.write_all(head.as_bytes()),
    };
    if sent.is_err() {
        return;
    }
    let (Ok(mut client_reader), Ok(mut upstream_writer)) =
        (client.try_clone(), upstream.try_clone())
    else {
        return;
    };
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_reader, &mut upstream_writer);
        let _ = upstream_writer.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut upstream, &mut client);
    let _ = client.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
}

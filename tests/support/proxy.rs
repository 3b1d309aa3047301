//! A forward proxy on loopback that one test owns: it tunnels `CONNECT` and relays absolute-form
//! requests (what the AWS SDK sends for `http://` endpoints), and records the destination of every
//! connection it serves, so a test can tell which requests went through it. Its `https://` twin,
//! `TlsProxy`, speaks only TLS and records what it read inside TLS and what came in plain text.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex, PoisonError};

use super::{TempDir, run, stack};

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

/// A proxy that speaks only TLS, as an `https://` proxy does: a TLS front with a certificate for
/// 127.0.0.1 from the test bed's CA (which the action trusts through `SSL_CERT_FILE`), before a
/// `CountingProxy` that does the proxying. A connection that does not open with a TLS handshake is
/// recorded and dropped.
pub struct TlsProxy {
    /// `https://127.0.0.1:<port>`, for `HTTPS_PROXY`.
    pub url: String,
    inner: CountingProxy,
    heads: Arc<Mutex<Vec<Head>>>,
    plain: Arc<Mutex<Vec<String>>>,
    _files: TempDir,
}

/// A request head read inside TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// `CONNECT host:port HTTP/1.1`, or an absolute-form request line.
    pub line: String,
    pub proxy_authorization: Option<String>,
}

impl TlsProxy {
    pub fn start() -> TlsProxy {
        let inner = CountingProxy::start();
        let files = TempDir::new();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(loopback_tls(&files.0)));
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        listener.set_nonblocking(true).expect("non-blocking");
        let url = format!("https://{}", listener.local_addr().expect("address"));
        let (heads, plain) = (Arc::default(), Arc::default());
        let front = Front {
            acceptor,
            upstream: inner.url.trim_start_matches("http://").to_owned(),
            heads: Arc::clone(&heads),
            plain: Arc::clone(&plain),
        };
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                while let Ok((client, _)) = listener.accept().await {
                    tokio::spawn(front.clone().serve(client));
                }
            });
        });
        TlsProxy {
            url,
            inner,
            heads,
            plain,
            _files: files,
        }
    }

    /// The request heads read inside TLS, in order.
    pub fn inside_tls(&self) -> Vec<Head> {
        self.heads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The first bytes of each connection that came in plain text instead of TLS.
    pub fn plain_text(&self) -> Vec<String> {
        self.plain
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// `METHOD host:port` of each connection the proxy behind the TLS front served.
    pub fn seen(&self) -> Vec<String> {
        self.inner.seen()
    }
}

/// A server certificate for 127.0.0.1, issued now by the test bed's CA (a serial of its own: the CA's
/// serial file is shared by everyone using the test bed).
fn loopback_tls(dir: &Path) -> rustls::ServerConfig {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let ca = &stack().dir;
    let (key, request, cert, extensions) = (
        dir.join("proxy.key"),
        dir.join("proxy.csr"),
        dir.join("proxy.crt"),
        dir.join("proxy.ext"),
    );
    std::fs::write(
        &extensions,
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .expect("extensions");
    run(Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&request));
    let serial = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_nanos();
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "1", "-set_serial"])
        .arg(serial.to_string())
        .arg("-in")
        .arg(&request)
        .arg("-CA")
        .arg(ca.join("ca.crt"))
        .arg("-CAkey")
        .arg(ca.join("ca.key"))
        .arg("-extfile")
        .arg(&extensions)
        .arg("-out")
        .arg(&cert));
    let chain = CertificateDer::pem_file_iter(&cert)
        .expect("certificate")
        .collect::<Result<Vec<_>, _>>()
        .expect("certificate");
    let key = PrivateKeyDer::from_pem_file(&key).expect("key");
    rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server config")
}

/// The TLS front of one `TlsProxy`.
#[derive(Clone)]
struct Front {
    acceptor: tokio_rustls::TlsAcceptor,
    /// The `CountingProxy` behind it.
    upstream: String,
    heads: Arc<Mutex<Vec<Head>>>,
    plain: Arc<Mutex<Vec<String>>>,
}

impl Front {
    /// One client connection: TLS, the request head read inside it, then the connection handed to the
    /// proxy behind (head included) and relayed both ways.
    async fn serve(self, client: tokio::net::TcpStream) {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut first = [0_u8; 256];
        let Ok(n) = client.peek(&mut first).await else {
            return;
        };
        // A TLS connection opens with a handshake record (content type 22).
        if first[..n].first() != Some(&0x16) {
            let text = String::from_utf8_lossy(&first[..n]).into_owned();
            self.plain
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(text);
            return;
        }
        let Ok(mut tls) = self.acceptor.accept(client).await else {
            return;
        };
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            match tls.read_u8().await {
                Ok(byte) => head.push(byte),
                Err(_) => return,
            }
        }
        let text = String::from_utf8_lossy(&head).into_owned();
        let proxy_authorization = text.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("proxy-authorization")
                .then(|| value.trim().to_owned())
        });
        self.heads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Head {
                line: text.lines().next().unwrap_or_default().to_owned(),
                proxy_authorization,
            });
        let Ok(mut upstream) = tokio::net::TcpStream::connect(&self.upstream).await else {
            return;
        };
        if upstream.write_all(&head).await.is_ok() {
            let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
        }
    }
}

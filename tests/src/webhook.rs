//! A webhook receiver on a free loopback port: it answers each HTTP/1.1
//! POST (200, or 500 while told to fail) and keeps what it was sent.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};

/// One request received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

/// A running receiver.
pub struct WebhookReceiver {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    failing: Arc<Mutex<u32>>,
    accept: tokio::task::JoinHandle<()>,
}

impl WebhookReceiver {
    /// Starts listening on a free loopback port.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let received = Arc::new(Mutex::new(Vec::new()));
        let failing = Arc::new(Mutex::new(0));
        let accept = tokio::spawn({
            let received = received.clone();
            let failing = failing.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    let received = received.clone();
                    let failing = failing.clone();
                    tokio::spawn(async move {
                        let _ = serve(stream, received, failing).await;
                    });
                }
            }
        });
        Self {
            addr,
            received,
            failing,
            accept,
        }
    }

    /// The URL of `path` here.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Answers the next `count` requests with 500 (and keeps them).
    pub fn fail_next(&self, count: u32) {
        *self.failing.lock().expect("lock") = count;
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    /// Waits up to 30 s for `count` requests.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..300 {
            let got = self.received();
            if got.len() >= count {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("expected {count} webhook posts, got {:?}", self.received());
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn serve(
    stream: tokio::net::TcpStream,
    received: Arc<Mutex<Vec<Received>>>,
    failing: Arc<Mutex<u32>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).await? == 0 {
            return Ok(());
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        let mut headers = BTreeMap::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
            }
        }
        let length = headers
            .get("content-length")
            .and_then(|l| l.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        received.lock().expect("lock").push(Received {
            path,
            headers,
            body,
        });
        let fail = {
            let mut left = failing.lock().expect("lock");
            let fail = *left > 0;
            *left = left.saturating_sub(1);
            fail
        };
        let status = if fail {
            "500 Internal Server Error"
        } else {
            "200 OK"
        };
        reader
            .get_mut()
            .write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").as_bytes())
            .await?;
    }
}

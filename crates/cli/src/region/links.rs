//! The network between the region's nodes: every pinned URL is a TCP
//! relay in front of the node it names, which counts the bytes it carries
//! and can be cut (open connections dropped, new ones refused) and healed.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

/// One direction of a link between two nodes.
pub struct Link {
    /// Where the connecting node connects.
    pub addr: std::net::SocketAddr,
    state: Arc<State>,
    accept: AbortHandle,
}

#[derive(Default)]
struct State {
    open: AtomicBool,
    /// Bytes from the connecting node to the node behind the link.
    sent: AtomicU64,
    /// Bytes back.
    received: AtomicU64,
    connections: Mutex<Vec<AbortHandle>>,
}

impl Link {
    /// A link to the node listening at `target`.
    pub async fn open(target: String) -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::default());
        state.open.store(true, Ordering::SeqCst);
        let shared = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                if !shared.open.load(Ordering::SeqCst) {
                    continue;
                }
                let state = shared.clone();
                let target = target.clone();
                let task = tokio::spawn(async move {
                    let Ok(outbound) = TcpStream::connect(&target).await else {
                        return;
                    };
                    let _ = inbound.set_nodelay(true);
                    let _ = outbound.set_nodelay(true);
                    let (mut ri, mut wi) = inbound.into_split();
                    let (mut ro, mut wo) = outbound.into_split();
                    let up = pipe(&mut ri, &mut wo, &state.sent);
                    let down = pipe(&mut ro, &mut wi, &state.received);
                    tokio::select! {
                        () = up => {}
                        () = down => {}
                    }
                });
                let mut connections = shared.connections.lock().expect("not poisoned");
                connections.retain(|c| !c.is_finished());
                connections.push(task.abort_handle());
            }
        });
        Ok(Self {
            addr,
            state,
            accept: accept.abort_handle(),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.state.open.store(false, Ordering::SeqCst);
        for connection in self
            .state
            .connections
            .lock()
            .expect("not poisoned")
            .drain(..)
        {
            connection.abort();
        }
    }

    pub fn heal(&self) {
        self.state.open.store(true, Ordering::SeqCst);
    }

    /// (bytes sent through it, bytes back) so far.
    pub fn bytes(&self) -> (u64, u64) {
        (
            self.state.sent.load(Ordering::Relaxed),
            self.state.received.load(Ordering::Relaxed),
        )
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn pipe(
    from: &mut tokio::net::tcp::OwnedReadHalf,
    to: &mut tokio::net::tcp::OwnedWriteHalf,
    count: &AtomicU64,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        match from.read(&mut buffer).await {
            Ok(0) | Err(_) => {
                let _ = to.shutdown().await;
                return;
            }
            Ok(n) => {
                if to.write_all(&buffer[..n]).await.is_err() {
                    return;
                }
                count.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
    }
}

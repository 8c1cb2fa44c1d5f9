//! The listener: accepting connections within limits, serving HTTP/1.1 on each, and shutting
//! down within a deadline. What a hostile client can do to a server it cannot authenticate to is
//! hold resources, so every resource a connection holds is bounded:
//!
//! - **Connections**: at most `max_connections` at once; past it the server stops accepting (new
//!   clients wait in the kernel's backlog) until one closes.
//! - **Headers**: a request's head must arrive within `header_timeout` of the server starting to
//!   wait for it — which also bounds how long a connection may sit idle, first or between
//!   keep-alive requests (hyper's header read timeout).
//! - **Body**: the body must arrive within `body_timeout` (the pipeline's read of it), so a body
//!   shorter than its `Content-Length`, or one dribbled byte by byte, ends the request.
//! - **Shutdown**: on the signal, accepting stops, idle connections close, requests in flight
//!   are answered for up to `shutdown_grace`, then what is left is dropped and `serve` returns
//!   (the caller then flushes the audit trail).
//! - **TLS** (when configured): the handshake must finish within `header_timeout` too; requests
//!   on such a connection carry [`Secure`] (`aws:SecureTransport` is true for them).

use std::convert::Infallible;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tower::ServiceExt as _;

/// What a connection may hold, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 4096,
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// What the listener serves: a router, or a gate that serves another router (a sealed
/// server's) until it is opened. The choice is made per request — one atomic load — so a
/// keep-alive connection opened while sealed is served normally once the gate opens.
#[derive(Clone)]
pub struct Routes {
    ready: Arc<OnceLock<Router>>,
    waiting: Router,
}

impl From<Router> for Routes {
    fn from(router: Router) -> Routes {
        Routes {
            ready: Arc::new(OnceLock::from(router.clone())),
            waiting: router,
        }
    }
}

impl Routes {
    /// A gate that serves `waiting` until [`Routes::open`].
    pub fn gated(waiting: Router) -> Routes {
        Routes {
            ready: Arc::new(OnceLock::new()),
            waiting,
        }
    }

    /// From now on every request goes to `router` (a second call changes nothing).
    pub fn open(&self, router: Router) {
        let _ = self.ready.set(router);
    }

    fn current(&self) -> Router {
        self.ready.get().unwrap_or(&self.waiting).clone()
    }
}

/// Marks a request that arrived over TLS.
#[derive(Debug, Clone, Copy)]
pub struct Secure;

/// Serves `router` on `listener` (over TLS when `tls` is given) until `shutdown` resolves, then
/// drains within the grace period.
pub async fn serve(
    listener: TcpListener,
    router: impl Into<Routes>,
    limits: Limits,
    tls: Option<crate::tls::Tls>,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let router: Routes = router.into();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        // Reap finished connections so the set does not grow with the server's lifetime.
        while connections.try_join_next().is_some() {}
        let permit = tokio::select! {
            () = &mut shutdown => break,
            p = Arc::clone(&slots).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (tcp, addr) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: wait a moment
                    // rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let router = router.clone();
        let stop = stop_rx.clone();
        let tls = tls.clone();
        connections.spawn(async move {
            let _slot = permit;
            match tls {
                None => serve_connection(TokioIo::new(tcp), addr, router, limits, stop, false).await,
                Some(tls) => {
                    let handshake = tokio::time::timeout(limits.header_timeout, tls.acceptor().accept(tcp)).await;
                    match handshake {
                        Ok(Ok(stream)) => {
                            serve_connection(TokioIo::new(stream), addr, router, limits, stop, true).await
                        }
                        Ok(Err(e)) => tracing::debug!(error = %e, %addr, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            remaining = connections.len(),
            "shutdown grace period over: dropping the connections left"
        );
        connections.abort_all();
    }
    Ok(())
}

/// HTTP/1.1 on one connection until it ends or the server stops.
async fn serve_connection<IO>(
    io: TokioIo<IO>,
    addr: std::net::SocketAddr,
    router: Routes,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    secure: bool,
) where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(addr));
        if secure {
            req.extensions_mut().insert(Secure);
        }
        let router = router.current();
        async move {
            Ok::<_, Infallible>(
                router
                    .oneshot(req.map(axum::body::Body::new))
                    .await
                    .unwrap_or_else(|e| match e {}),
            )
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::debug!(error = %e, %addr, "connection ended");
            }
        }
        () = async { drop(stop.wait_for(|s| *s).await) } => {
            conn.as_mut().graceful_shutdown();
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %addr, "connection ended at shutdown");
            }
        }
    }
}

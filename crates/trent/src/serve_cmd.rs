//! `trent serve`: binds the listener, opens the data directory and its seal (serving "sealed"
//! until a Shamir seal is unsealed), opens the service, the admin socket, the metrics listener
//! and the background jobs, serves until SIGTERM/SIGINT, then drains and flushes the audit
//! trail. A root-key rotation left unfinished by a crash is resumed here.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::{admin_socket, datadir, hardening, rotate_cmd, seals};

#[derive(clap::Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) at: datadir::Location,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "TRENT_LISTEN", default_value = "127.0.0.1:4599")]
    pub(crate) listen: SocketAddr,
    /// The AWS Regions this deployment serves, comma-separated; the first is the default
    /// (written into admin.env). Each request is served in the Region of its SigV4 credential
    /// scope. A data directory's Regions may be added to, never left out.
    #[arg(
        long = "regions",
        visible_alias = "region",
        env = "TRENT_REGION",
        value_delimiter = ',',
        default_value = "us-east-1"
    )]
    pub(crate) regions: Vec<String>,
    /// Account id of the first account (default: a random 12-digit id, chosen once).
    #[arg(long, env = "TRENT_ACCOUNT_ID")]
    pub(crate) account_id: Option<String>,
    /// Dev mode, to replace a KMS mock in tests: every access key is the root of the dev account
    /// (`--account-id`, default 000000000000) and signatures are parsed but not checked; the
    /// data directory is a new temporary one unless `--data-dir` is given. Loopback only unless
    /// `--dev-allow-remote`.
    #[arg(long, env = "TRENT_DEV")]
    pub(crate) dev: bool,
    /// Let a dev-mode server listen on a non-loopback address (it accepts any access key).
    #[arg(long, requires = "dev")]
    pub(crate) dev_allow_remote: bool,
    /// Dev mode: create the keys a YAML file lists (ids, specs, aliases, tags, policies, the
    /// material of symmetric keys) before serving; keys that exist are left alone.
    #[arg(long, env = "TRENT_SEED", requires = "dev")]
    pub(crate) seed: Option<std::path::PathBuf>,
    /// Lock all of the server's memory out of swap (mlockall; needs CAP_IPC_LOCK or a large
    /// RLIMIT_MEMLOCK). Core files and debugger attachment are always disabled.
    #[arg(long, env = "TRENT_MLOCK")]
    pub(crate) mlock: bool,
    /// Request quotas: `off`, or `aws` for AWS KMS's documented defaults (requests per second per
    /// account: 10,000 symmetric cryptographic operations, 1,000 RSA, 1,000 ECC, CreateKey 5, …).
    #[arg(long, env = "TRENT_QUOTAS", default_value = "off", value_parser = ["off", "aws"])]
    pub(crate) quotas: String,
    /// One quota, `NAME=REQUESTS_PER_SECOND` (repeatable, or comma-separated): a shared
    /// cryptographic quota (cryptographic-symmetric, cryptographic-rsa, cryptographic-ecc,
    /// cryptographic-mldsa) or an operation (CreateKey=1). Over it: ThrottlingException.
    #[arg(long, env = "TRENT_QUOTA", value_delimiter = ',')]
    pub(crate) quota: Vec<String>,
    /// Where `GET /metrics` (Prometheus) is served, apart from the API; `off` for nowhere. A
    /// port already taken is logged and the server runs without it.
    #[arg(long, env = "TRENT_METRICS_LISTEN", default_value = "127.0.0.1:9599")]
    pub(crate) metrics_listen: String,
    /// Serve TLS with this certificate chain (PEM; with --tls-key). SIGHUP re-reads both files.
    #[arg(long, env = "TRENT_TLS_CERT", requires = "tls_key")]
    pub(crate) tls_cert: Option<std::path::PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "TRENT_TLS_KEY", requires = "tls_cert")]
    pub(crate) tls_key: Option<std::path::PathBuf>,
    /// This server's name in a cluster: its audit chain (1-64 of `A-Z a-z 0-9 . _ : -`).
    /// Default: `main` on SQLite; on a shared database the host name and a random suffix, new
    /// at each start, so no two servers ever share a chain.
    #[arg(long, env = "TRENT_NODE_ID", value_parser = parse_node_id)]
    pub(crate) node_id: Option<String>,
    /// How often the scheduler looks for due work (key deletions), in seconds.
    #[arg(long, env = "TRENT_SCHEDULER_INTERVAL_SECS", default_value_t = 60)]
    pub(crate) scheduler_interval_secs: u64,
    /// Days audit events are kept before the scheduler deletes them (0 keeps them forever).
    #[arg(long, env = "TRENT_AUDIT_RETENTION_DAYS", default_value_t = 90)]
    pub(crate) audit_retention_days: u32,
    /// Most connections served at once; more wait in the listen backlog.
    #[arg(long, env = "TRENT_MAX_CONNECTIONS", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) max_connections: u32,
    /// Seconds a request's headers may take to arrive; also how long a connection may stay idle.
    #[arg(long, env = "TRENT_HEADER_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) header_timeout_secs: u64,
    /// Seconds a request's body may take to arrive.
    #[arg(long, env = "TRENT_BODY_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) body_timeout_secs: u64,
    /// Seconds requests in flight get to finish after SIGTERM/SIGINT before they are dropped.
    #[arg(long, env = "TRENT_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub(crate) shutdown_grace_secs: u64,
    /// Threads serving requests (default: one per CPU). On a machine shared with a busy
    /// neighbour (a load generator, say) fewer threads can serve more: see BENCHMARKS.md.
    #[arg(long, env = "TRENT_WORKER_THREADS", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) worker_threads: Option<u16>,
    /// The admin socket of a sealed server (`trent operator unseal` talks to it); default
    /// `trent.sock` in the data directory.
    #[arg(long, env = "TRENT_ADMIN_SOCKET")]
    pub(crate) admin_socket: Option<std::path::PathBuf>,
    /// The web console at `/console/` (a client of the AWS API: every action is a SigV4-signed
    /// request). On by default; a listener on a non-loopback address serves it only with TLS.
    #[arg(long, env = "TRENT_CONSOLE", value_enum, default_value = "on")]
    pub(crate) console: OnOff,
    /// Serve the XKS proxy API on this address, so that AWS KMS external key stores (or another
    /// Trent's) keep keys in this Trent. TLS only: --xks-tls-cert/--xks-tls-key, else
    /// --tls-cert/--tls-key.
    #[arg(long, env = "TRENT_XKS_LISTEN")]
    pub(crate) xks_listen: Option<SocketAddr>,
    /// The XKS listener's certificate chain (PEM), when it is not --tls-cert's.
    #[arg(long, env = "TRENT_XKS_TLS_CERT", requires = "xks_tls_key")]
    pub(crate) xks_tls_cert: Option<std::path::PathBuf>,
    /// The private key of --xks-tls-cert.
    #[arg(long, env = "TRENT_XKS_TLS_KEY", requires = "xks_tls_cert")]
    pub(crate) xks_tls_key: Option<std::path::PathBuf>,
    /// Mutual TLS on the XKS listener: client certificates must chain to these CA certificates
    /// (PEM).
    #[arg(long, env = "TRENT_XKS_CLIENT_CA")]
    pub(crate) xks_client_ca: Option<std::path::PathBuf>,
    /// With --xks-client-ca: the subject common name client certificates must have (AWS KMS
    /// presents `cks.kms.<Region>.amazonaws.com`).
    #[arg(long, env = "TRENT_XKS_CLIENT_SUBJECT", requires = "xks_client_ca")]
    pub(crate) xks_client_subject: Option<String>,
    /// CA certificates (PEM) trusted for the external key store proxies this Trent calls, besides
    /// the system's roots.
    #[arg(long, env = "TRENT_XKS_CA_FILE")]
    pub(crate) xks_ca_file: Option<std::path::PathBuf>,
    /// The client certificate chain (PEM) Trent presents to external key store proxies that
    /// require mutual TLS (with --xks-proxy-client-key).
    #[arg(long, env = "TRENT_XKS_PROXY_CLIENT_CERT", requires = "xks_proxy_client_key")]
    pub(crate) xks_proxy_client_cert: Option<std::path::PathBuf>,
    /// The private key of --xks-proxy-client-cert.
    #[arg(long, env = "TRENT_XKS_PROXY_CLIENT_KEY", requires = "xks_proxy_client_cert")]
    pub(crate) xks_proxy_client_key: Option<std::path::PathBuf>,
    /// Milliseconds one call to an external key store proxy may take, connection included (AWS
    /// KMS allows 250).
    #[arg(long, env = "TRENT_XKS_TIMEOUT_MS", default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=60000))]
    pub(crate) xks_timeout_ms: u64,
    /// Fault injection for tests (debug builds only): requests for this operation panic.
    #[cfg(debug_assertions)]
    #[arg(long, hide = true)]
    pub(crate) fault_panic_on: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum OnOff {
    On,
    Off,
}

/// Whether the console is served: asked for, and — off loopback — only over TLS, so that
/// its pages and the signed requests they send never cross a network in the clear.
fn console_served(asked: OnOff, listen: SocketAddr, tls: bool) -> bool {
    asked == OnOff::On && (listen.ip().is_loopback() || tls)
}

/// The account every dev-mode caller is the root of, unless `--account-id` says otherwise.
const DEV_ACCOUNT: &str = "000000000000";

pub(crate) async fn serve(mut args: ServeArgs, explicit_data_dir: bool) -> Result<(), String> {
    let started = std::time::Instant::now();
    // Before any secret is in memory.
    hardening::apply(args.mlock)?;
    let mut dev_dir = None;
    if args.dev {
        if !args.listen.ip().is_loopback() && !args.dev_allow_remote {
            return Err(format!(
                "--dev accepts any access key: it listens on loopback addresses only ({} is not one) unless --dev-allow-remote is given too",
                args.listen
            ));
        }
        if args.account_id.is_none() {
            args.account_id = Some(DEV_ACCOUNT.to_owned());
        }
        if !explicit_data_dir {
            let mut suffix = [0u8; 6];
            trent_crypto::random::fill(&mut suffix).map_err(|e| e.to_string())?;
            let dir = std::env::temp_dir().join(format!("trent-dev-{}", hex::encode(suffix)));
            args.at.data_dir = dir.clone();
            dev_dir = Some(dir);
        }
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(
            trent_server::Tls::new(trent_server::TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
            })
            .map_err(|e| format!("TLS: {e}"))?,
        ),
        _ => None,
    };
    let endpoint = datadir::Endpoint {
        addr,
        tls: tls.is_some(),
    };
    let limits = trent_server::Limits {
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
        header_timeout: Duration::from_secs(args.header_timeout_secs),
        body_timeout: Duration::from_secs(args.body_timeout_secs),
        shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
    };
    // SIGTERM/SIGINT from now on, sealed or not: every waiter watches this.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    });
    // Servers share the directory lock; commands that rewrite sealed state take it alone.
    let _lock = datadir::lock(&args.at.data_dir, datadir::Lock::Shared)?;
    // Store calls block (the service makes them on the blocking pool); opening loads the caches.
    let regions = datadir::regions(&args.regions)?;
    let store = tokio::task::block_in_place(|| datadir::prepare(&args.at, &regions))?;
    let existing = seals::existing(&args.at)?;
    let seal = existing.unwrap_or_else(|| seals::chosen(&args.at));
    if args.dev && seal != trent_seal::SealKind::File {
        return Err(format!(
            "--dev serves throwaway keys to any caller: it uses the file seal, not {seal}"
        ));
    }
    let mut listener = Some(listener);
    let mut early = None;
    let mut admin = None;
    let socket = args
        .admin_socket
        .clone()
        .unwrap_or_else(|| admin_socket::default_socket(&args.at.data_dir));
    let routes = trent_server::Routes::gated(trent_server::sealed_router());
    let metrics_routes = trent_server::Routes::gated(trent_server::sealed_metrics_router());
    let mut metrics = None;
    let root = match existing {
        Some(kind) if kind.starts_sealed() => {
            // Metrics from the start, so a sealed server shows `trent_sealed 1`.
            metrics = serve_metrics(&args.metrics_listen, metrics_routes.clone(), limits).await?;
            // Serve "sealed" (503) at once, and wait for the operator on the admin socket.
            let served = tokio::spawn(trent_server::serve(
                listener.take().ok_or("listener")?,
                routes.clone(),
                limits,
                tls.clone(),
                stopped(stop_rx.clone()),
            ));
            let live = seals::file_of(&args.at.data_dir, kind);
            let unsealer = trent_seal::shamir::ShamirSeal::new(live.clone())
                .unsealer()
                .map_err(|e| e.to_string())?
                .with_staged(rotate_cmd::staged_of(&live));
            let (handle, key_rx) = admin_socket::listen(&socket, Some(unsealer), stop_rx.clone())?;
            admin = Some(handle);
            let key_rx = key_rx.ok_or("the admin socket has no unseal channel")?;
            println!("trent: sealed ({kind} seal): listening on {endpoint}, answering 503 until unsealed");
            println!(
                "trent: unseal with `trent operator unseal --data-dir {}`",
                args.at.data_dir.display()
            );
            tracing::warn!(socket = %socket.display(), "sealed: waiting for unseal shares on the admin socket");
            let key = tokio::select! {
                k = key_rx => k.map_err(|_| "the admin socket closed before the server was unsealed".to_owned())?,
                () = stopped(stop_rx.clone()) => {
                    let _ = served.await;
                    tracing::info!("stopped while sealed");
                    return Ok(());
                }
            };
            early = Some(served);
            key
        }
        _ => tokio::task::block_in_place(|| datadir::keyring(&args.at, store.as_ref()))?,
    };
    let opened = tokio::task::block_in_place(|| {
        datadir::open_with_root(&args.at, store, root, &regions, args.account_id.as_deref(), endpoint)
    })?;
    let kms = Arc::new(opened.kms);
    // A database other servers share announces their changes; this one drops what they stale.
    let shared = kms
        .watch_store()
        .map_err(|e| format!("cannot watch the database: {e}"))?;
    if shared {
        tracing::info!("following the database change feed (cluster mode)");
    }
    kms.set_audit_retention_days(args.audit_retention_days);
    if args.dev {
        kms.enable_dev_mode(opened.account_id);
        if let Some(path) = &args.seed {
            let text = std::fs::read_to_string(path).map_err(|e| format!("--seed {}: {e}", path.display()))?;
            let seed: trent_core::Seed =
                serde_norway::from_str(&text).map_err(|e| format!("--seed {}: {e}", path.display()))?;
            let ids = kms
                .seed(opened.account_id, seed)
                .await
                .map_err(|e| format!("--seed {}: {e}", path.display()))?;
            println!("trent: seeded {} keys from {}", ids.len(), path.display());
        }
    }
    let mut quotas = if args.quotas == "aws" {
        trent_core::quota::Quotas::aws_defaults()
    } else {
        trent_core::quota::Quotas::none()
    };
    for q in &args.quota {
        quotas.set(q).map_err(|e| format!("--quota {e}"))?;
    }
    if !quotas.is_empty() {
        tracing::info!(preset = %args.quotas, overrides = args.quota.len(), "request quotas on");
    }
    kms.set_quotas(quotas);
    let node_id = match &args.node_id {
        Some(id) => id.clone(),
        None if shared => default_node_id(),
        None => trent_store::MAIN_CHAIN.to_owned(),
    };
    kms.set_audit_chain(&node_id);
    #[cfg(debug_assertions)]
    if let Some(op) = &args.fault_panic_on {
        kms.inject_panic(op)?;
    }
    if let Err(e) = kms.record_start().await {
        return Err(format!("cannot write the audit trail: {e}"));
    }
    // The admin socket (status, online root-key rotation); a sealed start made it already.
    if admin.is_none() {
        match admin_socket::listen(&socket, None, stop_rx.clone()) {
            Ok((handle, _)) => admin = Some(handle),
            Err(e) => tracing::warn!(error = %e, "no admin socket: status and online rotation are unavailable"),
        }
    }
    let finisher = rotation_finisher(&args.at, seal);
    if let Some(a) = &admin {
        a.set_open(Arc::clone(&kms), finisher.clone());
    }
    if kms.root_rotating() {
        tokio::spawn(admin_socket::complete_rotation(
            Arc::clone(&kms),
            finisher,
            admin_socket::DEFAULT_BATCH,
        ));
    }
    let scheduler = trent_core::spawn_scheduler(
        Arc::clone(&kms),
        Duration::from_secs(args.scheduler_interval_secs.max(1)),
    );
    let audit = trent_core::spawn_audit_flusher(Arc::clone(&kms), Duration::from_secs(1));
    let console = console_served(args.console, addr, tls.is_some());
    if args.console == OnOff::On && !console {
        tracing::warn!(listen = %addr, "the console is off: a non-loopback listener serves it over TLS only");
    }
    let identity = match (&args.xks_proxy_client_cert, &args.xks_proxy_client_key) {
        (Some(cert), Some(key)) => Some(trent_server::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    kms.set_xks_transport(Arc::new(
        trent_server::XksClient::new(
            args.xks_ca_file.as_deref(),
            identity.as_ref(),
            Duration::from_millis(args.xks_timeout_ms),
        )
        .map_err(|e| format!("XKS client: {e}"))?,
    ));
    let xks = match args.xks_listen {
        Some(at) => Some(serve_xks(&args, at, Arc::clone(&kms), limits, stop_rx.clone()).await?),
        None => None,
    };
    let app = trent_server::router(Arc::clone(&kms), &limits, console);
    metrics_routes.open(trent_server::metrics_router(Arc::clone(&kms)));
    if metrics.is_none() {
        metrics = serve_metrics(&args.metrics_listen, metrics_routes, limits).await?;
    }
    if args.dev {
        println!(
            "trent: DEV MODE — every access key is the root of account {} and signatures are not checked; never use it for real keys",
            opened.account_id
        );
        tracing::warn!(account = %opened.account_id, "dev mode: any access key is accepted as the account root");
    }
    println!("trent: account {} in {}", opened.account_id, regions.join(", "));
    println!("trent: credentials in {}", opened.admin_env.display());
    println!("trent: listening on {endpoint}");
    if console {
        println!("trent: console at {endpoint}/console/");
    }
    tracing::info!(startup_ms = started.elapsed().as_millis() as u64, "ready");
    let reloader = tls.clone().map(|t| tokio::spawn(reload_on_sighup(t)));
    tracing::info!(%addr, data_dir = %args.at.data_dir.display(), store = opened.backend, node = %node_id, "serving the AWS KMS API");
    routes.open(app);
    let served = match (early, listener) {
        (Some(task), _) => task.await.map_err(|e| e.to_string())?,
        (None, Some(listener)) => trent_server::serve(listener, routes, limits, tls, stopped(stop_rx.clone())).await,
        (None, None) => Ok(()),
    };
    if let Some(a) = admin {
        a.task.abort();
        let _ = std::fs::remove_file(&socket);
    }
    if let Some(r) = reloader {
        r.abort();
    }
    if let Some(m) = metrics {
        m.abort();
    }
    if let Some(x) = xks {
        x.abort();
    }
    scheduler.abort();
    audit.abort();
    if let Err(e) = kms.flush_usage().await {
        tracing::error!(error = %e, "last-usage flush at shutdown failed");
    }
    match kms.flush_audit().await {
        Ok(_) => {
            if let Err(e) = kms.record_stop().await {
                tracing::error!(error = %e, "recording the clean stop failed");
            }
        }
        Err(e) => tracing::error!(error = %e, "audit flush at shutdown failed"),
    }
    tracing::info!("stopped");
    if let Some(dir) = dev_dir {
        // The dev-mode data directory was ours; nothing in it outlives the server.
        let _ = std::fs::remove_dir_all(dir);
    }
    served.map_err(|e| e.to_string())
}

/// Serves the XKS proxy API on `at` over TLS until the server stops.
async fn serve_xks(
    args: &ServeArgs,
    at: SocketAddr,
    kms: Arc<trent_core::Kms>,
    limits: trent_server::Limits,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let (cert, key) = match (&args.xks_tls_cert, &args.xks_tls_key, &args.tls_cert, &args.tls_key) {
        (Some(c), Some(k), _, _) | (None, None, Some(c), Some(k)) => (c.clone(), k.clone()),
        _ => {
            return Err(
                "--xks-listen serves TLS only: give --xks-tls-cert and --xks-tls-key (or --tls-cert and --tls-key)"
                    .into(),
            )
        }
    };
    let client = args.xks_client_ca.as_ref().map(|ca| trent_server::ClientAuth {
        ca: ca.clone(),
        subject: args.xks_client_subject.clone(),
    });
    let tls = trent_server::Tls::with_client_auth(trent_server::TlsFiles { cert, key }, client.as_ref())
        .map_err(|e| format!("XKS TLS: {e}"))?;
    let listener = tokio::net::TcpListener::bind(at)
        .await
        .map_err(|e| format!("cannot listen on {at} for the XKS proxy API: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let router = trent_server::xks_router(kms, &limits);
    println!("trent: XKS proxy API on https://{bound}/kms/xks/v1");
    tracing::info!(%bound, mtls = client.is_some(), "serving the XKS proxy API");
    Ok(tokio::spawn(async move {
        if let Err(e) = trent_server::serve(listener, router, limits, Some(tls), stopped(stop)).await {
            tracing::error!(error = %e, "the XKS proxy listener failed");
        }
    }))
}

/// Serves `GET /metrics` on `listen` (unless it is `off`) until aborted. A port that cannot be
/// bound is logged, not fatal: metrics are not worth refusing to serve keys for.
async fn serve_metrics(
    listen: &str,
    app: trent_server::Routes,
    limits: trent_server::Limits,
) -> Result<Option<tokio::task::JoinHandle<()>>, String> {
    if listen == "off" {
        return Ok(None);
    }
    let addr: SocketAddr = listen
        .parse()
        .map_err(|e| format!("--metrics-listen {listen}: {e} (or `off`)"))?;
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(%addr, error = %e, "cannot serve metrics there; running without them");
            return Ok(None);
        }
    };
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    println!("trent: metrics on http://{bound}/metrics");
    Ok(Some(tokio::spawn(async move {
        let forever = std::future::pending::<()>();
        if let Err(e) = trent_server::serve(listener, app, limits, None, forever).await {
            tracing::error!(error = %e, "metrics listener failed");
        }
    })))
}

/// Re-reads the TLS certificate and key on every SIGHUP (connections in progress keep theirs).
async fn reload_on_sighup(tls: trent_server::Tls) {
    let Ok(mut hup) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else {
        tracing::error!("cannot listen for SIGHUP: the TLS certificate will not be reloaded");
        return;
    };
    while hup.recv().await.is_some() {
        match tls.reload() {
            Ok(()) => tracing::info!("TLS certificate reloaded"),
            Err(e) => tracing::error!(error = %e, "TLS certificate reload failed; the previous one stays in use"),
        }
    }
}

/// Where a root-key rotation of this data directory stages and swaps its seal files.
fn rotation_finisher(at: &datadir::Location, seal: trent_seal::SealKind) -> admin_socket::Finisher {
    let live = seals::file_of(&at.data_dir, seal);
    #[cfg(debug_assertions)]
    let pause_ms = std::env::var("TRENT_TEST_ROTATION_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    #[cfg(not(debug_assertions))]
    let pause_ms = 0;
    admin_socket::Finisher {
        staged: rotate_cmd::staged_of(&live),
        plain: seal == trent_seal::SealKind::File,
        live,
        pause_ms,
    }
}

/// `--node-id`: it names an audit chain, printed in `checkpoint <chain> <seq> <hash>` lines.
pub(crate) fn parse_node_id(s: &str) -> Result<String, String> {
    let ok = (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
    if ok {
        Ok(s.to_owned())
    } else {
        Err("1-64 characters of A-Z a-z 0-9 . _ : -".to_owned())
    }
}

/// The host name (what is allowed of it) and 8 random hex digits.
fn default_node_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_default();
    let mut host: String = host
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(48)
        .collect();
    if host.is_empty() {
        host.push_str("node");
    }
    let mut suffix = [0u8; 4];
    if trent_crypto::random::fill(&mut suffix).is_err() {
        suffix = std::process::id().to_be_bytes();
    }
    format!("{host}-{}", hex::encode(suffix))
}

/// Resolves once the stop signal was received.
async fn stopped(mut rx: tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

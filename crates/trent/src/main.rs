//! `trent`: the composition root. Parses the command line, opens the data directory (root key,
//! SQLite store, bootstrap account and credentials), and serves the AWS KMS API until SIGTERM or
//! SIGINT. Nothing else lives here: the service is `trent-core`, the pipeline `trent-server`.

#![forbid(unsafe_code)]

mod audit_cmd;
mod backup;
mod config;
mod datadir;
mod hardening;
mod migrate;
mod rotate_cmd;
mod seal_cmd;
mod seals;
mod unseal;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc malloc: requests allocate on runtime workers and are freed on other
/// threads (audit and usage batches), the pattern glibc's arenas handle worst; measured in
/// BENCHMARKS.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "trent",
    version,
    about = "A self-hosted key management service that speaks the AWS KMS API"
)]
struct Cli {
    /// A TOML file setting any flag by its long name (flags and environment variables win over
    /// it); `trent config check <file>` validates one.
    #[arg(long, global = true, env = "TRENT_CONFIG")]
    config: Option<std::path::PathBuf>,
    /// Log lines as text, or as one JSON object per line (`request_id` as the answer's
    /// `x-amzn-RequestId`).
    #[arg(long, global = true, env = "TRENT_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

// Parsed once per process: the size of `serve`'s flags costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Start the server (initialising the data directory on first start).
    Serve(ServeArgs),
    /// The version, the cryptographic module and whether FIPS mode is on.
    Version,
    /// Configuration file tools.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// A consistent online snapshot of the embedded database, still sealed, with a checksum.
    Backup {
        #[command(flatten)]
        at: datadir::Location,
        /// The backup file to write (must not exist).
        file: std::path::PathBuf,
    },
    /// Restore a backup into a new data directory (a damaged backup is refused whole).
    Restore {
        #[command(flatten)]
        at: datadir::Location,
        /// The backup file.
        file: std::path::PathBuf,
    },
    /// The root of trust: moving the root key between seals.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Administrative commands that work on the data directory.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Key-policy tools.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// The audit trail: every authenticated request, chained so tampering shows.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Copy an embedded (SQLite) data directory into PostgreSQL, then check the copy. Stop the
    /// server first; re-running is safe.
    Migrate {
        /// The data directory to copy (its root.key stays the root key).
        #[arg(long)]
        from: std::path::PathBuf,
        /// The PostgreSQL database to copy into (`postgres://…`).
        #[arg(long, env = "TRENT_DATABASE_URL", hide_env_values = true)]
        to: String,
        /// How the source directory's seal is opened.
        #[command(flatten)]
        seals: seals::SealArgs,
    },
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Initialise a new data directory (or database) with a seal, and print what unseals it:
    /// the only way to make a Shamir seal, whose shares are printed once and kept nowhere.
    Init {
        #[command(flatten)]
        at: datadir::Location,
        #[command(flatten)]
        shamir: ShamirArgs,
        /// The Region written into admin.env (the server's --region).
        #[arg(long, env = "TRENT_REGION", default_value = "us-east-1")]
        region: String,
        /// Account id of the first account (default: a random 12-digit id).
        #[arg(long, env = "TRENT_ACCOUNT_ID")]
        account_id: Option<String>,
        /// The endpoint written into admin.env (the server's --listen).
        #[arg(long, env = "TRENT_LISTEN", default_value = "127.0.0.1:4599")]
        listen: SocketAddr,
    },
    /// Give a sealed server one Shamir share (read without echo from the terminal, or from
    /// stdin), through its admin socket.
    Unseal {
        #[command(flatten)]
        socket: SocketArgs,
        /// Forget the shares given so far instead.
        #[arg(long)]
        reset: bool,
    },
    /// Whether the server is sealed and how many shares it has; exit status 2 while sealed.
    Status {
        #[command(flatten)]
        socket: SocketArgs,
    },
    /// Make a new root key and re-seal every sealed record under it (server stopped): in
    /// batches, resumable after a crash by running it again; the old key is destroyed at the end.
    RotateRootKey {
        #[command(flatten)]
        at: datadir::Location,
        #[command(flatten)]
        rotate: RotateArgs,
    },
    /// Move the root key to another seal (server stopped); what it seals is untouched. The same
    /// seal again re-keys it (new shares, a new passphrase).
    MigrateSeal {
        #[command(flatten)]
        at: datadir::Location,
        /// The seal to move to.
        #[arg(long, value_parser = trent_seal::SealKind::NAMES)]
        to: String,
        #[command(flatten)]
        shamir: ShamirArgs,
        /// For `--to passphrase`: the new passphrase, the first line of this file (else
        /// TRENT_NEW_PASSPHRASE, else a prompt).
        #[arg(long, env = "TRENT_NEW_PASSPHRASE_FILE")]
        new_passphrase_file: Option<std::path::PathBuf>,
    },
}

/// `trent operator rotate-root-key`'s flags.
#[derive(clap::Args)]
struct RotateArgs {
    /// Records re-sealed per transaction.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    batch_size: u32,
    /// Pause after each batch (debug builds: lets a test kill the rotation mid-way).
    #[cfg(debug_assertions)]
    #[arg(long, hide = true, default_value_t = 0)]
    batch_pause_ms: u64,
}

/// The Shamir seal's split.
#[derive(clap::Args)]
struct ShamirArgs {
    /// How many shares to make (Shamir seal).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u8).range(1..=255))]
    key_shares: u8,
    /// How many shares unseal (Shamir seal).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=255))]
    key_threshold: u8,
}

impl ShamirArgs {
    fn policy(&self, seal: &str) -> Result<Option<trent_seal::shamir::Policy>, String> {
        if seal != "shamir" {
            return Ok(None);
        }
        trent_seal::shamir::Policy::new(self.key_shares, self.key_threshold)
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

/// Where a running server's admin socket is.
#[derive(clap::Args)]
struct SocketArgs {
    /// The server's data directory (its admin socket is `trent.sock` in it).
    #[arg(long, env = "TRENT_DATA_DIR", default_value = "./trent-data")]
    data_dir: std::path::PathBuf,
    /// The admin socket, when the server was given `--admin-socket`.
    #[arg(long, env = "TRENT_ADMIN_SOCKET")]
    admin_socket: Option<std::path::PathBuf>,
}

impl SocketArgs {
    fn path(&self) -> std::path::PathBuf {
        self.admin_socket
            .clone()
            .unwrap_or_else(|| unseal::default_socket(&self.data_dir))
    }
}

#[derive(Subcommand)]
enum ConfigCommand {
    /// Report unknown keys and invalid values of a configuration file, with their lines.
    Check {
        /// The file (TOML).
        file: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Print events (CloudTrail-shaped JSON, one per line), oldest first: every server's chain
    /// merged by event time, or one chain.
    Show {
        #[command(flatten)]
        at: datadir::Location,
        /// Only this chain (a server's node id; `verify` lists them).
        #[arg(long)]
        chain: Option<String>,
        /// Only events after this sequence number of `--chain`.
        #[arg(long, default_value_t = 0, requires = "chain")]
        after: i64,
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        /// Only events that mention this key id, ARN or alias.
        #[arg(long)]
        key: Option<String>,
    },
    /// Recompute every hash chain over its events and print each chain's checkpoint; exit
    /// non-zero if any event was altered or removed, or a checkpoint is no longer reached.
    Verify {
        #[command(flatten)]
        at: datadir::Location,
        /// A file of `checkpoint <chain> <seq> <hash>` lines saved from an earlier run: each
        /// chain must still reach its checkpoint with the same hash (a removed tail shows).
        #[arg(long)]
        checkpoints: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create another account and write `admin-<account>.env` with its root credentials.
    CreateAccount {
        #[command(flatten)]
        at: datadir::Location,
        #[arg(long)]
        account_id: Option<String>,
        /// The endpoint written into the env file.
        #[arg(long, env = "TRENT_LISTEN", default_value = "127.0.0.1:4599")]
        listen: SocketAddr,
        #[arg(long, env = "TRENT_REGION", default_value = "us-east-1")]
        region: String,
        /// The server serves TLS (`--tls-cert`): the env file says `https://`.
        #[arg(long)]
        https: bool,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Print the decision for a principal, action and key, and the statements that made it.
    Simulate {
        #[command(flatten)]
        at: datadir::Location,
        #[arg(long, env = "TRENT_REGION", default_value = "us-east-1")]
        region: String,
        /// Root, user, role or assumed-role ARN.
        #[arg(long)]
        principal: String,
        /// e.g. kms:Decrypt
        #[arg(long)]
        action: String,
        /// Key id or key ARN (aliases work too).
        #[arg(long)]
        key: String,
        /// Encryption context pair `key=value` (repeatable).
        #[arg(long = "context")]
        context: Vec<String>,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    at: datadir::Location,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "TRENT_LISTEN", default_value = "127.0.0.1:4599")]
    listen: SocketAddr,
    /// The AWS Region this endpoint serves.
    #[arg(long, env = "TRENT_REGION", default_value = "us-east-1")]
    region: String,
    /// Account id of the first account (default: a random 12-digit id, chosen once).
    #[arg(long, env = "TRENT_ACCOUNT_ID")]
    account_id: Option<String>,
    /// Dev mode, to replace a KMS mock in tests: every access key is the root of the dev account
    /// (`--account-id`, default 000000000000) and signatures are parsed but not checked; the
    /// data directory is a new temporary one unless `--data-dir` is given. Loopback only unless
    /// `--dev-allow-remote`.
    #[arg(long, env = "TRENT_DEV")]
    dev: bool,
    /// Let a dev-mode server listen on a non-loopback address (it accepts any access key).
    #[arg(long, requires = "dev")]
    dev_allow_remote: bool,
    /// Dev mode: create the keys a YAML file lists (ids, specs, aliases, tags, policies, the
    /// material of symmetric keys) before serving; keys that exist are left alone.
    #[arg(long, env = "TRENT_SEED", requires = "dev")]
    seed: Option<std::path::PathBuf>,
    /// Lock all of the server's memory out of swap (mlockall; needs CAP_IPC_LOCK or a large
    /// RLIMIT_MEMLOCK). Core files and debugger attachment are always disabled.
    #[arg(long, env = "TRENT_MLOCK")]
    mlock: bool,
    /// Request quotas: `off`, or `aws` for AWS KMS's documented defaults (requests per second per
    /// account: 10,000 symmetric cryptographic operations, 1,000 RSA, 1,000 ECC, CreateKey 5, …).
    #[arg(long, env = "TRENT_QUOTAS", default_value = "off", value_parser = ["off", "aws"])]
    quotas: String,
    /// One quota, `NAME=REQUESTS_PER_SECOND` (repeatable, or comma-separated): a shared
    /// cryptographic quota (cryptographic-symmetric, cryptographic-rsa, cryptographic-ecc,
    /// cryptographic-mldsa) or an operation (CreateKey=1). Over it: ThrottlingException.
    #[arg(long, env = "TRENT_QUOTA", value_delimiter = ',')]
    quota: Vec<String>,
    /// Where `GET /metrics` (Prometheus) is served, apart from the API; `off` for nowhere. A
    /// port already taken is logged and the server runs without it.
    #[arg(long, env = "TRENT_METRICS_LISTEN", default_value = "127.0.0.1:9599")]
    metrics_listen: String,
    /// Serve TLS with this certificate chain (PEM; with --tls-key). SIGHUP re-reads both files.
    #[arg(long, env = "TRENT_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<std::path::PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "TRENT_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<std::path::PathBuf>,
    /// This server's name in a cluster: its audit chain (1-64 of `A-Z a-z 0-9 . _ : -`).
    /// Default: `main` on SQLite; on a shared database the host name and a random suffix, new
    /// at each start, so no two servers ever share a chain.
    #[arg(long, env = "TRENT_NODE_ID", value_parser = parse_node_id)]
    node_id: Option<String>,
    /// How often the scheduler looks for due work (key deletions), in seconds.
    #[arg(long, env = "TRENT_SCHEDULER_INTERVAL_SECS", default_value_t = 60)]
    scheduler_interval_secs: u64,
    /// Days audit events are kept before the scheduler deletes them (0 keeps them forever).
    #[arg(long, env = "TRENT_AUDIT_RETENTION_DAYS", default_value_t = 90)]
    audit_retention_days: u32,
    /// Most connections served at once; more wait in the listen backlog.
    #[arg(long, env = "TRENT_MAX_CONNECTIONS", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// Seconds a request's headers may take to arrive; also how long a connection may stay idle.
    #[arg(long, env = "TRENT_HEADER_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout_secs: u64,
    /// Seconds a request's body may take to arrive.
    #[arg(long, env = "TRENT_BODY_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout_secs: u64,
    /// Seconds requests in flight get to finish after SIGTERM/SIGINT before they are dropped.
    #[arg(long, env = "TRENT_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    shutdown_grace_secs: u64,
    /// Threads serving requests (default: one per CPU). On a machine shared with a busy
    /// neighbour (a load generator, say) fewer threads can serve more: see BENCHMARKS.md.
    #[arg(long, env = "TRENT_WORKER_THREADS", value_parser = clap::value_parser!(u16).range(1..=1024))]
    worker_threads: Option<u16>,
    /// The admin socket of a sealed server (`trent operator unseal` talks to it); default
    /// `trent.sock` in the data directory.
    #[arg(long, env = "TRENT_ADMIN_SOCKET")]
    admin_socket: Option<std::path::PathBuf>,
    /// Fault injection for tests (debug builds only): requests for this operation panic.
    #[cfg(debug_assertions)]
    #[arg(long, hide = true)]
    fault_panic_on: Option<String>,
}

fn main() -> std::process::ExitCode {
    let args = match config::apply(std::env::args_os().collect()) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("trent: configuration file: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    // Whether the data directory was chosen (dev mode otherwise makes a temporary one).
    let explicit_data_dir = std::env::var_os("TRENT_DATA_DIR").is_some()
        || args.iter().any(|a| {
            let a = a.to_string_lossy();
            a == "--data-dir" || a.starts_with("--data-dir=")
        });
    let cli = Cli::parse_from(args);
    let filter = tracing_subscriber::EnvFilter::try_from_env("TRENT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Command::Serve(ServeArgs {
        worker_threads: Some(n),
        ..
    }) = &cli.command
    {
        builder.worker_threads(usize::from(*n));
    }
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("trent: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Serve(args) => runtime.block_on(serve(args, explicit_data_dir)),
        Command::Admin(AdminCommand::CreateAccount {
            at,
            account_id,
            listen,
            region,
            https,
        }) => datadir::create_account(
            &at,
            account_id.as_deref(),
            datadir::Endpoint {
                addr: listen,
                tls: https,
            },
            &region,
        ),
        Command::Policy(PolicyCommand::Simulate {
            at,
            region,
            principal,
            action,
            key,
            context,
        }) => runtime.block_on(simulate(at, region, principal, action, key, context)),
        Command::Audit(AuditCommand::Show {
            at,
            chain,
            after,
            limit,
            key,
        }) => audit_cmd::show(&at, chain.as_deref(), after, limit, key.as_deref()),
        Command::Config(ConfigCommand::Check { file }) => config::check(&file),
        Command::Version => {
            println!("trent {}", env!("CARGO_PKG_VERSION"));
            println!("crypto: {}", trent_crypto::fips::describe());
            Ok(())
        }
        Command::Backup { at, file } => backup::backup(&at, &file),
        Command::Restore { at, file } => backup::restore(&file, &at),
        Command::Operator(OperatorCommand::MigrateSeal {
            at,
            to,
            shamir,
            new_passphrase_file,
        }) => shamir
            .policy(&to)
            .and_then(|p| seal_cmd::migrate(&at, &to, p, new_passphrase_file.as_deref())),
        Command::Operator(OperatorCommand::Init {
            at,
            shamir,
            region,
            account_id,
            listen,
        }) => init(&at, &shamir, &region, account_id.as_deref(), listen),
        Command::Operator(OperatorCommand::RotateRootKey { at, rotate }) => {
            #[cfg(debug_assertions)]
            let pause = rotate.batch_pause_ms;
            #[cfg(not(debug_assertions))]
            let pause = 0;
            rotate_cmd::run(&at, usize::try_from(rotate.batch_size).unwrap_or(100), pause)
        }
        Command::Operator(OperatorCommand::Unseal { socket, reset }) => unseal::unseal(&socket.path(), reset),
        Command::Operator(OperatorCommand::Status { socket }) => match unseal::status(&socket.path()) {
            Ok(true) => return std::process::ExitCode::from(2),
            Ok(false) => Ok(()),
            Err(e) => Err(e),
        },
        Command::Audit(AuditCommand::Verify { at, checkpoints }) => audit_cmd::verify(&at, checkpoints.as_deref()),
        Command::Migrate { from, to, seals } => migrate::run(&from, &to, &seals),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trent: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// `trent operator init`.
fn init(
    at: &datadir::Location,
    shamir: &ShamirArgs,
    region: &str,
    account_id: Option<&str>,
    listen: SocketAddr,
) -> Result<(), String> {
    let kind = seals::chosen(at);
    let policy = shamir.policy(kind.name())?;
    let endpoint = datadir::Endpoint {
        addr: listen,
        tls: false,
    };
    let (shares, account) = datadir::init(at, kind, policy, region, account_id, endpoint)?;
    println!(
        "trent: {} initialised with the {kind} seal; account {account}, credentials in {}",
        at.data_dir.display(),
        at.data_dir.join("admin.env").display()
    );
    seal_cmd::print_shares(&shares, policy);
    Ok(())
}

/// The account every dev-mode caller is the root of, unless `--account-id` says otherwise.
const DEV_ACCOUNT: &str = "000000000000";

async fn serve(mut args: ServeArgs, explicit_data_dir: bool) -> Result<(), String> {
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
    let store = tokio::task::block_in_place(|| datadir::prepare(&args.at, &args.region))?;
    let existing = seals::existing(&args.at)?;
    let seal = existing.unwrap_or_else(|| seals::chosen(&args.at));
    if args.dev && seal != trent_seal::SealKind::File {
        return Err(format!(
            "--dev serves throwaway keys to any caller: it uses the file seal, not {seal}"
        ));
    }
    let mut listener = Some(listener);
    let mut early = None;
    let mut socket_task = None;
    let routes = trent_server::Routes::gated(trent_server::sealed_router());
    let root = match existing {
        Some(kind) if kind.starts_sealed() => {
            // Serve "sealed" (503) at once, and wait for the operator on the admin socket.
            let served = tokio::spawn(trent_server::serve(
                listener.take().ok_or("listener")?,
                routes.clone(),
                limits,
                tls.clone(),
                stopped(stop_rx.clone()),
            ));
            let socket = args
                .admin_socket
                .clone()
                .unwrap_or_else(|| unseal::default_socket(&args.at.data_dir));
            let seal = trent_seal::shamir::ShamirSeal::new(seals::file_of(&args.at.data_dir, kind));
            let (key_rx, task) = unseal::listen(&socket, &seal, stop_rx.clone())?;
            socket_task = Some(task);
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
        _ => tokio::task::block_in_place(|| datadir::root_key(&args.at, store.as_ref()))?,
    };
    let opened = tokio::task::block_in_place(|| {
        datadir::open_with_root(
            &args.at,
            store,
            root,
            &args.region,
            args.account_id.as_deref(),
            endpoint,
        )
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
    let scheduler = trent_core::spawn_scheduler(
        Arc::clone(&kms),
        Duration::from_secs(args.scheduler_interval_secs.max(1)),
    );
    let audit = trent_core::spawn_audit_flusher(Arc::clone(&kms), Duration::from_secs(1));
    let app = trent_server::router(Arc::clone(&kms), &limits);
    let metrics = serve_metrics(&args.metrics_listen, Arc::clone(&kms), limits).await?;
    if args.dev {
        println!(
            "trent: DEV MODE — every access key is the root of account {} and signatures are not checked; never use it for real keys",
            opened.account_id
        );
        tracing::warn!(account = %opened.account_id, "dev mode: any access key is accepted as the account root");
    }
    println!("trent: account {} in {}", opened.account_id, args.region);
    println!("trent: credentials in {}", opened.admin_env.display());
    println!("trent: listening on {endpoint}");
    tracing::info!(startup_ms = started.elapsed().as_millis() as u64, "ready");
    let reloader = tls.clone().map(|t| tokio::spawn(reload_on_sighup(t)));
    tracing::info!(%addr, data_dir = %args.at.data_dir.display(), store = opened.backend, node = %node_id, "serving the AWS KMS API");
    routes.open(app);
    let served = match (early, listener) {
        (Some(task), _) => task.await.map_err(|e| e.to_string())?,
        (None, Some(listener)) => trent_server::serve(listener, routes, limits, tls, stopped(stop_rx.clone())).await,
        (None, None) => Ok(()),
    };
    if let Some(t) = socket_task {
        t.abort();
    }
    if let Some(r) = reloader {
        r.abort();
    }
    if let Some(m) = metrics {
        m.abort();
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

/// Serves `GET /metrics` on `listen` (unless it is `off`) until aborted. A port that cannot be
/// bound is logged, not fatal: metrics are not worth refusing to serve keys for.
async fn serve_metrics(
    listen: &str,
    kms: Arc<trent_core::Kms>,
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
    let app = trent_server::metrics_router(kms);
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

/// `--node-id`: it names an audit chain, printed in `checkpoint <chain> <seq> <hash>` lines.
fn parse_node_id(s: &str) -> Result<String, String> {
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

async fn simulate(
    at: datadir::Location,
    region: String,
    principal: String,
    action: String,
    key: String,
    context: Vec<String>,
) -> Result<(), String> {
    let kms = tokio::task::block_in_place(|| datadir::open_existing(&at, &region))?;
    let mut ec = std::collections::BTreeMap::new();
    for pair in context {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("--context {pair}: expected key=value"))?;
        ec.insert(k.to_owned(), v.to_owned());
    }
    let sim = kms
        .simulate(&principal, &action, &key, &ec)
        .await
        .map_err(|e| e.to_string())?;
    for line in &sim.lines {
        println!("{line}");
    }
    println!(
        "decision: {} ({})",
        if sim.allowed { "ALLOW" } else { "DENY" },
        sim.reason
    );
    Ok(())
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

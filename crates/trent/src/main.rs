//! `trent`: the composition root. Parses the command line, opens the data directory (root key,
//! SQLite store, bootstrap account and credentials), and serves the AWS KMS API until SIGTERM or
//! SIGINT. Nothing else lives here: the service is `trent-core`, the pipeline `trent-server`.

#![forbid(unsafe_code)]

mod admin_socket;
mod audit_cmd;
mod backup;
mod config;
mod datadir;
mod hardening;
mod migrate;
mod rotate_cmd;
mod seal_cmd;
mod seals;
mod serve_cmd;

use std::net::SocketAddr;

use clap::{Parser, Subcommand};
use serve_cmd::ServeArgs;

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
    /// Make a new root key, re-seal every sealed record under it and destroy the old one: online
    /// through the server's admin socket when it runs (it keeps serving, and resumes after a
    /// crash at its next start), else offline in batches (run it again to resume).
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
    /// The running server's admin socket (default: `trent.sock` in the data directory).
    #[arg(long, env = "TRENT_ADMIN_SOCKET")]
    admin_socket: Option<std::path::PathBuf>,
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
            .unwrap_or_else(|| admin_socket::default_socket(&self.data_dir))
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
    /// Issue an XKS proxy credential for an IAM user and print the external key store proxy
    /// configuration file (the JSON AWS KMS's console reads): the URI path and the access key
    /// id and secret an external key store signs its requests with. The user's key policies
    /// (kms:DescribeKey, kms:Encrypt, kms:Decrypt) say which keys it may use.
    CreateXksCredential {
        #[command(flatten)]
        at: datadir::Location,
        /// The IAM user the credential belongs to (create it first: aws iam create-user).
        #[arg(long)]
        user: String,
        /// The user's account (default: the first account).
        #[arg(long)]
        account_id: Option<String>,
        /// The XksProxyUriPath to print: `/kms/xks/v1`, or a Region's `/<region>/kms/xks/v1`.
        #[arg(long, default_value = "/kms/xks/v1")]
        uri_path: String,
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
        Command::Serve(args) => runtime.block_on(serve_cmd::serve(args, explicit_data_dir)),
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
        Command::Admin(AdminCommand::CreateXksCredential {
            at,
            user,
            account_id,
            uri_path,
        }) => datadir::create_xks_credential(&at, account_id.as_deref(), &user, &uri_path),
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
            let socket = rotate
                .admin_socket
                .clone()
                .unwrap_or_else(|| admin_socket::default_socket(&at.data_dir));
            rotate_cmd::run(&at, &socket, usize::try_from(rotate.batch_size).unwrap_or(100), pause)
        }
        Command::Operator(OperatorCommand::Unseal { socket, reset }) => admin_socket::unseal(&socket.path(), reset),
        Command::Operator(OperatorCommand::Status { socket }) => match admin_socket::status(&socket.path()) {
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

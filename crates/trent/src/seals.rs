//! Choosing, creating and opening a data directory's seal (the seals themselves are
//! `trent-seal`): the command-line flags every command that opens a data directory shares,
//! where each seal's secret input comes from (a prompt, a file, the environment — never argv),
//! and the start-up log that names the seal in use.

use std::path::{Path, PathBuf};

use trent_crypto::{RootKey, SecretBytes};
use trent_seal::{kms, pkcs11, shamir, FileRootKey, PassphraseSeal, RootKeyProvider, SealKind};

use crate::datadir::Location;

/// The seal flags (with `--data-dir`, in every command that opens a data directory).
#[derive(clap::Args, Debug, Clone)]
pub struct SealArgs {
    /// How a new data directory keeps its root key: `file` (root.key, the default: whoever
    /// copies the directory has every key), `passphrase` (wrapped under an Argon2id-derived
    /// key), `shamir` (wrapped under a key split into shares: `trent operator init`; the server
    /// starts sealed), `pkcs11` (encrypted by a key in an HSM) or `kms` (encrypted by another
    /// AWS-KMS-API service). An initialised directory keeps its seal (`trent operator
    /// migrate-seal` moves it).
    #[arg(long, env = "TRENT_SEAL", value_parser = SealKind::NAMES)]
    pub seal: Option<String>,
    /// The passphrase seal's passphrase: the first line of this file (else TRENT_PASSPHRASE,
    /// else a prompt on the terminal; never a flag).
    #[arg(long, env = "TRENT_PASSPHRASE_FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// The PKCS#11 seal's module (`libsofthsm2.so`, a vendor's library); overrides the one
    /// seal.json records.
    #[arg(long, env = "TRENT_PKCS11_MODULE")]
    pub pkcs11_module: Option<PathBuf>,
    /// The PKCS#11 seal's token label (for a new seal).
    #[arg(long, env = "TRENT_PKCS11_TOKEN")]
    pub pkcs11_token: Option<String>,
    /// The label of the AES key in the token (made non-extractable if absent; for a new seal).
    #[arg(long, env = "TRENT_PKCS11_KEY_LABEL", default_value = pkcs11::DEFAULT_KEY_LABEL)]
    pub pkcs11_key_label: String,
    /// The token's user PIN: the first line of this file (else TRENT_PKCS11_PIN, else a prompt).
    #[arg(long, env = "TRENT_PKCS11_PIN_FILE")]
    pub pkcs11_pin_file: Option<PathBuf>,
    /// The kms seal's endpoint (`https://kms.<region>.amazonaws.com`, or another Trent).
    /// Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN.
    #[arg(long, env = "TRENT_KMS_SEAL_ENDPOINT")]
    pub kms_seal_endpoint: Option<String>,
    /// The kms seal's Region.
    #[arg(long, env = "TRENT_KMS_SEAL_REGION")]
    pub kms_seal_region: Option<String>,
    /// The kms seal's symmetric key (id, ARN or alias).
    #[arg(long, env = "TRENT_KMS_SEAL_KEY_ID")]
    pub kms_seal_key_id: Option<String>,
}

/// The seal an initialised data directory uses, if it is initialised.
pub fn existing(at: &Location) -> Result<Option<SealKind>, String> {
    trent_seal::seal_kind(&at.data_dir).map_err(|e| e.to_string())
}

/// The seal a new data directory gets: `--seal`, else `file`.
pub fn chosen(at: &Location) -> SealKind {
    at.seals
        .seal
        .as_deref()
        .and_then(SealKind::parse)
        .unwrap_or(SealKind::File)
}

/// Where a seal of `kind` keeps its file in `dir`.
pub fn file_of(dir: &Path, kind: SealKind) -> PathBuf {
    match kind {
        SealKind::File => dir.join("root.key"),
        _ => dir.join("seal.json"),
    }
}

/// Secret inputs already at hand (else each is read from its flag, variable or prompt).
#[derive(Default, Clone)]
pub struct Given {
    pub passphrase: Option<SecretBytes>,
    pub shares: Option<Vec<SecretBytes>>,
}

/// Opens the seal `kind` kept at `path`.
pub fn unlock_at(at: &Location, kind: SealKind, path: &Path, given: Given) -> Result<RootKey, String> {
    let provider: Box<dyn RootKeyProvider> = match kind {
        SealKind::Passphrase => Box::new(PassphraseSeal::new(
            path.to_path_buf(),
            match given.passphrase {
                Some(p) => p,
                None => secret_line(
                    at.seals.passphrase_file.as_deref(),
                    NEED_PASSPHRASE,
                    "TRENT_PASSPHRASE",
                    "Trent passphrase: ",
                    false,
                )?,
            },
        )),
        SealKind::Shamir => {
            let seal = shamir::ShamirSeal::new(path.to_path_buf());
            let shares = match given.shares {
                Some(s) => s,
                None => read_shares(&seal)?,
            };
            Box::new(shamir::WithShares { seal, shares })
        }
        SealKind::Pkcs11 => Box::new(pkcs11::Pkcs11Seal::new(
            path.to_path_buf(),
            pin(at)?,
            at.seals.pkcs11_module.clone(),
        )),
        SealKind::Kms => Box::new(kms::KmsSeal::new(
            path.to_path_buf(),
            kms::Credentials::from_env().map_err(|e| e.to_string())?,
        )),
        _ => Box::new(FileRootKey::new(path.to_path_buf())),
    };
    provider.unlock_or_create().map_err(|e| e.to_string())
}

/// Reads what opens a seal of `kind` once (a passphrase, shares), to open two seal files with
/// it (root-key rotation).
pub fn read_given(at: &Location, kind: SealKind) -> Result<Given, String> {
    Ok(match kind {
        SealKind::Passphrase => Given {
            passphrase: Some(secret_line(
                at.seals.passphrase_file.as_deref(),
                NEED_PASSPHRASE,
                "TRENT_PASSPHRASE",
                "Trent passphrase: ",
                false,
            )?),
            shares: None,
        },
        SealKind::Shamir => Given {
            passphrase: None,
            shares: Some(read_shares(&shamir::ShamirSeal::new(file_of(&at.data_dir, kind)))?),
        },
        _ => Given::default(),
    })
}

/// Root-key rotation: seals `new_key` at `dest` the way `current` (the live seal file of
/// `kind`) is sealed — the same passphrase, shares, HSM key or KMS key — so what opened the
/// old seal opens the new one.
pub fn stage(
    at: &Location,
    kind: SealKind,
    current: &Path,
    given: &Given,
    new_key: &RootKey,
    dest: &Path,
) -> Result<(), String> {
    let e = |e: trent_seal::SealError| e.to_string();
    match kind {
        SealKind::File => FileRootKey::new(dest.to_path_buf()).store(new_key).map_err(e),
        SealKind::Passphrase => {
            let pass = given.passphrase.clone().ok_or("the passphrase is needed")?;
            PassphraseSeal::new(dest.to_path_buf(), pass).write(new_key).map_err(e)
        }
        SealKind::Shamir => {
            let shares = given.shares.clone().ok_or("the shares are needed")?;
            shamir::ShamirSeal::new(current.to_path_buf())
                .rewrap(&shares, new_key, dest)
                .map_err(e)
        }
        SealKind::Pkcs11 => {
            let token = pkcs11::Pkcs11Seal::new(current.to_path_buf(), pin(at)?, at.seals.pkcs11_module.clone())
                .token()
                .map_err(e)?;
            pkcs11::Pkcs11Seal::new(dest.to_path_buf(), pin(at)?, None)
                .create(new_key, &token)
                .map_err(e)
        }
        SealKind::Kms => {
            let creds = || kms::Credentials::from_env().map_err(e);
            let target = kms::KmsSeal::new(current.to_path_buf(), creds()?).target().map_err(e)?;
            kms::KmsSeal::new(dest.to_path_buf(), creds()?)
                .create(new_key, &target)
                .map_err(e)
        }
        _ => Err(format!("the {kind} seal cannot be rotated by this binary")),
    }
}

/// Opens the seal of an initialised data directory.
pub fn unlock(at: &Location, kind: SealKind) -> Result<RootKey, String> {
    if kind == SealKind::File {
        warn_file_seal(at);
    }
    unlock_at(at, kind, &file_of(&at.data_dir, kind), Given::default())
}

fn warn_file_seal(at: &Location) {
    tracing::warn!(
        path = %file_of(&at.data_dir, SealKind::File).display(),
        "the root key is a plain file (the file seal): whoever copies the data directory has every key; use another --seal outside a laptop"
    );
}

/// Seals `key` with a new seal of `kind` written at `path` (there must be nothing there).
/// Returns the shares of a Shamir seal (to be shown once), else nothing.
pub fn create_at(
    at: &Location,
    kind: SealKind,
    key: &RootKey,
    path: &Path,
    shamir_policy: Option<shamir::Policy>,
    passphrase: Option<SecretBytes>,
) -> Result<Vec<SecretBytes>, String> {
    let path = path.to_path_buf();
    match kind {
        SealKind::File => {
            warn_file_seal(at);
            FileRootKey::new(path).store(key).map_err(|e| e.to_string())?;
        }
        SealKind::Passphrase => {
            let pass = match passphrase {
                Some(p) => p,
                None => secret_line(
                    at.seals.passphrase_file.as_deref(),
                    NEED_PASSPHRASE,
                    "TRENT_PASSPHRASE",
                    "Trent passphrase: ",
                    true,
                )?,
            };
            PassphraseSeal::new(path, pass).write(key).map_err(|e| e.to_string())?;
        }
        SealKind::Shamir => {
            let policy = shamir_policy.ok_or_else(|| {
                "the shamir seal is made by `trent operator init --seal shamir --key-shares N --key-threshold T`, which prints the shares once".to_owned()
            })?;
            return shamir::ShamirSeal::new(path)
                .create(key, policy)
                .map_err(|e| e.to_string());
        }
        SealKind::Pkcs11 => {
            let module = at
                .seals
                .pkcs11_module
                .clone()
                .ok_or("the pkcs11 seal needs --pkcs11-module (the HSM's PKCS#11 library)")?;
            let token_label = at
                .seals
                .pkcs11_token
                .clone()
                .ok_or("the pkcs11 seal needs --pkcs11-token (the token's label)")?;
            let token = pkcs11::Token {
                module,
                token_label,
                key_label: at.seals.pkcs11_key_label.clone(),
            };
            pkcs11::Pkcs11Seal::new(path, pin(at)?, None)
                .create(key, &token)
                .map_err(|e| e.to_string())?;
        }
        SealKind::Kms => {
            let need = |v: &Option<String>, flag: &str| v.clone().ok_or_else(|| format!("the kms seal needs {flag}"));
            let target = kms::Target {
                endpoint: need(&at.seals.kms_seal_endpoint, "--kms-seal-endpoint")?,
                region: need(&at.seals.kms_seal_region, "--kms-seal-region")?,
                key_id: need(&at.seals.kms_seal_key_id, "--kms-seal-key-id")?,
            };
            kms::KmsSeal::new(path, kms::Credentials::from_env().map_err(|e| e.to_string())?)
                .create(key, &target)
                .map_err(|e| e.to_string())?;
        }
        _ => return Err(format!("the {kind} seal cannot be made by this binary")),
    }
    Ok(Vec::new())
}

fn pin(at: &Location) -> Result<SecretBytes, String> {
    secret_line(
        at.seals.pkcs11_pin_file.as_deref(),
        "the pkcs11 seal needs the token's user PIN: --pkcs11-pin-file",
        "TRENT_PKCS11_PIN",
        "PKCS#11 user PIN: ",
        false,
    )
}

const NEED_PASSPHRASE: &str = "the passphrase seal needs its passphrase: --passphrase-file";

/// Reads as many shares as the seal needs, one per prompt (or per stdin line).
fn read_shares(seal: &shamir::ShamirSeal) -> Result<Vec<SecretBytes>, String> {
    let policy = seal.policy().map_err(|e| e.to_string())?;
    eprintln!(
        "trent: this data directory uses the shamir seal: give {} of its {} shares",
        policy.threshold, policy.shares
    );
    let mut shares = Vec::new();
    for i in 1..=policy.threshold {
        let s = crate::admin_socket::read_share(&format!("Unseal share {i} of {}: ", policy.threshold))?;
        shares.push(SecretBytes::new(s.as_bytes().to_vec()));
    }
    Ok(shares)
}

/// A secret from a file's first line, else the environment variable `env`, else a prompt on
/// the terminal (asked twice when `confirm`). Never from a flag: argv is visible to every user
/// of the machine.
pub fn secret_line(
    file: Option<&Path>,
    need: &str,
    env: &str,
    prompt: &str,
    confirm: bool,
) -> Result<SecretBytes, String> {
    use std::io::IsTerminal;
    let text = if let Some(path) = file {
        let all =
            zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?);
        zeroize::Zeroizing::new(all.lines().next().unwrap_or_default().to_owned())
    } else if let Ok(v) = std::env::var(env) {
        zeroize::Zeroizing::new(v)
    } else if std::io::stdin().is_terminal() {
        let first = zeroize::Zeroizing::new(rpassword::prompt_password(prompt).map_err(|e| format!("prompt: {e}"))?);
        if confirm {
            let again = zeroize::Zeroizing::new(
                rpassword::prompt_password(format!("{} (again): ", prompt.trim_end().trim_end_matches(':')))
                    .map_err(|e| format!("prompt: {e}"))?,
            );
            if *again != *first {
                return Err("the two entries differ".into());
            }
        }
        first
    } else {
        return Err(format!("{need}, {env}, or a terminal to ask on"));
    };
    if text.is_empty() {
        return Err(format!("{} is empty", prompt.trim_end().trim_end_matches(':')));
    }
    Ok(SecretBytes::new(text.as_bytes().to_vec()))
}

//! `trent operator migrate-seal --to <seal>`: moves a data directory's root key from one seal to
//! another without touching anything it seals (the key stays the same; only how it is kept
//! changes). Run it with the server stopped. The new seal is written beside the old one
//! (`seal.json.new`, or `root.key`) and opened again — it must give back the same key — before
//! it replaces the old one; a plain `root.key` that is left behind is overwritten with zeros and
//! synced before it is removed. A crash at any point leaves one working seal.

use std::path::Path;

use trent_seal::{shamir, SealKind};

use crate::datadir::Location;
use crate::seals;

pub fn migrate(
    at: &Location,
    to: &str,
    policy: Option<shamir::Policy>,
    new_passphrase: Option<&Path>,
) -> Result<(), String> {
    let _lock = crate::datadir::lock(&at.data_dir, crate::datadir::Lock::Exclusive)?;
    crate::rotate_cmd::refuse_if_unfinished(at)?;
    let Some(from) = seals::existing(at)? else {
        return Err(format!(
            "{} is not initialised: nothing to migrate",
            at.data_dir.display()
        ));
    };
    let to = SealKind::parse(to).ok_or_else(|| format!("--to {to}: not a seal ({})", SealKind::NAMES.join(", ")))?;
    // The same seal again re-keys it: new shares, a new passphrase.
    if from == to && !matches!(to, SealKind::Shamir | SealKind::Passphrase) {
        println!("trent: {} already uses the {to} seal", at.data_dir.display());
        return Ok(());
    }
    let key = seals::unlock(at, from)?;
    let dir = &at.data_dir;
    let (staged, fin) = match to {
        SealKind::File => (dir.join("root.key"), dir.join("root.key")),
        _ => (dir.join("seal.json.new"), dir.join("seal.json")),
    };
    if staged.exists() {
        return Err(format!(
            "{} exists: remove it (a migration that did not finish) and run again",
            staged.display()
        ));
    }
    // A new passphrase is its own input; the PKCS#11 and KMS flags describe the new seal.
    let passphrase = match to {
        SealKind::Passphrase => Some(seals::secret_line(
            new_passphrase,
            "the new passphrase seal needs its passphrase: --new-passphrase-file",
            "TRENT_NEW_PASSPHRASE",
            "New Trent passphrase: ",
            true,
        )?),
        _ => None,
    };
    let shares = seals::create_at(at, to, &key, &staged, policy, passphrase.clone())?;
    let given = seals::Given {
        passphrase,
        shares: Some(shares.clone()),
    };
    let back = seals::unlock_at(at, to, &staged, given);
    match back {
        Ok(k) if k == key => {}
        Ok(_) | Err(_) => {
            let _ = std::fs::remove_file(&staged);
            return Err(format!(
                "the new {to} seal did not give back the root key ({}); nothing changed",
                back.err().unwrap_or_default()
            ));
        }
    }
    if staged != fin {
        std::fs::rename(&staged, &fin).map_err(|e| format!("{}: {e}", fin.display()))?;
    }
    match from {
        SealKind::File if to != SealKind::File => destroy(&dir.join("root.key"))?,
        _ if to == SealKind::File => destroy(&dir.join("seal.json"))?,
        _ => {}
    }
    print_shares(&shares, policy);
    println!(
        "trent: {} moved from the {from} seal to the {to} seal; every node of its database needs the new seal file",
        dir.display()
    );
    Ok(())
}

/// Prints a Shamir seal's shares, the only time they are shown.
pub fn print_shares(shares: &[trent_crypto::SecretBytes], policy: Option<shamir::Policy>) {
    let Some(policy) = policy else { return };
    if shares.is_empty() {
        return;
    }
    for (i, s) in shares.iter().enumerate() {
        println!("Unseal share {}: {}", i + 1, String::from_utf8_lossy(s.expose()));
    }
    println!(
        "trent: {} shares, {} of them unseal the server (`trent operator unseal`, one share per run). Trent kept none: \
         hand them to different people now; they are never shown again.",
        policy.shares, policy.threshold
    );
}

/// Overwrites a secret file with zeros, syncs it and removes it.
fn destroy(path: &Path) -> Result<(), String> {
    crate::rotate_cmd::destroy_in_place(path)?;
    std::fs::remove_file(path).map_err(|e| format!("{}: {e}", path.display()))
}

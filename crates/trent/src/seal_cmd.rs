//! `trent operator migrate-seal --to <seal>`: moves a data directory's root key from one seal to
//! another without touching anything it seals (the key stays the same; only how it is kept
//! changes). Run it with the server stopped. The new seal file is written and opened again (it
//! must give back the same key) before the old one is destroyed — a plain `root.key` is
//! overwritten with zeros and synced before it is removed — so a crash leaves one working seal.

use std::io::Write;

use trent_core::rootkey::{PassphraseSeal, RootKeyProvider};

use crate::datadir::{self, Location};

pub fn migrate(at: &Location, to: &str, new_passphrase: Option<&std::path::Path>) -> Result<(), String> {
    let Some(from) = at.existing_seal() else {
        return Err(format!(
            "{} is not initialised: nothing to migrate",
            at.data_dir.display()
        ));
    };
    if from == to {
        println!("trent: {} already uses the {to} seal", at.data_dir.display());
        return Ok(());
    }
    let key = datadir::provider(at, from, false)?
        .unlock_or_create()
        .map_err(|e| e.to_string())?;
    match to {
        "passphrase" => {
            let pass = datadir::passphrase(new_passphrase, "TRENT_NEW_PASSPHRASE", true)?;
            let seal = PassphraseSeal::new(at.seal_file(), pass.clone());
            seal.write(&key).map_err(|e| e.to_string())?;
            let back = PassphraseSeal::new(at.seal_file(), pass)
                .open()
                .map_err(|e| e.to_string())?;
            if back != key {
                let _ = std::fs::remove_file(at.seal_file());
                return Err("the new seal did not give back the root key; nothing changed".into());
            }
            destroy(&at.root_key_file())?;
        }
        "file" => {
            let file = trent_core::rootkey::FileRootKey::new(at.root_key_file());
            if at.root_key_file().exists() {
                return Err(format!("{} exists already", at.root_key_file().display()));
            }
            file.store(&key).map_err(|e| e.to_string())?;
            if file.unlock_or_create().map_err(|e| e.to_string())? != key {
                return Err("the new root.key does not hold the root key".into());
            }
            destroy(&at.seal_file())?;
        }
        other => return Err(format!("--to {other}: not a seal (file, passphrase)")),
    }
    println!(
        "trent: {} moved from the {from} seal to the {to} seal; every node of its database needs the new seal file",
        at.data_dir.display()
    );
    Ok(())
}

/// Overwrites a secret file with zeros, syncs it and removes it.
fn destroy(path: &std::path::Path) -> Result<(), String> {
    let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(&vec![0u8; usize::try_from(len).unwrap_or(0)])
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    drop(f);
    std::fs::remove_file(path).map_err(|e| format!("{}: {e}", path.display()))
}

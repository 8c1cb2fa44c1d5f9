//! The `shamir` seal: the root key is wrapped (AES-256-GCM) under an *unseal key* that exists
//! only as Shamir shares (Shamir, "How to share a secret", CACM 1979; GF(256) per byte through
//! the `blahaj` crate). `trent operator init --key-shares N --key-threshold T` makes the unseal
//! key, prints its N shares once and keeps none; the server starts sealed and any T shares,
//! given one by one through `trent operator unseal`, rebuild the unseal key and open the root
//! key. Splitting the unseal key rather than the root key (as Vault does) lets the shares be
//! re-issued without touching what the root key seals.
//!
//! `seal.json` holds the parameters, the wrapped root key and a SHA-256 of each share, so a
//! mistyped or foreign share is refused when it is given — not after the threshold is reached
//! with a wrong result. A share carries 256 bits of entropy, so its hash tells nothing about it.
//! The threshold and share count are bound into the wrapping's associated data: editing them in
//! the file makes the seal fail to open.
//!
//! Timing: blahaj's field arithmetic uses lookup tables; interpolation runs once per unseal on
//! the operator's own shares, on the local machine, and is not reachable from the network.

use std::path::{Path, PathBuf};

use trent_crypto::{RootKey, SecretBytes};

use crate::sealfile::{b64, read_json, unb64, write_json};
use crate::{RootKeyProvider, SealError};

/// `seal.json` of the Shamir seal, version 1.
#[derive(serde::Serialize, serde::Deserialize)]
struct ShamirFile {
    v: u32,
    seal: String,
    threshold: u8,
    shares: u8,
    /// Hex SHA-256 of each share's bytes, in share order.
    share_sha256: Vec<String>,
    /// Base64 of the 12-byte nonce.
    nonce: String,
    /// Base64 of the AES-256-GCM ciphertext and tag of the root key under the unseal key.
    wrapped: String,
}

fn aad(threshold: u8, shares: u8) -> Vec<u8> {
    format!("trent-seal-v1|shamir|{threshold}|{shares}").into_bytes()
}

/// The number of shares and how many of them open the seal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Policy {
    pub shares: u8,
    pub threshold: u8,
}

impl Policy {
    /// Vault's rules: 1-255 shares; a threshold between 2 and the share count, or 1 of 1 (a
    /// threshold of 1 with several shares would make every share the whole key).
    pub fn new(shares: u8, threshold: u8) -> Result<Policy, SealError> {
        if shares == 0 || threshold == 0 || threshold > shares {
            return Err(SealError::Share(format!(
                "--key-threshold must be between 1 and --key-shares ({threshold} of {shares})"
            )));
        }
        if threshold == 1 && shares > 1 {
            return Err(SealError::Share(
                "--key-threshold 1 with several shares makes each share the whole key: use at least 2".into(),
            ));
        }
        Ok(Policy { shares, threshold })
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes))
}

/// The Shamir seal of one data directory (its `seal.json`).
pub struct ShamirSeal {
    path: PathBuf,
}

impl ShamirSeal {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// Seals `key` under a new unseal key split by `policy`, writes `seal.json` (there must be
    /// none) and returns the shares, base64, in order — the only time they exist together.
    pub fn create(&self, key: &RootKey, policy: Policy) -> Result<Vec<SecretBytes>, SealError> {
        let unseal = trent_crypto::random::array::<32>().map_err(|_| SealError::Random)?;
        let unseal = zeroize::Zeroizing::new(unseal);
        let nonce = trent_crypto::random::array::<12>().map_err(|_| SealError::Random)?;
        let wrapped =
            trent_crypto::symmetric::seal(&unseal[..], nonce, &aad(policy.threshold, policy.shares), key.expose())
                .map_err(|e| SealError::malformed(&self.path, e.to_string()))?;
        let dealer = blahaj::Sharks(policy.threshold).dealer(&unseal[..]);
        let mut shares = Vec::with_capacity(usize::from(policy.shares));
        let mut hashes = Vec::with_capacity(usize::from(policy.shares));
        for share in dealer.take(usize::from(policy.shares)) {
            let bytes = zeroize::Zeroizing::new(Vec::from(&share));
            hashes.push(sha256_hex(&bytes));
            shares.push(SecretBytes::new(b64(&bytes).into_bytes()));
        }
        write_json(
            &self.path,
            &ShamirFile {
                v: 1,
                seal: "shamir".into(),
                threshold: policy.threshold,
                shares: policy.shares,
                share_sha256: hashes,
                nonce: b64(&nonce),
                wrapped: b64(&wrapped),
            },
        )?;
        Ok(shares)
    }

    fn read(&self) -> Result<ShamirFile, SealError> {
        let f: ShamirFile = read_json(&self.path)?;
        if f.v != 1 || f.seal != "shamir" {
            return Err(SealError::malformed(
                &self.path,
                format!("version {} seal {} is not one this binary reads", f.v, f.seal),
            ));
        }
        if Policy::new(f.shares, f.threshold).is_err() || f.share_sha256.len() != usize::from(f.shares) {
            return Err(SealError::malformed(&self.path, "inconsistent share parameters"));
        }
        Ok(f)
    }

    /// The seal's policy (shares and threshold), from `seal.json`.
    pub fn policy(&self) -> Result<Policy, SealError> {
        let f = self.read()?;
        Ok(Policy {
            shares: f.shares,
            threshold: f.threshold,
        })
    }

    /// An unsealing in progress: shares are added one at a time.
    pub fn unsealer(&self) -> Result<Unsealer, SealError> {
        Ok(Unsealer {
            file: self.read()?,
            path: self.path.clone(),
            given: Vec::new(),
            staged_path: None,
            staged_key: None,
        })
    }

    /// Root-key rotation: seals `new_key` under the same unseal key (rebuilt from `shares`) into
    /// a new file at `dest`, with the same split — the operators' shares open it too.
    pub fn rewrap(&self, shares: &[SecretBytes], new_key: &RootKey, dest: &Path) -> Result<(), SealError> {
        let f = self.read()?;
        let mut u = self.unsealer()?;
        let mut unseal = None;
        for s in shares {
            u.add_share(s.expose())?;
            if u.given() >= u.threshold() {
                unseal = Some(u.unseal_key()?);
                break;
            }
        }
        let unseal = unseal.ok_or_else(|| SealError::Share("too few shares to re-seal".into()))?;
        // The shares must open this seal: the new file is only as good as the old one.
        let nonce: [u8; 12] = unb64(&self.path, "nonce", &f.nonce)?
            .try_into()
            .map_err(|_| SealError::malformed(&self.path, "nonce is not 12 bytes"))?;
        trent_crypto::symmetric::open(
            &unseal[..],
            nonce,
            &aad(f.threshold, f.shares),
            &unb64(&self.path, "wrapped", &f.wrapped)?,
        )
        .map_err(|_| SealError::Share("the shares do not open this seal".into()))?;
        let nonce = trent_crypto::random::array::<12>().map_err(|_| SealError::Random)?;
        let wrapped = trent_crypto::symmetric::seal(&unseal[..], nonce, &aad(f.threshold, f.shares), new_key.expose())
            .map_err(|e| SealError::malformed(dest, e.to_string()))?;
        write_json(
            dest,
            &ShamirFile {
                nonce: b64(&nonce),
                wrapped: b64(&wrapped),
                ..f
            },
        )
    }

    /// Opens the seal with all the shares at once (offline commands).
    pub fn open(&self, shares: &[SecretBytes]) -> Result<RootKey, SealError> {
        let mut u = self.unsealer()?;
        for s in shares {
            if let Progress::Unsealed(key) = u.add(s.expose())? {
                return Ok(key);
            }
        }
        Err(SealError::Share(format!(
            "{} of {} shares given: the seal stays closed",
            u.given(),
            u.threshold()
        )))
    }
}

/// Where an unsealing stands after a share.
pub enum Progress {
    /// More shares are needed.
    Need { given: u8, threshold: u8 },
    /// The threshold was reached and the root key opened.
    Unsealed(RootKey),
}

/// Shares given so far (kept zeroized on drop by blahaj's `zeroize_memory` feature).
pub struct Unsealer {
    file: ShamirFile,
    path: PathBuf,
    given: Vec<blahaj::Share>,
    staged_path: Option<PathBuf>,
    staged_key: Option<RootKey>,
}

impl Unsealer {
    pub fn threshold(&self) -> u8 {
        self.file.threshold
    }

    pub fn shares(&self) -> u8 {
        self.file.shares
    }

    pub fn given(&self) -> u8 {
        u8::try_from(self.given.len()).unwrap_or(u8::MAX)
    }

    /// Forgets the shares given so far.
    pub fn reset(&mut self) {
        self.given.clear();
    }

    /// Adds one share (its base64 text, surrounding white space ignored). A share that is not
    /// one of this seal's, or was already given, is refused and changes nothing.
    pub fn add(&mut self, text: &[u8]) -> Result<Progress, SealError> {
        self.add_share(text)?;
        if self.given.len() < usize::from(self.file.threshold) {
            return Ok(Progress::Need {
                given: self.given(),
                threshold: self.file.threshold,
            });
        }
        let result = self.finish();
        // Whatever the outcome, the shares are not kept once they were combined.
        self.given.clear();
        let (key, staged) = result?;
        self.staged_key = staged;
        Ok(Progress::Unsealed(key))
    }

    /// Also opens the seal file at `path` when it exists at unseal time (a root-key rotation's
    /// staged seal: the same unseal key wraps the new root key).
    pub fn with_staged(mut self, path: PathBuf) -> Unsealer {
        self.staged_path = Some(path);
        self
    }

    /// The staged root key opened at unseal time, if there was one.
    pub fn take_staged(&mut self) -> Option<RootKey> {
        self.staged_key.take()
    }

    /// Checks and keeps one share.
    fn add_share(&mut self, text: &[u8]) -> Result<(), SealError> {
        let text = std::str::from_utf8(text)
            .map_err(|_| SealError::Share("a share is base64 text".into()))?
            .trim();
        let bytes = zeroize::Zeroizing::new(
            unb64(Path::new("share"), "the share", text)
                .map_err(|_| SealError::Share("the share is not valid base64".into()))?,
        );
        // Comparing against the public hashes in seal.json needs no constant time.
        let hash = sha256_hex(&bytes);
        if !self.file.share_sha256.contains(&hash) {
            return Err(SealError::Share("that is not one of this seal's shares".into()));
        }
        let share = blahaj::Share::try_from(&bytes[..]).map_err(|e| SealError::Share(e.to_owned()))?;
        if self.given.iter().any(|g| g.x == share.x) {
            return Err(SealError::Share("that share was already given".into()));
        }
        self.given.push(share);
        Ok(())
    }

    /// The unseal key the shares given so far rebuild.
    fn unseal_key(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, SealError> {
        Ok(zeroize::Zeroizing::new(
            blahaj::Sharks(self.file.threshold)
                .recover(&self.given)
                .map_err(|e| SealError::Share(e.to_owned()))?,
        ))
    }

    fn finish(&self) -> Result<(RootKey, Option<RootKey>), SealError> {
        let unseal = self.unseal_key()?;
        let key = open_file(&self.path, &self.file, &unseal)?;
        let staged = match &self.staged_path {
            Some(p) if p.exists() => Some(open_file(p, &read_checked(p)?, &unseal)?),
            _ => None,
        };
        Ok((key, staged))
    }
}

fn read_checked(path: &Path) -> Result<ShamirFile, SealError> {
    ShamirSeal::new(path.to_path_buf()).read()
}

/// Opens the root key a Shamir seal file wraps under the unseal key.
fn open_file(path: &Path, f: &ShamirFile, unseal: &[u8]) -> Result<RootKey, SealError> {
    let nonce: [u8; 12] = unb64(path, "nonce", &f.nonce)?
        .try_into()
        .map_err(|_| SealError::malformed(path, "nonce is not 12 bytes"))?;
    let wrapped = unb64(path, "wrapped", &f.wrapped)?;
    let key = trent_crypto::symmetric::open(unseal, nonce, &aad(f.threshold, f.shares), &wrapped).map_err(|_| {
        SealError::Share(format!(
            "the shares do not open {} (is it the seal they were made for?)",
            path.display()
        ))
    })?;
    RootKey::from_slice(key.expose()).ok_or_else(|| SealError::BadLength(path.display().to_string()))
}

/// The Shamir seal with its shares at hand (offline commands read them first).
pub struct WithShares {
    pub seal: ShamirSeal,
    pub shares: Vec<SecretBytes>,
}

impl RootKeyProvider for WithShares {
    fn kind(&self) -> &'static str {
        "shamir"
    }

    fn unlock_or_create(&self) -> Result<RootKey, SealError> {
        self.seal.open(&self.shares)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(u: &mut Unsealer, s: &SecretBytes) -> Result<Progress, SealError> {
        u.add(s.expose())
    }

    #[test]
    fn any_threshold_of_shares_opens_and_fewer_do_not() {
        let dir = tempfile::tempdir().expect("tmp");
        let seal = ShamirSeal::new(dir.path().join("seal.json"));
        let key = RootKey::generate().expect("key");
        let shares = seal.create(&key, Policy::new(5, 3).expect("policy")).expect("create");
        assert_eq!(shares.len(), 5);
        for pick in [[0, 1, 2], [4, 2, 0], [1, 3, 4]] {
            let chosen: Vec<SecretBytes> = pick.iter().map(|&i| shares[i].clone()).collect();
            assert_eq!(seal.open(&chosen).expect("open"), key);
        }
        let mut u = seal.unsealer().expect("unsealer");
        assert!(matches!(
            add(&mut u, &shares[0]),
            Ok(Progress::Need { given: 1, threshold: 3 })
        ));
        assert!(add(&mut u, &shares[0]).is_err(), "a share given twice is refused");
        assert!(matches!(add(&mut u, &shares[3]), Ok(Progress::Need { given: 2, .. })));
        assert!(seal.open(&shares[..2]).is_err(), "two of three stay sealed");
        // A foreign share (another seal's) and garbage are refused without counting.
        let other = tempfile::tempdir().expect("tmp");
        let foreign = ShamirSeal::new(other.path().join("seal.json"))
            .create(&key, Policy::new(5, 3).expect("policy"))
            .expect("create");
        assert!(add(&mut u, &foreign[4]).is_err());
        assert!(u.add(b"not base64!").is_err());
        assert_eq!(u.given(), 2);
        match add(&mut u, &shares[4]) {
            Ok(Progress::Unsealed(k)) => assert_eq!(k, key),
            _ => panic!("three shares open the seal"),
        }
        // The seal file holds neither the root key nor a share.
        let text = std::fs::read(dir.path().join("seal.json")).expect("read");
        assert!(!text.windows(32).any(|w| w == key.expose()));
        for s in &shares {
            assert!(!text.windows(s.len()).any(|w| w == s.expose()));
        }
    }

    #[test]
    fn policies_follow_vault_and_tampering_is_detected() {
        assert!(Policy::new(5, 1).is_err());
        assert!(Policy::new(3, 4).is_err());
        assert!(Policy::new(0, 0).is_err());
        assert!(Policy::new(1, 1).is_ok());
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("seal.json");
        let key = RootKey::generate().expect("key");
        let shares = ShamirSeal::new(path.clone())
            .create(&key, Policy::new(3, 2).expect("policy"))
            .expect("create");
        // Lowering the threshold in the file does not let one share open it.
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
        v["threshold"] = serde_json::json!(1);
        v["shares"] = serde_json::json!(1);
        v["share_sha256"] = serde_json::json!([v["share_sha256"][0].clone()]);
        std::fs::remove_file(&path).expect("rm");
        crate::sealfile::write_new_private(&path, &serde_json::to_vec(&v).expect("json")).expect("write");
        assert!(ShamirSeal::new(path).open(&shares[..1]).is_err());
    }
}

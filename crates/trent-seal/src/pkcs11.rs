//! The `pkcs11` seal: the root key encrypted (CKM_AES_GCM, PKCS#11 v2.40 §2.12) by an AES-256
//! key that lives in an HSM token and never leaves it (`CKA_SENSITIVE`, not `CKA_EXTRACTABLE`,
//! `CKA_TOKEN`). `seal.json` names the module, token and key label with the IV and ciphertext;
//! the user PIN is never stored (a file or `TRENT_PKCS11_PIN`). At start the HSM decrypts the
//! root key once; it is needed again only to seal a new root key (rotation, migration).
//!
//! Tested with SoftHSM2. The module is loaded at run time (`cryptoki` through `libloading`), so
//! the build needs no HSM package.

use std::path::PathBuf;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use trent_crypto::{RootKey, SecretBytes};

use crate::sealfile::{b64, read_json, unb64, write_json};
use crate::{RootKeyProvider, SealError};

/// What identifies the HSM key; the PIN comes separately.
#[derive(Debug, Clone)]
pub struct Token {
    /// The PKCS#11 module (`libsofthsm2.so`, a vendor's library).
    pub module: PathBuf,
    /// The token's label (slot ids change; labels do not).
    pub token_label: String,
    /// The AES key's label in the token (made at init when absent).
    pub key_label: String,
}

/// The default label of the key Trent makes in the token.
pub const DEFAULT_KEY_LABEL: &str = "trent-root-kek";

/// `seal.json` of the PKCS#11 seal, version 1.
#[derive(serde::Serialize, serde::Deserialize)]
struct Pkcs11File {
    v: u32,
    seal: String,
    module: String,
    token_label: String,
    key_label: String,
    mechanism: String,
    /// Base64 of the 12-byte GCM IV.
    iv: String,
    /// Base64 of the ciphertext and 16-byte tag.
    wrapped: String,
}

const AAD: &[u8] = b"trent-seal-v1|pkcs11";

fn hsm(what: &str) -> impl FnOnce(cryptoki::error::Error) -> SealError + '_ {
    move |e| SealError::Hsm(format!("{what}: {e}"))
}

/// A logged-in session on the token, and the key.
struct Opened {
    // Declared before the context: the session closes first.
    session: Session,
    key: ObjectHandle,
    _ctx: Pkcs11,
}

fn open(token: &Token, pin: &SecretBytes, create_key: bool) -> Result<Opened, SealError> {
    let ctx = Pkcs11::new(&token.module)
        .map_err(|e| SealError::Hsm(format!("cannot load the module {}: {e}", token.module.display())))?;
    ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK))
        .map_err(hsm("C_Initialize"))?;
    let mut slot = None;
    for s in ctx.get_slots_with_token().map_err(hsm("C_GetSlotList"))? {
        let info = ctx.get_token_info(s).map_err(hsm("C_GetTokenInfo"))?;
        if info.label().trim_end() == token.token_label {
            slot = Some(s);
            break;
        }
    }
    let slot = slot.ok_or_else(|| {
        SealError::Hsm(format!(
            "no token labelled {:?} in {} (is the HSM connected, and SOFTHSM2_CONF set for SoftHSM?)",
            token.token_label,
            token.module.display()
        ))
    })?;
    let session = ctx.open_rw_session(slot).map_err(hsm("C_OpenSession"))?;
    let pin_text = std::str::from_utf8(pin.expose())
        .map_err(|_| SealError::Hsm("the PIN is not UTF-8".into()))?
        .to_owned();
    session
        .login(UserType::User, Some(&cryptoki::types::AuthPin::from(pin_text)))
        .map_err(|e| SealError::Hsm(format!("login to token {:?} failed: {e}", token.token_label)))?;
    let label = token.key_label.as_bytes().to_vec();
    let found = session
        .find_objects(&[
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::Label(label.clone()),
        ])
        .map_err(hsm("C_FindObjects"))?;
    let key = match (found.as_slice(), create_key) {
        ([key], _) => *key,
        ([], true) => session
            .generate_key(
                &Mechanism::AesKeyGen,
                &[
                    Attribute::Class(ObjectClass::SECRET_KEY),
                    Attribute::KeyType(KeyType::AES),
                    Attribute::ValueLen(32.into()),
                    Attribute::Token(true),
                    Attribute::Private(true),
                    Attribute::Sensitive(true),
                    Attribute::Extractable(false),
                    Attribute::Encrypt(true),
                    Attribute::Decrypt(true),
                    Attribute::Label(label),
                ],
            )
            .map_err(hsm("C_GenerateKey"))?,
        ([], false) => {
            return Err(SealError::Hsm(format!(
                "token {:?} holds no key labelled {:?}",
                token.token_label, token.key_label
            )))
        }
        (_, _) => {
            return Err(SealError::Hsm(format!(
                "token {:?} holds several keys labelled {:?}",
                token.token_label, token.key_label
            )))
        }
    };
    // A key that could be read out is no root of trust.
    let attrs = session
        .get_attributes(key, &[cryptoki::object::AttributeType::Extractable])
        .map_err(hsm("C_GetAttributeValue"))?;
    if attrs.iter().any(|a| matches!(a, Attribute::Extractable(true))) {
        return Err(SealError::Hsm(format!(
            "the key labelled {:?} is extractable: make a non-extractable one",
            token.key_label
        )));
    }
    Ok(Opened {
        session,
        key,
        _ctx: ctx,
    })
}

/// The PKCS#11 seal of one data directory.
pub struct Pkcs11Seal {
    path: PathBuf,
    pin: SecretBytes,
    /// Overrides the module path recorded in `seal.json` (it differs between machines).
    module: Option<PathBuf>,
}

impl Pkcs11Seal {
    pub fn new(path: PathBuf, pin: SecretBytes, module: Option<PathBuf>) -> Self {
        Self { path, pin, module }
    }

    /// Seals `key` with the token's key (made if absent) and writes `seal.json` at this seal's
    /// path (there must be none).
    pub fn create(&self, key: &RootKey, token: &Token) -> Result<(), SealError> {
        let opened = open(token, &self.pin, true)?;
        let mut iv = trent_crypto::random::array::<12>().map_err(|_| SealError::Random)?;
        let params = GcmParams::new(&mut iv, AAD, 128.into()).map_err(hsm("GCM parameters"))?;
        let wrapped = opened
            .session
            .encrypt(&Mechanism::AesGcm(params), opened.key, key.expose())
            .map_err(hsm("C_Encrypt"))?;
        drop(opened);
        write_json(
            &self.path,
            &Pkcs11File {
                v: 1,
                seal: "pkcs11".into(),
                module: token.module.display().to_string(),
                token_label: token.token_label.clone(),
                key_label: token.key_label.clone(),
                mechanism: "CKM_AES_GCM".into(),
                iv: b64(&iv),
                wrapped: b64(&wrapped),
            },
        )
    }

    fn read(&self) -> Result<(Pkcs11File, Token), SealError> {
        let f: Pkcs11File = read_json(&self.path)?;
        if f.v != 1 || f.seal != "pkcs11" || f.mechanism != "CKM_AES_GCM" {
            return Err(SealError::malformed(
                &self.path,
                format!(
                    "version {} seal {} mechanism {} is not one this binary reads",
                    f.v, f.seal, f.mechanism
                ),
            ));
        }
        let token = Token {
            module: self.module.clone().unwrap_or_else(|| PathBuf::from(&f.module)),
            token_label: f.token_label.clone(),
            key_label: f.key_label.clone(),
        };
        Ok((f, token))
    }

    /// Asks the HSM to decrypt the root key.
    pub fn open(&self) -> Result<RootKey, SealError> {
        let (f, token) = self.read()?;
        let mut iv: [u8; 12] = unb64(&self.path, "iv", &f.iv)?
            .try_into()
            .map_err(|_| SealError::malformed(&self.path, "iv is not 12 bytes"))?;
        let wrapped = unb64(&self.path, "wrapped", &f.wrapped)?;
        let opened = open(&token, &self.pin, false)?;
        let params = GcmParams::new(&mut iv, AAD, 128.into()).map_err(hsm("GCM parameters"))?;
        // SoftHSM reports a GCM tag mismatch as CKR_GENERAL_ERROR: any failure here means the
        // token's key is not the one that sealed this file.
        let plain = zeroize::Zeroizing::new(
            opened
                .session
                .decrypt(&Mechanism::AesGcm(params), opened.key, &wrapped)
                .map_err(|e| {
                    SealError::Hsm(format!(
                        "the key {:?} of token {:?} does not open {} ({e})",
                        token.key_label,
                        token.token_label,
                        self.path.display()
                    ))
                })?,
        );
        RootKey::from_slice(&plain).ok_or_else(|| SealError::BadLength(self.path.display().to_string()))
    }

    /// The token `seal.json` names (for messages and migration).
    pub fn token(&self) -> Result<Token, SealError> {
        Ok(self.read()?.1)
    }
}

impl RootKeyProvider for Pkcs11Seal {
    fn kind(&self) -> &'static str {
        "pkcs11"
    }

    fn unlock_or_create(&self) -> Result<RootKey, SealError> {
        self.open()
    }
}

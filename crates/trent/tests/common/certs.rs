//! Test certificate authorities, made with the `openssl` CLI (an implementation independent of
//! the rustls/aws-lc stack under test): P-256 keys, one-day certificates.

use std::path::Path;
use std::process::Command;

pub fn openssl(args: &[&str], dir: &Path) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl CLI");
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA: `<name>.pem` and `<name>.key` in `dir` (kept if they exist).
pub fn ca(dir: &Path, name: &str) {
    if dir.join(format!("{name}.pem")).exists() {
        return;
    }
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-subj",
            &format!("/CN={name}"),
        ],
        dir,
    );
}

/// `<name>.pem`/`<name>.key` for CN=localhost with `san` (e.g. `DNS:localhost,IP:127.0.0.1`),
/// issued by the CA `<ca>` (made if absent).
pub fn issue(dir: &Path, ca_name: &str, name: &str, san: &str) {
    ca(dir, ca_name);
    std::fs::write(dir.join("san.ext"), format!("subjectAltName={san}\n")).expect("ext");
    openssl(
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.csr"),
            "-subj",
            "/CN=localhost",
        ],
        dir,
    );
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            &format!("{ca_name}.pem"),
            "-CAkey",
            &format!("{ca_name}.key"),
            "-CAcreateserial",
            "-days",
            "1",
            "-extfile",
            "san.ext",
            "-out",
            &format!("{name}.pem"),
        ],
        dir,
    );
}

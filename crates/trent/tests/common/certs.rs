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
    issue_with(dir, ca_name, name, "localhost", &format!("subjectAltName={san}"));
}

/// `<name>.pem`/`<name>.key` with subject CN `cn` and the extension line `ext` (e.g.
/// `extendedKeyUsage=clientAuth`), issued by the CA `<ca>` (made if absent).
pub fn issue_with(dir: &Path, ca_name: &str, name: &str, cn: &str, ext: &str) {
    ca(dir, ca_name);
    let ext_file = format!("{name}.ext");
    std::fs::write(dir.join(&ext_file), format!("{ext}\n")).expect("ext");
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
            &format!("/CN={cn}"),
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
            &ext_file,
            "-out",
            &format!("{name}.pem"),
        ],
        dir,
    );
}

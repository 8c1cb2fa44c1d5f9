//! The configuration file: `--config trent.toml` (or `TRENT_CONFIG`) sets any flag of the command
//! that has an environment variable — `listen = "0.0.0.0:4599"`, `audit_retention_days = 30`,
//! `database = "postgres://…"` — by its long name (`-` or `_`). Precedence: a flag on the command
//! line, then its environment variable, then the file, then the default. It is applied by adding
//! the file's settings to the arguments clap parses, for flags neither given nor set in the
//! environment, so clap validates them like any flag. `trent config check` reports unknown keys
//! and invalid values with the line they are on.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

/// One setting as read: its key, value (as a flag value) and line.
struct Setting {
    key: String,
    value: Result<String, String>,
    line: usize,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).map_or(1, |t| t.matches('\n').count() + 1)
}

fn read(path: &Path) -> Result<(String, Vec<Setting>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let table: BTreeMap<toml::Spanned<String>, toml::Spanned<toml::Value>> = toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_of(&text, s.start));
        format!("{}:{line}: {}", path.display(), e.message())
    })?;
    let mut settings: Vec<Setting> = table
        .into_iter()
        .map(|(k, v)| {
            let line = line_of(&text, k.span().start);
            let value = match v.into_inner() {
                toml::Value::String(s) => Ok(s),
                toml::Value::Integer(i) => Ok(i.to_string()),
                toml::Value::Float(f) => Ok(f.to_string()),
                toml::Value::Boolean(b) => Ok(b.to_string()),
                other => Err(format!(
                    "expected a string, number or boolean, found {}",
                    other.type_str()
                )),
            };
            Setting {
                key: k.into_inner(),
                value,
                line,
            }
        })
        .collect();
    settings.sort_by_key(|s| s.line);
    Ok((text, settings))
}

/// The long name a key names (`audit_retention_days` → `audit-retention-days`).
fn long_name(key: &str) -> String {
    key.replace('_', "-")
}

/// The settable flags of a command: long name → its environment variable.
/// A flag's visible aliases (`region` for `regions`) are settable by their names too.
fn settable(cmd: &clap::Command) -> BTreeMap<String, (String, bool)> {
    cmd.get_arguments()
        .filter_map(|a| {
            let long = a.get_long()?;
            let env = a.get_env()?.to_string_lossy().into_owned();
            let takes_value = a.get_action().takes_values();
            let mut names = vec![long.to_owned()];
            names.extend(
                a.get_visible_aliases()
                    .unwrap_or_default()
                    .into_iter()
                    .map(str::to_owned),
            );
            Some(names.into_iter().map(move |n| (n, (env.clone(), takes_value))))
        })
        .flatten()
        .collect()
}

/// The file named by `--config`/`--config=` in `args`, else `TRENT_CONFIG`.
fn config_path(args: &[OsString]) -> Option<PathBuf> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let a = a.to_string_lossy();
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(v) = a.strip_prefix("--config=") {
            return Some(PathBuf::from(v));
        }
    }
    std::env::var_os("TRENT_CONFIG").map(PathBuf::from)
}

/// The subcommand path `args` names (`["serve"]`, `["audit", "verify"]`), with its clap command.
fn subcommand(args: &[OsString]) -> Option<clap::Command> {
    let mut cmd = crate::Cli::command();
    let mut found = false;
    for a in args.iter().skip(1) {
        let a = a.to_string_lossy();
        if a.starts_with('-') {
            continue;
        }
        match cmd.find_subcommand(a.as_ref()) {
            Some(sub) => {
                cmd = sub.clone();
                found = true;
            }
            None => break,
        }
    }
    found.then_some(cmd)
}

/// `args` with the configuration file's settings added for the flags the command line and the
/// environment leave unset. Errors name the file and line.
pub fn apply(args: Vec<OsString>) -> Result<Vec<OsString>, String> {
    let Some(path) = config_path(&args) else {
        return Ok(args);
    };
    let Some(cmd) = subcommand(&args) else {
        return Ok(args);
    };
    let (_, settings) = read(&path)?;
    let known = settable(&cmd);
    let given = |long: &str| {
        let flag = format!("--{long}");
        let with_value = format!("--{long}=");
        args.iter().any(|a| {
            let a = a.to_string_lossy();
            a == flag || a.starts_with(&with_value)
        })
    };
    let mut out = args.clone();
    for s in settings {
        let long = long_name(&s.key);
        // Settings for other commands (a server's file read by `trent audit verify`) are
        // not errors here; `trent config check` reports keys no command knows.
        let Some((env, takes_value)) = known.get(&long) else {
            continue;
        };
        let value = s
            .value
            .map_err(|e| format!("{}:{}: {}: {e}", path.display(), s.line, s.key))?;
        if given(&long) || std::env::var_os(env).is_some() {
            continue;
        }
        if *takes_value {
            out.push(OsString::from(format!("--{long}={value}")));
        } else if value == "true" {
            out.push(OsString::from(format!("--{long}")));
        }
    }
    Ok(out)
}

/// `trent config check`: every key must be a flag of `trent serve` and every value valid for it.
pub fn check(path: &Path) -> Result<(), String> {
    let (_, settings) = read(path)?;
    let root = crate::Cli::command();
    let serve = root
        .find_subcommand("serve")
        .ok_or_else(|| "no serve command".to_owned())?
        .clone();
    let known = settable(&serve);
    let mut problems = Vec::new();
    for s in &settings {
        let long = long_name(&s.key);
        let at = format!("{}:{}", path.display(), s.line);
        if !known.contains_key(&long) {
            problems.push(format!("{at}: unknown key `{}`", s.key));
            continue;
        }
        let value = match &s.value {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!("{at}: `{}`: {e}", s.key));
                continue;
            }
        };
        // The value as clap would parse it for that flag alone.
        let parsed = serve
            .clone()
            .no_binary_name(true)
            .ignore_errors(false)
            .try_get_matches_from([format!("--{long}={value}")]);
        if let Err(e) = parsed {
            if e.kind() == clap::error::ErrorKind::MissingRequiredArgument
                || e.kind() == clap::error::ErrorKind::MissingSubcommand
            {
                continue;
            }
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or_default().trim_start_matches("error: ");
            problems.push(format!("{at}: `{}`: {first}", s.key));
        }
    }
    if problems.is_empty() {
        println!("{}: {} settings, all valid", path.display(), settings.len());
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

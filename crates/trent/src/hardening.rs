//! Process hardening at start (issue 12): a server that holds the root key and unsealed key
//! material must not leave them in a core file or to a debugger. On Linux: the core-file limit is
//! set to 0 (`RLIMIT_CORE`), the process is made non-dumpable (`PR_SET_DUMPABLE` 0: no core dump,
//! no ptrace attach by other processes of the same user, `/proc/<pid>/mem` closed to them), and
//! with `--mlock` all its memory, present and future, is locked out of swap (`mlockall` with
//! `MCL_ONFAULT`: pages are locked as they are touched, so the allocator's reserved address space
//! costs no memory; but it counts against `RLIMIT_MEMLOCK`, so in practice this needs
//! `CAP_IPC_LOCK`). Through rustix's safe wrappers: no `unsafe` here.

/// Applies the hardening; `mlock` adds `mlockall`. An error says what failed.
pub fn apply(mlock: bool) -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        use rustix::mm::{mlockall, MlockAllFlags};
        use rustix::process::{set_dumpable_behavior, setrlimit, DumpableBehavior, Resource, Rlimit};
        setrlimit(
            Resource::Core,
            Rlimit {
                current: Some(0),
                maximum: Some(0),
            },
        )
        .map_err(|e| format!("cannot disable core files: {e}"))?;
        set_dumpable_behavior(DumpableBehavior::NotDumpable)
            .map_err(|e| format!("cannot make the process non-dumpable: {e}"))?;
        if mlock {
            mlockall(MlockAllFlags::CURRENT | MlockAllFlags::FUTURE | MlockAllFlags::ONFAULT)
                .map_err(|e| format!("--mlock: {e} (needs CAP_IPC_LOCK, or RLIMIT_MEMLOCK above the server's size)"))?;
        }
    }
    #[cfg(not(target_os = "linux"))]
    if mlock {
        return Err("--mlock is supported on Linux only".into());
    }
    Ok(())
}

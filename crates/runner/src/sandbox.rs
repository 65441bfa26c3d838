//! Containment of worker processes with bubblewrap: new user, pid, network, ipc and uts
//! namespaces; no network; a read-only root holding only the system's libraries, the version's
//! environment and bundle (read-only) and the worker's scratch folder. The data
//! folder, other models, the server's files and home are not there at all.
//! Temporary files go to the scratch folder (`TMPDIR`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// How workers run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sandbox {
    /// Inside bubblewrap, this executable.
    Bubblewrap(PathBuf),
    /// As plain child processes: the operator asked for it (`--insecure-no-sandbox`).
    Off,
}

/// What a sandboxed worker may see besides the system's libraries.
#[derive(Debug)]
pub struct Mounts<'a> {
    /// The version's environment (read-only).
    pub env: &'a Path,
    /// The unpacked bundle (read-only), the working folder.
    pub bundle: &'a Path,
    /// Writable: the worker's own folder, also its `TMPDIR`.
    pub scratch: &'a Path,
    /// The Unix socket the worker connects to.
    pub socket: &'a Path,
    /// The unprivileged user the worker runs as, when the server runs as root: root ignores
    /// the process limit, and a user of its own gives each worker its own count.
    pub uid: Option<u32>,
}

/// The first of the user ids workers of a root server run as; none is in `/etc/passwd`.
pub const WORKER_UIDS: u32 = 200_000;

/// Whether this process runs as root.
pub fn runs_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// Resource limits of one worker process, set with `prlimit` before anything of the model runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of address space (RLIMIT_AS): a larger allocation fails with MemoryError.
    pub memory: u64,
    /// Open file descriptors (RLIMIT_NOFILE).
    pub open_files: u64,
    /// Bytes of the largest file it may write (RLIMIT_FSIZE): past it the write fails.
    pub file_size: u64,
    /// Processes and threads (RLIMIT_NPROC), counted for the worker's own user; applied when
    /// the server runs as root and each worker has a user of its own.
    pub processes: u64,
    /// Bytes its scratch folder may hold in all: a tmpfs of this size (memory, so kept small),
    /// past which writes fail with "no space left".
    pub scratch: u64,
    /// Seconds of CPU per step (RLIMIT_CPU, moved by the server before each step).
    pub cpu: u64,
    /// Bytes of a step's answer; a larger one is refused by the worker with the limit named,
    /// and a frame claiming more is refused by the server.
    pub output: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory: 4 << 30,
            open_files: 1024,
            file_size: 1 << 30,
            processes: 256,
            scratch: 256 << 20,
            cpu: 600,
            output: 64 << 20,
        }
    }
}

/// What a source build sees besides the system's libraries.
#[derive(Debug)]
pub struct BuildMounts<'a> {
    /// The environment being built: writable.
    pub env: &'a Path,
    /// The build's own folder (home, temporary files, uv's cache): writable, its size watched.
    pub scratch: &'a Path,
    /// Read-only: uv itself, the SDK's wheel.
    pub read_only: Vec<PathBuf>,
    /// The build's own user, when the server runs as root.
    pub uid: Option<u32>,
    /// The largest file it may write.
    pub file_size: u64,
    /// Bytes of address space of each of its processes.
    pub memory: u64,
}

/// The first of the user ids source builds of a root server run as, apart from workers'.
pub const BUILD_UIDS: u32 = 300_000;

/// What name resolution and TLS need, for builds that reach the package index.
const NETWORK_ETC: &[&str] = &[
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/nsswitch.conf",
    "/etc/host.conf",
    "/etc/gai.conf",
    "/etc/ssl",
    "/etc/ca-certificates",
    "/etc/pki",
];

/// System folders every Python needs, bound read-only when they exist.
const SYSTEM: &[&str] = &["/usr", "/lib", "/lib64", "/bin", "/sbin"];
/// Single files of `/etc` that programs read; nothing else of `/etc` is visible.
const ETC: &[&str] = &[
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/etc/ssl/certs",
    "/etc/mime.types",
];

impl Sandbox {
    /// Finds bubblewrap and proves it works here by running `true` in the same kind of
    /// sandbox the workers get; the error says why it cannot be used.
    pub fn probe(bwrap: Option<&Path>) -> Result<Self, String> {
        prlimit()?;
        let bwrap = match bwrap {
            Some(p) => p.to_path_buf(),
            None => find("bwrap").ok_or(
                "bubblewrap (bwrap) is not installed; install the Debian package `bubblewrap`",
            )?,
        };
        let scratch = std::env::temp_dir().join(format!("feather-probe-{}", std::process::id()));
        std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
        let sandbox = Self::Bubblewrap(bwrap);
        let mounts = Mounts {
            env: Path::new("/usr"),
            bundle: Path::new("/usr"),
            scratch: &scratch,
            socket: &scratch,
            uid: runs_as_root().then_some(WORKER_UIDS),
        };
        let out = sandbox
            .command(&Limits::default(), &mounts, Path::new("/bin/true"))
            .and_then(|(program, args)| {
                std::process::Command::new(program)
                    .args(args)
                    .stdin(Stdio::null())
                    .output()
                    .map_err(|e| format!("bwrap could not be started: {e}"))
            });
        let _ = std::fs::remove_dir_all(&scratch);
        let out = out?;
        if out.status.success() {
            Ok(sandbox)
        } else {
            Err(format!(
                "bwrap cannot create its namespaces here ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
    }

    /// The whole command line of a worker: `prlimit` with the limits, then the sandbox, then
    /// `program`, whose own arguments follow.
    pub fn command(
        &self,
        limits: &Limits,
        m: &Mounts,
        program: &Path,
    ) -> Result<(PathBuf, Vec<OsString>), String> {
        let mut args: Vec<OsString> = vec![
            format!("--as={}", limits.memory).into(),
            format!("--nofile={}", limits.open_files).into(),
            format!("--fsize={}", limits.file_size).into(),
        ];
        if m.uid.is_some() {
            args.push(format!("--nproc={}", limits.processes).into());
        }
        args.push("--".into());
        if let Self::Bubblewrap(bwrap) = self {
            args.push(bwrap.into());
            args.extend(self.args(m, limits));
        }
        if let Some(uid) = m.uid {
            args.extend(setpriv(uid)?);
        }
        args.push(program.into());
        Ok((prlimit()?, args))
    }

    /// The arguments that come before the program's own path and arguments.
    pub fn args(&self, m: &Mounts, limits: &Limits) -> Vec<OsString> {
        let Self::Bubblewrap(_) = self else {
            return Vec::new();
        };
        let base = base_python(m.env);
        let mut own: Vec<(&str, &Path)> = vec![("--ro-bind", m.env)];
        if let Some(base) = &base {
            own.push(("--ro-bind", base));
        }
        own.extend([("--ro-bind", m.bundle), ("--dir", m.scratch)]);
        if m.socket != m.scratch {
            own.push(("--bind", m.socket));
        }
        let mut a = jail(&own, m.uid.is_some(), false, &[]);
        // Scratch is a tmpfs of its own size, writable by the worker's user (the only one in
        // its namespace); /dev/shm, which joblib and multiprocessing want, shares that size.
        for dir in [m.scratch, Path::new("/dev/shm")] {
            a.extend([
                OsString::from("--perms"),
                "1777".into(),
                "--size".into(),
                limits.scratch.to_string().into(),
                "--tmpfs".into(),
                dir.into(),
            ]);
        }
        a.extend([OsString::from("--chdir"), m.bundle.into()]);
        // Temporary files go to the scratch folder: the rest of the tree is read-only.
        a.extend([
            OsString::from("--setenv"),
            "TMPDIR".into(),
            m.scratch.into(),
        ]);
        // Everything not bound above is a read-only empty root.
        a.extend(["--remount-ro", "/"].map(OsString::from));
        a
    }

    /// The whole command line of a source build: `prlimit`, bubblewrap with the network (the
    /// package index needs it) but nothing of the host writable except the environment being
    /// built and the build's scratch folder, then `setpriv` to the build's own user when the
    /// server is root, then `program`. An error without bubblewrap (source builds never run
    /// outside it) or without `setpriv` or `prlimit`.
    pub fn build_command(
        &self,
        b: &BuildMounts,
        program: &Path,
    ) -> Result<(PathBuf, Vec<OsString>), String> {
        let Self::Bubblewrap(bwrap) = self else {
            return Err("source builds run only in bubblewrap, which is not in use".into());
        };
        let mut args: Vec<OsString> = vec![
            format!("--as={}", b.memory).into(),
            format!("--nofile={}", 4096).into(),
            format!("--fsize={}", b.file_size).into(),
        ];
        if b.uid.is_some() {
            args.push(format!("--nproc={}", 1024).into());
        }
        args.push("--".into());
        args.push(bwrap.into());
        let base = base_python(b.env);
        let mut own: Vec<(&str, &Path)> = vec![("--bind", b.env), ("--bind", b.scratch)];
        if let Some(base) = &base {
            own.push(("--ro-bind", base));
        }
        own.extend(b.read_only.iter().map(|p| ("--ro-bind", p.as_path())));
        args.extend(jail(&own, b.uid.is_some(), true, NETWORK_ETC));
        args.extend([OsString::from("--chdir"), b.scratch.into()]);
        args.extend(["--remount-ro", "/"].map(OsString::from));
        if let Some(uid) = b.uid {
            args.extend(setpriv(uid)?);
        }
        args.push(program.into());
        Ok((prlimit()?, args))
    }

    /// What a signal that ended a worker means, when a limit sent it.
    pub fn limit_of(signal: i32) -> Option<&'static str> {
        match signal {
            24 => Some("its CPU time limit"),
            25 => Some("it wrote a file over its file size limit"),
            _ => None,
        }
    }

    /// How a worker's exit reads: bubblewrap reports a signal that killed the program as the
    /// exit code 128 + the signal's number.
    pub fn signal_of(&self, code: i32) -> Option<i32> {
        match self {
            Self::Bubblewrap(_) if (129..160).contains(&code) => Some(code - 128),
            _ => None,
        }
    }
}

/// Namespaces and mounts shared by workers and builds: new pid, ipc and uts namespaces (and a
/// user namespace unless a root server drops to a user of its own, which one would not allow:
/// root maps only itself into it), the network unless `network`, the system's folders and a few
/// `/etc` files read-only, and `own` with the folders leading to them.
fn jail(own: &[(&str, &Path)], own_user: bool, network: bool, etc: &[&str]) -> Vec<OsString> {
    let mut a: Vec<OsString> = Vec::new();
    if !own_user {
        a.push("--unshare-user".into());
    }
    a.extend(
        [
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
        ]
        .map(OsString::from),
    );
    if !network {
        a.push("--unshare-net".into());
    }
    a.extend(
        [
            "--die-with-parent",
            "--new-session",
            "--hostname",
            "feather",
        ]
        .map(OsString::from),
    );
    // The folders leading to them, made traversable: bubblewrap would make them 0700, closed
    // to a process that runs as a user of its own.
    let mut parents: Vec<&Path> = own
        .iter()
        .flat_map(|(_, p)| p.ancestors().skip(1))
        .filter(|d| d.parent().is_some() && !SYSTEM.iter().any(|s| d.starts_with(s)))
        .collect();
    parents.sort();
    parents.dedup();
    parents.sort_by_key(|d| d.components().count());
    for d in parents {
        a.extend(["--perms".into(), "0755".into(), "--dir".into(), d.into()]);
    }
    let mut bind = |how: &str, from: &Path, to: &Path| {
        a.extend([how.into(), from.into(), to.into()]);
    };
    for dir in SYSTEM.iter().chain(ETC).chain(etc) {
        bind("--ro-bind-try", Path::new(dir), Path::new(dir));
    }
    for (how, p) in own {
        if *how != "--dir" {
            bind(how, p, p);
        }
    }
    a.extend(["--proc", "/proc", "--dev", "/dev"].map(OsString::from));
    a
}

/// `setpriv` to `uid` with no groups and no capabilities.
fn setpriv(uid: u32) -> Result<Vec<OsString>, String> {
    let setpriv = find("setpriv")
        .ok_or("setpriv is not installed; install the Debian package `util-linux`")?;
    let mut a = vec![setpriv.into_os_string()];
    a.extend(
        [
            format!("--reuid={uid}"),
            format!("--regid={uid}"),
            "--clear-groups".into(),
            "--bounding-set=-all".into(),
            "--".into(),
        ]
        .map(OsString::from),
    );
    Ok(a)
}

/// The interpreter a venv was made from (`home` in `pyvenv.cfg`), whose standard library the
/// venv uses: its installation folder.
fn base_python(env: &Path) -> Option<PathBuf> {
    let cfg = std::fs::read_to_string(env.join("pyvenv.cfg")).ok()?;
    let home = cfg.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == "home").then(|| PathBuf::from(v.trim()))
    })?;
    // `home` is the interpreter's bin folder; its parent holds lib/pythonX.Y.
    let prefix = home.parent()?.to_path_buf();
    (prefix != Path::new("/usr") && prefix != Path::new("/")).then_some(prefix)
}

fn prlimit() -> Result<PathBuf, String> {
    find("prlimit").ok_or_else(|| {
        "prlimit is not installed; install the Debian package `util-linux`".to_owned()
    })
}

fn find(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain(["/usr/bin".into(), "/bin".into()])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

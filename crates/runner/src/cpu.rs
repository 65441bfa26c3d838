//! A step's CPU time, watched from outside: while the server waits for an answer that takes
//! longer than a moment, it reads the worker's CPU time (all its threads) from `/proc` a few
//! times a second, and stops the worker once the step has used more than its allowance. Nothing
//! in the sandbox can change what `/proc` reports, and no privilege is needed to read it (an
//! rlimit would need the server to raise it again for each step, which root without
//! CAP_SYS_RESOURCE, as in many containers, may not do).

use std::collections::HashMap;

/// The chain that starts a worker; the first process below it is the model's Python.
const LAUNCHERS: [&str; 3] = ["prlimit", "bwrap", "setpriv"];

/// The CPU allowance of one worker's steps.
#[derive(Debug, Clone, Copy)]
pub struct CpuLimit {
    pid: u32,
    /// Seconds of CPU per step, all threads counted.
    pub per_step: u64,
}

/// `(comm, ppid, utime + stime in ticks)` from `/proc/<pid>/stat`.
fn stat(pid: u32) -> Option<(String, u32, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: it ends at the last `)`.
    let (head, rest) = text.rsplit_once(')')?;
    let comm = head.split_once('(')?.1.to_owned();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state (3), ppid (4), ... utime (14), stime (15).
    let ppid = fields.get(1)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((comm, ppid, utime + stime))
}

/// The first process below `root` (breadth first, `root` included) that is not one of the
/// launchers: the worker's Python, as this side of the sandbox numbers it.
fn python_below(root: u32) -> Option<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    let mut names: HashMap<u32, String> = HashMap::new();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some((comm, ppid, _)) = stat(pid) {
            children.entry(ppid).or_default().push(pid);
            names.insert(pid, comm);
        }
    }
    let mut queue = std::collections::VecDeque::from([root]);
    while let Some(pid) = queue.pop_front() {
        if names
            .get(&pid)
            .is_some_and(|n| !LAUNCHERS.contains(&n.as_str()))
        {
            return Some(pid);
        }
        let mut below = children.remove(&pid).unwrap_or_default();
        below.sort_unstable();
        queue.extend(below);
    }
    None
}

impl CpuLimit {
    /// Finds the worker's Python below the process the server started.
    pub fn find(root: u32, per_step: u64) -> Option<Self> {
        Some(Self {
            pid: python_below(root)?,
            per_step,
        })
    }

    /// Seconds of CPU the process has used so far, all threads counted; none once it is gone.
    pub fn used(&self) -> Option<f64> {
        let ticks = rustix::param::clock_ticks_per_second().max(1);
        let (_, _, used) = stat(self.pid)?;
        Some(used as f64 / ticks as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_below_the_launchers_is_found_and_its_time_read() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .unwrap();
        let found = CpuLimit::find(child.id(), 3).expect("a process below");
        assert_eq!(found.pid, child.id());
        let first = found.used().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(300));
        let later = found.used().unwrap();
        assert!(
            later > first,
            "{first} then {later}: the spinning shell used no CPU"
        );
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(found.used(), None, "a reaped process has no time");
    }
}

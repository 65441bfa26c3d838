//! What an engine's failure means to a client: the one place a [`RunError`] becomes an
//! [`ServiceError`], with the limit a step met named in the model's own terms.

use feather_runner::engine::{LimitKind, RunError};
use feather_runner::sandbox::Limits;

use super::cache::Target;
use crate::Actor;
use crate::Service;
use crate::{Code, ServiceError};

/// The answer to a step that failed; only the model's owner sees the traceback.
pub fn run_error(
    e: RunError,
    step: &str,
    s: &Service,
    t: &Target,
    user: Option<&Actor>,
) -> ServiceError {
    let owner = user.is_some_and(|u| u.name() == t.detail.owner);
    match e {
        RunError::Limit {
            kind: LimitKind::Cpu,
            message,
            ..
        } => ServiceError::new(Code::StepTimeout, message),
        RunError::Limit {
            kind,
            message,
            traceback,
        } => ServiceError::step_failed(
            format!(
                "step {step:?} raised {message} ({})",
                named(kind, &s.runner.limits(&t.manifest))
            ),
            owner.then_some(traceback),
        ),
        RunError::Failed { message, traceback } => ServiceError::step_failed(
            format!("step {step:?} raised {message}"),
            owner.then_some(traceback),
        ),
        RunError::LoadFailed { message, traceback } => ServiceError::step_failed(
            format!("the model failed to load: {message}"),
            owner.then_some(traceback),
        ),
        RunError::Timeout(message) => ServiceError::new(Code::StepTimeout, message),
        RunError::Crashed(message) => ServiceError::new(Code::WorkerCrashed, message),
        RunError::Unavailable(message) => ServiceError::internal(message),
    }
}

/// A limit with its value and the manifest field that sets it.
fn named(kind: LimitKind, l: &Limits) -> String {
    match kind {
        LimitKind::Memory => format!(
            "its memory limit is {} MiB: limits.memory_mb",
            l.memory >> 20
        ),
        LimitKind::FileSize => format!(
            "its file size limit is {} MiB: limits.file_size_mb",
            l.file_size >> 20
        ),
        LimitKind::Processes => format!("its processes limit is {}: limits.processes", l.processes),
        LimitKind::OpenFiles => format!(
            "its open files limit is {}: limits.open_files",
            l.open_files
        ),
        LimitKind::Scratch => format!(
            "its scratch folder holds at most {} MiB: limits.scratch_mb",
            l.scratch >> 20
        ),
        LimitKind::Output => format!(
            "its output limit is {} MiB: limits.output_mb",
            l.output >> 20
        ),
        LimitKind::Cpu => format!("its CPU time limit is {} s: limits.cpu_seconds", l.cpu),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_limit_is_named_with_its_manifest_field() {
        let l = Limits::default();
        for kind in [
            LimitKind::Memory,
            LimitKind::FileSize,
            LimitKind::Processes,
            LimitKind::OpenFiles,
            LimitKind::Scratch,
            LimitKind::Output,
            LimitKind::Cpu,
        ] {
            assert!(named(kind, &l).contains("limits."), "{kind:?}");
        }
    }
}

//! The cap on the memory ONNX Runtime takes for models' tensors (`--onnx-memory-mb`): one arena
//! for every session of the process, registered on the environment, which the sessions use
//! instead of their own. A run that would go past it fails with ONNX Runtime's allocation
//! error, which the engine answers as a failed step saying so; the server goes on.
//!
//! ONNX Runtime offers the cap only through its C API's arena configuration, which the `ort`
//! crate's safe interface does not reach, so this module alone calls that API directly.
#![allow(unsafe_code)]

use std::ffi::{CStr, c_char};
use std::ptr;

use ort::AsPointer;
use ort::environment::Environment;
use ort::memory::{AllocationDevice, AllocatorType, MemoryInfo, MemoryType};
use ort::sys::{OrtArenaCfg, OrtStatusPtr};

/// How the arena grows: by what is asked, not in powers of two, so the cap is met exactly.
const SAME_AS_REQUESTED: usize = 1;

/// Registers a CPU arena of at most `max_bytes` on the environment.
pub fn register(env: &Environment, max_bytes: usize) -> Result<(), String> {
    let api = ort::api();
    let keys: [*const c_char; 2] = [c"max_mem".as_ptr(), c"arena_extend_strategy".as_ptr()];
    let values: [usize; 2] = [max_bytes, SAME_AS_REQUESTED];
    let mut cfg: *mut OrtArenaCfg = ptr::null_mut();
    // SAFETY: the keys are NUL-terminated and live through the call, the values as many as the
    // keys; ONNX Runtime writes the new configuration into `cfg`, which is released below.
    check(unsafe { (api.CreateArenaCfgV2)(keys.as_ptr(), values.as_ptr(), keys.len(), &mut cfg) })?;
    let info = MemoryInfo::new(
        AllocationDevice::CPU,
        0,
        AllocatorType::Arena,
        MemoryType::Default,
    )
    .map_err(|e| e.to_string());
    let registered = info.and_then(|info| {
        // SAFETY: the environment outlives every session (the server keeps it for the
        // process); ONNX Runtime copies what it needs of the memory info and the
        // configuration, both valid for the call.
        check(unsafe { (api.CreateAndRegisterAllocator)(env.ptr().cast_mut(), info.ptr(), cfg) })
    });
    // SAFETY: `cfg` was made by CreateArenaCfgV2 above and is released once.
    unsafe { (api.ReleaseArenaCfg)(cfg) };
    registered
}

/// A status as a result: its message, the status released.
fn check(status: OrtStatusPtr) -> Result<(), String> {
    if status.0.is_null() {
        return Ok(());
    }
    let api = ort::api();
    // SAFETY: a non-null status holds a NUL-terminated message until it is released.
    let message = unsafe { CStr::from_ptr((api.GetErrorMessage)(status.0)) }
        .to_string_lossy()
        .into_owned();
    // SAFETY: the status is ours to release, once.
    unsafe { (api.ReleaseStatus)(status.0) };
    Err(message)
}

/// Whether ONNX Runtime's error says the arena had no room for a tensor.
pub fn is_exhausted(message: &str) -> bool {
    message.contains("Failed to allocate memory") || message.contains("Available memory of")
}

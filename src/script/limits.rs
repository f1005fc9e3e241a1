//! Sandbox limits. The defaults stop a runaway loop within a few seconds and
//! runaway recursion or allocation at once, while leaving ordinary token
//! workflows (hundreds of tokens, a few calls each) far below every limit.

use std::time::Duration;

use rhai::{Array, Dynamic, Engine, EvalAltResult, ImmutableString, Map, Position};

/// Resource limits for one script run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Rhai operations (roughly: expressions evaluated) per run. 0 = unlimited.
    pub max_operations: u64,
    /// Nested function calls.
    pub max_call_depth: usize,
    /// Bytes in one string.
    pub max_string_size: usize,
    /// Elements in one array.
    pub max_array_size: usize,
    /// Entries in one object map.
    pub max_map_size: usize,
    /// Modules imported in one run.
    pub max_modules: usize,
    /// Wall time per run; `None` = no limit.
    pub timeout: Option<Duration>,
    /// Calls that reach the API server (or wait on it) per run. 0 = unlimited.
    pub max_api_calls: u64,
}

/// 20 million operations: a tight `loop {}` reaches it in about one to four
/// seconds (release and debug builds), and a script looping over a thousand
/// tokens uses well under 1% of it.
pub const DEFAULT_MAX_OPERATIONS: u64 = 20_000_000;
pub const DEFAULT_MAX_CALL_DEPTH: usize = 64;
/// The deepest `--max-call-depth` the script thread's stack
/// ([`super::host::SCRIPT_STACK`]) holds with room to spare: measured, a
/// debug build overflows 16 MiB between 512 and 1000 levels of a one-line
/// recursive function, and real functions take bigger frames.
pub const MAX_CALL_DEPTH_CAP: u64 = 256;
pub const DEFAULT_MAX_STRING_SIZE: usize = 1 << 20;
pub const DEFAULT_MAX_ARRAY_SIZE: usize = 100_000;
pub const DEFAULT_MAX_MAP_SIZE: usize = 10_000;
pub const DEFAULT_MAX_MODULES: usize = 32;
/// 10,000 API calls: a loop polling `token::list()` cheaply in operations
/// still stops, within seconds against a local server, instead of running
/// until `--timeout`; a rotation uses a few dozen.
pub const DEFAULT_MAX_API_CALLS: u64 = 10_000;
/// Wall time covers time spent waiting on the API server, which the operation
/// count does not see.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// Nesting depth of expressions and statements accepted by the parser;
/// deeper input is rejected at compile time instead of overflowing the stack.
const MAX_EXPR_DEPTH: usize = 64;
const MAX_FN_EXPR_DEPTH: usize = 32;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_operations: DEFAULT_MAX_OPERATIONS,
            max_call_depth: DEFAULT_MAX_CALL_DEPTH,
            max_string_size: DEFAULT_MAX_STRING_SIZE,
            max_array_size: DEFAULT_MAX_ARRAY_SIZE,
            max_map_size: DEFAULT_MAX_MAP_SIZE,
            max_modules: DEFAULT_MAX_MODULES,
            timeout: Some(DEFAULT_TIMEOUT),
            max_api_calls: DEFAULT_MAX_API_CALLS,
        }
    }
}

impl Limits {
    /// Applies every limit the engine enforces itself; the wall time is
    /// enforced by the run's progress callback.
    pub fn apply(&self, engine: &mut Engine) {
        engine
            .set_max_operations(self.max_operations)
            .set_max_call_levels(self.max_call_depth)
            .set_max_string_size(self.max_string_size)
            .set_max_array_size(self.max_array_size)
            .set_max_map_size(self.max_map_size)
            .set_max_modules(self.max_modules)
            .set_max_expr_depths(MAX_EXPR_DEPTH, MAX_FN_EXPR_DEPTH);
    }
}

/// The sizes a variable may reach, checked each time a script reads it.
///
/// Rhai 1.27 checks a collection's size when a function returns it or
/// changes it through `&mut`, and after `m.key = v`; after `m[key] = v` it
/// checks only the value assigned (`eval/chaining.rs`), so a loop adding
/// keys that way grew a map past `--max-map-size` unnoticed. Reading the
/// variable again (the loop's next `m[…] = …`) now stops it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SizeCheck {
    map: usize,
    array: usize,
    string: usize,
}

impl Limits {
    pub(crate) fn size_check(&self) -> SizeCheck {
        SizeCheck {
            map: self.max_map_size,
            array: self.max_array_size,
            string: self.max_string_size,
        }
    }
}

impl SizeCheck {
    /// Fails with Rhai's own size error, which [`super::error`] turns into
    /// the message naming the flag. Only the variable's own length is read,
    /// so that a read costs the same for a large map as for a small one.
    pub(crate) fn check(&self, name: &str, value: &Dynamic) -> Result<(), Box<EvalAltResult>> {
        // 0 is Rhai's "no limit" (the CLI refuses it; the library allows it).
        let over = |n: usize, max: usize| max > 0 && n > max;
        let what = if let Some(m) = value.read_lock::<Map>() {
            over(m.len(), self.map)
                .then(|| format!("Size of object map `{name}` ({} entries)", m.len()))
        } else if let Some(a) = value.read_lock::<Array>() {
            over(a.len(), self.array)
                .then(|| format!("Size of array `{name}` ({} elements)", a.len()))
        } else if let Some(s) = value.read_lock::<ImmutableString>() {
            over(s.len(), self.string)
                .then(|| format!("Length of string `{name}` ({} bytes)", s.len()))
        } else {
            None
        };
        match what {
            Some(what) => Err(EvalAltResult::ErrorDataTooLarge(what, Position::NONE).into()),
            None => Ok(()),
        }
    }
}

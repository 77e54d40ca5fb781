//! Places where a test can make Pipit fail on purpose, to show what the user
//! sees when Pipit itself breaks (a thread that panics). Only in debug
//! builds, which is what the tests run: `PIPIT_FAILPOINT=writer pipit fetch`
//! panics in the store writer; a test in the same process arms one with
//! [`arm`]. Release builds compile these to nothing.

#[cfg(debug_assertions)]
static ARMED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Panics if the `PIPIT_FAILPOINT` environment variable, or [`arm`], names `name`.
#[inline]
pub fn hit(name: &str) {
    if armed(name) {
        panic!("failpoint {name}");
    }
}

/// Whether the `PIPIT_FAILPOINT` environment variable, or [`arm`], names
/// `name`: for a fault that is not a panic (always false in release builds).
#[inline]
pub fn armed(name: &str) -> bool {
    #[cfg(debug_assertions)]
    {
        ARMED.lock().is_ok_and(|a| a.iter().any(|a| a == name))
            || std::env::var("PIPIT_FAILPOINT").is_ok_and(|v| v == name)
    }
    #[cfg(not(debug_assertions))]
    {
        let _ = name;
        false
    }
}

/// Makes [`hit`] panic at `name` in this process (debug builds only).
pub fn arm(name: &str) {
    #[cfg(debug_assertions)]
    if let Ok(mut armed) = ARMED.lock() {
        armed.push(name.to_string());
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}

#[cfg(debug_assertions)]
static SETTINGS: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

/// A test setting (debug builds only): what [`set_test_setting`] gave
/// `name` in this process, else the environment variable `name` (the
/// `PIPIT_DISCOVER_*` ones that point lookups at local servers). A test
/// that drives the window in its own process sets them here, not in the
/// environment, which other threads read.
pub fn test_setting(name: &str) -> Option<String> {
    #[cfg(debug_assertions)]
    {
        let set = SETTINGS
            .lock()
            .ok()
            .and_then(|s| s.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()));
        set.or_else(|| std::env::var(name).ok())
            .filter(|v| !v.is_empty())
    }
    #[cfg(not(debug_assertions))]
    {
        let _ = name;
        None
    }
}

/// Sets a test setting for this process (debug builds only).
pub fn set_test_setting(name: &str, value: &str) {
    #[cfg(debug_assertions)]
    if let Ok(mut settings) = SETTINGS.lock() {
        settings.retain(|(n, _)| n != name);
        settings.push((name.to_string(), value.to_string()));
    }
    #[cfg(not(debug_assertions))]
    let _ = (name, value);
}

/// What a panic said, for an error message.
pub fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no reason given".into())
}

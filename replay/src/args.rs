//! Where an argument's value comes from when recording: the command line or the environment.

use serde::de::DeserializeOwned;

/// Parses a raw argument as JSON, falling back to a plain string (so `--name=adam` works).
pub(crate) fn parse_arg<T: DeserializeOwned>(raw: &str) -> std::result::Result<T, String> {
    serde_json::from_str(raw)
        .or_else(|_| serde_json::from_value(serde_json::Value::String(raw.to_string())))
        .map_err(|e| format!("cannot parse {raw:?}: {e}"))
}

/// `--name=value` or `--name value` on the command line, then `STRATUS_ARG_<NAME>`.
pub(crate) fn process_arg(name: &str) -> Option<String> {
    let flag = format!("--{name}");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if let Some(v) = a.strip_prefix(&flag) {
            if let Some(v) = v.strip_prefix('=') {
                return Some(v.to_string());
            }
            if v.is_empty() {
                return args.next();
            }
        }
    }
    let var = format!("STRATUS_ARG_{}", name.to_uppercase().replace('-', "_"));
    std::env::var(var).ok()
}

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
    lookup(name, std::env::args().skip(1), |var| {
        std::env::var(var).ok()
    })
}

/// The lookup itself, over any argument list and environment (so it can be tested).
fn lookup(
    name: &str,
    mut args: impl Iterator<Item = String>,
    env: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    let flag = format!("--{name}");
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
    env(&format!(
        "STRATUS_ARG_{}",
        name.to_uppercase().replace('-', "_")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> impl Iterator<Item = String> {
        s.split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn command_line_then_environment() {
        let env = |var: &str| (var == "STRATUS_ARG_LEARNING_RATE").then(|| "0.5".to_string());
        assert_eq!(
            lookup("epochs", argv("--epochs=8 --lr 1"), env),
            Some("8".into())
        );
        assert_eq!(
            lookup("lr", argv("--epochs=8 --lr 1"), env),
            Some("1".into())
        );
        // `--lr` is not a prefix match for `--lrx`, and vice versa.
        assert_eq!(lookup("lrx", argv("--lr 1"), env), None);
        assert_eq!(lookup("lr", argv("--lrx=1"), env), None);
        assert_eq!(
            lookup("learning-rate", argv("--epochs=8"), env),
            Some("0.5".into())
        );
        assert_eq!(lookup("lr", argv("--lr"), env), None);
    }

    #[test]
    fn values_parse_as_json_or_string() {
        assert_eq!(parse_arg::<u32>("8"), Ok(8));
        assert_eq!(parse_arg::<String>("adam"), Ok("adam".to_string()));
        assert_eq!(parse_arg::<Vec<u32>>("[1,2]"), Ok(vec![1, 2]));
        assert!(parse_arg::<u32>("many").is_err());
    }
}

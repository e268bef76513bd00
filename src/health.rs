//! Process health: problems the daemon's parts report while running (a file stuck after its
//! claim, a store write that failed, a task that stopped), read by `/healthz` and cleared when
//! the part recovers.

use std::collections::BTreeMap;
use std::sync::Mutex;

static PROBLEMS: Mutex<BTreeMap<String, String>> = Mutex::new(BTreeMap::new());

/// Record (`Some`) or clear (`None`) the problem of one part (`inbox broker`, `store` ...).
pub fn set(part: &str, problem: Option<String>) {
    let mut p = PROBLEMS.lock().unwrap_or_else(|e| e.into_inner());
    match problem {
        Some(text) => {
            p.insert(part.to_string(), text);
        }
        None => {
            p.remove(part);
        }
    }
}

/// Every open problem: (part, what), sorted by part.
pub fn problems() -> Vec<(String, String)> {
    let p = PROBLEMS.lock().unwrap_or_else(|e| e.into_inner());
    p.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_clear() {
        set("test-part", Some("disk full".into()));
        assert!(problems().iter().any(|(k, v)| k == "test-part" && v == "disk full"));
        set("test-part", None);
        assert!(!problems().iter().any(|(k, _)| k == "test-part"));
    }
}

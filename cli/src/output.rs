//! Shared output helpers: errors as text or JSON, human-readable sizes.

/// Prints an error chain to stderr, as `{"error": ...}` when `json` is set.
pub fn print_error(err: &anyhow::Error, json: bool) {
    if json {
        let chain: Vec<String> = err.chain().map(|e| e.to_string()).collect();
        let value = serde_json::json!({ "error": chain.join(": ") });
        eprintln!("{value}");
    } else {
        eprintln!("error: {err:#}");
    }
}

/// Formats a byte count with binary units (`1.50 MiB`).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::human_bytes;

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.50 KiB");
        assert_eq!(human_bytes(14_599_533_452), "13.60 GiB");
    }
}

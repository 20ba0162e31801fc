//! Numbers as people read them: sizes in binary units, WAL amounts from
//! FROST (1 WAL = 10^9 FROST), dates in UTC, durations, shortened ids.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// FROST per WAL.
pub const FROST_PER_WAL: u64 = 1_000_000_000;

/// `1.50 MiB`; bytes below 1 KiB are exact (`999 B`). Negative input (a
/// broken counter) is shown as is, never hidden.
pub fn bytes(n: i64) -> String {
    if n < 0 {
        return format!("{n} B");
    }
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let digits = if value >= 100.0 { 0 } else { 2 };
    format!("{value:.digits$} {}", UNITS[unit])
}

/// `1.5 WAL`, `0.000000001 WAL`, `12,000,000 WAL`: exact (integer math),
/// trailing zeros of the fraction dropped, thousands separated.
pub fn wal(frost: i64) -> String {
    let sign = if frost < 0 { "-" } else { "" };
    let abs = frost.unsigned_abs();
    let whole = abs / FROST_PER_WAL;
    let fraction = abs % FROST_PER_WAL;
    let mut out = format!("{sign}{}", thousands(whole));
    if fraction > 0 {
        let digits = format!("{fraction:09}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push_str(" WAL");
    out
}

/// `12,345,678`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A signed count with separators.
pub fn count(n: i64) -> String {
    if n < 0 {
        format!("-{}", thousands(n.unsigned_abs()))
    } else {
        thousands(n as u64)
    }
}

/// `2026-12-06 18:24:05 UTC` from milliseconds since the Unix epoch.
pub fn date(ms: i64) -> String {
    let Ok(ms) = u64::try_from(ms) else {
        return format!("{ms} ms");
    };
    let time = UNIX_EPOCH + Duration::from_millis(ms);
    let text = humantime::format_rfc3339_seconds(time).to_string();
    // 2026-12-06T18:24:05Z -> 2026-12-06 18:24:05 UTC
    match text.strip_suffix('Z') {
        Some(t) => format!("{} UTC", t.replacen('T', " ", 1)),
        None => text,
    }
}

/// `3h 5m`, `42s`: the two largest units, for "time left" and epoch
/// lengths.
pub fn duration(ms: i64) -> String {
    if ms <= 0 {
        return "0s".into();
    }
    let secs = ms / 1000;
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    let parts: Vec<String> = [(d, "d"), (h, "h"), (m, "m"), (s, "s")]
        .iter()
        .skip_while(|(v, _)| *v == 0)
        .take(2)
        .filter(|(v, _)| *v > 0)
        .map(|(v, u)| format!("{v}{u}"))
        .collect();
    if parts.is_empty() {
        format!("{ms} ms")
    } else {
        parts.join(" ")
    }
}

/// Now, in milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `0x1234…cdef` for long hex ids, the id itself when short.
pub fn short(id: &str) -> String {
    if id.len() <= 16 || !id.is_ascii() {
        return id.to_owned();
    }
    format!("{}…{}", &id[..8], &id[id.len() - 6..])
}

/// Basis points (the contracts' commission unit, 10000 = 100%) as a
/// percentage.
pub fn basis_points(bp: i64) -> String {
    format!("{:.2}%", bp as f64 / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1024), "1.00 KiB");
        assert_eq!(bytes(1536), "1.50 KiB");
        assert_eq!(bytes(5 * 1024 * 1024), "5.00 MiB");
        assert_eq!(bytes(300 * 1024 * 1024 * 1024), "300 GiB");
        assert_eq!(bytes(-5), "-5 B");
    }

    #[test]
    fn wal_amounts_are_exact() {
        assert_eq!(wal(0), "0 WAL");
        assert_eq!(wal(1), "0.000000001 WAL");
        assert_eq!(wal(1_500_000_000), "1.5 WAL");
        assert_eq!(wal(12_000_000 * 1_000_000_000), "12,000,000 WAL");
        assert_eq!(wal(-2_000_000_000), "-2 WAL");
        assert_eq!(wal(i64::MIN), "-9,223,372,036.854775808 WAL");
    }

    #[test]
    fn dates_and_durations_read_well() {
        assert_eq!(date(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(date(1_700_000_000_123), "2023-11-14 22:13:20 UTC");
        assert_eq!(duration(0), "0s");
        assert_eq!(duration(42_000), "42s");
        assert_eq!(duration(3_600_000 + 5 * 60_000 + 7_000), "1h 5m");
        assert_eq!(duration(2 * 86_400_000 + 3_600_000), "2d 1h");
        assert_eq!(duration(3_600_000), "1h");
        assert_eq!(duration(500), "500 ms");
    }

    #[test]
    fn ids_shorten_and_counts_separate() {
        assert_eq!(short("0x12"), "0x12");
        assert_eq!(short(&format!("0x{}", "ab".repeat(32))), "0xababab…ababab");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(-1000), "-1,000");
        assert_eq!(basis_points(250), "2.50%");
    }
}

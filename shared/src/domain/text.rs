//! Small text helpers shared by the alert renderers.

use std::time::{Duration, SystemTime};

/// Cuts `text` to at most `max_bytes` bytes on a character boundary, marking the cut.
pub fn truncate(text: &str, max_bytes: usize) -> String {
    const MARK: &str = " ... (truncated)";
    if text.len() <= max_bytes {
        return text.to_owned();
    }
    let mut end = max_bytes.saturating_sub(MARK.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{MARK}", &text[..end])
}

/// One ASCII line of at most `max_chars` characters, as SNS requires of a Subject: no
/// control characters, non-ASCII replaced, runs of white space folded.
pub fn ascii_line(text: &str, max_chars: usize) -> String {
    let mut line = String::with_capacity(text.len().min(max_chars));
    let mut last_was_space = true;
    for c in text.chars() {
        let c = if c.is_whitespace() || c.is_control() {
            ' '
        } else if c.is_ascii() {
            c
        } else {
            '?'
        };
        if c == ' ' && last_was_space {
            continue;
        }
        last_was_space = c == ' ';
        line.push(c);
    }
    let line = line.trim_end();
    if line.len() <= max_chars {
        return line.to_owned();
    }
    let cut = max_chars.saturating_sub(3);
    format!("{}...", line[..cut].trim_end())
}

pub fn rfc3339(time: SystemTime) -> String {
    humantime::format_rfc3339_seconds(time).to_string()
}

/// "3h 12m ago", at minute precision (seconds only under a minute).
pub fn age(since: SystemTime, now: SystemTime) -> String {
    let elapsed = now
        .duration_since(since)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let rounded = if elapsed >= 60 {
        elapsed - elapsed % 60
    } else {
        elapsed
    };
    format!(
        "{} ago",
        humantime::format_duration(Duration::from_secs(rounded))
    )
}

/// "2026-11-21T10:00:00Z (3h 12m ago)", or "unknown".
pub fn time_and_age(time: Option<SystemTime>, now: SystemTime) -> String {
    match time {
        Some(time) => format!("{} ({})", rfc3339(time), age(time, now)),
        None => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_respects_char_boundaries_and_limit() {
        let text = "é".repeat(100);
        let cut = truncate(&text, 51);
        assert!(cut.len() <= 51, "{}", cut.len());
        assert!(cut.ends_with("(truncated)"));
        assert_eq!(truncate("short", 10), "short");
    }

    #[test]
    fn ascii_line_folds_and_limits() {
        assert_eq!(ascii_line("a\nb\t\tc  ", 99), "a b c");
        assert_eq!(ascii_line("stack ✓ ok", 99), "stack ? ok");
        let long = ascii_line(&"word ".repeat(50), 99);
        assert!(long.len() <= 99);
        assert!(long.ends_with("..."));
    }

    #[test]
    fn age_is_rounded_to_minutes() {
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert_eq!(
            age(start, start + Duration::from_secs(3 * 3600 + 12 * 60 + 7)),
            "3h 12m ago"
        );
        assert_eq!(age(start, start + Duration::from_secs(42)), "42s ago");
        assert_eq!(age(start + Duration::from_secs(5), start), "0s ago");
    }
}

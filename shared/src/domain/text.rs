//! Small text helpers shared by the alert renderers.
//!
//! Most of what an alert shows was chosen by someone we do not trust: a blocker's reason and
//! contexts come from whoever pushed the template or called UpdateSyncBlocker, repository and
//! branch names from whoever owns the repository. The helpers here make such text inert for
//! each place it ends up in: a terminal or mail reader ([`plain_text`]), a chat channel
//! ([`chat_text`], [`chat_code`], [`chat_url`]) and a shell ([`shell_quote`]).

use std::borrow::Cow;
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

/// Shown where a value had a line break: the value stays on its line, so it cannot fake the
/// fields or list items the renderer writes on the lines after it.
pub const LINE_BREAK_MARK: char = '\u{23CE}'; // ⏎
/// Shown where a value had a control character (ESC included, which kills ANSI sequences).
pub const CONTROL_MARK: char = '\u{FFFD}'; // �

/// Invisible formatting characters (Unicode category Cf): bidi embeddings, overrides and
/// isolates (U+202A..U+202E, U+2066..U+2069), directional marks, zero-width spaces and joiners,
/// the soft hyphen, tag characters and the like. They draw nothing, yet can reorder or hide
/// what a reader sees ("txt.exe" shown as "exe.txt"), so the text renderers drop them: what is
/// left reads in the order it is stored.
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

fn needs_plain_text_care(c: char) -> bool {
    c.is_control() || is_line_break(c) || is_invisible_format(c)
}

/// Untrusted text as one inert line for a terminal or a mail reader: each line break (CRLF
/// counts once) becomes [`LINE_BREAK_MARK`], a tab a space, every other C0 or C1 control
/// character (ESC, so ANSI and OSC sequences, included) [`CONTROL_MARK`], and invisible
/// formatting characters ([`is_invisible_format`]) are dropped. Everything printable stays
/// exactly as it was.
pub fn plain_text(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_plain_text_care) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() == Some(&'\n') {
            continue; // the '\n' that follows gives the one mark for CRLF
        }
        if is_line_break(c) {
            out.push(LINE_BREAK_MARK);
        } else if c == '\t' {
            out.push(' ');
        } else if c.is_control() {
            out.push(CONTROL_MARK);
        } else if !is_invisible_format(c) {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Untrusted text for AWS Chatbot's `client-markdown`, which Slack and Microsoft Teams render.
///
/// First [`plain_text`] (one line, no controls). Then Slack's control characters become the
/// entities Slack asks for (`&amp;`, `&lt;`, `&gt;`): no `<!channel>`, `<!here>`, `<@U1>`,
/// `<#C1>` or `<url|label>` can form, and for a CommonMark renderer (Teams) the entities
/// stand for the literal characters and kill autolinks and inline HTML.
///
/// Then the markdown punctuation that could open a bold, italic, strike or code span, a link
/// or an escape is replaced by a look-alike that no markdown dialect reads as markup:
/// `*` ∗, `` ` `` ‵, `~` ∼, `[` ［, `]` ］, `\` ⧵, and `_` ＿ unless it sits between two
/// letters or digits (`UPDATE_ROLLBACK_FAILED` stays searchable; no dialect emphasises inside
/// a word). Why not a backslash: Slack's mrkdwn has no escape character at all, so `\*`
/// would show the backslash and could still be formatted; look-alikes are inert in both
/// clients and still read as what they are. The exact text is in the `json` format.
///
/// What stays: bare `https://...` text, which both clients may turn into a link, but one that
/// shows its real target (a disguised label needs `[label](url)` or `<url|label>`, which cannot
/// form); `:emoji:` codes; `#`, `|`, `(`, `)` and `-`, which are only markup at the start of a
/// line, where the renderer never puts a value (see [`chat_line`] for the one place it does).
pub fn chat_text(text: &str) -> String {
    let text = plain_text(text);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    for (n, &c) in chars.iter().enumerate() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '*' => out.push('\u{2217}'),
            '`' => out.push('\u{2035}'),
            '~' => out.push('\u{223C}'),
            '[' => out.push('\u{FF3B}'),
            ']' => out.push('\u{FF3D}'),
            '\\' => out.push('\u{29F5}'),
            '_' => {
                let inside_word = n > 0
                    && chars[n - 1].is_alphanumeric()
                    && chars.get(n + 1).is_some_and(|next| next.is_alphanumeric());
                out.push(if inside_word { '_' } else { '\u{FF3F}' });
            }
            c => out.push(c),
        }
    }
    out
}

/// [`chat_text`] for text that starts a line (a summary, a next step): also defuses the
/// block markup a line can start with (heading `#`, list `-` `+` `1.` `1)`, table `|`,
/// setext `=`, indented code), by trimming leading blanks and replacing that one marker.
pub fn chat_line(text: &str) -> String {
    let text = chat_text(text);
    let text = text.trim_start();
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    let mut out = String::with_capacity(text.len() + 4);
    for (n, c) in text.chars().enumerate() {
        let marker = match c {
            '#' if n == 0 => '\u{FF03}',
            '-' if n == 0 => '\u{2010}',
            '+' if n == 0 => '\u{FF0B}',
            '=' if n == 0 => '\u{FF1D}',
            '|' if n == 0 => '\u{FF5C}',
            '.' if n == digits && digits > 0 => '\u{FF0E}',
            ')' if n == digits && digits > 0 => '\u{FF09}',
            c => c,
        };
        out.push(marker);
    }
    out
}

/// A shell command (built with [`shell_quote`]) as a chat code span. Inside the span no
/// markup applies, so the command stays copyable as is, except for what a code span cannot
/// hold: `&`, `<` and `>` become Slack's entities (Slack shows them as the characters, in
/// code too), a backtick (which would end the span) becomes ‵, and line breaks and controls
/// are marked as in [`plain_text`]. A command so altered no longer pastes exactly; the `text`
/// and `json` formats have it.
pub fn chat_code(command: &str) -> String {
    let command = plain_text(command);
    let mut out = String::with_capacity(command.len() + 8);
    out.push('`');
    for c in command.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '`' => out.push('\u{2035}'),
            c => out.push(c),
        }
    }
    out.push('`');
    out
}

/// A URL for a Slack link `<url|label>`: what could end the link or its URL part (`>`, `|`,
/// `<`, blanks, quotes, backticks, controls, anything not ASCII) is percent-encoded, and `&`
/// becomes `&amp;` as Slack requires.
pub fn chat_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len() + 8);
    for c in url.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            c if c.is_ascii_graphic() && !matches!(c, '<' | '>' | '|' | '"' | '`' | '\\') => {
                out.push(c);
            }
            c => {
                let mut buf = [0u8; 4];
                for byte in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
        }
    }
    out
}

/// `text` percent-encoded for a URL query value: everything but RFC 3986's unreserved
/// characters, so a value cannot add parameters, a fragment or a path.
pub fn url_component(text: &str) -> Cow<'_, str> {
    let unreserved = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~');
    if text.chars().all(unreserved) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if unreserved(char::from(byte)) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    Cow::Owned(out)
}

/// One word for a POSIX shell that the shell reads back as exactly `value`, whatever it holds:
/// a paste-ready command must not run what a branch or blocker id smuggles in (`$(...)`,
/// backticks, `;`, quotes). Values made only of `[A-Za-z0-9_./:=@+-]`, which no shell treats
/// specially, stay as they are, so the usual command reads as it always did; anything else is
/// put in single quotes, inside which nothing is special, with each `'` written as `'\''`.
pub fn shell_quote(value: &str) -> Cow<'_, str> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./:=@+-".contains(c);
    if !value.is_empty() && value.chars().all(plain) {
        return Cow::Borrowed(value);
    }
    Cow::Owned(format!("'{}'", value.replace('\'', "'\\''")))
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
    fn plain_text_keeps_a_value_on_one_visible_line() {
        assert!(matches!(plain_text("payments-api"), Cow::Borrowed(_)));
        assert_eq!(plain_text("a\r\nb\nc\rd"), "a⏎b⏎c⏎d");
        assert_eq!(plain_text("\u{1b}[31mred\u{1b}[0m"), "�[31mred�[0m");
        assert_eq!(plain_text("a\tb\u{0}c\u{9b}d"), "a b�c�d");
        // "exe.txt" on screen, "txt.exe" in fact: shown as stored.
        assert_eq!(plain_text("report\u{202e}exe.txt"), "reportexe.txt");
        assert_eq!(plain_text("adm\u{200b}in\u{2066}x\u{2069}"), "adminx");
    }

    #[test]
    fn chat_text_defuses_mentions_links_and_spans() {
        assert_eq!(
            chat_text("<!channel> <https://evil.example/login|Open the AWS console>"),
            "&lt;!channel&gt; &lt;https://evil.example/login|Open the AWS console&gt;"
        );
        assert_eq!(
            chat_text("[a](http://x) *b* `c` ~d~ _e_ \\"),
            "［a］(http://x) ∗b∗ ‵c‵ ∼d∼ ＿e＿ ⧵"
        );
        assert_eq!(
            chat_text("UPDATE_ROLLBACK_FAILED"),
            "UPDATE_ROLLBACK_FAILED"
        );
        assert_eq!(chat_text("Tom & Jerry\n*x*"), "Tom &amp; Jerry⏎∗x∗");
    }

    #[test]
    fn chat_line_defuses_block_markup_at_the_start() {
        assert_eq!(chat_line("# Heading"), "＃ Heading");
        assert_eq!(chat_line("    - item"), "‐ item");
        assert_eq!(chat_line("12. step"), "12． step");
        assert_eq!(chat_line("1.2.3 is out"), "1．2.3 is out");
        assert_eq!(chat_line("Stack a-b is #1"), "Stack a-b is #1");
    }

    #[test]
    fn chat_code_keeps_the_command_but_not_a_way_out_of_the_span() {
        assert_eq!(
            chat_code("aws x --id 'a`b<c>'"),
            "`aws x --id 'a‵b&lt;c&gt;'`"
        );
    }

    #[test]
    fn chat_url_stays_one_slack_link_target() {
        assert_eq!(
            chat_url("https://x.example/?a=1&b=|>é"),
            "https://x.example/?a=1&amp;b=%7C%3E%C3%A9"
        );
    }

    #[test]
    fn url_component_encodes_all_but_unreserved() {
        assert_eq!(url_component("payments-api"), "payments-api");
        assert_eq!(url_component("a&b=c#d é"), "a%26b%3Dc%23d%20%C3%A9");
    }

    #[test]
    fn shell_quote_leaves_plain_words_and_quotes_the_rest() {
        assert!(matches!(
            shell_quote("arn:aws:codestar-connections:us-east-1:1:connection/c-1"),
            Cow::Borrowed(_)
        ));
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("$(rm -rf ~)"), "'$(rm -rf ~)'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("~"), "'~'");
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

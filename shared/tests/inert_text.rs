//! Text nobody trusted stays text: whatever a blocker reason, context, branch or id holds,
//! every format shows it inert, and a shell reads a quoted value back exactly.

use std::process::Command;

use gitsync::domain::alert::{
    Alert, AlertFormat, AlertKind, Link, SUBJECT_MAX_CHARS, Section, Severity, render,
};
use gitsync::domain::text::{is_invisible_format, shell_quote};
use proptest::prelude::*;
use serde_json::Value;

/// What people put in a reason to hijack a chat, a terminal or a shell.
const HOSTILE: &[&str] = &[
    "<!channel>",
    "<!here>",
    "<@U1>",
    "<#C1>",
    "<!subteam^S1>",
    "<https://x|y>",
    "[a](http://x)",
    "![i](http://x)",
    "<http://x>",
    "\u{1b}[31m",
    "\u{1b}]8;;http://x\u{7}",
    "\u{9b}2J",
    "\u{202e}",
    "\u{2066}",
    "\u{200b}",
    "\u{feff}",
    "\r\n",
    "\n",
    "\r",
    "\u{85}",
    "\u{2028}",
    "\t",
    "\0",
    "`",
    "```",
    "'",
    "\"",
    "$(",
    ")",
    "*",
    "_",
    "~",
    "#",
    ">",
    "|",
    "&",
    "&amp;",
    "&lt;",
    "\\",
    "- ",
    "1. ",
    "    ",
    ":skull:",
];

fn hostile_string() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => prop::sample::select(HOSTILE).prop_map(str::to_owned),
        2 => "[a-z0-9 ]{0,6}",
        1 => any::<String>().prop_map(|s| s.chars().take(12).collect()),
    ];
    prop::collection::vec(piece, 0..10).prop_map(|pieces| pieces.concat())
}

const LABEL: &str = "Reason";

/// An alert with `value` in every place a call site puts an untrusted value.
fn alert_with(value: &str) -> Alert {
    let mut alert = Alert::new(
        AlertKind::Blocker,
        Severity::Critical,
        format!("Blocked: {value}"),
    )
    .fact("Stack", value)
    .fact(LABEL, value);
    alert.summary = value.to_owned();
    alert.stack = Some(value.to_owned());
    alert
        .sections
        .push(Section::capped("Contexts", vec![value.to_owned()], 10));
    alert.next_steps.push(value.to_owned());
    alert.commands.push(format!(
        "aws codestar-connections update-sync-blocker --id {}",
        shell_quote(value)
    ));
    alert.links.push(Link {
        title: value.to_owned(),
        url: format!("https://x.example/?q={value}"),
    });
    alert
}

fn alphanumerics(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric()).collect()
}

/// What a chat client shows for Slack's three entities.
fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn chatbot(value: &str) -> Value {
    let message = render(&alert_with(value), AlertFormat::Chatbot, "test").message;
    serde_json::from_str(&message).expect("valid JSON")
}

fn assert_inert_chat_text(text: &str) {
    assert!(!text.contains(['<', '>', '[', ']', '`', '\\']), "{text:?}");
    assert!(!text.chars().any(char::is_control), "{text:?}");
    let chars: Vec<char> = text.chars().collect();
    for (n, &c) in chars.iter().enumerate() {
        if c == '_' {
            assert!(
                n > 0
                    && chars[n - 1].is_alphanumeric()
                    && chars.get(n + 1).is_some_and(|c| c.is_alphanumeric()),
                "an '_' that could start or end emphasis in {text:?}"
            );
        }
    }
}

fn check_chatbot(value: &str) {
    let rendered = chatbot(value);
    // An empty summary is left out, so the same shape without the value needs one.
    let benign = chatbot(if value.is_empty() { "" } else { "x" });
    let content = &rendered["content"];
    let description = content["description"].as_str().expect("a description");
    let title = content["title"].as_str().expect("a title");

    // The link is the renderer's one control sequence; its parts cannot close it early.
    let (body, link) = description.rsplit_once('\n').expect("the link line");
    let target = link
        .strip_prefix("<")
        .and_then(|l| l.strip_suffix(">"))
        .expect("one Slack link");
    let (url, label) = target.split_once('|').expect("url|label");
    assert!(url.starts_with("https://x.example/?q="), "{url}");
    assert!(
        !url.chars()
            .any(|c| c.is_whitespace() || "<>|`\"".contains(c)),
        "{url}"
    );
    assert_inert_chat_text(label);

    // Outside the link: no control sequence, no markup but the renderer's own bold labels.
    for line in body.lines() {
        assert!(!line.contains(['<', '>', '`', '[', ']', '~']), "{line:?}");
        assert!(!line.chars().any(char::is_control), "{line:?}");
    }
    assert_eq!(body.matches('*').count(), 2 * 2 + 2, "{body}");
    assert_eq!(
        description.lines().count(),
        benign["content"]["description"]
            .as_str()
            .map_or(0, |d| d.lines().count()),
        "a value added lines:\n{description}"
    );
    let summary = body.lines().next().unwrap_or_default();
    assert!(
        !summary.starts_with(|c: char| c.is_whitespace() || "#-+=|>".contains(c)),
        "{summary:?}"
    );
    let digits = summary.chars().take_while(char::is_ascii_digit).count();
    assert!(
        digits == 0 || !summary[digits..].starts_with(['.', ')']),
        "{summary:?}"
    );

    // Each value is there, readable: every letter and digit of it, in order.
    let fact = body
        .lines()
        .find_map(|line| line.strip_prefix(&format!("*{LABEL}:* ")))
        .expect("the fact");
    assert_inert_chat_text(fact);
    assert_eq!(alphanumerics(&decode_entities(fact)), alphanumerics(value));
    let item = body
        .lines()
        .find_map(|line| line.strip_prefix("• "))
        .expect("the item");
    assert_inert_chat_text(item);

    assert_inert_chat_text(title.trim_start_matches(":rotating_light: "));
    assert_inert_chat_text(rendered["metadata"]["summary"].as_str().unwrap_or_default());
    assert_inert_chat_text(
        rendered["metadata"]["relatedResources"][0]
            .as_str()
            .unwrap_or_default(),
    );
    let steps = content["nextSteps"].as_array().expect("next steps");
    assert_inert_chat_text(steps[0].as_str().unwrap_or_default());
    let command = steps[1].as_str().unwrap_or_default();
    assert!(
        command.starts_with('`') && command.ends_with('`'),
        "{command}"
    );
    assert_eq!(command.matches('`').count(), 2, "{command}");
    assert!(!command.contains(['<', '>']), "{command}");
}

fn text(value: &str) -> String {
    render(&alert_with(value), AlertFormat::Text, "test").message
}

fn check_text(value: &str) {
    let message = text(value);
    assert!(
        !message.chars().any(|c| c.is_control() && c != '\n'),
        "a control character in {message:?}"
    );
    assert!(
        !message.chars().any(is_invisible_format),
        "an invisible formatting character in {message:?}"
    );
    assert!(
        !message.contains(['\u{2028}', '\u{2029}']),
        "a line separator in {message:?}"
    );
    assert_eq!(
        message.lines().count(),
        text(if value.is_empty() { "" } else { "x" })
            .lines()
            .count(),
        "a value added lines:\n{message}"
    );
    let fact = message
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{LABEL}: ")))
        .expect("the fact");
    assert_eq!(alphanumerics(fact), alphanumerics(value));
}

fn check_json(value: &str) {
    let message = render(&alert_with(value), AlertFormat::Json, "test").message;
    let json: Value = serde_json::from_str(&message).expect("valid JSON");
    assert_eq!(json["title"], format!("Blocked: {value}"));
    assert_eq!(json["summary"], value);
    assert_eq!(json["stack"], value);
    assert_eq!(json["facts"][1]["value"], value);
    assert_eq!(json["sections"][0]["items"][0], value);
    assert_eq!(json["next_steps"][0], value);
    assert_eq!(json["links"][0]["title"], value);
    assert_eq!(
        json["commands"][0],
        format!(
            "aws codestar-connections update-sync-blocker --id {}",
            shell_quote(value)
        )
    );
}

fn check_subject(value: &str) {
    let subject = render(&alert_with(value), AlertFormat::Text, "test").subject;
    assert!(subject.is_ascii(), "{subject:?}");
    assert!(
        !subject.chars().any(|c| c.is_ascii_control()),
        "{subject:?}"
    );
    assert!(subject.len() <= SUBJECT_MAX_CHARS, "{}", subject.len());
    assert!(
        subject.starts_with("[gitsync-guard] Blocked:"),
        "{subject:?}"
    );
}

/// A reference reader of one POSIX shell word, for the quoting `shell_quote` produces and
/// the rest of the language it may use: unquoted characters no shell treats specially,
/// single-quoted strings, and backslash escapes outside quotes.
fn posix_word(word: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = word.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => loop {
                match chars.next() {
                    Some('\'') => break,
                    Some(c) => out.push(c),
                    None => return Err(format!("unterminated quote in {word:?}")),
                }
            },
            '\\' => match chars.next() {
                Some(c) => out.push(c),
                None => return Err(format!("trailing backslash in {word:?}")),
            },
            c if c.is_ascii_alphanumeric() || "_./:=@+-".contains(c) => out.push(c),
            c => return Err(format!("{c:?} unquoted in {word:?}")),
        }
    }
    Ok(out)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn chatbot_shows_hostile_text_inert_and_readable(value in hostile_string()) {
        check_chatbot(&value);
    }

    #[test]
    fn chatbot_shows_any_text_inert_and_readable(value in any::<String>()) {
        check_chatbot(&value);
    }

    #[test]
    fn text_has_no_controls_and_no_lines_from_a_value(value in hostile_string()) {
        check_text(&value);
    }

    #[test]
    fn text_handles_any_text(value in any::<String>()) {
        check_text(&value);
    }

    #[test]
    fn json_carries_the_exact_value(value in hostile_string()) {
        check_json(&value);
    }

    #[test]
    fn json_carries_any_exact_value(value in any::<String>()) {
        check_json(&value);
    }

    #[test]
    fn the_subject_stays_one_short_ascii_line(value in hostile_string()) {
        check_subject(&value);
    }

    #[test]
    fn the_subject_stays_one_short_ascii_line_for_any_text(value in any::<String>()) {
        check_subject(&value);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn shell_quote_reads_back_as_the_value(value in prop_oneof![hostile_string(), any::<String>()]) {
        let quoted = shell_quote(&value);
        prop_assert_eq!(posix_word(&quoted), Ok(value.clone()));
    }

    #[test]
    fn shell_quote_leaves_plain_words_alone(value in "[A-Za-z0-9_./:=@+-]{1,40}") {
        prop_assert_eq!(shell_quote(&value), value.as_str());
    }
}

proptest! {
    // Each case starts a shell: a few hundred are plenty next to the reference reader above.
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn a_posix_shell_reads_shell_quote_back_as_the_value(
        // A process argument cannot hold NUL, so neither can a pasted command.
        value in prop_oneof![hostile_string(), any::<String>()]
            .prop_map(|v| v.replace('\0', ""))
    ) {
        let output = Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {}", shell_quote(&value)))
            .output()
            .expect("sh runs");
        prop_assert!(output.status.success(), "sh failed for {:?}", value);
        prop_assert_eq!(String::from_utf8_lossy(&output.stdout), value.as_str());
    }
}

#[test]
fn the_channel_takeover_reason_is_inert_in_every_format() {
    let reason = "<!channel> <https://evil.example/login|Open the AWS console>";
    for format in [AlertFormat::Text, AlertFormat::Chatbot, AlertFormat::Json] {
        let message = render(&alert_with(reason), format, "test").message;
        match format {
            AlertFormat::Chatbot => {
                assert!(!message.contains("<!channel>"), "{message}");
                assert!(!message.contains("<https://evil"), "{message}");
                let json: Value = serde_json::from_str(&message).expect("valid JSON");
                let description = json["content"]["description"].as_str().unwrap_or_default();
                assert!(description.contains(
                    "\n*Reason:* &lt;!channel&gt; &lt;https://evil.example/login|Open the AWS console&gt;\n"
                ), "{description}");
                check_chatbot(reason);
            }
            AlertFormat::Text => {
                assert!(
                    message.contains(&format!("\nReason: {reason}\n")),
                    "{message}"
                );
                check_text(reason);
            }
            AlertFormat::Json => {
                let json: Value = serde_json::from_str(&message).expect("valid JSON");
                assert_eq!(json["facts"][1]["value"], reason);
                check_json(reason);
            }
        }
    }
}

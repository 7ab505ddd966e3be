//! One alert model, three renderings (`text`, `chatbot`, `json`), always within SNS's limits.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use super::bus::{BusEvent, RenderedEvent};
use serde_json::json;

use super::text::{
    ascii_line, chat_code, chat_line, chat_text, chat_url, plain_text, truncate, url_component,
};

/// SNS accepts at most 256 KiB per message, attributes included.
pub const SNS_MAX_BYTES: usize = 256 * 1024;
/// SNS Subject: ASCII, one line, under 100 characters.
pub const SUBJECT_MAX_CHARS: usize = 99;
/// Version of the `json` format; bump on any incompatible change (documented in the README).
pub const JSON_SCHEMA: &str = "gitsync-guard.alert.v1";
/// Longest single value or list item kept as is; longer ones are cut and marked.
const MAX_VALUE_BYTES: usize = 4_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertKind {
    Blocker,
    Recovery,
    RepositorySync,
    Connection,
    Host,
    Resolution,
    /// A blocker still ACTIVE after the reminder interval.
    Reminder,
    /// The daily health report.
    Report,
    /// A function's test alert: nothing is wrong.
    Test,
    /// The Organization hub about one member: silent, still silent, reporting again.
    Member,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Critical => "critical",
            Self::Warning => "warning",
            Self::Info => "info",
        }
    }
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Blocker => "blocker",
            Self::Recovery => "recovery",
            Self::RepositorySync => "repository-sync",
            Self::Connection => "connection",
            Self::Host => "host",
            Self::Resolution => "resolution",
            Self::Reminder => "reminder",
            Self::Report => "report",
            Self::Test => "test",
            Self::Member => "member",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fact {
    pub label: String,
    pub value: String,
}

/// A titled list. `omitted` counts items already left out, shown as "... and N more".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Section {
    pub title: String,
    pub items: Vec<String>,
    pub omitted: usize,
}

impl Section {
    /// Keeps the first `max_items` items and counts the rest.
    pub fn capped(title: impl Into<String>, mut items: Vec<String>, max_items: usize) -> Self {
        let omitted = items.len().saturating_sub(max_items);
        items.truncate(max_items);
        Self {
            title: title.into(),
            items,
            omitted,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub title: String,
    pub url: String,
}

/// An AWS account as alerts name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// The 12-digit id.
    pub id: String,
    /// What people call it; the id when no name was given.
    pub name: String,
}

/// Where a function runs: every alert it sends says so, since many accounts and regions may
/// send to one topic.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Origin {
    /// `None` when the deployment does not say (a local run): alerts then name the region only.
    pub account: Option<Account>,
    pub region: String,
}

impl Origin {
    /// Account and region as people read them: `payments-prod (123456789012), eu-west-1`.
    fn describe(account: Option<&Account>, region: &str) -> String {
        match account {
            Some(Account { id, name }) if name != id => format!("{name} ({id}), {region}"),
            Some(Account { id, .. }) => format!("{id}, {region}"),
            None => region.to_owned(),
        }
    }
}

/// Everything an on-call engineer needs to act on one finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub kind: AlertKind,
    pub severity: Severity,
    pub title: String,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    /// The account and region the finding is in, stamped by the outbox ([`Alert::from_origin`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<Account>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub facts: Vec<Fact>,
    pub sections: Vec<Section>,
    pub next_steps: Vec<String>,
    pub commands: Vec<String>,
    pub links: Vec<Link>,
    /// The facts for machines: put on EventBridge with the message, under its key.
    #[serde(skip)]
    pub events: Vec<BusEvent>,
}

impl Alert {
    pub fn new(kind: AlertKind, severity: Severity, title: impl Into<String>) -> Self {
        Self {
            kind,
            severity,
            title: title.into(),
            summary: String::new(),
            stack: None,
            account: None,
            region: None,
            facts: Vec::new(),
            sections: Vec::new(),
            next_steps: Vec::new(),
            commands: Vec::new(),
            links: Vec::new(),
            events: Vec::new(),
        }
    }

    pub fn fact(mut self, label: impl Into<String>, value: impl Into<String>) -> Self {
        self.facts.push(Fact {
            label: label.into(),
            value: value.into(),
        });
        self
    }

    /// With the EventBridge event of the same fact.
    pub fn event(mut self, event: BusEvent) -> Self {
        self.events.push(event);
        self
    }

    /// This alert as sent from `origin`.
    pub fn from_origin(mut self, origin: &Origin) -> Self {
        self.account.clone_from(&origin.account);
        self.region = Some(origin.region.clone());
        self
    }

    /// Facts with the account and region first, where a person looks first.
    fn facts_with_origin(&self) -> Vec<Fact> {
        let origin = self.region.as_deref().map(|region| {
            let label = if self.account.is_some() {
                "Account"
            } else {
                "Region"
            };
            Fact {
                label: label.into(),
                value: Origin::describe(self.account.as_ref(), region),
            }
        });
        origin
            .into_iter()
            .chain(self.facts.iter().cloned())
            .collect()
    }

    /// Adds a fact only when the value is known.
    pub fn fact_opt(self, label: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(value) => self.fact(label, value),
            None => self,
        }
    }
}

/// The stack's page in the CloudFormation console (its Git sync tab shows the blockers).
/// The stack name is percent-encoded: it comes from the event and must stay one query value.
pub fn stack_console_link(region: &str, stack: &str) -> Link {
    let stack = url_component(stack);
    Link {
        title: "CloudFormation console".into(),
        url: format!(
            "https://{region}.console.aws.amazon.com/cloudformation/home?region={region}#/stacks/stackinfo?stackId={stack}"
        ),
    }
}

/// A blocker's contexts as a list, if it has any.
pub fn contexts_section(contexts: &[(String, String)]) -> Option<Section> {
    (!contexts.is_empty()).then(|| {
        let items = contexts
            .iter()
            .map(|(key, value)| format!("{key}: {value}"))
            .collect();
        Section::capped("Contexts", items, 50)
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AlertFormat {
    #[default]
    Text,
    Chatbot,
    Json,
}

impl FromStr for AlertFormat {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        match raw {
            "text" => Ok(Self::Text),
            "chatbot" => Ok(Self::Chatbot),
            "json" => Ok(Self::Json),
            other => Err(format!("{other:?} is not one of text, chatbot, json")),
        }
    }
}

impl fmt::Display for AlertFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Text => "text",
            Self::Chatbot => "chatbot",
            Self::Json => "json",
        })
    }
}

/// What the notifier publishes: SNS Subject, Message and String message attributes, and the
/// EventBridge events of the same facts (stamped by the outbox).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedAlert {
    pub subject: String,
    pub message: String,
    pub attributes: Vec<(String, String)>,
    pub events: Vec<RenderedEvent>,
}

impl RenderedAlert {
    /// Bytes SNS counts against its limit: the message plus attribute names, types and values.
    pub fn sns_size(&self) -> usize {
        self.message.len() + attributes_size(&self.attributes)
    }
}

fn attributes_size(attributes: &[(String, String)]) -> usize {
    attributes
        .iter()
        .map(|(name, value)| name.len() + "String".len() + value.len())
        .sum()
}

/// Renders `alert` for SNS, shrinking its longest lists until the whole fits the limit.
/// `source` names the function that raised it.
pub fn render(alert: &Alert, format: AlertFormat, source: &str) -> RenderedAlert {
    render_within(alert, format, source, SNS_MAX_BYTES)
}

fn render_within(alert: &Alert, format: AlertFormat, source: &str, limit: usize) -> RenderedAlert {
    let mut attributes = vec![
        ("severity".to_owned(), alert.severity.as_str().to_owned()),
        ("kind".to_owned(), alert.kind.as_str().to_owned()),
    ];
    if let Some(stack) = &alert.stack {
        attributes.push(("stack".to_owned(), stack.clone()));
    }
    // For subscription filter policies on a topic many accounts publish to. Five of SNS's ten
    // message attributes in all.
    if let Some(account) = &alert.account {
        attributes.push(("account".to_owned(), account.id.clone()));
    }
    if let Some(region) = &alert.region {
        attributes.push(("region".to_owned(), region.clone()));
    }
    let subject = ascii_line(
        &format!("[gitsync-guard] {}", alert.title),
        SUBJECT_MAX_CHARS,
    );
    let budget = limit.saturating_sub(attributes_size(&attributes));

    let mut alert = bounded_values(alert);
    loop {
        let message = render_message(&alert, format, source);
        if message.len() <= budget {
            return RenderedAlert {
                subject,
                message,
                attributes,
                events: Vec::new(),
            };
        }
        if !halve_longest_section(&mut alert) {
            // Nothing left to cut but the fixed parts: cannot happen with bounded values and
            // a sane limit, but a cut text beats a rejected message.
            let message = truncate(&message, budget);
            return RenderedAlert {
                subject,
                message,
                attributes,
                events: Vec::new(),
            };
        }
    }
}

fn bounded_values(alert: &Alert) -> Alert {
    let mut alert = alert.clone();
    alert.summary = truncate(&alert.summary, MAX_VALUE_BYTES);
    for fact in &mut alert.facts {
        fact.value = truncate(&fact.value, MAX_VALUE_BYTES);
    }
    for section in &mut alert.sections {
        for item in &mut section.items {
            *item = truncate(item, MAX_VALUE_BYTES);
        }
    }
    alert
}

fn halve_longest_section(alert: &mut Alert) -> bool {
    let Some(section) = alert
        .sections
        .iter_mut()
        .filter(|section| !section.items.is_empty())
        .max_by_key(|section| section.items.iter().map(String::len).sum::<usize>())
    else {
        return false;
    };
    let keep = section.items.len() / 2;
    section.omitted += section.items.len() - keep;
    section.items.truncate(keep);
    true
}

fn render_message(alert: &Alert, format: AlertFormat, source: &str) -> String {
    match format {
        AlertFormat::Text => render_text(alert, source),
        AlertFormat::Chatbot => render_chatbot(alert, source),
        AlertFormat::Json => render_json(alert, source),
    }
}

fn more_line(omitted: usize) -> Option<String> {
    (omitted > 0).then(|| format!("... and {omitted} more"))
}

// Every string of an `Alert` is plain text, and any of it may carry untrusted values: call
// sites build titles, facts and items with `format!` around stack names, blocker reasons,
// branches. So no call site escapes anything, and no field may carry markup: each renderer
// makes every field inert for its own medium, right here, when it writes it. The markup in a
// message (bold labels, bullets, links, code spans) is the renderer's alone. Commands are the
// one kind of text built for another reader, the shell: their values are quoted where they are
// built (`text::shell_quote`), and here they are made inert for the medium like everything else.

fn render_text(alert: &Alert, source: &str) -> String {
    // `plain_text` keeps each value on one line: every '\n' in the message is the renderer's.
    let mut out = format!("{}\n", plain_text(&alert.title));
    if !alert.summary.is_empty() {
        out.push_str(&format!("\n{}\n", plain_text(&alert.summary)));
    }
    let facts = alert.facts_with_origin();
    if !facts.is_empty() {
        let labels: Vec<String> = facts
            .iter()
            .map(|fact| format!("{}:", plain_text(&fact.label)))
            .collect();
        let width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
        out.push('\n');
        for (label, fact) in labels.iter().zip(&facts) {
            out.push_str(&format!("{label:width$} {}\n", plain_text(&fact.value)));
        }
    }
    for section in &alert.sections {
        out.push_str(&format!("\n{}:\n", plain_text(&section.title)));
        for item in &section.items {
            out.push_str(&format!("  - {}\n", plain_text(item)));
        }
        if let Some(more) = more_line(section.omitted) {
            out.push_str(&format!("  {more}\n"));
        }
    }
    if !alert.next_steps.is_empty() {
        out.push_str("\nWhat to do:\n");
        for (n, step) in alert.next_steps.iter().enumerate() {
            out.push_str(&format!("  {}. {}\n", n + 1, plain_text(step)));
        }
    }
    if !alert.commands.is_empty() {
        out.push_str("\nCommands:\n");
        for command in &alert.commands {
            out.push_str(&format!("  {}\n", plain_text(command)));
        }
    }
    for link in &alert.links {
        out.push_str(&format!(
            "\n{}: {}\n",
            plain_text(&link.title),
            plain_text(&link.url)
        ));
    }
    out.push_str(&format!(
        "\n-- gitsync-guard {source} ({} / {})\n",
        alert.kind.as_str(),
        alert.severity.as_str()
    ));
    out
}

fn severity_emoji(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => ":rotating_light:",
        Severity::Warning => ":warning:",
        Severity::Info => ":white_check_mark:",
    }
}

/// AWS Chatbot (Amazon Q Developer in chat applications) custom notification.
///
/// Each value goes through `chat_text` (see there for what it does and why). Values never
/// start a line, where markdown reads block markup (headings, lists, quotes), except the
/// summary and the next steps, which go through `chat_line` for that reason.
fn render_chatbot(alert: &Alert, source: &str) -> String {
    let mut description = String::new();
    if !alert.summary.is_empty() {
        description.push_str(&format!("{}\n", chat_line(&alert.summary)));
    }
    for fact in &alert.facts_with_origin() {
        description.push_str(&format!(
            "*{}:* {}\n",
            chat_text(&fact.label),
            chat_text(&fact.value)
        ));
    }
    for section in &alert.sections {
        description.push_str(&format!("\n*{}*\n", chat_text(&section.title)));
        for item in &section.items {
            description.push_str(&format!("• {}\n", chat_text(item)));
        }
        if let Some(more) = more_line(section.omitted) {
            description.push_str(&format!("{more}\n"));
        }
    }
    for link in &alert.links {
        description.push_str(&format!(
            "\n<{}|{}>\n",
            chat_url(&link.url),
            chat_text(&link.title)
        ));
    }
    let mut next_steps: Vec<String> = alert.next_steps.iter().map(|s| chat_line(s)).collect();
    next_steps.extend(alert.commands.iter().map(|command| chat_code(command)));
    let related: Vec<String> = alert.stack.iter().map(|stack| chat_text(stack)).collect();
    // An identifier Chatbot groups messages by: one per stack, and never markup (a stack name
    // as Git sync accepts it stays as it is).
    let thread = alert.stack.as_ref().map_or_else(
        || alert.kind.as_str().to_owned(),
        |stack| format!("stack-{}", url_component(stack)),
    );
    let title = chat_text(&alert.title);
    json!({
        "version": "1.0",
        "source": "custom",
        "content": {
            "textType": "client-markdown",
            "title": format!("{} {title}", severity_emoji(alert.severity)),
            "description": description.trim_end(),
            "nextSteps": next_steps,
            "keywords": [alert.kind.as_str(), alert.severity.as_str(), source],
        },
        "metadata": {
            "threadId": thread,
            "summary": title,
            "eventType": alert.kind.as_str(),
            "relatedResources": related,
            "additionalContext": { "source": format!("gitsync-guard {source}") },
        }
    })
    .to_string()
}

/// The raw values, exactly as they are: serde_json escapes what JSON needs, and a machine
/// reading them chooses its own escaping for wherever it shows them.
fn render_json(alert: &Alert, source: &str) -> String {
    let mut value = serde_json::to_value(alert).unwrap_or_else(|_| json!({}));
    if let Some(object) = value.as_object_mut() {
        object.insert("schema".into(), JSON_SCHEMA.into());
        object.insert("source".into(), format!("gitsync-guard {source}").into());
    }
    value.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn sample() -> Alert {
        let mut alert = Alert::new(
            AlertKind::Blocker,
            Severity::Critical,
            "Git sync blocked: stack payments-api",
        )
        .fact("Stack", "payments-api")
        .fact("Reason", "Stack is in UPDATE_ROLLBACK_FAILED");
        alert.summary = "Git sync stopped deploying payments-api.".into();
        alert.stack = Some("payments-api".into());
        alert.sections.push(Section::capped(
            "Contexts",
            vec!["StackId: arn:aws:cloudformation:...".into()],
            10,
        ));
        alert.next_steps.push("Fix the cause.".into());
        alert
            .commands
            .push("aws codestar-connections update-sync-blocker --id X".into());
        alert.links.push(Link {
            title: "Console".into(),
            url: "https://console.aws.amazon.com/".into(),
        });
        alert
    }

    #[test]
    fn attributes_carry_severity_kind_and_stack() {
        let rendered = render(&sample(), AlertFormat::Text, "sync-watcher");
        assert_eq!(
            rendered.attributes,
            vec![
                ("severity".to_owned(), "critical".to_owned()),
                ("kind".to_owned(), "blocker".to_owned()),
                ("stack".to_owned(), "payments-api".to_owned()),
            ]
        );
        assert_eq!(
            rendered.subject,
            "[gitsync-guard] Git sync blocked: stack payments-api"
        );
    }

    fn from_payments_prod() -> Alert {
        sample().from_origin(&Origin {
            account: Some(Account {
                id: "123456789012".into(),
                name: "payments-prod".into(),
            }),
            region: "eu-west-1".into(),
        })
    }

    #[test]
    fn every_format_names_the_account_and_region() {
        let rendered = render(&from_payments_prod(), AlertFormat::Text, "sync-watcher");
        assert_eq!(
            &rendered.attributes[3..],
            [
                ("account".to_owned(), "123456789012".to_owned()),
                ("region".to_owned(), "eu-west-1".to_owned()),
            ]
        );
        assert!(
            rendered.message.starts_with(
                "Git sync blocked: stack payments-api\n\nGit sync stopped deploying payments-api.\n\n\
                 Account: payments-prod (123456789012), eu-west-1\nStack:   payments-api\n"
            ),
            "{}",
            rendered.message
        );

        let chat = render(&from_payments_prod(), AlertFormat::Chatbot, "x").message;
        let value: Value = serde_json::from_str(&chat).expect("valid JSON");
        assert!(
            value["content"]["description"]
                .as_str()
                .is_some_and(|d| d
                    .contains("\n*Account:* payments-prod (123456789012), eu-west-1\n*Stack:*")),
            "{chat}"
        );

        let json = render(&from_payments_prod(), AlertFormat::Json, "x").message;
        let value: Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(
            value["account"],
            json!({"id": "123456789012", "name": "payments-prod"})
        );
        assert_eq!(value["region"], "eu-west-1");
        assert_eq!(value["facts"][0]["label"], "Stack", "facts stay as built");
    }

    #[test]
    fn an_unnamed_account_goes_by_its_id_and_an_unknown_one_is_left_out() {
        let origin = |account: Option<Account>| Origin {
            account,
            region: "us-east-1".into(),
        };
        let unnamed = sample().from_origin(&origin(Some(Account {
            id: "123456789012".into(),
            name: "123456789012".into(),
        })));
        let text = render(&unnamed, AlertFormat::Text, "x").message;
        assert!(
            text.contains("\nAccount: 123456789012, us-east-1\n"),
            "{text}"
        );
        let unknown = render(&sample().from_origin(&origin(None)), AlertFormat::Text, "x");
        assert!(unknown.message.contains("\nRegion: us-east-1\n"));
        assert!(!unknown.attributes.iter().any(|(name, _)| name == "account"));
        let json = render(&sample().from_origin(&origin(None)), AlertFormat::Json, "x").message;
        let value: Value = serde_json::from_str(&json).expect("valid JSON");
        assert!(value.get("account").is_none());
    }

    #[test]
    fn text_reads_as_an_email() {
        let text = render(&sample(), AlertFormat::Text, "sync-watcher").message;
        assert!(text.starts_with("Git sync blocked: stack payments-api\n"));
        assert!(text.contains("Reason: Stack is in UPDATE_ROLLBACK_FAILED"));
        assert!(text.contains("\nWhat to do:\n  1. Fix the cause.\n"));
        assert!(text.contains("  aws codestar-connections update-sync-blocker --id X\n"));
        assert!(text.contains("Console: https://console.aws.amazon.com/"));
    }

    #[test]
    fn chatbot_is_a_custom_notification() {
        let message = render(&sample(), AlertFormat::Chatbot, "sync-watcher").message;
        let value: Value = serde_json::from_str(&message).expect("valid JSON");
        assert_eq!(value["version"], "1.0");
        assert_eq!(value["source"], "custom");
        assert_eq!(value["content"]["textType"], "client-markdown");
        assert!(
            value["content"]["title"]
                .as_str()
                .is_some_and(|t| t.ends_with("Git sync blocked: stack payments-api"))
        );
        assert!(
            value["content"]["description"]
                .as_str()
                .is_some_and(|d| d.contains("*Reason:* Stack is in UPDATE_ROLLBACK_FAILED"))
        );
        assert_eq!(
            value["content"]["nextSteps"][1],
            "`aws codestar-connections update-sync-blocker --id X`"
        );
        assert_eq!(value["metadata"]["threadId"], "stack-payments-api");
    }

    #[test]
    fn json_follows_the_versioned_schema() {
        let message = render(&sample(), AlertFormat::Json, "sync-watcher").message;
        let value: Value = serde_json::from_str(&message).expect("valid JSON");
        assert_eq!(value["schema"], JSON_SCHEMA);
        assert_eq!(value["kind"], "blocker");
        assert_eq!(value["severity"], "critical");
        assert_eq!(value["stack"], "payments-api");
        assert_eq!(value["facts"][1]["label"], "Reason");
        assert_eq!(value["sections"][0]["omitted"], 0);
        assert_eq!(value["source"], "gitsync-guard sync-watcher");
    }

    #[test]
    fn subject_is_ascii_one_line_and_short() {
        let mut alert = sample();
        alert.title = format!("Blocked ✗\n{}", "very-long-stack-name-".repeat(10));
        let subject = render(&alert, AlertFormat::Text, "x").subject;
        assert!(subject.len() <= SUBJECT_MAX_CHARS, "{}", subject.len());
        assert!(subject.is_ascii());
        assert!(!subject.contains('\n'));
    }

    #[test]
    fn huge_lists_are_cut_to_fit_and_say_how_many_were_left_out() {
        let items: Vec<String> = (0..5_000)
            .map(|n| format!("{n:>5} {}", "e".repeat(300)))
            .collect();
        for format in [AlertFormat::Text, AlertFormat::Chatbot, AlertFormat::Json] {
            let mut alert = sample();
            alert
                .sections
                .push(Section::capped("Events", items.clone(), usize::MAX));
            let rendered = render(&alert, format, "sync-watcher");
            assert!(
                rendered.sns_size() <= SNS_MAX_BYTES,
                "{format}: {}",
                rendered.sns_size()
            );
            assert!(
                rendered.sns_size() > SNS_MAX_BYTES / 4,
                "{format}: cut far too much"
            );
            if format == AlertFormat::Json {
                let value: Value = serde_json::from_str(&rendered.message).expect("valid JSON");
                let omitted = value["sections"][1]["omitted"].as_u64().unwrap_or(0);
                let kept = value["sections"][1]["items"].as_array().map_or(0, Vec::len) as u64;
                assert_eq!(omitted + kept, 5_000, "every event kept or counted");
                assert!(omitted > 0);
            } else {
                assert!(
                    rendered.message.contains(" more"),
                    "{format}: no '... and N more'"
                );
            }
            if format == AlertFormat::Chatbot {
                serde_json::from_str::<Value>(&rendered.message).expect("still valid JSON");
            }
        }
    }

    #[test]
    fn capped_sections_count_what_they_leave_out() {
        let section = Section::capped("Events", (0..30).map(|n| n.to_string()).collect(), 20);
        assert_eq!(section.items.len(), 20);
        assert_eq!(section.omitted, 10);
        let text = render_text(
            &Alert {
                sections: vec![section],
                ..sample()
            },
            "x",
        );
        assert!(text.contains("  ... and 10 more\n"));
    }

    #[test]
    fn long_single_values_are_cut() {
        let alert = sample().fact("Reason", "r".repeat(100_000));
        let rendered = render(&alert, AlertFormat::Text, "x");
        assert!(rendered.message.len() < 10_000);
        assert!(rendered.message.contains("(truncated)"));
    }

    const EVIL: &str = "<!channel> <https://evil.example/login|Open the AWS console>";

    fn evil() -> Alert {
        let mut alert = sample().fact("Reason", EVIL);
        alert.sections[0].items.push(format!("Context: {EVIL}"));
        alert
    }

    #[test]
    fn a_hostile_reason_is_inert_in_chat() {
        let message = render(&evil(), AlertFormat::Chatbot, "sync-watcher").message;
        let value: Value = serde_json::from_str(&message).expect("valid JSON");
        let description = value["content"]["description"].as_str().unwrap_or_default();
        assert!(
            description.contains(
                "*Reason:* &lt;!channel&gt; &lt;https://evil.example/login|Open the AWS console&gt;\n"
            ),
            "{description}"
        );
        assert!(description.contains(
            "• Context: &lt;!channel&gt; &lt;https://evil.example/login|Open the AWS console&gt;\n"
        ));
        assert!(!description.contains("<!channel>"));
        assert!(!description.contains("<https://evil"));
        // The renderer's own link is still a link.
        assert!(description.contains("<https://console.aws.amazon.com/|Console>"));
    }

    #[test]
    fn a_hostile_reason_is_shown_as_is_in_mail_and_exact_in_json() {
        let text = render(&evil(), AlertFormat::Text, "sync-watcher").message;
        assert!(text.contains(&format!("Reason: {EVIL}\n")), "{text}");
        assert!(text.contains(&format!("  - Context: {EVIL}\n")), "{text}");

        let message = render(&evil(), AlertFormat::Json, "sync-watcher").message;
        let value: Value = serde_json::from_str(&message).expect("valid JSON");
        assert_eq!(value["facts"][2]["value"], EVIL);
        assert_eq!(value["sections"][0]["items"][1], format!("Context: {EVIL}"));
    }

    #[test]
    fn a_value_cannot_add_lines_to_the_mail() {
        let alert = sample().fact("Reason", "ok\r\nBlocker ID: fake\u{1b}[2J\u{202e}");
        let text = render(&alert, AlertFormat::Text, "x").message;
        assert!(text.contains("Reason: ok⏎Blocker ID: fake�[2J\n"), "{text}");
        assert_eq!(
            text.lines().count(),
            render(&sample().fact("Reason", "ok"), AlertFormat::Text, "x")
                .message
                .lines()
                .count()
        );
    }

    #[test]
    fn the_console_link_keeps_a_stack_name_in_its_query_value() {
        let link = stack_console_link("us-east-1", "a&b#c");
        assert!(link.url.ends_with("stackId=a%26b%23c"), "{}", link.url);
    }

    #[test]
    fn formats_parse_from_their_names() {
        assert_eq!("chatbot".parse::<AlertFormat>(), Ok(AlertFormat::Chatbot));
        assert!(
            "xml"
                .parse::<AlertFormat>()
                .unwrap_err()
                .contains("text, chatbot, json")
        );
    }
}

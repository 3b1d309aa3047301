//! The result of a run, as step outputs and as a row per tag in the job summary.

use std::fmt::Write as _;

use anyhow::Result;

use crate::aws::Destination;
use crate::docker::{self, PushOutcome};
use crate::github;
use crate::inputs::{Platform, Tag};

/// What happened to one tag.
struct Row {
    tag: String,
    uri: String,
    digest: String,
    result: TagResult,
}

#[derive(Clone, PartialEq, Eq)]
enum TagResult {
    Pushed,
    Skipped,
    Failed(String),
}

/// The step outputs and the job summary of a run.
pub fn write(
    destination: &Destination,
    outcome: &PushOutcome,
    platforms: &[Platform],
    authenticated_arn: Option<&str>,
) -> Result<()> {
    let login = &destination.login;
    let rows = rows(destination, outcome);
    let of = |wanted: fn(&TagResult) -> bool| {
        rows.iter()
            .filter(|r| wanted(&r.result))
            .collect::<Vec<_>>()
    };
    // The image this run stands for: the one it pushed, else what the skipped tags hold.
    let pushed = of(|r| *r == TagResult::Pushed);
    let skipped = of(|r| *r == TagResult::Skipped);
    let shown = if pushed.is_empty() { &skipped } else { &pushed };
    let digest = shown.first().map(|r| r.digest.clone()).unwrap_or_default();
    let tags = |rows: &[&Row]| rows.iter().map(|r| r.tag.clone()).collect::<Vec<_>>();
    // What the tags point to is this run's image only where a tag was pushed (not merely skipped).
    let platforms = if pushed.is_empty() {
        String::new()
    } else {
        docker::join(platforms)
    };
    github::set_outputs(&outputs(&Outputs {
        registry: &login.host,
        repository_uri: &destination.repository_uri,
        image_uris: shown.iter().map(|r| r.uri.clone()).collect(),
        digest: &digest,
        account: &login.account,
        created: destination.created,
        authenticated_arn,
        pushed_tags: tags(&pushed),
        skipped_tags: tags(&skipped),
        failed_tags: tags(&of(|r| matches!(r, TagResult::Failed(_)))),
        platforms: &platforms,
    }))?;
    github::append_summary(&summary(&login.account, destination, &rows, &platforms))
}

/// A row per tag: pushed, then skipped, then failed.
fn rows(destination: &Destination, outcome: &PushOutcome) -> Vec<Row> {
    let row = |tag: &Tag, digest: &str, result: TagResult| Row {
        tag: tag.to_string(),
        uri: format!("{}:{tag}", destination.repository_uri),
        digest: digest.to_owned(),
        result,
    };
    let pushed = outcome
        .pushed
        .iter()
        .map(|p| row(&p.tag, &p.digest, TagResult::Pushed));
    let skipped = destination
        .plan
        .skipped
        .iter()
        .map(|(tag, digest)| row(tag, digest, TagResult::Skipped));
    let failed = outcome
        .failed
        .iter()
        .map(|(tag, why)| row(tag, "", TagResult::Failed(why.clone())));
    pushed.chain(skipped).chain(failed).collect()
}

/// When a tag was not pushed: the error that says which, why, and what was pushed all the same.
pub fn failure(destination: &Destination, outcome: &PushOutcome) -> Option<String> {
    if outcome.failed.is_empty() {
        return None;
    }
    let mut text = format!(
        "{} of {} tags were not pushed to {}:",
        outcome.failed.len(),
        destination.plan.push.len(),
        destination.repository_uri
    );
    for (tag, why) in &outcome.failed {
        let _ = write!(text, "\n- {tag}: {why}");
    }
    if let Some(first) = outcome.pushed.first() {
        let pushed: Vec<String> = outcome.pushed.iter().map(|p| p.tag.to_string()).collect();
        let _ = write!(text, "\nPushed: {} ({}).", pushed.join(", "), first.digest);
    }
    if destination.created {
        let _ = write!(
            text,
            "\nThe repository {} was created by this run and is left in place.",
            destination.name
        );
    }
    Some(text)
}

struct Outputs<'a> {
    registry: &'a str,
    repository_uri: &'a str,
    image_uris: Vec<String>,
    digest: &'a str,
    account: &'a str,
    created: bool,
    authenticated_arn: Option<&'a str>,
    pushed_tags: Vec<String>,
    skipped_tags: Vec<String>,
    failed_tags: Vec<String>,
    platforms: &'a str,
}

/// Every output the action sets, in the order of `action.yml`.
fn outputs(o: &Outputs<'_>) -> Vec<(&'static str, String)> {
    let image_ref = if o.digest.is_empty() {
        String::new()
    } else {
        format!("{}@{}", o.repository_uri, o.digest)
    };
    vec![
        ("registry", o.registry.to_owned()),
        ("repository-uri", o.repository_uri.to_owned()),
        (
            "image-uri",
            o.image_uris.first().cloned().unwrap_or_default(),
        ),
        ("image-uris", o.image_uris.join("\n")),
        ("digest", o.digest.to_owned()),
        ("image-ref", image_ref),
        ("aws-account-id", o.account.to_owned()),
        ("repository-created", o.created.to_string()),
        (
            "authenticated-arn",
            o.authenticated_arn.unwrap_or_default().to_owned(),
        ),
        ("pushed-tags", o.pushed_tags.join("\n")),
        ("skipped-tags", o.skipped_tags.join("\n")),
        ("failed-tags", o.failed_tags.join("\n")),
        ("platforms", o.platforms.to_owned()),
    ]
}

fn summary(account: &str, destination: &Destination, rows: &[Row], platforms: &str) -> String {
    let registry = destination.kind.title();
    let platforms = if platforms.is_empty() {
        String::new()
    } else {
        format!(", platforms {}", github::code_cell(platforms))
    };
    // Every text that came from a registry or AWS (names, URIs, digests, the account, failure reasons) is
    // a code span: a hostile registry cannot put links, images or HTML into the summary.
    let mut summary = format!(
        "### Pushed to {registry}\n\nRepository {}{} in account {}{platforms}\n\n| Tag | Image URI | Digest | Result |\n| --- | --- | --- | --- |\n",
        github::code_cell(&destination.name),
        if destination.created {
            " (created by this run)"
        } else {
            ""
        },
        github::code_cell(account),
    );
    for row in rows {
        let result = match &row.result {
            TagResult::Pushed => "pushed".to_owned(),
            TagResult::Skipped => "skipped: the tag exists".to_owned(),
            TagResult::Failed(why) => format!(
                "**failed**: {}",
                github::code_cell(why.lines().next().unwrap_or_default())
            ),
        };
        let digest = if row.digest.is_empty() {
            String::new()
        } else {
            github::code_cell(&row.digest)
        };
        let _ = writeln!(
            summary,
            "| {} | {} | {digest} | {result} |",
            github::code_cell(&row.tag),
            github::code_cell(&row.uri),
        );
    }
    summary.push('\n');
    summary
}

/// The names declared under a top-level `section:` of action.yml (for tests that keep it honest).
#[cfg(test)]
pub fn declared_in_action_yml(section: &str) -> Vec<String> {
    let action = include_str!("../action.yml");
    let mut names = Vec::new();
    let mut inside = false;
    for line in action.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            inside = line == format!("{section}:");
        } else if inside
            && let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':'))
            && !name.starts_with(' ')
        {
            names.push(name.to_owned());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_yml_declares_exactly_the_outputs_written() {
        let written: Vec<String> = outputs(&Outputs {
            registry: "h",
            repository_uri: "h/r",
            image_uris: Vec::new(),
            digest: "d",
            account: "1",
            created: true,
            authenticated_arn: None,
            pushed_tags: Vec::new(),
            skipped_tags: Vec::new(),
            failed_tags: Vec::new(),
            platforms: "linux/amd64",
        })
        .into_iter()
        .map(|(n, _)| n.to_owned())
        .collect();
        assert_eq!(written, declared_in_action_yml("outputs"));
    }
}

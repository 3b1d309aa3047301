//! The result of a run, as step outputs and as one job-summary table with a row per destination and
//! tag; and, when something was not pushed, the error that says per destination what was and was not.

use std::fmt::Write as _;

use anyhow::Result;
use serde_json::json;

use crate::advice;
use crate::aws::registry::Destination;
use crate::aws::registry::signing::Signed;
use crate::diagnostic::Diagnostic;
use crate::docker::{self, PushOutcome};
use crate::inputs::{Platform, Tag, Target};
use crate::{github, scan};

/// What the tags hold: its platforms, and for an assembled index each platform's manifest digest.
pub struct Image<'a> {
    pub platforms: &'a [Platform],
    pub manifests: &'a [(Platform, String)],
}

/// What became of one destination.
pub struct Delivery {
    pub target: Target,
    /// The destination made ready, or why it could not be (nothing was pushed there).
    pub prepared: Result<Destination, Diagnostic>,
    pub outcome: PushOutcome,
    /// ECR's signature of the pushed image, where a signing rule covers the repository.
    pub signing: Option<Signed>,
    /// The scan gate's judgement of the pushed image (`scan`).
    pub scan: Option<scan::Scanned>,
}

impl Delivery {
    /// The digest this destination holds this run's image under: its first pushed tag's, else the
    /// first tag's that held it already.
    fn digest(&self) -> Option<&str> {
        let destination = self.prepared.as_ref().ok()?;
        let pushed = self.outcome.pushed.iter().map(|p| p.digest.as_str());
        let there = destination.plan.there.iter().map(|(_, d)| d.as_str());
        pushed.chain(there).next()
    }
}

/// What happened to one tag in one destination.
struct Row {
    tag: String,
    uri: String,
    digest: String,
    result: TagResult,
}

#[derive(Clone, PartialEq, Eq)]
enum TagResult {
    Pushed,
    /// It held this image already (`if-tag-exists: match`).
    There,
    Skipped,
    Failed(String),
}

impl TagResult {
    /// The tag holds this run's image.
    fn holds_image(&self) -> bool {
        matches!(self, TagResult::Pushed | TagResult::There)
    }

    fn is_failed(&self) -> bool {
        matches!(self, TagResult::Failed(_))
    }
}

/// The step outputs and the job summary of a run.
pub fn write(
    deliveries: &[Delivery],
    tags: &[Tag],
    image: &Image<'_>,
    authenticated_arn: Option<&str>,
    with_summary: bool,
) -> Result<()> {
    let rows: Vec<Vec<Row>> = deliveries.iter().map(|d| rows(d, tags)).collect();
    let all = || rows.iter().flatten();
    // The image this run stands for: the one it pushed, else what the skipped tags hold.
    let holding: Vec<&Row> = all().filter(|r| r.result.holds_image()).collect();
    let skipped: Vec<&Row> = all().filter(|r| r.result == TagResult::Skipped).collect();
    let shown = if holding.is_empty() {
        &skipped
    } else {
        &holding
    };
    let digest = shown.first().map(|r| r.digest.clone()).unwrap_or_default();
    // What the tags point to is this run's image only where a tag was pushed (not merely skipped).
    let platforms = if holding.is_empty() {
        &[]
    } else {
        image.platforms
    };
    let first = deliveries.first().and_then(|d| d.prepared.as_ref().ok());
    let in_every = |tag: &&Tag| {
        rows.iter()
            .all(|rows| held_as(rows, tag, TagResult::holds_image))
    };
    let in_any = |wanted: fn(&TagResult) -> bool| {
        let rows = &rows;
        move |tag: &&Tag| rows.iter().any(|rows| held_as(rows, tag, wanted))
    };
    github::set_outputs(&outputs(&Outputs {
        registry: first.map(|d| d.login.host.as_str()).unwrap_or_default(),
        repository_uri: first.map(|d| d.repository_uri.as_str()).unwrap_or_default(),
        repository_arn: first.map(|d| d.arn.as_str()).unwrap_or_default(),
        image_uris: shown.iter().map(|r| r.uri.clone()).collect(),
        digest: &digest,
        account: first.map(|d| d.login.account.as_str()).unwrap_or_default(),
        created: deliveries.first().is_some_and(created),
        authenticated_arn,
        pushed_tags: names(tags.iter().filter(in_every)),
        skipped_tags: names(tags.iter().filter(in_any(|r| *r == TagResult::Skipped))),
        failed_tags: names(tags.iter().filter(in_any(TagResult::is_failed))),
        restored_tags: restored_tags(deliveries, tags),
        platforms,
        destinations: destinations_json(deliveries, &rows),
        scan_findings: scanned(deliveries).map(|s| scan::summary::json(&s)),
    }))?;
    if !with_summary {
        return Ok(());
    }
    let manifests = if holding.is_empty() {
        &[][..]
    } else {
        image.manifests
    };
    github::append_summary(&summary(deliveries, &rows, platforms, manifests))
}

/// Each scanned destination's repository URI and scan; `None` when the gate is off.
fn scanned(deliveries: &[Delivery]) -> Option<Vec<(&str, &scan::Scanned)>> {
    let scans: Vec<(&str, &scan::Scanned)> = deliveries
        .iter()
        .filter_map(|d| {
            let destination = d.prepared.as_ref().ok()?;
            Some((destination.repository_uri.as_str(), d.scan.as_ref()?))
        })
        .collect();
    (!scans.is_empty()).then_some(scans)
}

fn names<'a>(tags: impl Iterator<Item = &'a Tag>) -> Vec<String> {
    tags.map(ToString::to_string).collect()
}

/// Whether `tag`'s row in one destination's `rows` is as `wanted`.
fn held_as(rows: &[Row], tag: &Tag, wanted: fn(&TagResult) -> bool) -> bool {
    rows.iter()
        .any(|r| r.tag == tag.as_str() && wanted(&r.result))
}

/// A row per tag of one destination: pushed, already there, skipped, then failed. A destination that
/// could not be made ready has every tag failed, for the reason it could not.
fn rows(delivery: &Delivery, tags: &[Tag]) -> Vec<Row> {
    let destination = match &delivery.prepared {
        Ok(destination) => destination,
        Err(why) => {
            let uri = delivery.target.to_string();
            let failed = |tag: &Tag| Row {
                tag: tag.to_string(),
                uri: uri.clone(),
                digest: String::new(),
                result: TagResult::Failed(why.text().to_owned()),
            };
            return tags.iter().map(failed).collect();
        }
    };
    let row = |tag: &Tag, digest: &str, result: TagResult| Row {
        tag: tag.to_string(),
        uri: format!("{}:{tag}", destination.repository_uri),
        digest: digest.to_owned(),
        result,
    };
    let (plan, outcome) = (&destination.plan, &delivery.outcome);
    let pushed = outcome
        .pushed
        .iter()
        .map(|p| row(&p.tag, &p.digest, TagResult::Pushed));
    let there = plan.there.iter().map(|(t, d)| row(t, d, TagResult::There));
    let skipped = plan
        .skipped
        .iter()
        .map(|(t, d)| row(t, d, TagResult::Skipped));
    let failed = outcome
        .failed
        .iter()
        .map(|(tag, why)| row(tag, "", TagResult::Failed(why.clone())));
    pushed.chain(there).chain(skipped).chain(failed).collect()
}

/// Whether the repository was created: by this run, or by ECR on this run's push (from a repository
/// creation template, `create-repository: template`).
fn created(delivery: &Delivery) -> bool {
    let pushed = !delivery.outcome.pushed.is_empty();
    let ready = delivery.prepared.as_ref().ok();
    ready.is_some_and(|d| d.created || (d.created_on_push && pushed))
}

/// The `destinations` output: one object per destination.
fn destinations_json(deliveries: &[Delivery], rows: &[Vec<Row>]) -> serde_json::Value {
    let each = deliveries.iter().zip(rows).map(|(delivery, rows)| {
        let tags = |wanted: fn(&TagResult) -> bool| {
            let picked = rows.iter().filter(|r| wanted(&r.result));
            picked.map(|r| r.tag.clone()).collect::<Vec<_>>()
        };
        let ready = delivery.prepared.as_ref().ok();
        json!({
            "registry": ready.map_or_else(|| delivery.target.to_string(), |d| d.login.host.clone()),
            "repository-uri": ready.map(|d| d.repository_uri.as_str()).unwrap_or_default(),
            "repository-arn": ready.map(|d| d.arn.as_str()).unwrap_or_default(),
            "repository-created": created(delivery),
            "pushed-tags": tags(TagResult::holds_image),
            "failed-tags": tags(|r| matches!(r, TagResult::Failed(_))),
            "restored-tags": restored(delivery).map(|(tag, ..)| tag.to_string()).collect::<Vec<_>>(),
            "digest": delivery.digest().unwrap_or_default(),
            "signing": signing_json(delivery.signing.as_ref()),
        })
    });
    serde_json::Value::Array(each.collect())
}

/// A destination's `signing`: ECR's status and the profiles, or `null` where no signing rule matched.
fn signing_json(signed: Option<&Signed>) -> serde_json::Value {
    signed.map_or(
        serde_json::Value::Null,
        |s| json!({"status": s.status, "profiles": s.profiles}),
    )
}

/// When a tag was not pushed somewhere, or the destinations hold different digests: the error that
/// says where, why, and what was pushed all the same, with every problem's code.
pub fn failure(deliveries: &[Delivery]) -> Option<Diagnostic> {
    let mut parts: Vec<Diagnostic> = deliveries.iter().filter_map(destination_failure).collect();
    parts.extend(digests_differ(deliveries));
    parts.extend(
        deliveries
            .iter()
            .filter_map(|d| d.signing.as_ref()?.problem.clone()),
    );
    parts.extend(
        deliveries
            .iter()
            .filter_map(|d| d.scan.as_ref()?.problem.clone()),
    );
    if parts.is_empty() {
        return None;
    }
    let mut text: Vec<String> = parts.iter().map(|d| d.text().to_owned()).collect();
    let done: Vec<String> = deliveries
        .iter()
        .filter(|d| d.outcome.failed.is_empty())
        .filter_map(|d| Some(d.prepared.as_ref().ok()?.repository_uri.clone()))
        .collect();
    if deliveries.len() > 1 && !done.is_empty() {
        text.push(advice::in_place(&done));
    }
    let codes = parts.iter().flat_map(|d| d.codes().iter().copied());
    Some(Diagnostic::gathered(codes, text.join("\n")))
}

/// One destination's failure: why it could not be made ready, or which tags were not pushed.
fn destination_failure(delivery: &Delivery) -> Option<Diagnostic> {
    let (destination, outcome) = match &delivery.prepared {
        Err(why) => return Some(advice::nothing_pushed(&delivery.target.to_string(), why)),
        Ok(destination) => (destination, &delivery.outcome),
    };
    if outcome.failed.is_empty() {
        return None;
    }
    let failed: Vec<(String, String)> = outcome
        .failed
        .iter()
        .map(|(tag, why)| (tag.to_string(), why.clone()))
        .collect();
    let pushed: Vec<String> = outcome.pushed.iter().map(|p| p.tag.to_string()).collect();
    Some(advice::tags_not_pushed(&advice::NotPushed {
        uri: &destination.repository_uri,
        planned: destination.plan.push.len(),
        failed: &failed,
        codes: &outcome.codes,
        pushed: &pushed,
        digest: outcome.pushed.first().map(|p| p.digest.as_str()),
        created: destination.created.then_some(destination.name.as_str()),
    }))
}

/// The destinations must hold one image: the digest each holds this run's image under, when they
/// differ.
fn digests_differ(deliveries: &[Delivery]) -> Option<Diagnostic> {
    let held: Vec<(&str, &str)> = deliveries
        .iter()
        .filter_map(|d| {
            Some((
                d.prepared.as_ref().ok()?.repository_uri.as_str(),
                d.digest()?,
            ))
        })
        .collect();
    if held.iter().all(|(_, digest)| *digest == held[0].1) {
        return None;
    }
    Some(advice::digests_differ(&held))
}

struct Outputs<'a> {
    registry: &'a str,
    repository_uri: &'a str,
    repository_arn: &'a str,
    image_uris: Vec<String>,
    digest: &'a str,
    account: &'a str,
    created: bool,
    authenticated_arn: Option<&'a str>,
    pushed_tags: Vec<String>,
    skipped_tags: Vec<String>,
    failed_tags: Vec<String>,
    restored_tags: Vec<String>,
    platforms: &'a [Platform],
    destinations: serde_json::Value,
    /// `scan-findings`; `None` without the scan gate.
    scan_findings: Option<serde_json::Value>,
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
        ("repository-arn", o.repository_arn.to_owned()),
        (
            "image-uri",
            o.image_uris.first().cloned().unwrap_or_default(),
        ),
        ("image-uris", o.image_uris.join("\n")),
        ("digest", o.digest.to_owned()),
        ("image-ref", image_ref.clone()),
        ("aws-account-id", o.account.to_owned()),
        ("repository-created", o.created.to_string()),
        (
            "authenticated-arn",
            o.authenticated_arn.unwrap_or_default().to_owned(),
        ),
        ("pushed-tags", o.pushed_tags.join("\n")),
        ("skipped-tags", o.skipped_tags.join("\n")),
        ("failed-tags", o.failed_tags.join("\n")),
        ("restored-tags", o.restored_tags.join("\n")),
        ("platforms", docker::join(o.platforms)),
        ("metadata", metadata(o, &image_ref)),
        ("destinations", o.destinations.to_string()),
        (
            "scan-findings",
            o.scan_findings
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        ),
    ]
}

/// The `metadata` output: every output in one JSON object, lists as arrays.
fn metadata(o: &Outputs<'_>, image_ref: &str) -> String {
    let platforms: Vec<String> = o.platforms.iter().map(ToString::to_string).collect();
    json!({
        "registry": o.registry,
        "repository-uri": o.repository_uri,
        "repository-arn": o.repository_arn,
        "image-uri": o.image_uris.first().cloned().unwrap_or_default(),
        "image-uris": o.image_uris,
        "digest": o.digest,
        "image-ref": image_ref,
        "aws-account-id": o.account,
        "repository-created": o.created,
        "authenticated-arn": o.authenticated_arn.unwrap_or_default(),
        "pushed-tags": o.pushed_tags,
        "skipped-tags": o.skipped_tags,
        "failed-tags": o.failed_tags,
        "restored-tags": o.restored_tags,
        "platforms": platforms,
        "signing": o.destinations.get(0).and_then(|d| d.get("signing")).cloned().unwrap_or_default(),
        "destinations": o.destinations,
        "scan-findings": o.scan_findings,
    })
    .to_string()
}

/// The job summary: the table of tags, then the platforms' manifests (an index this run wrote), the
/// signatures, archived images restored, and the scan gate's findings.
fn summary(
    deliveries: &[Delivery],
    rows: &[Vec<Row>],
    platforms: &[Platform],
    manifests: &[(Platform, String)],
) -> String {
    let mut summary = tags_summary(deliveries, rows, &docker::join(platforms));
    summary.push_str(&manifests_table(manifests));
    summary.push_str(&archived_note(deliveries));
    if let Some(scans) = scanned(deliveries) {
        summary.push_str(&scan::summary::markdown(&scans));
    }
    summary
}

fn tags_summary(deliveries: &[Delivery], rows: &[Vec<Row>], platforms: &str) -> String {
    let ready: Vec<&Destination> = deliveries
        .iter()
        .filter_map(|d| d.prepared.as_ref().ok())
        .collect();
    let Some(first) = ready.first() else {
        return String::new();
    };
    let registry = first.kind.title();
    let platforms = if platforms.is_empty() {
        String::new()
    } else {
        format!(", platforms {}", github::code_cell(platforms))
    };
    // Every text that came from a registry or AWS (names, URIs, digests, the account, failure reasons) is
    // a code span: a hostile registry cannot put links, images or HTML into the summary.
    let place = place(&ready, deliveries.len());
    let mut summary = format!(
        "### Pushed to {registry}\n\nRepository {}{place}{platforms}\n\n| Tag | Image URI | Digest | Result |\n| --- | --- | --- | --- |\n",
        github::code_cell(&first.name),
    );
    for row in rows.iter().flatten() {
        let _ = writeln!(summary, "{}", table_row(row));
    }
    summary.push('\n');
    summary.push_str(&signing_lines(deliveries));
    summary
}

/// A line per destination that a signing rule covers: ECR's status and the profiles.
fn signing_lines(deliveries: &[Delivery]) -> String {
    let mut lines = String::new();
    for delivery in deliveries {
        let (Some(signed), Ok(destination)) = (&delivery.signing, &delivery.prepared) else {
            continue;
        };
        let profiles: Vec<String> = signed
            .profiles
            .iter()
            .map(|p| github::code_cell(p))
            .collect();
        let _ = writeln!(
            lines,
            "Signing of {}: {} ({})\n",
            github::code_cell(&destination.repository_uri),
            github::code_cell(&signed.status),
            profiles.join(", ")
        );
    }
    lines
}

/// Where the summary says the repository is: one account, or how many registries (and where it was
/// created). `ready` is not empty.
fn place(ready: &[&Destination], destinations: usize) -> String {
    let first = ready[0];
    let created: Vec<String> = ready
        .iter()
        .filter(|d| d.created)
        .map(|d| github::code_cell(&d.login.host))
        .collect();
    if destinations == 1 {
        let created = if first.created {
            " (created by this run)"
        } else if first.created_on_push {
            " (created by ECR on push, from a repository creation template)"
        } else {
            ""
        };
        format!(
            "{created} in account {}",
            github::code_cell(&first.login.account)
        )
    } else if created.is_empty() {
        format!(" in {destinations} registries")
    } else {
        format!(
            " in {destinations} registries (created by this run in {})",
            created.join(", ")
        )
    }
}

/// One tag's row of the summary's table.
fn table_row(row: &Row) -> String {
    {
        let result = match &row.result {
            TagResult::Pushed => "pushed".to_owned(),
            TagResult::There => "already there: it holds this image".to_owned(),
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
        format!(
            "| {} | {} | {digest} | {result} |",
            github::code_cell(&row.tag),
            github::code_cell(&row.uri),
        )
    }
}

/// The tags of one destination that held an archived image and were pushed: each with the archived
/// digest and the digest pushed (the same when the push restored the archived image).
fn restored(delivery: &Delivery) -> impl Iterator<Item = (&Tag, &str, &str)> {
    let pushed = &delivery.outcome.pushed;
    let archived = delivery
        .prepared
        .as_ref()
        .map(|d| d.plan.archived.as_slice());
    archived
        .unwrap_or_default()
        .iter()
        .filter_map(|(tag, was)| {
            let now = pushed.iter().find(|p| p.tag == *tag)?;
            Some((tag, was.as_str(), now.digest.as_str()))
        })
}

/// The `restored-tags` output: the tags pushed again over an archived image, in any destination.
fn restored_tags(deliveries: &[Delivery], tags: &[Tag]) -> Vec<String> {
    let again = |tag: &&Tag| {
        deliveries
            .iter()
            .any(|d| restored(d).any(|(t, ..)| t == *tag))
    };
    names(tags.iter().filter(again))
}

/// The summary's note on tags whose archived image a push restored (or replaced).
fn archived_note(deliveries: &[Delivery]) -> String {
    let mut note = String::new();
    for delivery in deliveries {
        let Ok(destination) = &delivery.prepared else {
            continue;
        };
        for (tag, was, now) in restored(delivery) {
            let uri = github::code_cell(&format!("{}:{tag}", destination.repository_uri));
            let _ = if was == now {
                writeln!(
                    note,
                    "- {uri}: its archived image {} was restored by this push.",
                    github::code_cell(was)
                )
            } else {
                writeln!(
                    note,
                    "- {uri}: held the archived image {}; it now holds {} (the archived image stays archived).",
                    github::code_cell(was),
                    github::code_cell(now)
                )
            };
        }
    }
    if note.is_empty() {
        return note;
    }
    format!("Archived images (ECR archive storage class):\n\n{note}\n")
}

/// An assembled index's platforms, each with its image manifest's digest.
fn manifests_table(manifests: &[(Platform, String)]) -> String {
    if manifests.is_empty() {
        return String::new();
    }
    let mut table = "| Platform | Manifest digest |\n| --- | --- |\n".to_owned();
    for (platform, digest) in manifests {
        let _ = writeln!(
            table,
            "| {} | {} |",
            github::code_cell(&platform.to_string()),
            github::code_cell(digest)
        );
    }
    table.push('\n');
    table
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
        let platforms = [Platform::parse("linux/amd64").expect("a platform")];
        let written: Vec<String> = outputs(&Outputs {
            registry: "h",
            repository_uri: "h/r",
            repository_arn: "arn:aws:ecr:r:1:repository/r",
            image_uris: Vec::new(),
            digest: "d",
            account: "1",
            created: true,
            authenticated_arn: None,
            pushed_tags: Vec::new(),
            skipped_tags: Vec::new(),
            failed_tags: Vec::new(),
            restored_tags: Vec::new(),
            platforms: &platforms,
            destinations: json!([]),
            scan_findings: None,
        })
        .into_iter()
        .map(|(n, _)| n.to_owned())
        .collect();
        assert_eq!(written, declared_in_action_yml("outputs"));
    }

    /// `signing` per destination: ECR's status and the profiles, or `null` where no rule matched.
    #[test]
    fn signing_is_an_object_where_a_rule_matched_else_null() {
        assert_eq!(signing_json(None), serde_json::Value::Null);
        let signed = Signed {
            status: "COMPLETE".to_owned(),
            profiles: vec![
                "arn:aws:signer:us-east-1:123456789012:/signing-profiles/team".to_owned(),
            ],
            problem: None,
        };
        assert_eq!(
            signing_json(Some(&signed)),
            json!({"status": "COMPLETE", "profiles": ["arn:aws:signer:us-east-1:123456789012:/signing-profiles/team"]})
        );
    }
}

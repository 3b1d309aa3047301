//! How the scan gate's judgement is shown: the `scan-findings` output (JSON) and the job summary's
//! table of counted findings, worst first. Every text in the table came from ECR (names, packages,
//! versions, URIs): each is a code span, escaped, so that it cannot make links, HTML or columns.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::findings::{counts, counts_text};
use super::{Finding, ImageScan, Scanned};
use crate::github;

/// Rows of the summary's table; more are counted in a last line.
const ROWS: usize = 30;

/// `scan-findings`: per destination (its repository URI) and image manifest, ECR's status, the
/// counted findings per severity, the counted findings and the ignored ones.
pub fn json(scans: &[(&str, &Scanned)]) -> Value {
    let destinations: Vec<Value> = scans
        .iter()
        .map(|(uri, scanned)| {
            let images: Vec<Value> = scanned
                .images
                .iter()
                .map(|image| {
                    let counted = &image.judged.counted;
                    let per_severity: serde_json::Map<String, Value> = counts(counted)
                        .into_iter()
                        .map(|(s, n)| (s.as_str().to_owned(), json!(n)))
                        .collect();
                    let ignored: Vec<Value> = image
                        .judged
                        .ignored
                        .iter()
                        .map(|(f, entry)| {
                            let mut f = f.json();
                            f["until"] = json!(entry.until);
                            f
                        })
                        .collect();
                    json!({
                        "platform": image.platform,
                        "digest": image.digest,
                        "status": image.status,
                        "counts": per_severity,
                        "findings": counted.iter().map(Finding::json).collect::<Vec<_>>(),
                        "ignored": ignored,
                    })
                })
                .collect();
            json!({"repository-uri": uri, "images": images})
        })
        .collect();
    json!({ "destinations": destinations })
}

/// The job summary's section: per destination a line of counts, then one table of every counted
/// finding, worst first, at most [`ROWS`] rows and a line for the rest; ignored findings listed.
pub fn markdown(scans: &[(&str, &Scanned)]) -> String {
    let mut out = String::from("### Image scan\n\n");
    let mut rows = Vec::new();
    for (uri, scanned) in scans {
        for image in &scanned.images {
            out.push_str(&image_lines(uri, image));
            rows.extend(
                image
                    .judged
                    .counted
                    .iter()
                    .map(|f| (f, image.platform.as_deref())),
            );
        }
    }
    out.push_str(&table(rows));
    out.push('\n');
    out
}

/// One image's line (status and counts) and a line per ignored finding.
fn image_lines(uri: &str, image: &ImageScan) -> String {
    let counted = counts_text(&image.judged.counted);
    let at = github::code_cell(&format!("{uri}@{}", image.digest));
    let platform = image
        .platform
        .as_deref()
        .map(|p| format!(" ({})", github::code_cell(p)))
        .unwrap_or_default();
    let status = github::code_cell(&image.status);
    let mut out = format!("- {at}{platform}: {status}, {counted}\n");
    for (finding, entry) in &image.judged.ignored {
        let until = entry
            .until
            .as_deref()
            .map(|d| format!(" until {d}"))
            .unwrap_or_default();
        let name = github::code_cell(&finding.name);
        let _ = writeln!(
            out,
            "  - ignored: {name} ({}){until}",
            word(&finding.severity_word)
        );
    }
    out
}

/// The table of counted findings, worst first; nothing without any.
fn table(mut rows: Vec<(&Finding, Option<&str>)>) -> String {
    if rows.is_empty() {
        return String::new();
    }
    rows.sort_by(|a, b| {
        b.0.severity
            .cmp(&a.0.severity)
            .then_with(|| a.0.name.cmp(&b.0.name))
    });
    let mut out = String::from(
        "\n| Severity | Finding | Package | Installed | Fixed in | Platform |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    let cell = |v: Option<&str>| v.map_or_else(|| "—".to_owned(), github::code_cell);
    for (f, platform) in rows.iter().take(ROWS) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            word(&f.severity_word),
            github::code_cell(&f.name),
            cell(f.package.as_deref()),
            cell(f.installed.as_deref()),
            cell(f.fixed_in.as_deref()),
            cell(*platform),
        );
    }
    if rows.len() > ROWS {
        let _ = writeln!(
            out,
            "\nand {} more (all in the `scan-findings` output)",
            rows.len() - ROWS
        );
    }
    out
}

/// A severity word from ECR, as plain text: its capital letters and underscores only.
fn word(severity: &str) -> String {
    severity
        .chars()
        .filter(|c| c.is_ascii_uppercase() || *c == '_')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs::Severity;
    use crate::scan::findings::Judged;

    /// Text from ECR cannot leave its cell: a `|` is escaped, a line break is a space, backticks
    /// get a longer fence, and a severity word keeps only `[A-Z_]` (GFM spec, tables: "include a
    /// pipe in a cell's content by escaping it, including inside other inline spans").
    #[test]
    fn text_from_ecr_stays_in_its_cell() {
        let hostile = Finding {
            name: "CVE-1 | <img src=x>\n| x |".to_owned(),
            severity: Severity::High,
            severity_word: "HIGH<script>|".to_owned(),
            package: Some("`pkg`".to_owned()),
            installed: None,
            fixed_in: None,
            uri: None,
        };
        let scanned = Scanned {
            images: vec![ImageScan {
                platform: Some("linux/amd64".to_owned()),
                digest: "sha256:a".to_owned(),
                status: "COMPLETE".to_owned(),
                judged: Judged {
                    counted: vec![hostile],
                    ignored: Vec::new(),
                },
            }],
            problem: None,
        };
        let text = markdown(&[("h/r", &scanned)]);
        let row = text
            .lines()
            .find(|l| l.starts_with("| HIGH"))
            .expect("a row");
        assert!(
            row.starts_with("| HIGH | `CVE-1 \\| <img src=x> \\| x \\|` | `` `pkg` `` |"),
            "{row}"
        );
        assert_eq!(row.matches(" | ").count(), 5, "six cells: {row}");
        assert!(!text.contains("<script>"));
    }
}

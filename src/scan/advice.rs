//! What the scan gate says: its log lines, and its diagnostics, each with its stable code.

use anyhow::Error;

use super::ImageScan;
use super::findings::{Finding, Judged, counts_text};
use crate::diagnostic::error;
use crate::inputs::Severity;

/// How many failing findings the error names; the job summary lists more.
const NAMED: usize = 5;

fn image(repository: &str, digest: &str) -> String {
    format!("{repository}@{digest}")
}

pub fn started(repository: &str, digest: &str) -> String {
    format!("Started a basic scan of {}", image(repository, digest))
}

pub fn scanned_today(repository: &str, digest: &str) -> String {
    format!(
        "{} was scanned within the last 24 hours (ECR starts one basic scan per image a day, scan \
         on push included): waiting for that scan's findings",
        image(repository, digest)
    )
}

pub fn not_started(repository: &str, digest: &str, why: &str) -> String {
    let why = why.lines().next().unwrap_or_default();
    format!(
        "No scan of {} was started ({why}); waiting for the registry's own scan (enhanced scanning \
         scans on push and has no manual scan)",
        image(repository, digest)
    )
}

/// One image's findings: counted per severity, and how many were ignored.
pub fn scanned(repository: &str, scan: &ImageScan, judged: &Judged) -> String {
    let platform = scan
        .platform
        .as_deref()
        .map(|p| format!(" ({p})"))
        .unwrap_or_default();
    let counted = counts_text(&judged.counted);
    let ignored = match judged.ignored.len() {
        0 => String::new(),
        n => format!(" ({n} ignored by ignore-findings)"),
    };
    format!(
        "Scan of {}{platform}: {} — {counted}{ignored}",
        image(repository, &scan.digest),
        scan.status
    )
}

/// Counted findings at or above `fail-on-severity`: the worst named, and what to do with the image,
/// which stays pushed.
pub fn findings_fail(
    repository: &str,
    threshold: Severity,
    failing: &[(&ImageScan, &Finding)],
) -> crate::diagnostic::Diagnostic {
    let mut worst: Vec<&(&ImageScan, &Finding)> = failing.iter().collect();
    worst.sort_by(|a, b| {
        b.1.severity
            .cmp(&a.1.severity)
            .then_with(|| a.1.name.cmp(&b.1.name))
    });
    let named: Vec<String> = worst
        .iter()
        .take(NAMED)
        .map(|(scan, f)| {
            let package = match (&f.package, &f.installed) {
                (Some(p), Some(v)) => format!(" in {p} {v}"),
                (Some(p), None) => format!(" in {p}"),
                _ => String::new(),
            };
            let fixed = f
                .fixed_in
                .as_deref()
                .map(|v| format!(", fixed in {v}"))
                .unwrap_or_default();
            let platform = scan
                .platform
                .as_deref()
                .map(|p| format!(" ({p})"))
                .unwrap_or_default();
            format!("{} {}{package}{fixed}{platform}", f.severity_word, f.name)
        })
        .collect();
    let more = match worst.len().saturating_sub(NAMED) {
        0 => String::new(),
        n => format!("; and {n} more (see the job summary and `scan-findings`)"),
    };
    let digest = worst.first().map_or("", |(scan, _)| scan.digest.as_str());
    crate::diagnostic::Diagnostic::gathered(
        vec!["E-SCAN-FINDINGS"],
        format!(
            "ECR's scan of {repository} found {} finding(s) at or above {} (fail-on-severity): {}{more}. \
             The image stays pushed: fix or update the packages and push again, ignore a finding with \
             `ignore-findings: <ID> until <YYYY-MM-DD>`, or remove the image (`aws ecr \
             batch-delete-image --repository-name {repository} --image-ids imageDigest=<digest>`, \
             e.g. {digest}) before anything deploys it.",
            worst.len(),
            threshold.as_str(),
            named.join("; ")
        ),
    )
}

/// Without `fail-on-severity`, a scan that gave no findings is only said.
pub fn report_only(problem: &str) -> String {
    format!("{problem} (a warning: without `fail-on-severity` the scan gate only reports)")
}

pub fn image_not_found(repository: &str, digest: &str) -> Error {
    error(
        "E-SCAN-IMAGE-NOT-FOUND",
        format!(
            "ECR does not list the pushed image {} (BatchGetImage answered no image), so its scan \
             cannot be read; run again, and check the registry's lifecycle policy.",
            image(repository, digest)
        ),
    )
}

pub fn index_too_large(repository: &str, digest: &str, cap: usize) -> Error {
    error(
        "E-SCAN-INDEX-UNREADABLE",
        format!(
            "The index {} is larger than {cap} bytes, ECR's manifest limit: its platform images \
             were not read, nor scanned.",
            image(repository, digest)
        ),
    )
}

pub fn index_unreadable(repository: &str, digest: &str, why: &serde_json::Error) -> Error {
    error(
        "E-SCAN-INDEX-UNREADABLE",
        format!(
            "The index {} is not JSON ({why}): its platform images were not read, nor scanned.",
            image(repository, digest)
        ),
    )
}

pub fn not_scanning(repository: &str, digest: &str, secs: u64) -> Error {
    error(
        "E-SCAN-NOT-STARTED",
        format!(
            "No scan of {} started within {secs} s of the push: the repository does not scan on \
             push and no registry scanning rule covers it. Set `scan-on-push: true`, add a rule to \
             the registry's scanning configuration (PutRegistryScanningConfiguration), or use \
             `scan: start`.",
            image(repository, digest)
        ),
    )
}

pub fn not_complete(repository: &str, digest: &str, status: &str) -> Error {
    error(
        "E-SCAN-NOT-COMPLETE",
        format!(
            "ECR's scan of {} did not complete within the run's `timeout` (last status: {status}); \
             the image is pushed. Raise `timeout`, or look at the scan in the ECR console.",
            image(repository, digest)
        ),
    )
}

pub fn scan_ended(repository: &str, digest: &str, status: &str, why: &str) -> Error {
    let why = if why.is_empty() {
        "no description"
    } else {
        why
    };
    error(
        "E-SCAN-FAILED",
        format!(
            "ECR's scan of {} ended {status} ({why}), with no findings to judge; the image is \
             pushed. UNSUPPORTED_IMAGE: ECR cannot scan this image's operating system or packages; \
             SCAN_ELIGIBILITY_EXPIRED or IMAGE_ARCHIVED: push or restore the image again.",
            image(repository, digest)
        ),
    )
}

pub fn too_many_pages(repository: &str, digest: &str, pages: usize) -> Error {
    error(
        "E-SCAN-FAILED",
        format!(
            "ECR's scan of {} has more than {pages} pages of 1,000 findings: not read further.",
            image(repository, digest)
        ),
    )
}

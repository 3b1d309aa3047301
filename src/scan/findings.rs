//! What ECR's image scan found, read from `DescribeImageScanFindings` pages: basic scanning's
//! `findings` and enhanced scanning's `enhancedFindings` (Amazon Inspector's) in one shape, and the
//! gate's verdict on them — which findings count (not ignored), and which fail the run.
//! API Reference: `ImageScanFinding`, `EnhancedImageScanFinding`, `PackageVulnerabilityDetails`,
//! `VulnerablePackage`.

use aws_sdk_ecr::types::{EnhancedImageScanFinding, ImageScanFinding};
use serde_json::{Value, json};

use crate::inputs::{Ignored, Severity};

/// One finding, from either kind of scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The vulnerability ID (`CVE-…`, `ALAS-…`), else the finding's name or title.
    pub name: String,
    pub severity: Severity,
    /// ECR's own word for the severity (enhanced scanning may say `UNTRIAGED`).
    pub severity_word: String,
    pub package: Option<String>,
    pub installed: Option<String>,
    pub fixed_in: Option<String>,
    pub uri: Option<String>,
}

impl Finding {
    /// A basic scan's finding: the package from the `package_name` and `package_version`
    /// attributes (the attribute keys ECR uses; the API Reference does not list them).
    pub fn basic(f: &ImageScanFinding) -> Finding {
        let attribute = |key: &str| {
            f.attributes()
                .iter()
                .find(|a| a.key() == key)
                .and_then(|a| a.value())
                .map(str::to_owned)
        };
        let word = f.severity().map_or("UNDEFINED", |s| s.as_str());
        Finding {
            name: f.name().unwrap_or("(unnamed)").to_owned(),
            severity: Severity::from_ecr(word),
            severity_word: word.to_owned(),
            package: attribute("package_name"),
            installed: attribute("package_version"),
            fixed_in: None,
            uri: f.uri().map(str::to_owned),
        }
    }

    /// An enhanced scan's finding: the first vulnerable package names the package and versions.
    pub fn enhanced(f: &EnhancedImageScanFinding) -> Finding {
        let details = f.package_vulnerability_details();
        let package = details.and_then(|d| d.vulnerable_packages().first());
        let word = f.severity().unwrap_or("UNDEFINED");
        let name = details
            .and_then(|d| d.vulnerability_id())
            .or(f.title())
            .unwrap_or("(unnamed)");
        Finding {
            name: name.to_owned(),
            severity: Severity::from_ecr(word),
            severity_word: word.to_owned(),
            package: package.and_then(|p| p.name()).map(str::to_owned),
            installed: package.and_then(|p| p.version()).map(str::to_owned),
            fixed_in: package
                .and_then(|p| p.fixed_in_version())
                .map(str::to_owned),
            uri: details.and_then(|d| d.source_url()).map(str::to_owned),
        }
    }

    pub fn json(&self) -> Value {
        json!({
            "name": self.name,
            "severity": self.severity_word,
            "package": self.package,
            "installed": self.installed,
            "fixed_in": self.fixed_in,
            "uri": self.uri,
        })
    }
}

/// The findings of one image after `ignore-findings`: those that count, worst first (then by name),
/// and those ignored, each with the entry that ignores it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Judged {
    pub counted: Vec<Finding>,
    pub ignored: Vec<(Finding, Ignored)>,
}

/// Sorts `findings` into counted and ignored at `now` (Unix seconds): an entry whose last day has
/// passed ignores nothing. Several findings of one vulnerability (one per package) are kept apart.
pub fn judge(findings: Vec<Finding>, ignore: &[Ignored], now: i64) -> Judged {
    let mut judged = Judged::default();
    for finding in findings {
        let entry = ignore
            .iter()
            .find(|i| i.holds(now) && i.id.eq_ignore_ascii_case(&finding.name));
        match entry {
            Some(entry) => judged.ignored.push((finding, entry.clone())),
            None => judged.counted.push(finding),
        }
    }
    judged.counted.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.name.cmp(&b.name))
    });
    judged
}

/// `1 CRITICAL, 2 HIGH`, or `no findings`: the counted findings in words.
pub fn counts_text(counted: &[Finding]) -> String {
    let words: Vec<String> = counts(counted)
        .iter()
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    if words.is_empty() {
        "no findings".to_owned()
    } else {
        words.join(", ")
    }
}

/// Counted findings per severity, worst first, only those with any.
pub fn counts(counted: &[Finding]) -> Vec<(Severity, usize)> {
    Severity::WORST_FIRST
        .into_iter()
        .map(|s| (s, counted.iter().filter(|f| f.severity == s).count()))
        .filter(|(_, n)| *n > 0)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecr::types::{
        Attribute, FindingSeverity, PackageVulnerabilityDetails, VulnerablePackage,
    };

    fn finding(name: &str, severity: Severity) -> Finding {
        Finding {
            name: name.to_owned(),
            severity,
            severity_word: severity.as_str().to_owned(),
            package: None,
            installed: None,
            fixed_in: None,
            uri: None,
        }
    }

    /// Basic findings carry the package in attributes; enhanced ones in
    /// `packageVulnerabilityDetails.vulnerablePackages` (API Reference, `VulnerablePackage`).
    #[test]
    fn both_kinds_of_finding_read_into_one_shape() {
        let basic = ImageScanFinding::builder()
            .name("CVE-2024-1")
            .severity(FindingSeverity::High)
            .uri("https://example.com/CVE-2024-1")
            .attributes(
                Attribute::builder()
                    .key("package_name")
                    .value("openssl")
                    .build()
                    .expect("attribute"),
            )
            .attributes(
                Attribute::builder()
                    .key("package_version")
                    .value("1.1")
                    .build()
                    .expect("attribute"),
            )
            .build();
        let read = Finding::basic(&basic);
        assert_eq!(
            (
                read.severity,
                read.package.as_deref(),
                read.installed.as_deref()
            ),
            (Severity::High, Some("openssl"), Some("1.1"))
        );
        let package = VulnerablePackage::builder()
            .name("zlib")
            .version("1.2")
            .fixed_in_version("1.3")
            .build();
        let details = PackageVulnerabilityDetails::builder()
            .vulnerability_id("CVE-2024-2")
            .vulnerable_packages(package)
            .source_url("https://nvd.example/CVE-2024-2")
            .build();
        let enhanced = EnhancedImageScanFinding::builder()
            .severity("UNTRIAGED")
            .title("CVE-2024-2 - zlib")
            .package_vulnerability_details(details)
            .build();
        let read = Finding::enhanced(&enhanced);
        assert_eq!(read.name, "CVE-2024-2");
        assert_eq!(
            (read.severity, read.severity_word.as_str()),
            (Severity::Undefined, "UNTRIAGED")
        );
        assert_eq!(read.fixed_in.as_deref(), Some("1.3"));
    }

    #[test]
    fn ignored_findings_count_again_after_their_last_day() {
        let ignore = vec![Ignored {
            id: "cve-2024-1".to_owned(),
            until: Some("2024-01-01".to_owned()),
            expires_at: Some(1_704_153_600),
        }];
        let findings = vec![
            finding("CVE-2024-1", Severity::Critical),
            finding("A", Severity::Low),
        ];
        let before = judge(findings.clone(), &ignore, 1_704_153_599);
        assert_eq!(before.counted.len(), 1);
        assert_eq!(before.ignored[0].0.name, "CVE-2024-1");
        let after = judge(findings, &ignore, 1_704_153_600);
        assert_eq!(after.counted[0].name, "CVE-2024-1", "worst first");
        assert_eq!(
            counts(&after.counted),
            [(Severity::Critical, 1), (Severity::Low, 1)]
        );
    }
}

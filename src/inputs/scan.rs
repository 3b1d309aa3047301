//! The scan gate's inputs: `scan` (whether to wait for ECR's image scan, or start one first),
//! `fail-on-severity` (the severity from which a finding fails the run) and `ignore-findings` (findings
//! that do not count, each until a date). Their problems are told here too, each with its code.

use super::problem::{Checked, Problem, problem};

/// `scan`: what the run does about ECR's image scan of what it pushed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ScanMode {
    /// Nothing (the default).
    #[default]
    Off,
    /// Wait for the scan that the repository's scan on push or the registry's rules start.
    Wait,
    /// Start a basic scan (`StartImageScan`) where the repository does not scan on push, then wait.
    Start,
}

/// ECR's finding severities, least severe first: `Ord` ranks them. Enhanced scanning's `UNTRIAGED`
/// ranks with `UNDEFINED`, below every known severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Undefined,
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Worst first, as reports list them.
    pub const WORST_FIRST: [Severity; 6] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Informational,
        Severity::Undefined,
    ];

    /// ECR's word for a severity (`FindingSeverity`, and enhanced findings' `severity`); an unknown
    /// word is `UNDEFINED`, so that a new one is reported rather than dropped.
    pub fn from_ecr(word: &str) -> Severity {
        Severity::parse(word).unwrap_or(Severity::Undefined)
    }

    fn parse(word: &str) -> Option<Severity> {
        Severity::WORST_FIRST
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(word))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::High => "HIGH",
            Severity::Medium => "MEDIUM",
            Severity::Low => "LOW",
            Severity::Informational => "INFORMATIONAL",
            Severity::Undefined => "UNDEFINED",
        }
    }
}

/// One `ignore-findings` entry: a finding name or vulnerability ID, and the last day (UTC) it is
/// ignored on; after that it counts again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    pub id: String,
    /// `YYYY-MM-DD`, as given; `None`: for good.
    pub until: Option<String>,
    /// The first second (Unix time) it counts again.
    pub expires_at: Option<i64>,
}

impl Ignored {
    /// Whether the entry still holds at `now` (Unix seconds).
    pub fn holds(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|end| now < end)
    }
}

/// The scan gate, validated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanGate {
    pub mode: ScanMode,
    /// `fail-on-severity`: a counted finding this severe or worse fails the run; `None` reports only.
    pub fail_on: Option<Severity>,
    pub ignore: Vec<Ignored>,
}

/// The three inputs; every problem names its input. ECR Public does not scan.
pub fn rules(
    scan: Option<&str>,
    fail_on: Option<&str>,
    ignore: Option<&str>,
    public: bool,
) -> Result<ScanGate, Vec<Problem>> {
    let mode = mode_rule(scan, public);
    let fail_on = fail_on_rule(fail_on);
    let ignore = ignore_rule(ignore.unwrap_or_default());
    let (mode, fail_on, ignore) = match (mode, fail_on, ignore) {
        (Ok(mode), Ok(fail_on), Ok(ignore)) => (mode, fail_on, ignore),
        (mode, fail_on, ignore) => {
            let problems = [mode.err(), fail_on.err(), ignore.err()];
            return Err(problems.into_iter().flatten().collect());
        }
    };
    if mode == ScanMode::Off && fail_on.is_some() {
        return Err(vec![without_scan("fail-on-severity")]);
    }
    if mode == ScanMode::Off && !ignore.is_empty() {
        return Err(vec![without_scan("ignore-findings")]);
    }
    Ok(ScanGate {
        mode,
        fail_on,
        ignore,
    })
}

fn mode_rule(value: Option<&str>, public: bool) -> Checked<ScanMode> {
    let mode = match value.map_or("off", str::trim) {
        v if v.eq_ignore_ascii_case("off") || v.is_empty() => ScanMode::Off,
        v if v.eq_ignore_ascii_case("wait") => ScanMode::Wait,
        v if v.eq_ignore_ascii_case("start") => ScanMode::Start,
        other => return Err(not_a_mode(other)),
    };
    if public && mode != ScanMode::Off {
        return Err(not_in_ecr_public());
    }
    Ok(mode)
}

fn fail_on_rule(value: Option<&str>) -> Checked<Option<Severity>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(word) => Severity::parse(word)
            .map(Some)
            .ok_or_else(|| not_a_severity(word)),
    }
}

/// Entries separated by commas or new lines: `ID` or `ID until YYYY-MM-DD`.
fn ignore_rule(value: &str) -> Checked<Vec<Ignored>> {
    let mut entries: Vec<Ignored> = Vec::new();
    for entry in value.split([',', '\n', '\r']).map(str::trim) {
        if entry.is_empty() || entry.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = entry.split_whitespace().collect();
        let ignored = match words[..] {
            [id] => Ignored {
                id: id.to_owned(),
                until: None,
                expires_at: None,
            },
            [id, until, date] if until.eq_ignore_ascii_case("until") => Ignored {
                id: id.to_owned(),
                until: Some(date.to_owned()),
                expires_at: Some(day_after(date).ok_or_else(|| bad_ignore_entry(entry))?),
            },
            _ => return Err(bad_ignore_entry(entry)),
        };
        if !ignored.id.bytes().all(|b| b.is_ascii_graphic()) || ignored.id.len() > 128 {
            return Err(bad_ignore_entry(entry));
        }
        entries.push(ignored);
    }
    Ok(entries)
}

/// The first second (Unix time, UTC) after the day `date` (`YYYY-MM-DD`, a real calendar day).
fn day_after(date: &str) -> Option<i64> {
    let bytes = date.as_bytes();
    let shape = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9]
            .iter()
            .all(|&i| bytes[i].is_ascii_digit());
    if !shape {
        return None;
    }
    let year: i64 = date[..4].parse().ok()?;
    let month: u32 = date[5..7].parse().ok()?;
    let day: u32 = date[8..].parse().ok()?;
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day == 0 || day > days_in_month {
        return None;
    }
    Some((days_from_civil(year, month, day) + 1) * 86_400)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

// Its diagnostics.

fn not_a_mode(value: &str) -> Problem {
    let text = format!(
        "`{value}` is not one of off, wait (wait for the scan that scan on push or the registry's \
         rules start) or start (start a basic scan where the repository does not scan on push)."
    );
    problem("scan", "E-INPUT-SCAN", text)
}

fn not_in_ecr_public() -> Problem {
    let text = "ECR Public does not scan images: use `scan: off` with `registry-type: public`.";
    problem("scan", "E-INPUT-SCAN-IN-ECR-PUBLIC", text)
}

fn not_a_severity(value: &str) -> Problem {
    let text = format!(
        "`{value}` is not one of ECR's severities: CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, \
         UNDEFINED (a finding this severe or worse fails the run; leave it empty to report only)."
    );
    problem("fail-on-severity", "E-INPUT-SEVERITY", text)
}

fn bad_ignore_entry(entry: &str) -> Problem {
    let text = format!(
        "`{entry}` is not `ID` or `ID until YYYY-MM-DD` (a finding name or vulnerability ID such \
         as CVE-2024-1234, optionally with the last day, UTC, it is ignored on; entries separated \
         by commas or new lines)."
    );
    problem("ignore-findings", "E-INPUT-IGNORE-FINDINGS", text)
}

fn without_scan(input: &'static str) -> Problem {
    let text = "it applies to ECR's image scan, which `scan: off` does not wait for: set \
                `scan: wait` (the repository scans on push) or `scan: start`.";
    problem(input, "E-INPUT-SCAN-OFF", text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_rank_as_ecr_orders_them() {
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Informational);
        assert!(Severity::Informational > Severity::Undefined);
        assert_eq!(Severity::from_ecr("UNTRIAGED"), Severity::Undefined);
        assert_eq!(Severity::from_ecr("high"), Severity::High);
    }

    #[test]
    fn ignored_findings_hold_through_their_last_day() {
        let gate = rules(
            Some("wait"),
            Some("HIGH"),
            Some("CVE-2024-1, CVE-2024-2 until 2024-02-29\nALAS-2024-3"),
            false,
        );
        let gate = gate.expect("valid");
        assert_eq!(gate.ignore.len(), 3);
        // 2024-03-01T00:00:00Z is 1709251200.
        assert_eq!(gate.ignore[1].expires_at, Some(1_709_251_200));
        assert!(gate.ignore[1].holds(1_709_251_199) && !gate.ignore[1].holds(1_709_251_200));
        assert!(gate.ignore[0].holds(i64::MAX));
    }

    #[test]
    fn malformed_entries_and_dates_are_refused() {
        for bad in [
            "CVE-1 until 2023-02-29",
            "CVE-1 until 2024-13-01",
            "CVE-1 until tomorrow",
            "CVE-1 CVE-2",
        ] {
            let checked = rules(Some("wait"), None, Some(bad), false);
            assert!(
                matches!(&checked, Err(p) if p.len() == 1 && p[0].code == "E-INPUT-IGNORE-FINDINGS"),
                "{bad}: {checked:?}"
            );
        }
    }

    #[test]
    fn the_gate_needs_a_scan_and_a_private_registry() {
        let codes = |checked: Result<ScanGate, Vec<Problem>>| -> Vec<&'static str> {
            checked
                .err()
                .unwrap_or_default()
                .iter()
                .map(|p| p.code)
                .collect()
        };
        assert_eq!(
            codes(rules(None, Some("HIGH"), None, false)),
            ["E-INPUT-SCAN-OFF"]
        );
        assert_eq!(
            codes(rules(Some("off"), None, Some("CVE-1"), false)),
            ["E-INPUT-SCAN-OFF"]
        );
        assert_eq!(
            codes(rules(Some("wait"), None, None, true)),
            ["E-INPUT-SCAN-IN-ECR-PUBLIC"]
        );
        assert_eq!(
            codes(rules(Some("later"), Some("SEVERE"), None, false)),
            ["E-INPUT-SCAN", "E-INPUT-SEVERITY"]
        );
        assert_eq!(
            codes(rules(Some("start"), Some(""), Some(""), false)),
            Vec::<&str>::new()
        );
    }
}

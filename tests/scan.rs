//! The scan gate end to end, through the registry front (the test account's registry in a second
//! region), which tells moto of every push as ECR's API knows it and starts a basic scan of a pushed
//! image in a repository that scans on push, as ECR does. moto answers `DescribeImageScanFindings`
//! with what a test seeds through its API (`/moto-api/static/ecr/scan-finding-results`: the answer
//! for a repository's next image), and keeps ECR's one-manual-scan-per-image-per-day rule.
//! API Reference: `DescribeImageScanFindings`, `ImageScanFinding`, `EnhancedImageScanFinding`,
//! `StartImageScan` ("once per 24 hours on an individual image").

use std::process::Command;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde_json::{Value, json};

use crate::on_every_engine;
use crate::support::{Action, Engine, Run, front, iam, registry_digest, stack, unique};

/// What moto answers `DescribeImageScanFindings` for the next image of `repository` it is asked
/// about: ECR's answer for a scan in `status` with these basic findings.
fn seed(repository: &str, status: &str, findings: &[Value]) {
    seed_answer(&answer(repository, status, findings));
}

fn answer(repository: &str, status: &str, findings: &[Value]) -> Value {
    json!({
        "registryId": stack().account,
        "repositoryName": repository,
        "imageId": {},
        "imageScanStatus": {"status": status, "description": "seeded by the test"},
        "imageScanFindings": {
            "findings": findings,
            "findingSeverityCounts": counts(findings),
        },
    })
}

fn seed_answer(answer: &Value) {
    seed_answer_at(&stack().endpoint, answer);
}

/// Seeds the moto at `endpoint` (the open one, or the one that enforces IAM).
fn seed_answer_at(endpoint: &str, answer: &Value) {
    let url = format!("{endpoint}/moto-api/static/ecr/scan-finding-results");
    let body = json!({"results": [answer], "region": front::region()});
    // From a file: a thousand findings are more than one command-line argument may hold.
    let dir = crate::support::TempDir::new();
    let file = dir.0.join("seed.json");
    std::fs::write(&file, body.to_string()).expect("seed file");
    crate::support::run(Command::new("curl").args([
        "-fsS",
        "-X",
        "POST",
        "-H",
        "Content-Type: application/json",
        "--data-binary",
        &format!("@{}", file.display()),
        &url,
    ]));
}

fn counts(findings: &[Value]) -> Value {
    let mut counts = serde_json::Map::new();
    for f in findings {
        let severity = f["severity"].as_str().unwrap_or("UNDEFINED").to_owned();
        let n = counts.get(&severity).and_then(Value::as_u64).unwrap_or(0);
        counts.insert(severity, json!(n + 1));
    }
    Value::Object(counts)
}

/// A basic scan's finding, as ECR writes one (`attributes` with the package).
fn finding(name: &str, severity: &str, package: &str, version: &str) -> Value {
    json!({
        "name": name,
        "severity": severity,
        "uri": format!("https://cve.example/{name}"),
        "description": "seeded",
        "attributes": [
            {"key": "package_name", "value": package},
            {"key": "package_version", "value": version},
        ],
    })
}

/// The action pushing to the front's region with the scan gate.
fn push(engine: Engine, local: &str, repository: &str, scan: &str) -> Action {
    Action::new(local, repository)
        .on(engine)
        .input("aws-region", &front::region())
        .input("scan", scan)
}

fn scan_findings(run: &Run) -> Value {
    serde_json::from_str(run.output("scan-findings")).expect("scan-findings JSON")
}

/// The rows of the job summary's tables, each cell's text, as a GFM renderer reads them.
fn summary_tables(summary: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row: Option<Vec<String>> = None;
    let mut cell: Option<String> = None;
    for event in Parser::new_ext(summary, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::TableHead | Tag::TableRow) => row = Some(Vec::new()),
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(cell) = cell.as_mut() {
                    cell.push_str(&t);
                }
            }
            Event::End(TagEnd::TableCell) => {
                if let (Some(row), Some(cell)) = (row.as_mut(), cell.take()) {
                    row.push(cell);
                }
            }
            Event::End(TagEnd::TableHead | TagEnd::TableRow) => rows.extend(row.take()),
            _ => {}
        }
    }
    rows
}

on_every_engine! {
    /// A repository that scans on push, a clean scan: the run waits, reports and passes.
    fn a_clean_image_passes_the_gate(engine: Engine) {
        let repository = unique("scan-clean");
        seed(&repository, "COMPLETE", &[]);
        let image = engine.image(&format!("{}:v1", unique("e2e-scan-clean")));
        let run = push(engine, &image.reference, &repository, "wait")
            .input("scan-on-push", "true")
            .input("fail-on-severity", "HIGH")
            .run();
        run.assert_success();
        let found = scan_findings(&run);
        let image_scan = &found["destinations"][0]["images"][0];
        assert_eq!(image_scan["status"], "COMPLETE", "{found}");
        // The classic store pushes an image manifest (the output's digest); the containerd store an
        // index, whose image manifest is what is scanned.
        assert_eq!(image_scan["platform"], "linux/amd64", "{found}");
        if engine == Engine::Classic {
            assert_eq!(image_scan["digest"], run.output("digest"));
        }
        assert_eq!(image_scan["findings"], json!([]));
        let metadata: Value = serde_json::from_str(run.output("metadata")).expect("metadata");
        assert_eq!(metadata["scan-findings"], found);
        assert!(run.stdout.contains("::group::Scan\n"), "{}", run.stdout);
        assert!(run.summary.contains("### Image scan"), "{}", run.summary);
    }
}

on_every_engine! {
    /// `scan: start` on a repository that does not scan on push; a CRITICAL finding fails the run
    /// after the push, and the job summary's table (as a GFM renderer reads it) lists it first.
    fn a_critical_finding_fails_the_run_with_the_table(engine: Engine) {
        let repository = unique("scan-critical");
        seed(&repository, "COMPLETE", &[
            finding("CVE-2024-0002", "MEDIUM", "zlib", "1.2.11"),
            finding("CVE-2024-0001", "CRITICAL", "openssl", "3.0.1"),
        ]);
        let image = engine.image(&format!("{}:v1", unique("e2e-scan-critical")));
        let run = push(engine, &image.reference, &repository, "start")
            .input("fail-on-severity", "HIGH")
            .run();
        let error = run.assert_error("E-SCAN-FINDINGS");
        assert!(
            error.contains("CRITICAL CVE-2024-0001 in openssl 3.0.1")
                && !error.contains("CVE-2024-0002")
                && error.contains("batch-delete-image"),
            "{error}"
        );
        assert!(run.stdout.contains("Started a basic scan"), "{}", run.stdout);
        assert_eq!(
            registry_digest(&front::host(), &repository, "v1").as_deref(),
            Some(run.output("digest")),
            "the image stays pushed"
        );
        let rows = summary_tables(&run.summary);
        let table: Vec<&Vec<String>> = rows.iter().filter(|r| r.len() == 6).collect();
        assert_eq!(
            table[0],
            &["Severity", "Finding", "Package", "Installed", "Fixed in", "Platform"].map(String::from),
            "{}",
            run.summary
        );
        assert_eq!(table[1][..4], ["CRITICAL", "CVE-2024-0001", "openssl", "3.0.1"].map(String::from));
        assert_eq!(table[2][..2], ["MEDIUM", "CVE-2024-0002"].map(String::from));
        let found = scan_findings(&run);
        assert_eq!(
            found["destinations"][0]["images"][0]["counts"],
            json!({"CRITICAL": 1, "MEDIUM": 1})
        );
    }
}

on_every_engine! {
    /// `ignore-findings` with a date to come holds; one whose last day has passed counts again.
    fn ignored_findings_hold_until_their_day(engine: Engine) {
        let image = engine.image(&format!("{}:v1", unique("e2e-scan-ignore")));
        let run_with = |ignore: &str| {
            let repository = unique("scan-ignore");
            seed(&repository, "COMPLETE", &[finding("CVE-2024-0003", "HIGH", "curl", "8.0")]);
            push(engine, &image.reference, &repository, "start")
                .input("fail-on-severity", "HIGH")
                .input("ignore-findings", ignore)
                .run()
        };
        let future = run_with("cve-2024-0003 until 2999-12-31");
        future.assert_success();
        let ignored = &scan_findings(&future)["destinations"][0]["images"][0]["ignored"];
        assert_eq!(ignored[0]["name"], "CVE-2024-0003");
        assert_eq!(ignored[0]["until"], "2999-12-31");
        assert!(future.summary.contains("ignored: `CVE-2024-0003` (HIGH) until 2999-12-31"), "{}", future.summary);
        let past = run_with("CVE-2024-0003 until 2020-01-31");
        let error = past.assert_error("E-SCAN-FINDINGS");
        assert!(error.contains("HIGH CVE-2024-0003 in curl 8.0"), "{error}");
    }
}

on_every_engine! {
    /// A scan that stays `IN_PROGRESS`: the wait ends a little before `timeout`, with the outputs
    /// written and the last status named.
    fn a_scan_that_never_completes_ends_at_the_timeout(engine: Engine) {
        let repository = unique("scan-stuck");
        seed(&repository, "IN_PROGRESS", &[]);
        let image = engine.image(&format!("{}:v1", unique("e2e-scan-stuck")));
        let run = push(engine, &image.reference, &repository, "start")
            .input("fail-on-severity", "CRITICAL")
            .input("timeout", "50s")
            .run();
        let error = run.assert_error("E-SCAN-NOT-COMPLETE");
        assert!(error.contains("last status: IN_PROGRESS") && error.contains("`timeout`"), "{error}");
        assert_eq!(scan_findings(&run)["destinations"][0]["images"][0]["status"], "IN_PROGRESS");
        assert!(!run.output("digest").is_empty(), "pushed, and the outputs written");
    }
}

/// ECR starts one basic scan per image a day (scan on push included): the second `scan: start` of
/// the same image is refused by ECR (moto keeps the rule), and the gate reads the first scan's
/// findings instead. Without `fail-on-severity` the gate only reports.
#[test]
fn a_second_start_the_same_day_reads_the_first_scan() {
    let repository = unique("scan-twice");
    let image = Engine::Classic.image(&format!("{}:v1", unique("e2e-scan-twice")));
    seed(
        &repository,
        "COMPLETE",
        &[finding("CVE-2024-0004", "LOW", "bash", "5.1")],
    );
    let first = push(Engine::Classic, &image.reference, &repository, "start").run();
    first.assert_success();
    let second = push(Engine::Classic, &image.reference, &repository, "start")
        .input("tags", "v2")
        .run();
    second.assert_success();
    assert!(
        second.stdout.contains("scanned within the last 24 hours"),
        "{}",
        second.stdout
    );
    let found = scan_findings(&second);
    assert_eq!(
        found["destinations"][0]["images"][0]["findings"][0]["name"],
        "CVE-2024-0004"
    );
}

/// Enhanced scanning's answer (Amazon Inspector's findings: `enhancedFindings`, status `ACTIVE`,
/// severities such as `UNTRIAGED`) is read as basic scanning's is.
#[test]
fn enhanced_findings_are_read_and_judged() {
    let repository = unique("scan-enhanced");
    seed_answer(&json!({
        "registryId": stack().account,
        "repositoryName": repository,
        "imageId": {},
        "imageScanStatus": {"status": "ACTIVE", "description": "Continuous scan is selected for image."},
        "imageScanFindings": {
            "enhancedFindings": [
                {"severity": "HIGH", "title": "CVE-2024-0005 - libxml2",
                 "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2024-0005",
                     "sourceUrl": "https://nvd.example/CVE-2024-0005",
                     "vulnerablePackages": [{"name": "libxml2", "version": "2.9.1", "fixedInVersion": "2.9.14"}]}},
                {"severity": "UNTRIAGED", "title": "CVE-2024-0006",
                 "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-2024-0006"}},
            ],
            "findingSeverityCounts": {"HIGH": 1},
        },
    }));
    let image = Engine::Classic.image(&format!("{}:v1", unique("e2e-scan-enhanced")));
    let run = push(Engine::Classic, &image.reference, &repository, "wait")
        .input("scan-on-push", "true")
        .input("fail-on-severity", "HIGH")
        .run();
    let error = run.assert_error("E-SCAN-FINDINGS");
    assert!(
        error.contains("HIGH CVE-2024-0005 in libxml2 2.9.1, fixed in 2.9.14"),
        "{error}"
    );
    let image_scan = &scan_findings(&run)["destinations"][0]["images"][0];
    assert_eq!(image_scan["status"], "ACTIVE");
    assert_eq!(image_scan["counts"], json!({"HIGH": 1, "UNDEFINED": 1}));
    assert_eq!(image_scan["findings"][1]["severity"], "UNTRIAGED");
}

/// A multi-platform image (the containerd store pushes it as an index, which ECR cannot scan): each
/// platform's image manifest is scanned and reported with its platform.
#[test]
fn each_platform_of_an_index_is_scanned() {
    let repository = unique("scan-index");
    for _ in 0..2 {
        seed(&repository, "COMPLETE", &[]);
    }
    let image = Engine::Containerd.multi_platform_image(
        &format!("{}:v1", unique("e2e-scan-index")),
        &["linux/amd64", "linux/arm64"],
    );
    let run = push(Engine::Containerd, &image.reference, &repository, "start").run();
    run.assert_success();
    let images = scan_findings(&run)["destinations"][0]["images"].clone();
    let platforms: Vec<&str> = images
        .as_array()
        .expect("images")
        .iter()
        .filter_map(|i| i["platform"].as_str())
        .collect();
    assert_eq!(images.as_array().map(Vec::len), Some(2), "{images}");
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"], "{images}");
    assert!(
        images
            .as_array()
            .is_some_and(|a| a.iter().all(|i| i["digest"] != run.output("digest")))
    );
}

/// Under IAM (the enforcing moto): a pusher allowed exactly the actions of `policy --scan start`
/// passes the gate; one without `ecr:DescribeImageScanFindings` fails after the push, and the
/// doctor names the action.
#[test]
fn under_iam_the_generated_actions_are_enough_and_a_missing_one_is_named() {
    let _one_at_a_time = iam::exclusive();
    let actions = crate::policy::generated_actions_with("true", &[("INPUT_SCAN", "start")]);
    assert!(
        [
            "ecr:DescribeImageScanFindings",
            "ecr:StartImageScan",
            "inspector2:ListFindings"
        ]
        .iter()
        .all(|a| actions.iter().any(|b| b == a)),
        "{actions:?}"
    );
    let without: Vec<String> = actions
        .iter()
        .filter(|a| *a != "ecr:DescribeImageScanFindings")
        .cloned()
        .collect();
    let (keys, keys_without) = (iam::user(&actions, &[]), iam::user(&without, &[]));
    let admin = iam::user(&["ecr:*".to_owned()], &[]);
    let (allowed, refused) = (unique("scan-iam"), unique("scan-iam-refused"));
    for repository in [&allowed, &refused] {
        front::on_enforcing_moto(repository, &admin);
        seed_answer_at(&iam::endpoint(), &answer(repository, "COMPLETE", &[]));
    }
    let image = Engine::Classic.image(&format!("{}:v1", unique("e2e-scan-iam")));
    let run_as = |repository: &str, keys: &(String, String)| {
        iam::action(&image.reference, repository, keys)
            .input("aws-region", &front::region())
            .input("scan", "start")
            .input("fail-on-severity", "HIGH")
            .run()
    };
    iam::enforce(true);
    let passed = run_as(&allowed, &keys);
    let failed = run_as(&refused, &keys_without);
    iam::enforce(false);
    passed.assert_success();
    assert_eq!(
        scan_findings(&passed)["destinations"][0]["images"][0]["status"],
        "COMPLETE"
    );
    let error = failed.assert_error("E-DENIED");
    assert!(error.contains("ecr:DescribeImageScanFindings"), "{error}");
    assert!(
        !failed.output("digest").is_empty(),
        "pushed before the gate"
    );
}

/// `policy --check` with the scan gate: the default pusher policy lacks the gate's calls, which it
/// names (exit 1); the policy generated for `--scan start` has them (exit 0).
#[test]
fn check_evaluates_the_gates_permissions() {
    let generated = |flags: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_ecr-push-action"))
            .env_clear()
            .args([
                "policy",
                "--repository",
                "team/api",
                "--region",
                "eu-west-1",
            ])
            .args(["--account", "123456789012"])
            .args(flags)
            .output()
            .expect("policy");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let arn = "arn:aws:ecr:eu-west-1:123456789012:repository/team/api";
    let (code, out, _) = crate::policy::check(&generated(&[]), &["--scan", "start"], &[]);
    assert_eq!(code, 1, "{out}");
    for missing in [
        format!("ecr:DescribeImageScanFindings on {arn}: NOT ALLOWED"),
        format!("ecr:StartImageScan on {arn}: NOT ALLOWED"),
        "inspector2:ListFindings on *: NOT ALLOWED".to_owned(),
    ] {
        assert!(out.contains(&missing), "{missing}: {out}");
    }
    let (code, out, _) =
        crate::policy::check(&generated(&["--scan", "start"]), &["--scan", "start"], &[]);
    assert_eq!(code, 0, "{out}");
}

/// More findings than one page holds (ECR pages `DescribeImageScanFindings` by `maxResults`, at most
/// 1,000; the fake of ECR's API pages moto's answer so): the gate reads every page — the CRITICAL
/// finding is on the second — and the summary's table shows the worst 30 and a line for the rest.
#[test]
fn findings_are_read_from_every_page() {
    let repository = unique("scan-pages");
    let mut findings: Vec<Value> = (0..1050)
        .map(|i| finding(&format!("CVE-2023-{i:05}"), "LOW", "pkg", "1.0"))
        .collect();
    findings.push(finding("CVE-2024-9999", "CRITICAL", "kernel", "6.1"));
    seed(&repository, "COMPLETE", &findings);
    let image = Engine::Classic.image(&format!("{}:v1", unique("e2e-scan-pages")));
    let run = push(Engine::Classic, &image.reference, &repository, "start")
        .input("fail-on-severity", "CRITICAL")
        .run();
    let error = run.assert_error("E-SCAN-FINDINGS");
    assert!(
        error.contains("CRITICAL CVE-2024-9999 in kernel 6.1"),
        "{error}"
    );
    let image_scan = &scan_findings(&run)["destinations"][0]["images"][0];
    assert_eq!(image_scan["counts"], json!({"CRITICAL": 1, "LOW": 1050}));
    let rows = summary_tables(&run.summary);
    let table: Vec<&Vec<String>> = rows.iter().filter(|r| r.len() == 6).collect();
    assert_eq!(table.len(), 31, "a header and 30 rows");
    assert_eq!(table[1][1], "CVE-2024-9999", "worst first");
    assert!(run.summary.contains("and 1021 more"), "{}", run.summary);
}

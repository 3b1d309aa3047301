//! Registry-level scanning, end to end through the test bed's fake of ECR's newer API: with
//! `scan-on-push`, a registry whose scanning configuration is `ENHANCED` (or has rules) makes the
//! repository's `scanOnPush` do nothing, and the run warns, naming `PutRegistryScanningConfiguration`.
//! ECR user guide, "Scan images for software vulnerabilities in Amazon ECR"; API reference,
//! `GetRegistryScanningConfiguration` / `PutRegistryScanningConfiguration`.

use aws_sdk_ecr::types::{
    RegistryScanningRule, ScanFrequency, ScanType, ScanningRepositoryFilter,
    ScanningRepositoryFilterType,
};

use crate::support::{Action, Engine, block_on, ecr_at, unique};

fn ecr_api() -> String {
    std::env::var("TESTBED_ECR_API").expect("TESTBED_ECR_API (testbed/testbed.env)")
}

/// One test owns the fake's registry scanning configuration (of the test account in the test
/// region): it sets it, and leaves BASIC without rules behind.
#[test]
fn scan_on_push_under_registry_scanning_warns() {
    let ecr = ecr_at(&ecr_api());
    let put = |scan_type: ScanType, rules: Vec<RegistryScanningRule>| {
        block_on(
            ecr.put_registry_scanning_configuration()
                .scan_type(scan_type)
                .set_rules(Some(rules))
                .send(),
        )
        .expect("PutRegistryScanningConfiguration");
    };
    let image = Engine::Classic.image(&format!("{}:a", unique("e2e-scanning")));
    let run = |scan: &str| {
        Action::new(&image.reference, &unique("scanning"))
            .env("AWS_ENDPOINT_URL_ECR", &ecr_api())
            .input("scan-on-push", scan)
            .run()
    };
    let rule = RegistryScanningRule::builder()
        .scan_frequency(ScanFrequency::ScanOnPush)
        .repository_filters(
            ScanningRepositoryFilter::builder()
                .filter("team/*")
                .filter_type(ScanningRepositoryFilterType::Wildcard)
                .build()
                .expect("filter"),
        )
        .build()
        .expect("rule");

    put(ScanType::Enhanced, Vec::new());
    let enhanced = run("true");
    put(ScanType::Basic, vec![rule]);
    let ruled = run("false");
    put(ScanType::Basic, Vec::new());
    let plain = run("true");

    for (what, run) in [("enhanced", &enhanced), ("basic with rules", &ruled)] {
        run.assert_success();
        let warnings = run.warnings();
        assert_eq!(warnings.len(), 1, "{what}: {warnings:?}");
        assert!(
            warnings[0].contains("PutRegistryScanningConfiguration")
                && warnings[0].contains("scan-on-push"),
            "{what}: {warnings:?}"
        );
    }
    assert!(enhanced.stdout.contains("ENHANCED scanning"));
    plain.assert_success();
    assert_eq!(plain.warnings(), Vec::<&str>::new());
}

//! Many jobs, one registry: the jobs of a large matrix start together, and ECR throttles them —
//! its API with `ThrottlingException`, its registry with `429 TOOMANYREQUESTS`. 64 runs at once
//! (distinct tags, shared layers) against an API that allows 20 calls a second and a registry that
//! allows 8 requests a second all succeed: the SDK's adaptive retries spread the API calls, the
//! action's jittered backoff (honouring `Retry-After`) the registry's.

use std::io::Write as _;

use crate::support::ecr_api;
use crate::support::front::{self, arm};
use crate::support::{Action, Engine, Run, registry_digest, unique};

const JOBS: usize = 64;

/// On both Docker stores, one after the other (each is 64 processes and 64 pushes at once).
#[test]
fn sixty_four_jobs_at_once_under_throttling_all_succeed() {
    for engine in [Engine::Classic, Engine::Containerd] {
        jobs_at_once(engine);
    }
}

fn jobs_at_once(engine: Engine) {
    let image = engine.image(&format!("{}:src", unique("e2e-many")));
    let repository = unique("many-jobs");
    let push = |key: &str, tag: &str| {
        Action::new(&image.reference, &repository)
            .on(engine)
            .input("aws-region", &front::region())
            .input("aws-access-key-id", key)
            .input("tags", tag)
            .run()
    };
    // The repository and the layers exist, as for a matrix's jobs after its first.
    push("AKIAE2ETESTKEY000001", "seed").assert_success();
    // Access key IDs are 20 characters; the prefix scopes the throttle to this test's runs.
    let prefix: String = format!("AKIA{:08X}", std::process::id() ^ 0x5eed_0000);
    ecr_api::throttle(&prefix, 20);
    arm(
        &repository,
        &serde_json::json!({"kind": "throttle", "rates": {"PutImage": 5, "*": 40}}),
    );
    let started = std::time::Instant::now();
    let runs: Vec<Run> = std::thread::scope(|scope| {
        let jobs: Vec<_> = (0..JOBS)
            .map(|job| {
                let push = &push;
                let key = format!("{prefix}{job:08}");
                scope.spawn(move || push(&key, &format!("job-{job}")))
            })
            .collect();
        jobs.into_iter().map(|j| j.join().expect("a job")).collect()
    });
    let seconds = started.elapsed().as_secs_f64();
    arm(
        &repository,
        &serde_json::json!({"kind": "throttle", "lift": true}),
    );
    let failed: Vec<String> = (runs.iter().enumerate())
        .filter(|(_, run)| !run.success)
        .map(|(job, run)| format!("job-{job}:\n{}", run.stdout))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {JOBS} failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    for (job, run) in runs.iter().enumerate() {
        assert_eq!(
            registry_digest(&front::host(), &repository, &format!("job-{job}")).as_deref(),
            Some(run.output("digest")),
            "job-{job}"
        );
    }
    let api = ecr_api::throttled(&prefix);
    let registry = front::throttled(&repository);
    let retries: usize = runs
        .iter()
        .map(|r| r.stdout.matches("(attempt ").count())
        .sum();
    // The figures the closing note reports (`cargo test -- --nocapture many_jobs`).
    let _ = writeln!(
        std::io::stderr(),
        "{engine:?}: {JOBS} jobs in {seconds:.1} s: API {api}; registry requests throttled: {registry}; \
         retries the action logged: {retries}"
    );
    assert!(
        api["throttled"].as_u64() > Some(0),
        "the API throttled none: {api}"
    );
}

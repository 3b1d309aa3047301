//! `dualstack: true` end to end: the registry is pushed to, logged in for and named in the outputs by its
//! dual-stack host, `<account>.dkr-ecr.<region>.on.aws` (ECR User Guide, "Making requests over IPv6":
//! <https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-requests.html>), while the ECR API is
//! still called at the test bed's moto (`AWS_ENDPOINT_URL`, which the tests set): a custom endpoint
//! wins for the API, the SDK refusing it together with dual-stack. The test bed's registry of the test
//! account answers by both names (testbed/stack-up), with the one token of `GetAuthorizationToken`,
//! as ECR's do (README, "Dual-stack and FIPS endpoints").

use crate::on_every_engine;
use crate::support::{Action, registry_digest, stack, unique};

/// The test account's registry by its dual-stack host.
fn dual_stack_host() -> String {
    let s = stack();
    format!("{}.dkr-ecr.{}.on.aws", s.account, s.region)
}

on_every_engine! {
    fn dualstack_pushes_to_the_dual_stack_host(engine: Engine) {
        let image = engine.image(&format!("{}:ds1", unique("e2e-dualstack")));
        let repository = unique("dualstack");
        let run = Action::new(&image.reference, &repository)
            .on(engine)
            .input("dualstack", "true")
            .run();
        run.assert_success();
        let host = dual_stack_host();
        let digest = run.output("digest");
        assert_eq!(run.output("registry"), host);
        assert_eq!(run.output("image-uri"), format!("{host}/{repository}:ds1"));
        assert_eq!(
            registry_digest(&host, &repository, "ds1").as_deref(),
            Some(digest),
            "the registry serves the digest by its dual-stack host"
        );
        // One registry by two names: the IPv4 host serves the same image.
        assert_eq!(
            registry_digest(&stack().host(&stack().account), &repository, "ds1").as_deref(),
            Some(digest)
        );
        assert!(
            run.stdout.contains(&format!("dual-stack host {host}")),
            "{}",
            run.stdout
        );
    }
}

/// Where AWS documents no registry host of the form, the run is refused before any AWS or Docker call,
/// whatever the custom endpoint (General Reference, "Amazon ECR endpoints": FIPS registry hosts in
/// us-east-1/2, us-west-1/2 and `GovCloud` only). Runs on the test bed as it is.
#[test]
fn fips_where_aws_has_no_fips_registry_is_refused_before_any_call() {
    let repository = unique("fips-refused");
    let run = Action::new("app:never-pulled", &repository)
        .input("fips", "true")
        .input("aws-region", "eu-west-1")
        .run();
    let error = run.assert_error("E-INPUT-FIPS-UNAVAILABLE");
    assert!(
        error.contains("`fips`") && error.contains("eu-west-1"),
        "{error}"
    );
    let run = Action::new("app:never-pulled", &repository)
        .env("AWS_USE_DUALSTACK_ENDPOINT", "maybe")
        .run();
    let error = run.assert_error("E-INPUT-BOOLEAN");
    assert!(error.contains("AWS_USE_DUALSTACK_ENDPOINT"), "{error}");
}

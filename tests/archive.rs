//! ECR's archive storage class, end to end through the test bed's fake of ECR's newer API
//! (`TESTBED_ECR_API`, in front of moto): a tag whose image is archived counts as absent for
//! `if-tag-exists: skip` and `match` (the push restores it), and `fail` names the archived state.
//! ECR user guide, "Archiving an image" (AmazonECR/latest/userguide/archive-image.html): an archived
//! image cannot be pulled, is described with status `ARCHIVED`, and is restored by pushing it again.

use aws_sdk_ecr::types::{ImageIdentifier, TargetStorageClass};

use crate::on_every_engine;
use crate::support::{Action, Engine, Run, block_on, ecr_at, seed_tag, unique};

/// The fake of ECR's newer operations (the open moto behind it).
fn ecr_api() -> String {
    std::env::var("TESTBED_ECR_API").expect("TESTBED_ECR_API (testbed/testbed.env)")
}

/// Moves the image `tag` holds to `class` (ECR's archive, or back), through the fake.
fn store(repository: &str, tag: &str, class: TargetStorageClass) {
    block_on(
        ecr_at(&ecr_api())
            .update_image_storage_class()
            .repository_name(repository)
            .image_id(ImageIdentifier::builder().image_tag(tag).build())
            .target_storage_class(class)
            .send(),
    )
    .expect("UpdateImageStorageClass");
}

fn archive(repository: &str, tag: &str) {
    store(repository, tag, TargetStorageClass::Archive);
}

fn push(engine: Engine, local: &str, repository: &str, rule: &str) -> Run {
    Action::new(local, repository)
        .on(engine)
        .env("AWS_ENDPOINT_URL_ECR", &ecr_api())
        .input("tags", "v1, v2")
        .input("if-tag-exists", rule)
        .run()
}

on_every_engine! {
    fn an_archived_tag_is_pushed_again_and_restored(engine: Engine) {
        let image = engine.image(&format!("{}:a", unique("e2e-archived")));
        let repository = unique("archived");
        push(engine, &image.reference, &repository, "overwrite").assert_success();
        seed_tag(&repository, "v1");
        archive(&repository, "v1");

        // fail: the archived state is named, nothing is pushed.
        let run = push(engine, &image.reference, &repository, "fail");
        let error = run.assert_error("E-TAG-ARCHIVED");
        assert!(error.contains("`v1`") && error.contains("archived"), "{error}");

        for rule in ["skip", "match"] {
            archive(&repository, "v1");
            let run = push(engine, &image.reference, &repository, rule);
            run.assert_success();
            assert_eq!(run.output("restored-tags"), "v1", "{rule}");
            assert_eq!(run.output("skipped-tags"), "", "{rule}");
            assert!(
                run.output("pushed-tags").lines().any(|t| t == "v1"),
                "{rule}: {}",
                run.output("pushed-tags")
            );
            let destinations: serde_json::Value =
                serde_json::from_str(run.output("destinations")).expect("destinations JSON");
            assert_eq!(destinations[0]["restored-tags"], serde_json::json!(["v1"]));
            assert!(
                run.summary.contains("was restored by this push"),
                "{rule}: {}",
                run.summary
            );
        }

        // Restored (the fake sees no push through the plain registry): left as it is under skip.
        store(&repository, "v1", TargetStorageClass::Standard);
        let run = push(engine, &image.reference, &repository, "skip");
        run.assert_success();
        assert_eq!(run.output("restored-tags"), "");
        assert!(run.output("skipped-tags").lines().any(|t| t == "v1"));
    }
}

//! ECR Public end to end, against the fake of its API and the registry serving public.ecr.aws:
//! created with catalog data, pushed, outputs and summary; tags reconciled and `if-tag-exists` on a
//! second run.

use crate::support::{Action, Engine, block_on, registry_digest_as, stack, unique};

fn ecr_public() -> aws_sdk_ecrpublic::Client {
    let config = aws_sdk_ecrpublic::Config::builder()
        .behavior_version(aws_sdk_ecrpublic::config::BehaviorVersion::latest())
        .region(aws_sdk_ecrpublic::config::Region::new("us-east-1"))
        .endpoint_url(format!("http://{}", stack().public_api))
        .credentials_provider(aws_sdk_ecrpublic::config::Credentials::new(
            "AKIATESTREAD",
            "read",
            None,
            None,
            "tests",
        ))
        .build();
    aws_sdk_ecrpublic::Client::from_conf(config)
}

#[test]
fn pushes_to_ecr_public_with_catalog_data() {
    let s = stack();
    let local = format!("{}:1.0", unique("e2e-public"));
    // Removed from the daemon when the test ends, passed or failed.
    let _image = Engine::Classic.image(&local);
    let repository = format!("tools/{}", unique("public"));
    let uri = format!("public.ecr.aws/{}/{repository}", s.public_alias);
    let run = Action::new(&local, &repository)
        .input("registry-type", "public")
        // ECR Public's API is in us-east-1 whatever the region says.
        .input("aws-region", "eu-central-1")
        .input("tags", "1.0 latest")
        .input("public-description", "A tool image")
        .input("public-about", "# About\nBuilt by CI.")
        .input("public-usage", "docker run public.ecr.aws/...")
        .input("public-architectures", "x86-64, ARM 64")
        .input("public-operating-systems", "Linux")
        .input("repository-tags", "Team=tools")
        .run();
    run.assert_success();
    let digest = run.output("digest");
    for tag in ["1.0", "latest"] {
        assert_eq!(
            registry_digest_as(
                "public.ecr.aws",
                &format!("{}/{repository}", s.public_alias),
                tag,
                &s.public_password
            )
            .as_deref(),
            Some(digest),
            "public.ecr.aws serves {tag}"
        );
    }
    assert_eq!(run.output("registry"), "public.ecr.aws");
    assert_eq!(run.output("repository-uri"), uri);
    // As the fake's DescribeRepositories states it (ECR Public's ARNs have no region).
    assert_eq!(
        run.output("repository-arn"),
        format!("arn:aws:ecr-public::{}:repository/{repository}", s.account)
    );
    assert_eq!(run.output("image-uris"), format!("{uri}:1.0\n{uri}:latest"));
    assert_eq!(run.output("image-ref"), format!("{uri}@{digest}"));
    assert_eq!(run.output("aws-account-id"), s.account);
    assert_eq!(run.output("repository-created"), "true");
    assert!(
        run.summary.starts_with("### Pushed to Amazon ECR Public"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains(&format!(
            "| `latest` | `{uri}:latest` | `{digest}` | pushed |"
        )),
        "{}",
        run.summary
    );

    let catalog = block_on(
        ecr_public()
            .get_repository_catalog_data()
            .repository_name(&repository)
            .send(),
    )
    .expect("catalog");
    let catalog = catalog.catalog_data().expect("catalog data");
    assert_eq!(catalog.description(), Some("A tool image"));
    assert_eq!(catalog.about_text(), Some("# About\nBuilt by CI."));
    assert_eq!(catalog.usage_text(), Some("docker run public.ecr.aws/..."));
    assert_eq!(catalog.architectures(), ["x86-64", "ARM 64"]);
    assert_eq!(catalog.operating_systems(), ["Linux"]);

    // Second run: an existing tag is skipped, a new repository tag is added.
    let run = Action::new(&local, &repository)
        .input("registry-type", "public")
        .input("tags", "latest 1.1")
        .input("if-tag-exists", "skip")
        .input("repository-tags", "Team=tools, Tier=public")
        .run();
    run.assert_success();
    assert_eq!(
        (run.output("pushed-tags"), run.output("skipped-tags")),
        ("1.1", "latest")
    );
    assert_eq!(run.output("repository-created"), "false");
    let arn = format!("arn:aws:ecr-public::{}:repository/{repository}", s.account);
    let tags = block_on(
        ecr_public()
            .list_tags_for_resource()
            .resource_arn(arn)
            .send(),
    )
    .expect("tags");
    let mut tags: Vec<String> = tags
        .tags()
        .iter()
        .map(|t| {
            format!(
                "{}={}",
                t.key().unwrap_or_default(),
                t.value().unwrap_or_default()
            )
        })
        .collect();
    tags.sort();
    assert_eq!(tags, ["Team=tools", "Tier=public"]);
}

#[test]
fn a_missing_public_repository_with_creation_off_is_an_error() {
    let repository = unique("public-missing");
    let local = format!("{}:x", unique("e2e-public-missing"));
    // Removed from the daemon when the test ends, passed or failed.
    let _image = Engine::Classic.image(&local);
    let run = Action::new(&local, &repository)
        .input("registry-type", "public")
        .input("create-repository", "false")
        .run();
    let error = run.assert_error("E-REPOSITORY-MISSING");
    assert!(error.contains(&format!("`{repository}`")), "{error}");
}

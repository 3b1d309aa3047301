//! The main job, end to end: images land in the registry under every tag with the reported digest,
//! the repository exists in the API, outputs and summary say so, and the daemon keeps no extra tags.

use crate::support::{
    Action, create_repository, image_id, local_tags_of, make_image, registry_digest, remove_image,
    repository_registry_id, stack, unique,
};

/// Checks everything a successful run must leave, from outside the action.
fn assert_pushed(
    run: &crate::support::Run,
    account: &str,
    repository: &str,
    tags: &[&str],
    created: bool,
) {
    run.assert_success();
    let host = stack().host(account);
    let uri = format!("{host}/{repository}");
    let digest = run.output("digest");
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "digest output {digest}"
    );
    for tag in tags {
        assert_eq!(
            registry_digest(&host, repository, tag).as_deref(),
            Some(digest),
            "registry serves {uri}:{tag}"
        );
    }
    assert_eq!(
        repository_registry_id(repository, Some(account)).as_deref(),
        Some(account),
        "repository in the API"
    );

    assert_eq!(run.output("registry"), host);
    assert_eq!(run.output("repository-uri"), uri);
    assert_eq!(run.output("image-uri"), format!("{uri}:{}", tags[0]));
    let uris: Vec<String> = tags.iter().map(|t| format!("{uri}:{t}")).collect();
    assert_eq!(run.output("image-uris"), uris.join("\n"));
    assert_eq!(run.output("image-ref"), format!("{uri}@{digest}"));
    assert_eq!(run.output("aws-account-id"), account);
    assert_eq!(run.output("repository-created"), created.to_string());

    assert!(
        run.summary
            .contains("| Tag | Image URI | Digest | Result |"),
        "summary: {}",
        run.summary
    );
    for (tag, uri) in tags.iter().zip(&uris) {
        assert!(
            run.summary
                .contains(&format!("| `{tag}` | `{uri}` | `{digest}` | pushed |")),
            "summary row for {tag}: {}",
            run.summary
        );
    }
    assert_eq!(
        local_tags_of(&uri),
        Vec::<String>::new(),
        "the daemon keeps no tag the action added"
    );
    for group in [
        "Docker",
        "AWS credentials",
        "ECR repository",
        "Registry login",
    ] {
        assert!(
            run.stdout.contains(&format!("::group::{group}\n")),
            "group {group} in the log"
        );
    }
}

#[test]
fn creates_a_new_repository_and_pushes_the_local_tag() {
    let local = format!("{}:v7", unique("e2e-new"));
    make_image(&local);
    let repository = format!("team/{}", unique("new"));
    let run = Action::new(&local, &repository).run();
    assert_pushed(&run, &stack().account, &repository, &["v7"], true);
    assert!(
        run.stdout
            .contains(&format!("Created repository {repository}"))
    );
    remove_image(&local);
}

#[test]
fn pushes_into_an_existing_repository() {
    let local = unique("e2e-existing");
    make_image(&local);
    let repository = unique("existing");
    create_repository(&repository);
    let run = Action::new(&local, &repository).run();
    // `local` has no tag, so Docker's `latest` is the default.
    assert_pushed(&run, &stack().account, &repository, &["latest"], false);
    remove_image(&local);
}

#[test]
fn pushes_three_tags_with_one_digest() {
    let local = format!("{}:build", unique("e2e-three"));
    make_image(&local);
    let repository = unique("three");
    let run = Action::new(&local, &repository)
        .input("tags", "1.2.3, 1.2\nlatest")
        .run();
    assert_pushed(
        &run,
        &stack().account,
        &repository,
        &["1.2.3", "1.2", "latest"],
        true,
    );
    assert_eq!(
        registry_digest(&stack().host(&stack().account), &repository, "build"),
        None,
        "only the asked tags"
    );
    remove_image(&local);
}

#[test]
fn pushes_into_another_accounts_registry() {
    let s = stack();
    let local = format!("{}:x1", unique("e2e-cross"));
    make_image(&local);
    let repository = unique("cross");
    let run = Action::new(&local, &repository)
        .input("registry-id", &s.other_account)
        .run();
    assert_pushed(&run, &s.other_account, &repository, &["x1"], true);
    assert_eq!(
        registry_digest(&s.host(&s.account), &repository, "x1"),
        None,
        "not in the caller's own registry"
    );
    remove_image(&local);
}

#[test]
fn takes_credentials_from_the_environment_chain() {
    let local = format!("{}:env", unique("e2e-chain"));
    make_image(&local);
    let repository = unique("chain");
    let action = Action::new(&local, &repository)
        .without_input("aws-access-key-id")
        .without_input("aws-secret-access-key")
        .without_input("aws-region")
        .env("AWS_REGION", &stack().region)
        .env("AWS_ACCESS_KEY_ID", "ASIAE2ECHAINKEY00001")
        .env("AWS_SECRET_ACCESS_KEY", "chain-secret-key-9c2b7e")
        .env("AWS_SESSION_TOKEN", "chain-session-token-77d1e0f3");
    let run = action.run();
    assert_pushed(&run, &stack().account, &repository, &["env"], true);
    assert!(
        run.stdout
            .contains("::add-mask::chain-session-token-77d1e0f3"),
        "session token masked"
    );
    assert!(
        run.stdout.contains("::add-mask::chain-secret-key-9c2b7e"),
        "secret key masked"
    );
    assert!(
        run.stdout
            .contains("Using AWS access key ASIAE2ECHAINKEY00001 from the AWS credential chain")
    );
    remove_image(&local);
}

#[test]
fn leaves_the_daemons_tags_as_they_were() {
    let s = stack();
    let repository = unique("restore");
    let uri = format!("{}/{repository}", s.host(&s.account));
    // The daemon already holds `<uri>:keep` for another image; the action must put it back.
    let other = format!("{uri}:keep");
    let other_id = make_image(&other);
    let local = format!("{}:src", unique("e2e-restore"));
    let local_id = make_image(&local);
    assert_ne!(other_id, local_id);

    let run = Action::new(&local, &repository)
        .input("tags", "keep new")
        .run();
    run.assert_success();
    assert_eq!(
        image_id(&other),
        other_id,
        "the earlier tag points where it pointed before"
    );
    assert_eq!(
        local_tags_of(&uri),
        vec![other.clone()],
        "only the earlier tag remains"
    );
    assert_eq!(
        registry_digest(&s.host(&s.account), &repository, "keep").as_deref(),
        Some(run.output("digest"))
    );
    remove_image(&other);
    remove_image(&local);
}

#[test]
fn an_untagged_image_given_by_id_is_pushed_and_not_deleted() {
    let id = make_image("");
    let repository = unique("by-id");
    let run = Action::new(&id, &repository).input("tags", "a b").run();
    run.assert_success();
    let uri = format!("{}/{repository}", stack().host(&stack().account));
    assert_eq!(image_id(&id), id, "the image still exists");
    assert_eq!(
        local_tags_of(&uri),
        vec![format!("{uri}:a")],
        "one tag kept so the image survives"
    );
    assert!(
        run.stdout.contains("::warning::Kept the local tag"),
        "{}",
        run.stdout
    );
    remove_image(&id);
}

#[test]
fn eight_concurrent_runs_share_one_new_repository() {
    let s = stack();
    let repository = unique("concurrent");
    let runs: Vec<_> = (0..8)
        .map(|i| {
            let repository = repository.clone();
            std::thread::spawn(move || {
                let local = format!("{}:c{i}", unique("e2e-concurrent"));
                make_image(&local);
                let run = Action::new(&local, &repository).run();
                remove_image(&local);
                (format!("c{i}"), run)
            })
        })
        .collect();
    let mut created = 0;
    for run in runs {
        let (tag, run) = run.join().expect("run thread");
        run.assert_success();
        created += usize::from(run.output("repository-created") == "true");
        assert_eq!(
            registry_digest(&s.host(&s.account), &repository, &tag).as_deref(),
            Some(run.output("digest")),
            "{tag} is served"
        );
    }
    assert_eq!(created, 1, "exactly one run created the repository");
    let listed = crate::support::block_on(
        crate::support::ecr()
            .describe_repositories()
            .repository_names(&repository)
            .send(),
    )
    .expect("describe");
    let count = listed.repositories().len();
    assert_eq!(count, 1, "one repository");
}

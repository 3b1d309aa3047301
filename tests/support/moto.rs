//! moto, the test bed's ECR API: a client for set-up and checks from outside the action.

use super::stack;

/// An ECR client on moto, for checks and set-up from outside the action.
pub fn ecr() -> aws_sdk_ecr::Client {
    ecr_at(&stack().endpoint)
}

/// An ECR client on the moto at `endpoint` (the open one, or the one that enforces IAM while
/// enforcement is off).
pub fn ecr_at(endpoint: &str) -> aws_sdk_ecr::Client {
    let config = aws_sdk_ecr::Config::builder()
        .behavior_version(aws_sdk_ecr::config::BehaviorVersion::latest())
        .region(aws_sdk_ecr::config::Region::new(stack().region))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_ecr::config::Credentials::new(
            "AKIATESTSETUP",
            "setup-secret",
            None,
            None,
            "tests",
        ))
        .build();
    aws_sdk_ecr::Client::from_conf(config)
}

/// Tells moto about a tag the test account's registry serves, as ECR would know it (moto does not see
/// pushes): its manifest, under the digest the registry serves it by.
pub fn seed_tag(repository: &str, tag: &str) {
    let s = stack();
    let host = s.host(&s.account);
    let manifest = super::registry_manifest(&host, repository, tag).to_string();
    let digest =
        super::registry_digest(&host, repository, tag).expect("the registry serves the tag");
    block_on(
        ecr()
            .put_image()
            .repository_name(repository)
            .image_manifest(manifest)
            .image_tag(tag)
            .image_digest(digest)
            .send(),
    )
    .expect("PutImage");
}

pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

/// The registry ID of `name` in moto, or `None` when moto has no such repository.
pub fn repository_registry_id(name: &str, registry_id: Option<&str>) -> Option<String> {
    let found = block_on(
        ecr()
            .describe_repositories()
            .repository_names(name)
            .set_registry_id(registry_id.map(str::to_owned))
            .send(),
    );
    match found {
        Ok(out) => out.repositories().first().and_then(|r| r.registry_id().map(str::to_owned)),
        Err(err) if err.as_service_error().is_some_and(aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesError::is_repository_not_found_exception) => None,
        Err(err) => panic!("DescribeRepositories {name}: {}", aws_sdk_ecr::error::DisplayErrorContext(err)),
    }
}

pub fn create_repository(name: &str) {
    block_on(ecr().create_repository().repository_name(name).send()).expect("CreateRepository");
}

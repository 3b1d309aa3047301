//! moto, the test bed's ECR API: a client for set-up and checks from outside the action.

use super::stack;

/// An ECR client on moto, for checks and set-up from outside the action.
pub fn ecr() -> aws_sdk_ecr::Client {
    ecr_at(&stack().endpoint)
}

/// An ECR client on the moto at `endpoint` (the open one, or the one that enforces IAM while
/// enforcement is off).
pub fn ecr_at(endpoint: &str) -> aws_sdk_ecr::Client {
    super::ecr_api::client_as(endpoint, &stack().region, None)
}

/// Tells moto about a tag the test account's registry serves, as ECR would know it (moto does not see
/// pushes): its manifest, under the digest the registry serves it by.
pub fn seed_tag(repository: &str, tag: &str) {
    let s = stack();
    let host = s.host(&s.account);
    let manifest = super::registry_manifest(&host, repository, tag);
    let digest =
        super::registry_digest(&host, repository, tag).expect("the registry serves the tag");
    // An OCI manifest may leave `mediaType` out (Podman's do); ECR then needs it as a parameter.
    let media_type = match (&manifest["mediaType"], &manifest["config"]["mediaType"]) {
        (serde_json::Value::String(stated), _) => stated.clone(),
        _ if manifest.get("manifests").is_some() => {
            "application/vnd.oci.image.index.v1+json".to_owned()
        }
        (_, config) if config == "application/vnd.oci.image.config.v1+json" => {
            "application/vnd.oci.image.manifest.v1+json".to_owned()
        }
        _ => "application/vnd.docker.distribution.manifest.v2+json".to_owned(),
    };
    block_on(
        ecr()
            .put_image()
            .repository_name(repository)
            .image_manifest(manifest.to_string())
            .image_manifest_media_type(media_type)
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
    described(name, registry_id).and_then(|r| r.registry_id().map(str::to_owned))
}

/// The ARN of `name` as moto's `DescribeRepositories` states it.
pub fn repository_arn(name: &str, registry_id: Option<&str>) -> Option<String> {
    described(name, registry_id).and_then(|r| r.repository_arn().map(str::to_owned))
}

fn described(name: &str, registry_id: Option<&str>) -> Option<aws_sdk_ecr::types::Repository> {
    let found = block_on(
        ecr()
            .describe_repositories()
            .repository_names(name)
            .set_registry_id(registry_id.map(str::to_owned))
            .send(),
    );
    match found {
        Ok(out) => out.repositories().first().cloned(),
        Err(err) if err.as_service_error().is_some_and(aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesError::is_repository_not_found_exception) => None,
        Err(err) => panic!("DescribeRepositories {name}: {}", aws_sdk_ecr::error::DisplayErrorContext(err)),
    }
}

pub fn create_repository(name: &str) {
    block_on(ecr().create_repository().repository_name(name).send()).expect("CreateRepository");
}

/// A role session moto's STS issued (`AssumeRole`, `AssumeRoleWithWebIdentity`): what a client
/// holding it signs with.
#[derive(Debug)]
pub struct IssuedSession {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

/// Every session moto's STS has issued under `session_name`, in the order issued, read from moto's
/// own record of its objects (`GET /moto-api/data.json`, `sts` → `AssumedRole`), not from anything
/// the action printed.
pub fn sessions_issued(session_name: &str) -> Vec<IssuedSession> {
    let out = super::run(
        std::process::Command::new("curl")
            .arg("-fsS")
            .arg(format!("{}/moto-api/data.json", stack().endpoint)),
    );
    let data: serde_json::Value = serde_json::from_slice(&out.stdout).expect("moto's data.json");
    let text = |session: &serde_json::Value, field: &str| {
        session[field]
            .as_str()
            .unwrap_or_else(|| panic!("no {field} in {session}"))
            .to_owned()
    };
    data["sts"]["AssumedRole"]
        .as_array()
        .expect("moto lists its STS sessions")
        .iter()
        .filter(|session| session["session_name"] == session_name)
        .map(|session| IssuedSession {
            access_key_id: text(session, "access_key_id"),
            secret_access_key: text(session, "secret_access_key"),
            session_token: text(session, "session_token"),
        })
        .collect()
}

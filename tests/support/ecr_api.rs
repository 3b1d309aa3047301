//! The fake of the ECR operations moto lacks (`testbed/fake-ecr-api`: managed signing, repository
//! creation templates, the archive storage class, registry scanning), one before each moto: SDK clients
//! on it, and seeding that undoes itself when a test ends (a signing rule, a template), so that tests
//! sharing a registry's state own only their names.

use aws_sdk_ecr::operation::create_repository_creation_template::builders::CreateRepositoryCreationTemplateFluentBuilder;
use aws_sdk_ecr::types::{
    ImageIdentifier, ImageStatus, RctAppliedFor, SigningConfiguration, SigningRepositoryFilter,
    SigningRepositoryFilterType, SigningRule, TargetStorageClass,
};

use super::{block_on, stack, unique};

/// `AWS_ENDPOINT_URL_ECR` of the fake before the open moto.
pub fn endpoint() -> String {
    std::env::var("TESTBED_ECR_API").expect("TESTBED_ECR_API: run testbed/stack-up")
}

/// `AWS_ENDPOINT_URL_ECR` of the fake before the moto that enforces IAM.
pub fn iam_endpoint() -> String {
    std::env::var("TESTBED_ECR_API_IAM").expect("TESTBED_ECR_API_IAM: run testbed/stack-up")
}

/// An ECR client at `endpoint` (a moto, or the fake before it), in `region`, signing with `keys`
/// (set-up keys when `None`).
pub fn client_as(
    endpoint: &str,
    region: &str,
    keys: Option<&(String, String)>,
) -> aws_sdk_ecr::Client {
    let (id, secret) = keys.map_or(("AKIATESTSETUP", "setup-secret"), |(id, secret)| {
        (id.as_str(), secret.as_str())
    });
    let config = aws_sdk_ecr::Config::builder()
        .behavior_version(aws_sdk_ecr::config::BehaviorVersion::latest())
        .region(aws_sdk_ecr::config::Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_ecr::config::Credentials::new(
            id, secret, None, None, "tests",
        ))
        .build();
    aws_sdk_ecr::Client::from_conf(config)
}

/// A client on the fake before the open moto, in the test region.
pub fn client() -> aws_sdk_ecr::Client {
    client_as(&endpoint(), &stack().region, None)
}

/// A signing profile ARN no other test uses (the API's pattern: `[a-zA-Z0-9_]{2,}` after the slash).
pub fn profile_arn(region: &str) -> String {
    let name = unique("profile").replace('-', "_");
    format!(
        "arn:aws:signer:{region}:{}:/signing-profiles/{name}",
        stack().account
    )
}

/// A rule of a registry's signing configuration, removed again on drop. The configuration is one per
/// registry and replaced whole by `PutSigningConfiguration`, so rules are added and removed under a
/// lock that all test processes on the stack share.
pub struct SigningRuleGuard {
    endpoint: String,
    region: String,
    pub profile: String,
}

fn with_rules(endpoint: &str, region: &str, change: impl FnOnce(&mut Vec<SigningRule>)) {
    let file = std::fs::File::create(stack().dir.join("ecr-api-signing.lock")).expect("lock file");
    file.lock().expect("lock the signing configuration");
    let ecr = client_as(endpoint, region, None);
    let mut rules = match block_on(ecr.get_signing_configuration().send()) {
        Ok(out) => out
            .signing_configuration()
            .map(|c| c.rules().to_vec())
            .unwrap_or_default(),
        Err(e)
            if e.as_service_error()
                .is_some_and(aws_sdk_ecr::operation::get_signing_configuration::GetSigningConfigurationError::is_signing_configuration_not_found_exception) =>
        {
            Vec::new()
        }
        Err(e) => panic!(
            "GetSigningConfiguration: {}",
            aws_sdk_ecr::error::DisplayErrorContext(e)
        ),
    };
    change(&mut rules);
    if rules.is_empty() {
        let _ = block_on(ecr.delete_signing_configuration().send());
        return;
    }
    let config = SigningConfiguration::builder()
        .set_rules(Some(rules))
        .build()
        .expect("signing configuration");
    block_on(
        ecr.put_signing_configuration()
            .signing_configuration(config)
            .send(),
    )
    .expect("PutSigningConfiguration");
}

/// Adds a rule signing with a new profile the repositories that match `filter` (`*` wildcards) to the
/// signing configuration of the registry the fake at `endpoint` keeps for `region`.
pub fn put_signing_rule(endpoint: &str, region: &str, filter: &str) -> SigningRuleGuard {
    let profile = profile_arn(region);
    let rule = SigningRule::builder()
        .signing_profile_arn(&profile)
        .repository_filters(
            SigningRepositoryFilter::builder()
                .filter(filter)
                .filter_type(SigningRepositoryFilterType::WildcardMatch)
                .build()
                .expect("filter"),
        )
        .build()
        .expect("signing rule");
    with_rules(endpoint, region, |rules| rules.push(rule));
    SigningRuleGuard {
        endpoint: endpoint.to_owned(),
        region: region.to_owned(),
        profile,
    }
}

impl Drop for SigningRuleGuard {
    fn drop(&mut self) {
        let profile = self.profile.clone();
        with_rules(&self.endpoint, &self.region, |rules| {
            rules.retain(|r| r.signing_profile_arn() != profile);
        });
    }
}

/// A repository creation template, deleted again on drop.
pub struct TemplateGuard {
    ecr: aws_sdk_ecr::Client,
    pub prefix: String,
}

/// Creates a `CREATE_ON_PUSH` template for `prefix` in `region` of the fake at `endpoint`
/// ([`endpoint`] or [`iam_endpoint`]), with the settings `settings` adds to the request.
pub fn create_template(
    endpoint: &str,
    region: &str,
    prefix: &str,
    settings: impl FnOnce(
        CreateRepositoryCreationTemplateFluentBuilder,
    ) -> CreateRepositoryCreationTemplateFluentBuilder,
) -> TemplateGuard {
    let ecr = client_as(endpoint, region, None);
    let request = ecr
        .create_repository_creation_template()
        .prefix(prefix)
        .applied_for(RctAppliedFor::CreateOnPush);
    block_on(settings(request).send()).expect("CreateRepositoryCreationTemplate");
    TemplateGuard {
        ecr,
        prefix: prefix.to_owned(),
    }
}

impl Drop for TemplateGuard {
    fn drop(&mut self) {
        let _ = block_on(
            self.ecr
                .delete_repository_creation_template()
                .prefix(&self.prefix)
                .send(),
        );
    }
}

/// Moves `repository@digest` (an image moto knows: seeded with `PutImage`) to the archive storage class,
/// in the test region of the open fake.
pub fn archive(repository: &str, digest: &str) {
    let image = ImageIdentifier::builder().image_digest(digest).build();
    block_on(
        client()
            .update_image_storage_class()
            .repository_name(repository)
            .image_id(image)
            .target_storage_class(TargetStorageClass::Archive)
            .send(),
    )
    .expect("UpdateImageStorageClass");
}

/// `DescribeImages`' `imageStatus` of `repository@digest` through the open fake.
pub fn image_status(repository: &str, digest: &str) -> Option<ImageStatus> {
    let image = ImageIdentifier::builder().image_digest(digest).build();
    let out = block_on(
        client()
            .describe_images()
            .repository_name(repository)
            .image_ids(image)
            .send(),
    )
    .expect("DescribeImages");
    out.image_details()
        .first()
        .and_then(|d| d.image_status().cloned())
}

/// Throttles the fake's ECR API calls signed with an access key starting `prefix` to `rate` a second
/// (a token bucket, burst `rate`), answered `ThrottlingException` beyond it, as ECR throttles.
pub fn throttle(prefix: &str, rate: u32) {
    let rule = serde_json::json!({"key_prefix": prefix, "rate": rate});
    super::run(std::process::Command::new("curl").args([
        "-fsS",
        "-X",
        "POST",
        "--data-binary",
        &rule.to_string(),
        &format!("{}/_throttle", endpoint()),
    ]));
}

/// What a [`throttle`] let through and refused: `{"allowed", "throttled", "by_operation"}`.
pub fn throttled(prefix: &str) -> serde_json::Value {
    let url = format!("{}/_throttle/{prefix}", endpoint());
    let out = super::run(std::process::Command::new("curl").args(["-fsS", &url]));
    serde_json::from_slice(&out.stdout).expect("json")
}

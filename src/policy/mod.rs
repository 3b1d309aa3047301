//! Least privilege: the exact IAM actions a configuration makes the action call, as an identity
//! policy (`ecr-push-action policy`), and its pull-only, assembling and read-only variants, on the
//! ARNs `partition.rs` gives. The subcommand's flags and dispatch are `cli.rs`'s, the trust policy
//! `trust.rs`'s, what it says `advice.rs`'s.

use serde_json::{Value, json};

pub mod advice;
pub mod beyond;
pub mod check;
pub mod cli;
pub mod condition;
pub mod evaluate;
pub mod principal;
pub mod simulate;
pub mod sources;
pub mod trust;

use self::evaluate::{Policy, statements, texts};
use crate::aws::registry::plan;
use crate::inputs::{self, PolicyScope};
use crate::partition::{self, public_repository_arn, repository_arn};

/// Whose permissions the policy describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persona {
    /// What this action needs to push.
    Pusher,
    /// Pull-only: log in and read images.
    Puller,
    /// `assemble`: read images' manifests and configurations, write an index.
    Assembler,
    /// Read-only: describe and list, no image content.
    Scanner,
}

/// The layer and manifest writes of `docker push`, checked by the registry itself.
pub const PUSH_ACTIONS: [&str; 5] = [
    "BatchCheckLayerAvailability",
    "CompleteLayerUpload",
    "InitiateLayerUpload",
    "PutImage",
    "UploadLayerPart",
];

/// The API actions the action process calls itself for this scope, without the service prefix.
fn api_actions(scope: &PolicyScope) -> [Vec<&'static str>; 3] {
    let spec = &scope.spec;
    let settings = &spec.settings;
    let mut find = Vec::new();
    if spec.create_repository || spec.create_on_push || !settings.is_empty() {
        find.push("DescribeRepositories");
    }
    if spec.create_repository {
        find.push("CreateRepository");
    }
    let mut write = Vec::new();
    if settings.tag_mutability.is_some() {
        write.push("PutImageTagMutability");
    }
    if settings.scan_on_push.is_some() {
        write.push("PutImageScanningConfiguration");
    }
    if !settings.tags.is_empty() {
        write.extend(["ListTagsForResource", "TagResource"]);
    }
    if settings.lifecycle_policy.is_some() {
        write.extend(["GetLifecyclePolicy", "PutLifecyclePolicy"]);
    }
    if settings.repository_policy.is_some() {
        write.extend(["GetRepositoryPolicy", "SetRepositoryPolicy"]);
    }
    // The run's own rule, on the mutability the settings decide (a repository's own is not known here).
    let check_tags =
        if plan::needs_lookup(spec.if_tag_exists, &plan::Mutability::of(None, settings)) {
            vec!["DescribeImages"]
        } else {
            vec![]
        };
    [find, write, check_tags]
}

/// The minimal identity policy for `persona` on `scope`.
pub fn identity_policy(scope: &PolicyScope, persona: Persona) -> Value {
    let repository = OnRepository::of(scope);
    let statements = match persona {
        Persona::Pusher => pusher_statements(scope, &repository),
        Persona::Puller => vec![
            repository.token(),
            repository.allow(
                "PullImagesFromThisRepository",
                &[
                    "BatchCheckLayerAvailability",
                    "BatchGetImage",
                    "GetDownloadUrlForLayer",
                ],
            ),
        ],
        Persona::Assembler => assembler_statements(scope, &repository),
        Persona::Scanner => vec![repository.allow(
            "DescribeAndListThisRepositoryWithoutImageContent",
            &[
                "DescribeImageScanFindings",
                "DescribeImages",
                "DescribeRepositories",
                "ListImages",
            ],
        )],
    };
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// What the action needs to push: the token, the push itself, and the calls its inputs make.
fn pusher_statements(scope: &PolicyScope, repository: &OnRepository) -> Vec<Value> {
    let mut statements = vec![
        repository.token(),
        repository.allow("PushImageLayersAndManifestsToThisRepository", &PUSH_ACTIONS),
    ];
    if !repository.public {
        // ECR Public has no such action: its manifests are readable by anyone.
        statements.push(repository.allow(
            "ReadManifestsBackBeforeWritingThemAsContainerdStoreEnginesDo",
            &["BatchGetImage"],
        ));
    }
    let find = if scope.spec.create_repository {
        "FindTheRepositoryAndCreateItWhenMissing"
    } else {
        "ReadTheRepositoryToCompareItsSettings"
    };
    let sids = [
        find,
        "KeepTheRepositorySettingsAsConfigured",
        "CheckWhetherTagsExistBeforePushing",
    ];
    statements.extend(api_statements(scope, repository, sids));
    statements.extend(kms_statement(scope));
    statements.extend(signing_statements(scope, repository));
    statements.extend(mount_statement(scope));
    statements.extend(scan_statements(scope, repository));
    statements.extend(registry_scanning_statement(scope));
    statements.extend(creation_templates_statement(scope));
    statements
}

/// `mount-from`: a blob of an image on disk that one of those repositories holds is mounted from it,
/// which needs `ecr:GetDownloadUrlForLayer` on the source
/// (<https://docs.aws.amazon.com/AmazonECR/latest/userguide/blob-mounting.html>); the run first asks
/// whether the source holds the blob (`HEAD`, `ecr:BatchCheckLayerAvailability`). In each
/// destination's registry: a mount never crosses registries.
fn mount_statement(scope: &PolicyScope) -> Option<Value> {
    let sources = &scope.spec.mount_from;
    if sources.is_empty() || scope.spec.registry_type.is_public() {
        return None;
    }
    let arns: Vec<String> = destinations(scope)
        .flat_map(|(region, account)| {
            sources
                .iter()
                .map(move |source| repository_arn(region, account, source.as_str()))
        })
        .collect();
    Some(json!({
        "Sid": "MountLayersThatTheMountFromRepositoriesHoldInsteadOfUploadingThem",
        "Effect": "Allow",
        "Action": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer"],
        "Resource": one_or_list(&arns)
    }))
}

/// ECR's managed signing signs each push with the pusher's identity, which needs
/// `signer:SignPayload` on the signing profiles of the rules that match the repository
/// (`signing-profile`); the run reads the registry's signing configuration and waits for the
/// signature. Nothing without `signing-profile`, and nothing for ECR Public, which does not sign.
fn signing_statements(scope: &PolicyScope, repository: &OnRepository) -> Vec<Value> {
    let profiles = &scope.spec.signing.profiles;
    if repository.public || profiles.is_empty() {
        return Vec::new();
    }
    vec![
        json!({
            "Sid": "LetEcrSignThePushedImagesWithTheSigningProfiles",
            "Effect": "Allow",
            "Action": "signer:SignPayload",
            "Resource": one_or_list(profiles)
        }),
        json!({
            "Sid": "SigningConfigurationIsRegistryWideSoItsResourceMustBeStar",
            "Effect": "Allow",
            "Action": "ecr:GetSigningConfiguration",
            "Resource": "*"
        }),
        repository.allow(
            "WaitForEcrToSignThePushedImage",
            &["DescribeImageSigningStatus"],
        ),
    ]
}

/// `create-repository: template`: the run reads the registry's repository creation templates (to
/// check that one covers a missing repository); never ecr:CreateRepository. A registry-level action,
/// without a resource type: `"*"`.
fn creation_templates_statement(scope: &PolicyScope) -> Option<Value> {
    scope.spec.create_on_push.then(|| {
        json!({
            "Sid": "ReadTheRepositoryCreationTemplatesThatLetEcrCreateTheRepositoryOnPush",
            "Effect": "Allow",
            "Action": "ecr:DescribeRepositoryCreationTemplates",
            "Resource": "*"
        })
    })
}

/// With `scan-on-push` (private ECR), the run reads the registry's scanning configuration. The API
/// reads only the caller's own registry, so the run skips it under `registry-id`; here `--account`
/// cannot tell whether that is the caller's, so the statement is there whenever `scan-on-push` is. A
/// registry-level action, without a resource type: `"*"`.
fn registry_scanning_statement(scope: &PolicyScope) -> Option<Value> {
    let spec = &scope.spec;
    let private = spec.registry_type == inputs::RegistryType::Private;
    (spec.settings.scan_on_push.is_some() && private).then(|| {
        json!({
            "Sid": "ReadTheRegistryScanningConfigurationWhichDecidesWhetherScanOnPushDoesAnything",
            "Effect": "Allow",
            "Action": "ecr:GetRegistryScanningConfiguration",
            "Resource": "*"
        })
    })
}

/// What `assemble` needs: the token, reading the images' manifests and configurations, writing the
/// index, and the calls its other inputs make. It never creates the repository (its images are in it).
fn assembler_statements(scope: &PolicyScope, repository: &OnRepository) -> Vec<Value> {
    let mut statements = vec![
        repository.token(),
        repository.allow(
            "ReadTheImagesToAssembleTheirManifestsAndConfigurations",
            &["BatchGetImage", "GetDownloadUrlForLayer"],
        ),
        repository.allow("WriteTheIndexUnderTheTags", &["PutImage"]),
    ];
    let existing = PolicyScope {
        spec: inputs::RepositorySpec {
            create_repository: false,
            create_on_push: false,
            ..scope.spec.clone()
        },
        ..scope.clone()
    };
    let sids = [
        "ReadTheRepositoryToCompareItsSettings",
        "KeepTheRepositorySettingsAsConfigured",
        "CheckWhetherTagsExistBeforeWriting",
    ];
    statements.extend(api_statements(&existing, repository, sids));
    statements.extend(signing_statements(scope, repository));
    statements.extend(scan_statements(scope, repository));
    statements
}

/// The scan gate (`scan`): the findings of the pushed image (`ecr:DescribeImageScanFindings`), a
/// basic scan started for `scan: start` (`ecr:StartImageScan`), both on the repository; and, for a
/// registry with enhanced scanning, `inspector2:ListFindings` on `"*"`, which ECR's user guide lists
/// among the permissions enhanced scanning needs to retrieve findings ("IAM permissions required for
/// enhanced scanning"). The index a pushed multi-platform image is read back with `BatchGetImage`,
/// which the push already has.
fn scan_statements(scope: &PolicyScope, repository: &OnRepository) -> Vec<Value> {
    let gate = &scope.spec.scan;
    if gate.mode == inputs::ScanMode::Off || repository.public {
        return Vec::new();
    }
    let mut actions = vec!["DescribeImageScanFindings"];
    if gate.mode == inputs::ScanMode::Start {
        actions.push("StartImageScan");
    }
    vec![
        repository.allow("WaitForTheImageScanAndReadItsFindings", &actions),
        json!({
            "Sid": "EnhancedScanningFindingsComeFromInspectorWhoseListIsAccountWide",
            "Effect": "Allow",
            "Action": "inspector2:ListFindings",
            "Resource": "*"
        }),
    ]
}

/// A statement per group of [`api_actions`] that has any, under `sids` (finding the repository, keeping
/// its settings, checking existing tags).
fn api_statements(scope: &PolicyScope, repository: &OnRepository, sids: [&str; 3]) -> Vec<Value> {
    let groups = sids.into_iter().zip(api_actions(scope));
    let made = groups.filter(|(_, actions)| !actions.is_empty());
    made.map(|(sid, actions)| repository.allow(sid, &actions))
        .collect()
}

/// Statements on the scope's repository, private ECR's or ECR Public's: in each destination.
struct OnRepository {
    public: bool,
    /// `ecr` or `ecr-public`.
    service: &'static str,
    arns: Vec<String>,
}

impl OnRepository {
    fn of(scope: &PolicyScope) -> Self {
        let account = &scope.account;
        let repository = scope.spec.repository.as_str();
        if scope.spec.registry_type.is_public() {
            OnRepository {
                public: true,
                service: "ecr-public",
                arns: vec![public_repository_arn(account, repository)],
            }
        } else {
            let arns = destinations(scope)
                .map(|(region, account)| repository_arn(region, account, repository))
                .collect();
            OnRepository {
                public: false,
                service: "ecr",
                arns,
            }
        }
    }

    /// Allows `actions` (without the service prefix, sorted here) on the repository.
    fn allow(&self, sid: &str, actions: &[&str]) -> Value {
        let service = self.service;
        let mut names: Vec<String> = actions.iter().map(|a| format!("{service}:{a}")).collect();
        names.sort_unstable();
        json!({ "Sid": sid, "Effect": "Allow", "Action": names, "Resource": one_or_list(&self.arns) })
    }

    /// The registry's login token, which AWS only grants on `"*"`.
    fn token(&self) -> Value {
        if self.public {
            json!({
                "Sid": "PublicRegistryTokenAndItsBearerTokenAreAccountWideSoResourceMustBeStar",
                "Effect": "Allow",
                "Action": ["ecr-public:GetAuthorizationToken", "sts:GetServiceBearerToken"],
                "Resource": "*"
            })
        } else {
            json!({
                "Sid": "AuthorizationTokenIsAccountWideSoItsResourceMustBeStar",
                "Effect": "Allow",
                "Action": "ecr:GetAuthorizationToken",
                "Resource": "*"
            })
        }
    }
}

/// Each destination's region and account: `--account` (`registry-id`) where it names no other.
fn destinations(scope: &PolicyScope) -> impl Iterator<Item = (&str, &str)> {
    scope.spec.destinations.iter().map(|t| {
        let account = t.registry_id.as_deref().unwrap_or(&scope.account);
        (t.region.as_str(), account)
    })
}

/// One resource as a string (as the policies of a single destination always were), several as a list.
pub(super) fn one_or_list(items: &[String]) -> Value {
    match items {
        [one] => json!(one),
        many => json!(many),
    }
}

/// Creating a repository encrypted with a customer managed key lets ECR use the key through a grant,
/// in each destination's region and account.
fn kms_statement(scope: &PolicyScope) -> Option<Value> {
    let spec = &scope.spec;
    let encryption = spec
        .settings
        .encryption
        .as_ref()
        .filter(|_| spec.create_repository)?;
    let key = encryption.kms_key.as_deref()?;
    let in_account = |resource: &str| -> Vec<String> {
        destinations(scope)
            .map(|(region, account)| {
                partition::of_region(region).arn("kms", region, account, resource)
            })
            .collect()
    };
    let actions = ["kms:CreateGrant", "kms:DescribeKey", "kms:RetireGrant"];
    let sid = "LetEcrUseTheKmsKeyThatEncryptsTheRepository";
    Some(if key.starts_with("alias/") || key.contains(":alias/") {
        // An alias names no key in IAM terms: allow the account's keys, but only through ECR.
        let mut services: Vec<String> = Vec::new();
        for (region, _) in destinations(scope) {
            let service = partition::of_region(region).service_host("ecr", region);
            if !services.contains(&service) {
                services.push(service);
            }
        }
        json!({
            "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": one_or_list(&in_account("key/*")),
            "Condition": { "StringEquals": { "kms:ViaService": one_or_list(&services) } }
        })
    } else {
        let resources = if key.starts_with("arn:") {
            vec![key.to_owned()]
        } else {
            in_account(&format!("key/{key}"))
        };
        json!({ "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": one_or_list(&resources) })
    })
}

/// One (action, resource) the configuration needs, and the generator's statement it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    pub sid: String,
    pub action: String,
    pub resource: String,
}

/// The needs of the generated policy `generated`: each action of each statement on each resource.
pub fn needs(generated: &Value) -> Vec<Need> {
    let generated = Policy {
        source: "the generated policy".to_owned(),
        document: generated.clone(),
    };
    let mut needs = Vec::new();
    for (at, statement) in statements(&generated) {
        let sid = at.to_string();
        for action in texts(&statement["Action"]) {
            for resource in texts(&statement["Resource"]) {
                needs.push(Need {
                    sid: sid.clone(),
                    action: action.clone(),
                    resource,
                });
            }
        }
    }
    needs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::oidc::ISSUER;
    use crate::partition::oidc_provider_arn;

    /// A region of each partition beyond `aws`, its partition ID and DNS suffix. ARNs are
    /// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` and "each AWS account is scoped to one
    /// partition" (IAM User Guide, "Identify AWS resources with Amazon Resource Names (ARNs)",
    /// <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html>); which regions are in
    /// which partition, and its DNS suffix, are the SDK's endpoint model's (`partitions.json`:
    /// <https://github.com/smithy-lang/smithy-rs/blob/main/aws/sdk/aws-models/sdk-partitions.json>, as
    /// aws-sdk-ecr 1.138 embeds it), which `partition.rs` follows.
    pub(super) const PARTITIONS: [(&str, &str, &str); 4] = [
        ("cn-north-1", "aws-cn", "amazonaws.com.cn"),
        ("us-gov-west-1", "aws-us-gov", "amazonaws.com"),
        ("us-iso-east-1", "aws-iso", "c2s.ic.gov"),
        ("eusc-de-east-1", "aws-eusc", "amazonaws.eu"),
    ];

    /// The scope of `team/api` in account 123456789012 in `region`, with `extra` inputs.
    pub(super) fn scope_in(region: &str, extra: &[(&str, &str)]) -> PolicyScope {
        let base = [
            ("INPUT_REPOSITORY", "team/api"),
            ("INPUT_AWS-REGION", region),
            ("INPUT_REGISTRY-ID", "123456789012"),
        ];
        let vars = base.iter().chain(extra);
        inputs::policy_scope(vars.map(|(k, v)| ((*k).to_owned(), (*v).to_owned())))
            .expect("a valid scope")
    }

    /// `create-repository: template`: ECR creates the repository on push, so the pusher's policy has
    /// no `ecr:CreateRepository`, and reads the templates (registry-wide, `"*"`); `scan-on-push` adds
    /// the registry's scanning configuration.
    #[test]
    fn create_on_push_and_registry_scanning_statements() {
        let text = |extra: &[(&str, &str)]| {
            identity_policy(&scope_in("us-east-1", extra), Persona::Pusher).to_string()
        };
        let template = text(&[("INPUT_CREATE-REPOSITORY", "template")]);
        assert!(!template.contains("ecr:CreateRepository\""), "{template}");
        assert!(template.contains("ecr:DescribeRepositoryCreationTemplates"));
        assert!(template.contains("ecr:DescribeRepositories"));
        let default = text(&[]);
        assert!(default.contains("ecr:CreateRepository\""));
        assert!(!default.contains("ecr:DescribeRepositoryCreationTemplates"));
        assert!(!default.contains("ecr:GetRegistryScanningConfiguration"));
        assert!(
            text(&[("INPUT_SCAN-ON-PUSH", "true")])
                .contains("ecr:GetRegistryScanningConfiguration")
        );
    }

    /// The scan gate: the findings on the repository (and a started scan for `scan: start`), and
    /// Inspector's findings list, which ECR's user guide lists for enhanced scanning, on `"*"`
    /// (<https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning-enhanced.html>).
    #[test]
    fn the_scan_gate_reads_findings_and_starts_scans_only_when_asked() {
        let statements = |extra: &[(&str, &str)], persona| {
            identity_policy(&scope_in("eu-west-1", extra), persona)["Statement"]
                .as_array()
                .expect("statements")
                .clone()
        };
        let repository = json!("arn:aws:ecr:eu-west-1:123456789012:repository/team/api");
        let find = |all: &[Value], action: &str| {
            all.iter()
                .find(|s| {
                    s["Action"] == json!(action)
                        || s["Action"]
                            .as_array()
                            .is_some_and(|a| a.contains(&json!(action)))
                })
                .map(|s| s["Resource"].clone())
        };
        let wait = statements(&[("INPUT_SCAN", "wait")], Persona::Pusher);
        assert_eq!(
            find(&wait, "ecr:DescribeImageScanFindings"),
            Some(repository.clone())
        );
        assert_eq!(find(&wait, "inspector2:ListFindings"), Some(json!("*")));
        assert_eq!(find(&wait, "ecr:StartImageScan"), None);
        let start = statements(&[("INPUT_SCAN", "start")], Persona::Assembler);
        assert_eq!(find(&start, "ecr:StartImageScan"), Some(repository));
        let off = statements(&[], Persona::Pusher);
        assert_eq!(find(&off, "ecr:DescribeImageScanFindings"), None);
        assert_eq!(find(&off, "inspector2:ListFindings"), None);
    }

    /// `mount-from`: mounting a blob needs `ecr:GetDownloadUrlForLayer` on the source repository
    /// (ECR User Guide, "Blob mounting in Amazon ECR",
    /// <https://docs.aws.amazon.com/AmazonECR/latest/userguide/blob-mounting.html>), and the run asks
    /// the source first with a `HEAD` (`ecr:BatchCheckLayerAvailability`); in every destination's
    /// registry, as a mount stays within one. Nothing without `mount-from`.
    #[test]
    fn mount_from_reads_the_sources_in_each_destination_registry() {
        let statements = |extra: &[(&str, &str)]| {
            identity_policy(&scope_in("eu-west-1", extra), Persona::Pusher)["Statement"]
                .as_array()
                .expect("statements")
                .clone()
        };
        let mount = |all: &[Value]| {
            all.iter()
                .find(|s| s["Sid"].as_str().is_some_and(|s| s.starts_with("Mount")))
                .cloned()
        };
        assert_eq!(mount(&statements(&[])), None);
        let given = statements(&[
            ("INPUT_MOUNT-FROM", "base/runtime"),
            ("INPUT_DESTINATIONS", "eu-west-1 us-east-1"),
        ]);
        let statement = mount(&given).expect("a mount statement");
        assert_eq!(
            statement["Action"],
            json!([
                "ecr:BatchCheckLayerAvailability",
                "ecr:GetDownloadUrlForLayer"
            ])
        );
        assert_eq!(
            statement["Resource"],
            json!([
                "arn:aws:ecr:eu-west-1:123456789012:repository/base/runtime",
                "arn:aws:ecr:us-east-1:123456789012:repository/base/runtime"
            ])
        );
    }

    /// Every ARN the generator writes takes the region's partition: the repository's of every
    /// persona, the KMS key's, and `kms:ViaService`'s host; and the OIDC provider's, IAM's, with no
    /// region. Not one `arn:aws:` is left.
    #[test]
    fn partitions_follow_the_region() {
        let kms = [
            ("INPUT_ENCRYPTION-TYPE", "KMS"),
            ("INPUT_KMS-KEY", "alias/images"),
        ];
        for (region, id, suffix) in PARTITIONS {
            let scope = scope_in(region, &kms);
            let repository = format!("arn:{id}:ecr:{region}:123456789012:repository/team/api");
            for persona in [
                Persona::Pusher,
                Persona::Puller,
                Persona::Assembler,
                Persona::Scanner,
            ] {
                let policy = identity_policy(&scope, persona);
                let text = policy.to_string();
                assert!(
                    text.contains(&repository) && !text.contains("arn:aws:"),
                    "{persona:?}: {text}"
                );
            }
            let pusher = identity_policy(&scope, Persona::Pusher);
            let kms = pusher["Statement"]
                .as_array()
                .and_then(|s| {
                    s.iter()
                        .find(|s| s["Sid"] == "LetEcrUseTheKmsKeyThatEncryptsTheRepository")
                })
                .expect("the KMS statement");
            assert_eq!(
                kms["Resource"],
                format!("arn:{id}:kms:{region}:123456789012:key/*")
            );
            assert_eq!(
                kms["Condition"]["StringEquals"]["kms:ViaService"],
                format!("ecr.{region}.{suffix}")
            );
            assert_eq!(
                oidc_provider_arn(region, "1", ISSUER),
                format!("arn:{id}:iam::1:oidc-provider/{ISSUER}")
            );
        }
        // ECR Public is a service of the `aws` partition alone.
        let public = scope_in("us-east-1", &[("INPUT_REGISTRY-TYPE", "public")]);
        let text = identity_policy(&public, Persona::Pusher).to_string();
        assert!(
            text.contains("arn:aws:ecr-public::123456789012:repository/team/api"),
            "{text}"
        );
    }

    /// Managed signing signs with the pusher's identity, which needs `signer:SignPayload` on the
    /// profile (ECR User Guide, "Managed signing",
    /// <https://docs.aws.amazon.com/AmazonECR/latest/userguide/managed-signing.html>; API Reference,
    /// `PutSigningConfiguration`'s note). Only a configuration with `signing-profile` grants it.
    #[test]
    fn signing_profiles_are_granted_sign_payload_and_nothing_else_changes() {
        let profile = "arn:aws:signer:us-west-2:123456789012:/signing-profiles/team";
        let plain = identity_policy(&scope_in("us-west-2", &[]), Persona::Pusher);
        let signed = identity_policy(
            &scope_in("us-west-2", &[("INPUT_SIGNING-PROFILE", profile)]),
            Persona::Pusher,
        );
        let statements = |p: &Value| p["Statement"].as_array().cloned().unwrap_or_default();
        let (plain, signed) = (statements(&plain), statements(&signed));
        assert_eq!(signed[..plain.len()], plain[..]);
        let added: Vec<(&Value, &Value)> = signed[plain.len()..]
            .iter()
            .map(|s| (&s["Action"], &s["Resource"]))
            .collect();
        let repository = json!("arn:aws:ecr:us-west-2:123456789012:repository/team/api");
        assert_eq!(
            added,
            [
                (&json!("signer:SignPayload"), &json!(profile)),
                (&json!("ecr:GetSigningConfiguration"), &json!("*")),
                (&json!(["ecr:DescribeImageSigningStatus"]), &repository),
            ]
        );
        let public = scope_in(
            "us-east-1",
            &[
                ("INPUT_REGISTRY-TYPE", "public"),
                ("INPUT_SIGNING-PROFILE", profile),
            ],
        );
        let text = identity_policy(&public, Persona::Pusher).to_string();
        assert!(!text.contains("signer:"), "{text}");
    }
}

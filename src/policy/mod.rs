//! Least privilege: the exact IAM actions a configuration makes the action call, as an identity
//! policy (`ecr-push-action policy`), the pull-only and read-only variants, and the trust policy that
//! lets GitHub's OIDC tokens assume the role. The doctor uses the same ARNs. The subcommand's flags and
//! dispatch are `cli.rs`'s.

use anyhow::Result;
use serde_json::{Value, json};

pub mod beyond;
pub mod check;
pub mod cli;
pub mod condition;
pub mod evaluate;
pub mod principal;
pub mod simulate;
pub mod sources;

use crate::aws::registry::plan;
use crate::inputs::{self, PolicyScope};
use crate::partition::{self, repository_arn};

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

impl std::str::FromStr for Persona {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pusher" => Ok(Persona::Pusher),
            "puller" => Ok(Persona::Puller),
            "scanner" => Ok(Persona::Scanner),
            "assembler" => Ok(Persona::Assembler),
            other => Err(format!(
                "`--persona {other}`: use pusher, puller, assembler or scanner"
            )),
        }
    }
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
    if spec.create_repository || !settings.is_empty() {
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
    statements
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
    statements
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
            let arn = format!("arn:aws:ecr-public::{account}:repository/{repository}");
            OnRepository {
                public: true,
                service: "ecr-public",
                arns: vec![arn],
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
    let in_account = |rest: &str| -> Vec<String> {
        destinations(scope)
            .map(|(region, account)| {
                format!(
                    "arn:{}:kms:{region}:{account}:{rest}",
                    partition::of_region(region).id
                )
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

/// Which GitHub workflows may assume the role: `github:OWNER/REPO` (any ref), or with
/// `:ref:refs/heads/main`, `:environment:prod`, `:pull_request`; a `*` wildcard only in the ref or
/// environment, never in the owner or repository (where it would let other repositories in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustSubject(pub(super) String);

impl TrustSubject {
    /// What a subject that lets every workflow of the repository in allows, said plainly.
    pub(super) fn warning(&self) -> Option<String> {
        let repository = self.0.strip_prefix("repo:")?.strip_suffix(":*")?;
        Some(advice::every_workflow_trusted(repository))
    }
}

impl std::str::FromStr for TrustSubject {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || advice::bad_trust_subject(s);
        let rest = s.strip_prefix("github:").ok_or_else(bad)?;
        let (owner, rest) = rest.split_once('/').ok_or_else(bad)?;
        let (repo, qualifier) = rest
            .split_once(':')
            .map_or((rest, None), |(r, q)| (r, Some(q)));
        if [owner, repo].iter().any(|n| n.contains(['*', '?'])) {
            return Err(advice::wildcard_owner_or_repository(s));
        }
        // GitHub's own rules: owners are letters, digits and single inner hyphens (at most 39); repository
        // names letters, digits, `-`, `_` and `.` (at most 100), but not `.` or `..`.
        let owner_ok = (1..=39).contains(&owner.len())
            && !owner.starts_with('-')
            && !owner.ends_with('-')
            && owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        let repo_ok = (1..=100).contains(&repo.len())
            && repo != "."
            && repo != ".."
            && repo
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !owner_ok || !repo_ok {
            return Err(bad());
        }
        let sub = match qualifier {
            None => format!("repo:{owner}/{repo}:*"),
            Some("pull_request") => format!("repo:{owner}/{repo}:pull_request"),
            Some(q) if q.starts_with("ref:refs/") || q.starts_with("environment:") => {
                if q.chars().any(|c| c.is_whitespace() || c.is_control()) || q.ends_with(':') {
                    return Err(bad());
                }
                format!("repo:{owner}/{repo}:{q}")
            }
            Some(_) => return Err(bad()),
        };
        Ok(TrustSubject(sub))
    }
}

/// The ARN of the OIDC provider for `issuer` in `account`.
pub(super) fn provider_arn(region: &str, account: &str, issuer: &str) -> String {
    format!(
        "arn:{}:iam::{account}:oidc-provider/{issuer}",
        partition::of_region(region).id
    )
}

/// The role's trust policy for GitHub's OIDC provider in `account`.
pub fn trust_policy(
    region: &str,
    account: &str,
    subject: &TrustSubject,
    audience: &str,
    issuer: &str,
) -> Value {
    let provider = provider_arn(region, account, issuer);
    let aud = json!({ format!("{issuer}:aud"): audience });
    let sub = json!({ format!("{issuer}:sub"): subject.0 });
    // StringEquals when the subject is exact; a wildcard needs StringLike.
    let condition = if subject.0.contains('*') {
        json!({ "StringEquals": aud, "StringLike": sub })
    } else {
        let mut both = aud;
        both[format!("{issuer}:sub")] = Value::String(subject.0.clone());
        json!({ "StringEquals": both })
    };
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "GitHubActionsOidcForThisRepository",
            "Effect": "Allow",
            "Principal": { "Federated": provider },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition
        }]
    })
}

/// What `policy` says when a `--trust` subject is refused or allows more than it seems, written once.
pub(super) mod advice {
    pub fn trust_subject_needed() -> String {
        "`--check` of a trust policy needs the workflow it should accept: `--trust \
         github:OWNER/REPO[:ref:refs/heads/BRANCH|:environment:NAME|:pull_request]`."
            .to_owned()
    }

    /// A GitHub Enterprise Server's tokens need an identity provider of their own in the account.
    pub fn enterprise_provider(issuer: &str, audience: &str) -> String {
        format!(
            "This trust policy is for the tokens of https://{issuer} (GitHub Enterprise Server). The account \
             needs that identity provider once: aws iam create-open-id-connect-provider --url https://{issuer} \
             --client-id-list {audience}"
        )
    }

    pub fn every_workflow_trusted(repository: &str) -> String {
        format!(
            "The trust policy lets every workflow run of {repository} assume the role: any branch or tag, any \
             environment, and pull requests (including those from forks, when fork workflows get ID tokens). Prefer \
             a branch (`:ref:refs/heads/main`) or an environment (`:environment:prod`)."
        )
    }

    pub fn bad_trust_subject(subject: &str) -> String {
        format!(
            "`--trust {subject}`: use github:OWNER/REPO, optionally followed by :ref:refs/heads/BRANCH, \
             :environment:NAME or :pull_request"
        )
    }

    pub fn wildcard_owner_or_repository(subject: &str) -> String {
        format!(
            "`--trust {subject}`: a wildcard in the owner or repository name would let other repositories assume the \
             role (`*/*` is every repository on GitHub, `octo*` any look-alike organisation). Name the owner and \
             the repository exactly; wildcards are for the branch or environment part."
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::oidc::ISSUER;

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(
            repository_arn("cn-north-1", "1", "a"),
            "arn:aws-cn:ecr:cn-north-1:1:repository/a"
        );
        // Every ARN the generator writes takes the region's partition: the repository, the KMS key,
        // the OIDC provider, and `kms:ViaService`'s host.
        for (region, id, suffix) in [
            ("cn-north-1", "aws-cn", "amazonaws.com.cn"),
            ("us-gov-west-1", "aws-us-gov", "amazonaws.com"),
            ("us-iso-east-1", "aws-iso", "c2s.ic.gov"),
            ("eusc-de-east-1", "aws-eusc", "amazonaws.eu"),
        ] {
            let scope = inputs::policy_scope(
                [
                    ("INPUT_REPOSITORY", "team/api"),
                    ("INPUT_AWS-REGION", region),
                    ("INPUT_REGISTRY-ID", "123456789012"),
                    ("INPUT_ENCRYPTION-TYPE", "KMS"),
                    ("INPUT_KMS-KEY", "alias/images"),
                ]
                .map(|(k, v)| (k.to_owned(), v.to_owned())),
            )
            .expect("a valid scope");
            let text = identity_policy(&scope, Persona::Pusher).to_string();
            assert!(
                text.contains(&format!(
                    "arn:{id}:ecr:{region}:123456789012:repository/team/api"
                )) && text.contains(&format!("arn:{id}:kms:{region}:123456789012:"))
                    && text.contains(&format!("ecr.{region}.{suffix}"))
                    && !text.contains("arn:aws:"),
                "{text}"
            );
            assert!(provider_arn(region, "1", ISSUER).starts_with(&format!("arn:{id}:iam::1:")));
        }
    }

    #[test]
    fn trust_subjects() {
        let sub = |s: &str| s.parse::<TrustSubject>().map(|t| t.0);
        assert_eq!(sub("github:o/r"), Ok("repo:o/r:*".into()));
        assert_eq!(
            sub("github:o/r:ref:refs/heads/main"),
            Ok("repo:o/r:ref:refs/heads/main".into())
        );
        assert_eq!(
            sub("github:o/r:environment:prod"),
            Ok("repo:o/r:environment:prod".into())
        );
        assert_eq!(
            sub("github:o/r:pull_request"),
            Ok("repo:o/r:pull_request".into())
        );
        for bad in [
            "o/r",
            "github:o",
            "github:o/r:branch:main",
            "github:o/r:ref:refs/heads/a b",
            "github:/r",
            "github:*/*",
            "github:octo*/app",
            "github:octo-org/*",
            "github:octo-org/ap?",
            "github:-octo/app",
            "github:o/..",
        ] {
            assert!(sub(bad).is_err(), "{bad}");
        }
        assert!(
            sub("github:*/*").is_err_and(|e| e.contains("every repository on GitHub")),
            "the refusal says why"
        );
        assert_eq!(
            sub("github:o/r:ref:refs/heads/release-*"),
            Ok("repo:o/r:ref:refs/heads/release-*".into())
        );
    }

    #[test]
    fn a_subject_for_every_workflow_warns_what_it_allows() {
        let warning = |s: &str| s.parse::<TrustSubject>().expect("valid").warning();
        let any = warning("github:o/r").expect("a warning");
        assert!(
            any.contains("o/r")
                && any.contains("any branch or tag")
                && any.contains("pull requests"),
            "{any}"
        );
        assert_eq!(warning("github:o/r:ref:refs/heads/main"), None);
        assert_eq!(warning("github:o/r:environment:prod"), None);
    }
}

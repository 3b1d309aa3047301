//! What a checked policy allows beyond the configuration's needs, and names in it that cannot be
//! right: `--check`'s warnings, with the catalogue of the actions ECR and ECR Public have.

use super::Need;
use super::advice;
use super::evaluate::{self, Policy};

/// Warnings about what the documents allow beyond the configuration's needs, and about names that
/// cannot be right.
pub(super) fn broader_than_needed(documents: &[Policy], needs: &[Need]) -> Vec<String> {
    let needed: Vec<String> = needs
        .iter()
        .map(|n| n.action.to_ascii_lowercase())
        .collect();
    let mut warnings = Vec::new();
    for (name, statement) in evaluate::all_statements(documents) {
        if statement["Effect"] != "Allow" {
            continue;
        }
        let name = name.to_string();
        let actions = evaluate::texts(&statement["Action"]);
        let resources = evaluate::texts(&statement["Resource"]);
        for action in &actions {
            let lower = action.to_ascii_lowercase();
            let service = lower.split(':').next().unwrap_or_default();
            if lower == "ecr:*" || lower == "ecr-public:*" || lower == "*" {
                warnings.push(advice::every_action_of_service(&name, action, needed.len()));
                continue;
            }
            if !matches!(service, "ecr" | "ecr-public") || lower.contains('*') {
                continue;
            }
            if !KNOWN_ACTIONS.iter().any(|k| k.eq_ignore_ascii_case(action)) {
                warnings.push(advice::not_an_action(&name, action, service));
            } else if !needed.contains(&lower) {
                warnings.push(advice::never_called(&name, action));
            }
            for resource in &resources {
                let wrong = (service == "ecr" && resource.contains(":ecr-public:"))
                    || (service == "ecr-public"
                        && resource.starts_with("arn:")
                        && resource.contains(":ecr:"));
                if wrong {
                    warnings.push(advice::arn_of_another_service(
                        &name, action, resource, service,
                    ));
                }
            }
        }
        let repository_actions = actions.iter().any(|a| {
            let lower = a.to_ascii_lowercase();
            // The token and the signing configuration are the registry's: only "*" grants them.
            lower.starts_with("ecr")
                && !lower.ends_with(":getauthorizationtoken")
                && !lower.ends_with(":getsigningconfiguration")
        });
        if repository_actions && resources.iter().any(|r| r == "*") {
            warnings.push(advice::repository_actions_on_star(&name));
        }
    }
    warnings
}

/// The actions of ECR and ECR Public that exist (AWS's service authorization reference, as parliament
/// 1.6.4's catalogue has it), to tell a typo or an action of the other service.
const KNOWN_ACTIONS: [&str; 78] = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchDeleteImage",
    "ecr:BatchGetImage",
    "ecr:BatchGetRepositoryScanningConfiguration",
    "ecr:BatchImportUpstreamImage",
    "ecr:CompleteLayerUpload",
    "ecr:CreatePullThroughCacheRule",
    "ecr:CreateRepository",
    "ecr:CreateRepositoryCreationTemplate",
    "ecr:DeleteLifecyclePolicy",
    "ecr:DeletePullThroughCacheRule",
    "ecr:DeleteRegistryPolicy",
    "ecr:DeleteRepository",
    "ecr:DeleteRepositoryCreationTemplate",
    "ecr:DeleteRepositoryPolicy",
    "ecr:DeleteSigningConfiguration",
    "ecr:DescribeImageReplicationStatus",
    "ecr:DescribeImageScanFindings",
    "ecr:DescribeImageSigningStatus",
    "ecr:DescribeImages",
    "ecr:DescribePullThroughCacheRules",
    "ecr:DescribeRegistry",
    "ecr:DescribeRepositories",
    "ecr:DescribeRepositoryCreationTemplates",
    "ecr:GetAccountSetting",
    "ecr:GetAuthorizationToken",
    "ecr:GetDownloadUrlForLayer",
    "ecr:GetLifecyclePolicy",
    "ecr:GetLifecyclePolicyPreview",
    "ecr:GetRegistryPolicy",
    "ecr:GetRegistryScanningConfiguration",
    "ecr:GetRepositoryPolicy",
    "ecr:GetSigningConfiguration",
    "ecr:InitiateLayerUpload",
    "ecr:ListImages",
    "ecr:ListTagsForResource",
    "ecr:PutAccountSetting",
    "ecr:PutImage",
    "ecr:PutImageScanningConfiguration",
    "ecr:PutImageTagMutability",
    "ecr:PutLifecyclePolicy",
    "ecr:PutRegistryPolicy",
    "ecr:PutRegistryScanningConfiguration",
    "ecr:PutReplicationConfiguration",
    "ecr:PutSigningConfiguration",
    "ecr:ReplicateImage",
    "ecr:SetRepositoryPolicy",
    "ecr:StartImageScan",
    "ecr:StartLifecyclePolicyPreview",
    "ecr:TagResource",
    "ecr:UntagResource",
    "ecr:UpdatePullThroughCacheRule",
    "ecr:UpdateRepositoryCreationTemplate",
    "ecr:UploadLayerPart",
    "ecr:ValidatePullThroughCacheRule",
    "ecr-public:BatchCheckLayerAvailability",
    "ecr-public:BatchDeleteImage",
    "ecr-public:CompleteLayerUpload",
    "ecr-public:CreateRepository",
    "ecr-public:DeleteRepository",
    "ecr-public:DeleteRepositoryPolicy",
    "ecr-public:DescribeImageTags",
    "ecr-public:DescribeImages",
    "ecr-public:DescribeRegistries",
    "ecr-public:DescribeRepositories",
    "ecr-public:GetAuthorizationToken",
    "ecr-public:GetRegistryCatalogData",
    "ecr-public:GetRepositoryCatalogData",
    "ecr-public:GetRepositoryPolicy",
    "ecr-public:InitiateLayerUpload",
    "ecr-public:ListTagsForResource",
    "ecr-public:PutImage",
    "ecr-public:PutRegistryCatalogData",
    "ecr-public:PutRepositoryCatalogData",
    "ecr-public:SetRepositoryPolicy",
    "ecr-public:TagResource",
    "ecr-public:UntagResource",
    "ecr-public:UploadLayerPart",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Persona, identity_policy, needs, tests::scope_in};

    /// The generated policy with managed signing is not "broader than needed": its ECR actions are
    /// known, and the registry's signing configuration (like the token) is granted on `"*"`.
    #[test]
    fn the_generated_signing_statements_draw_no_warning() {
        let profile = "arn:aws:signer:us-east-1:123456789012:/signing-profiles/team";
        let scope = scope_in("us-east-1", &[("INPUT_SIGNING-PROFILE", profile)]);
        let document = identity_policy(&scope, Persona::Pusher);
        let generated = Policy {
            source: "generated".to_owned(),
            document: document.clone(),
        };
        assert_eq!(
            broader_than_needed(&[generated], &needs(&document)),
            Vec::<String>::new()
        );
    }
}

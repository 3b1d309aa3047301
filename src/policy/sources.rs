//! What `policy --check` reads before it judges: the policies named by `--check` (files, standard
//! input, or a role's or user's policies read from IAM), the permissions boundary (`--boundary`, or the
//! principal's own), the repository policy (`--repository-policy`, or ECR's `GetRepositoryPolicy` when
//! the registry is in another account and credentials are at hand), and who the caller is; and for
//! `--signing-profile registry`, the signing profiles of the registries' signing configurations.

use anyhow::Result;
use serde_json::{Value, json};

use super::evaluate::Policy;
use super::{advice, principal};
use crate::inputs::RepositorySpec;

/// Everything `--check` evaluates.
#[derive(Debug, Default)]
pub struct Read {
    pub documents: Vec<Policy>,
    pub boundary: Option<Vec<Policy>>,
    pub repository_policy: Option<Policy>,
    /// The principal's ARN: `--caller-arn`, else the role's or user's read from IAM.
    pub caller: Option<String>,
    /// Credentials were used (a principal was read from IAM): ECR can be asked too.
    pub with_credentials: bool,
}

/// What the flags name.
#[derive(Debug, Default)]
pub struct Wanted<'a> {
    pub check: &'a [String],
    pub boundary: &'a [String],
    pub repository_policy: Option<&'a str>,
    pub caller: Option<&'a str>,
    /// `--trust`: a role's trust policy rather than its identity policies.
    pub trust: bool,
}

pub fn read(wanted: &Wanted<'_>, region: &str) -> Result<Read> {
    let mut read = Read {
        caller: wanted.caller.map(str::to_owned),
        ..Read::default()
    };
    for source in wanted.check {
        let Some(who) = principal::Principal::parse(source) else {
            read.documents.push(file("--check", source)?);
            continue;
        };
        let policies = principal::read(&who, region)?;
        read.with_credentials = true;
        read.caller.get_or_insert(policies.arn);
        if wanted.trust {
            let trust = policies
                .trust
                .ok_or_else(|| advice::no_trust_policy(source))?;
            read.documents.push(named(trust)?);
            continue;
        }
        if policies.identity.is_empty() {
            return Err(advice::no_identity_policies(source));
        }
        for policy in policies.identity {
            read.documents.push(named(policy)?);
        }
        if let Some(boundary) = policies.boundary {
            read.boundary
                .get_or_insert_with(Vec::new)
                .push(named(boundary)?);
        }
    }
    for source in wanted.boundary {
        let boundary = file("--boundary", source)?;
        read.boundary.get_or_insert_with(Vec::new).push(boundary);
    }
    if let Some(source) = wanted.repository_policy {
        read.repository_policy = Some(file("--repository-policy", source)?);
    }
    Ok(read)
}

fn named(policy: principal::Named) -> Result<Policy> {
    Policy::new(policy.name, policy.document).map_err(|e| e.context("`--check`"))
}

/// A policy document from a file, or standard input for `-`, named after it.
fn file(flag: &str, source: &str) -> Result<Policy> {
    let what = format!("`{flag} {source}`");
    let text = if source == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(source)
    };
    let text = text.map_err(|e| advice::unreadable(&what, &e))?;
    let document: Value = serde_json::from_str(&text).map_err(|e| advice::not_json(&what, &e))?;
    let name = if source == "-" {
        "standard input"
    } else {
        source
    };
    Policy::new(name, document).map_err(|e| e.context(what))
}

/// `f` with an ECR client on the standard chain's credentials.
fn with_ecr<T>(region: &str, f: impl AsyncFnOnce(aws_sdk_ecr::Client) -> T) -> Result<T, String> {
    crate::aws::with_sdk(region, async |sdk| f(aws_sdk_ecr::Client::new(sdk)).await)
        .map_err(|e| e.to_string())
}

/// The tags the repository has now (`ecr:ListTagsForResource`); none for a repository that does not
/// exist yet (the run creates it with the configuration's tags only).
pub fn repository_tags(region: &str, arn: &str) -> Result<Vec<(String, String)>, String> {
    with_ecr(region, async |ecr| {
        match ecr.list_tags_for_resource().resource_arn(arn).send().await {
            Ok(answer) => Ok(answer
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect()),
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_ecr::operation::list_tags_for_resource::ListTagsForResourceError::is_repository_not_found_exception,
                ) =>
            {
                Ok(Vec::new())
            }
            Err(e) => Err(advice::ecr_call_failed(
                "ecr:ListTagsForResource",
                arn,
                &crate::aws::sdk_error_text(&e),
            )),
        }
    })?
}

/// The repository's policy read from ECR (`ecr:GetRepositoryPolicy`); a repository without a policy
/// gives one that allows nothing; an error says why it could not be read.
pub fn repository_policy(region: &str, account: &str, repository: &str) -> Result<Policy, String> {
    with_ecr(region, async |ecr| {
        let got = ecr
            .get_repository_policy()
            .registry_id(account)
            .repository_name(repository)
            .send()
            .await;
        let source = format!("the repository policy of {account}/{repository}");
        match got {
            Ok(answer) => {
                let text = answer.policy_text().unwrap_or_default();
                let document: Value =
                    serde_json::from_str(text).map_err(|e| format!("{source}: {e}"))?;
                Policy::new(source, document).map_err(|e| format!("{e:#}"))
            }
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_ecr::operation::get_repository_policy::GetRepositoryPolicyError::is_repository_policy_not_found_exception,
                ) =>
            {
                Ok(Policy {
                    source: format!("{source} (it has none)"),
                    document: json!({"Version": "2012-10-17", "Statement": []}),
                })
            }
            Err(e) => Err(advice::ecr_call_failed(
                "ecr:GetRepositoryPolicy",
                &format!("{account}/{repository}"),
                &crate::aws::sdk_error_text(&e),
            )),
        }
    })?
}

/// `--signing-profile registry`: the profiles of the rules that match the repository in the signing
/// configuration of each registry the configuration pushes to (`ecr:GetSigningConfiguration`, on the
/// standard chain's credentials), once each; warnings name the registries no rule of which matches.
/// Managed signing exists in private registries only.
pub fn registry_signing_profiles(spec: &RepositorySpec) -> Result<(Vec<String>, Vec<String>)> {
    let mut registries = vec![(spec.region.clone(), spec.registry_id.clone())];
    registries.extend(
        spec.destinations
            .iter()
            .map(|t| (t.region.clone(), t.registry_id.clone())),
    );
    registries.dedup();
    let (mut profiles, mut warnings) = (Vec::new(), Vec::new());
    for (region, registry_id) in registries {
        let registry = match &registry_id {
            Some(account) => format!("account {account} in {region}"),
            None => region.clone(),
        };
        let rules = with_ecr(&region, async |ecr| {
            crate::aws::registry::signing::read_rules(&ecr, registry_id.as_deref()).await
        })
        .and_then(|read| read)
        .map_err(|why| advice::signing_configuration_unreadable(&registry, &why))?;
        let matching =
            crate::aws::registry::signing::matching_profiles(&rules, spec.repository.as_str());
        if matching.is_empty() {
            warnings.push(advice::no_signing_rule(&registry, spec.repository.as_str()));
        }
        for profile in matching {
            if !profiles.contains(&profile) {
                profiles.push(profile);
            }
        }
    }
    Ok((profiles, warnings))
}

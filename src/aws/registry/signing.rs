//! ECR's managed signing (private ECR only): which AWS Signer profiles sign this repository's pushes
//! ([`plan`], in the prepare step: the registry's signing configuration, else `signing-profile`), and,
//! after the push, the wait for ECR to sign the pushed digest ([`wait`]). What a rule matches and what
//! an answer means is decided here by pure functions; what the user reads is in
//! [`advice`](super::advice).
//!
//! API Reference: `GetSigningConfiguration`, `SigningRule`, `SigningRepositoryFilter`,
//! `DescribeImageSigningStatus`, `ImageSigningStatus`
//! (<https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImageSigningStatus.html>).

use std::time::{Duration, Instant};

use anyhow::Result;
use aws_sdk_ecr::Client;
use aws_sdk_ecr::operation::describe_image_signing_status::DescribeImageSigningStatusError;
use aws_sdk_ecr::operation::get_signing_configuration::GetSigningConfigurationError;
use aws_sdk_ecr::types::{ImageIdentifier, SigningRule, SigningStatus};

use super::advice;
use crate::aws::{call_failed, denied, sdk_error_text};
use crate::diagnostic::Diagnostic;
use crate::inputs::Config;
use crate::{github, step};

/// Who signs this destination's pushes: the profiles of the rules that match the repository.
#[derive(Debug, Clone)]
pub struct Plan {
    pub profiles: Vec<String>,
    /// A signature that does not come fails the run (`require-signature`, default true).
    pub required: bool,
    ecr: Client,
    registry_id: Option<String>,
}

/// What became of the signature of one destination's pushed image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// ECR's last status: `COMPLETE`, `FAILED`, or `IN_PROGRESS` when the wait ended otherwise.
    pub status: String,
    pub profiles: Vec<String>,
    /// Why the run fails because of it (`None` when it is complete, or not required).
    pub problem: Option<Diagnostic>,
}

/// The profiles that sign pushes to the repository, and where they were learnt; `None` when no rule
/// matches — nothing about signing is said or asked afterwards.
pub async fn plan(ecr: &Client, config: &Config) -> Option<Plan> {
    let repository = config.repository.as_str();
    let given = &config.signing.profiles;
    let profiles = match read_rules(ecr, config.registry_id.as_deref()).await {
        Ok(rules) => {
            let profiles = matching_profiles(&rules, repository);
            if !profiles.is_empty() {
                github::info(&advice::signing_from_registry(repository, &profiles));
            }
            profiles
        }
        Err(_) if given.is_empty() => Vec::new(),
        Err(why) => {
            github::info(&advice::signing_from_inputs(repository, &why, given));
            given.clone()
        }
    };
    (!profiles.is_empty()).then(|| Plan {
        profiles,
        required: config.signing.require.unwrap_or(true),
        ecr: ecr.clone(),
        registry_id: config.registry_id.clone(),
    })
}

/// The registry's signing rules (none without a signing configuration); `Err` says why they cannot
/// be read. `GetSigningConfiguration` takes no registry: it reads the caller's own, which is another
/// registry's only when `registry-id` names another account.
pub async fn read_rules(
    ecr: &Client,
    registry_id: Option<&str>,
) -> Result<Vec<SigningRule>, String> {
    let action = "ecr:GetSigningConfiguration";
    // One attempt: the configuration is optional (a failure counts as unreadable), and a registry
    // that does not know the operation (an emulator; a partition without managed signing) answers
    // with errors that retries would only make slower.
    let once = aws_sdk_ecr::config::Builder::default()
        .retry_config(aws_sdk_ecr::config::retry::RetryConfig::disabled());
    let answer = ecr
        .get_signing_configuration()
        .customize()
        .config_override(once)
        .send()
        .await;
    match answer {
        Ok(out) if registry_id.is_some_and(|id| out.registry_id().is_some_and(|r| r != id)) => {
            Err(advice::signing_configuration_of_caller())
        }
        Ok(out) => Ok(out
            .signing_configuration()
            .map(|c| c.rules().to_vec())
            .unwrap_or_default()),
        Err(err)
            if err.as_service_error().is_some_and(
                GetSigningConfigurationError::is_signing_configuration_not_found_exception,
            ) =>
        {
            Ok(Vec::new())
        }
        Err(err) => {
            Err(denied::from_sdk_error(&err, action, "*").unwrap_or_else(|| sdk_error_text(&err)))
        }
    }
}

/// The profiles of the rules whose repository filters match `repository`, once each, in the
/// configuration's order. A rule without filters matches every repository.
pub fn matching_profiles(rules: &[SigningRule], repository: &str) -> Vec<String> {
    let mut profiles: Vec<String> = Vec::new();
    for rule in rules {
        let filters = rule.repository_filters();
        let matches = filters.is_empty()
            || filters.iter().any(|f| {
                f.filter_type().as_str() == "WILDCARD_MATCH"
                    && wildcard_match(f.filter(), repository)
            });
        let profile = rule.signing_profile_arn();
        if matches && !profiles.iter().any(|p| p == profile) {
            profiles.push(profile.to_owned());
        }
    }
    profiles
}

/// `WILDCARD_MATCH`: `*` matches any sequence of characters (none included), everything else itself.
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if parts.len() == 1 {
        return pattern == name;
    }
    if !name.starts_with(first) || name.len() < first.len() + last.len() || !name.ends_with(last) {
        return false;
    }
    let mut rest = &name[first.len()..name.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

/// One profile's status, as `DescribeImageSigningStatus` answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub profile: String,
    pub status: String,
    pub failure_code: Option<String>,
    pub failure_reason: Option<String>,
}

/// What a `DescribeImageSigningStatus` answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every profile's status is `COMPLETE`.
    Complete,
    /// At least one is `FAILED`: those.
    Failed(Vec<Status>),
    /// `IN_PROGRESS`, or no status yet.
    Pending,
}

/// A status per profile: `FAILED` anywhere fails; all `COMPLETE` (at least one) completes.
pub fn verdict(statuses: &[Status]) -> Verdict {
    let failed: Vec<Status> = statuses
        .iter()
        .filter(|s| s.status == SigningStatus::Failed.as_str())
        .cloned()
        .collect();
    if !failed.is_empty() {
        Verdict::Failed(failed)
    } else if !statuses.is_empty()
        && statuses
            .iter()
            .all(|s| s.status == SigningStatus::Complete.as_str())
    {
        Verdict::Complete
    } else {
        Verdict::Pending
    }
}

/// How long ECR may show no status at all for a pushed image before the run says signing never began.
const NOT_STARTED_AFTER: Duration = Duration::from_mins(2);

/// The wait after a poll that found signing pending: small at first, doubled up to 5 s.
pub fn next_interval(previous: Duration) -> Duration {
    (previous * 2).min(Duration::from_secs(5))
}

/// One destination's pushed image, for [`wait_all`].
pub struct Pushed<'a> {
    pub plan: &'a Plan,
    pub repository: &'a str,
    pub repository_arn: &'a str,
    pub digest: &'a str,
}

/// After the push: each destination's signature, where a signing rule covers it (`None` elsewhere,
/// in the order given). Without any, nothing is printed.
pub async fn wait_all(pushed: Vec<Option<Pushed<'_>>>) -> Vec<Option<Signed>> {
    if pushed.iter().all(Option::is_none) {
        return pushed.iter().map(|_| None).collect();
    }
    let _step = step::enter("Signing");
    github::at_once(pushed.into_iter().map(|p| async move {
        let p = p?;
        Some(wait(p.plan, p.repository, p.repository_arn, p.digest).await)
    }))
    .await
}

/// Polls `DescribeImageSigningStatus` for `digest` until ECR signed it or failed to; the run's
/// `timeout`, which the whole pipeline is inside, bounds the wait. Not `required`: a problem is
/// a warning.
async fn wait(plan: &Plan, repository: &str, repository_arn: &str, digest: &str) -> Signed {
    let outcome = poll(plan, repository, repository_arn, digest).await;
    let (status, problem) = match outcome {
        Ok(()) => {
            github::info(&advice::signed(repository, digest, &plan.profiles));
            ("COMPLETE".to_owned(), None)
        }
        Err((status, problem)) if plan.required => {
            let codes = crate::diagnostic::codes(&problem);
            (
                status,
                Some(Diagnostic::gathered(codes, format!("{problem:#}"))),
            )
        }
        Err((status, problem)) => {
            github::warning(&advice::signature_not_required(&format!("{problem:#}")));
            (status, None)
        }
    };
    Signed {
        status,
        profiles: plan.profiles.clone(),
        problem,
    }
}

async fn poll(
    plan: &Plan,
    repository: &str,
    repository_arn: &str,
    digest: &str,
) -> Result<(), (String, anyhow::Error)> {
    let started = Instant::now();
    let mut interval = Duration::from_millis(250);
    let image = ImageIdentifier::builder().image_digest(digest).build();
    loop {
        let answer = plan
            .ecr
            .describe_image_signing_status()
            .repository_name(repository)
            .image_id(image.clone())
            .set_registry_id(plan.registry_id.clone())
            .send()
            .await;
        let statuses = match answer {
            Ok(out) => out.signing_statuses().iter().map(status_of).collect(),
            // Just after a push, the image may not be listed yet.
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(DescribeImageSigningStatusError::is_image_not_found_exception) =>
            {
                Vec::new()
            }
            Err(err) => {
                let action = "ecr:DescribeImageSigningStatus";
                return Err((
                    "UNKNOWN".to_owned(),
                    call_failed(&err, action, repository_arn),
                ));
            }
        };
        match verdict(&statuses) {
            Verdict::Complete => return Ok(()),
            Verdict::Failed(failed) => {
                let uri = format!("{repository}@{digest}");
                return Err((
                    "FAILED".to_owned(),
                    advice::signing_failed(&uri, &failed_parts(&failed)),
                ));
            }
            Verdict::Pending if statuses.is_empty() && started.elapsed() > NOT_STARTED_AFTER => {
                let secs = NOT_STARTED_AFTER.as_secs();
                return Err((
                    "NONE".to_owned(),
                    advice::signing_not_started(repository, digest, &plan.profiles, secs),
                ));
            }
            Verdict::Pending => {}
        }
        tokio::time::sleep(interval).await;
        interval = next_interval(interval);
    }
}

fn status_of(s: &aws_sdk_ecr::types::ImageSigningStatus) -> Status {
    Status {
        profile: s.signing_profile_arn().unwrap_or_default().to_owned(),
        status: s
            .status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        failure_code: s.failure_code().map(str::to_owned),
        failure_reason: s.failure_reason().map(str::to_owned),
    }
}

/// Each failed profile as the error tells it: ECR's code and reason, and the doctor's explanation
/// when the reason is AWS's refusal sentence (else the statement that signing needs).
fn failed_parts(failed: &[Status]) -> Vec<advice::SigningFailure> {
    failed
        .iter()
        .map(|s| {
            let reason = s.failure_reason.clone().unwrap_or_default();
            let refusal = denied::parse(&reason).map_or_else(
                || denied::Denied {
                    principal: None,
                    action: "signer:SignPayload".to_owned(),
                    resource: Some(s.profile.clone()),
                    cause: denied::Cause::Unknown,
                },
                |mut d| {
                    d.resource.get_or_insert_with(|| s.profile.clone());
                    d
                },
            );
            advice::SigningFailure {
                profile: s.profile.clone(),
                code: s.failure_code.clone().unwrap_or_default(),
                reason,
                doctor: denied::explain(&refusal),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use aws_sdk_ecr::types::{SigningRepositoryFilter, SigningRepositoryFilterType};

    use super::*;

    fn rule(profile: &str, filters: &[&str]) -> SigningRule {
        let mut rule = SigningRule::builder().signing_profile_arn(profile);
        for filter in filters {
            rule = rule.repository_filters(
                SigningRepositoryFilter::builder()
                    .filter(*filter)
                    .filter_type(SigningRepositoryFilterType::WildcardMatch)
                    .build()
                    .expect("a filter"),
            );
        }
        rule.build().expect("a rule")
    }

    /// `SigningRepositoryFilter` (API Reference,
    /// <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_SigningRepositoryFilter.html>):
    /// with `WILDCARD_MATCH`, `*` matches any sequence of characters — `myapp/*` every repository
    /// starting with `myapp/`, `*/production` every one ending with `/production`, `*prod*` every one
    /// containing `prod`.
    #[test]
    fn wildcard_filters_match_as_the_api_reference_says() {
        for (pattern, name, matches) in [
            ("myapp/*", "myapp/api", true),
            ("myapp/*", "myapp/", true),
            ("myapp/*", "myapp", false),
            ("myapp/*", "other/myapp/api", false),
            ("*/production", "team/production", true),
            ("*/production", "team/production/x", false),
            ("*prod*", "prod", true),
            ("*prod*", "team/preprod-api", true),
            ("*prod*", "team/api", false),
            ("team/api", "team/api", true),
            ("team/api", "team/api2", false),
            ("a*b*c", "abc", true),
            ("a*b*c", "aXbYc", true),
            ("a*b*c", "acb", false),
            ("ab*ba", "aba", false),
            ("*", "anything", true),
        ] {
            assert_eq!(wildcard_match(pattern, name), matches, "{pattern} ~ {name}");
        }
    }

    /// `SigningRule` (API Reference,
    /// <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_SigningRule.html>): "If no filters
    /// are specified, all images pushed to the registry are signed using the rule's signing profile";
    /// an image that matches rules of several profiles gets a status per profile
    /// (`DescribeImageSigningStatus`).
    #[test]
    fn rules_whose_filters_match_give_their_profiles_once() {
        let team = "arn:aws:signer:us-west-2:123456789012:/signing-profiles/team";
        let all = "arn:aws:signer:us-west-2:123456789012:/signing-profiles/all";
        let rules = [
            rule(team, &["team/*", "*/team"]),
            rule(all, &[]),
            rule(team, &["*api"]),
        ];
        assert_eq!(matching_profiles(&rules, "team/api"), [team, all]);
        assert_eq!(matching_profiles(&rules, "other/web"), [all]);
        assert!(matching_profiles(&rules[..1], "other/web").is_empty());
        assert!(matching_profiles(&[], "team/api").is_empty());
    }

    fn status(status: &str) -> Status {
        Status {
            profile: "p".to_owned(),
            status: status.to_owned(),
            failure_code: (status == "FAILED").then(|| "SIGNING_FAILED".to_owned()),
            failure_reason: None,
        }
    }

    /// `ImageSigningStatus.status` (API Reference,
    /// <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageSigningStatus.html>):
    /// `IN_PROGRESS`, `COMPLETE`, or `FAILED` with `failureCode` and `failureReason`; one per profile.
    #[test]
    fn statuses_complete_only_when_every_profile_is_complete() {
        assert_eq!(verdict(&[]), Verdict::Pending);
        assert_eq!(verdict(&[status("IN_PROGRESS")]), Verdict::Pending);
        assert_eq!(verdict(&[status("COMPLETE")]), Verdict::Complete);
        assert_eq!(
            verdict(&[status("COMPLETE"), status("IN_PROGRESS")]),
            Verdict::Pending
        );
        assert_eq!(
            verdict(&[status("IN_PROGRESS"), status("FAILED")]),
            Verdict::Failed(vec![status("FAILED")])
        );
    }

    #[test]
    fn the_poll_interval_starts_small_and_is_capped() {
        let mut interval = Duration::from_millis(250);
        let mut seen = vec![interval];
        for _ in 0..6 {
            interval = next_interval(interval);
            seen.push(interval);
        }
        assert_eq!(seen[1], Duration::from_millis(500));
        assert_eq!(*seen.last().expect("some"), Duration::from_secs(5));
    }

    /// A failure whose reason is AWS's refusal sentence is told by the doctor: the statement to add.
    #[test]
    fn a_refused_signature_names_the_statement_to_add() {
        let profile = "arn:aws:signer:us-west-2:123456789012:/signing-profiles/team";
        let failed = Status {
            profile: profile.to_owned(),
            status: "FAILED".to_owned(),
            failure_code: Some("AccessDenied".to_owned()),
            failure_reason: Some(
                "User: arn:aws:iam::123456789012:user/pusher is not authorized to perform: signer:SignPayload"
                    .to_owned(),
            ),
        };
        let err = advice::signing_failed("team/api@sha256:00", &failed_parts(&[failed]));
        let text = format!("{err:#}");
        assert_eq!(crate::diagnostic::codes(&err), ["E-SIGNING-FAILED"]);
        assert!(text.contains("failureCode AccessDenied"), "{text}");
        assert!(
            text.contains(&format!(
                r#"{{"Effect": "Allow", "Action": "signer:SignPayload", "Resource": "{profile}"}}"#
            )),
            "{text}"
        );
    }
}

//! The role's trust policy for GitHub's OIDC tokens: which workflows may assume the role (`--trust`),
//! the policy that lets them (`policy --trust`), and `--check` of trust policies — do they accept the
//! workflow's token, and if not, why and what would.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::advice;
use super::evaluate::{self, Context, Policy, Request, Verdict};
use crate::inputs::PolicyScope;
use crate::partition::oidc_provider_arn;

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
    type Err = anyhow::Error;
    fn from_str(s: &str) -> anyhow::Result<Self> {
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

/// The role's trust policy for GitHub's OIDC provider in `account`.
pub fn trust_policy(
    region: &str,
    account: &str,
    subject: &TrustSubject,
    audience: &str,
    issuer: &str,
) -> Value {
    let provider = oidc_provider_arn(region, account, issuer);
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

/// `--check` on trust policies: the report on whether they let the workflow `subject` names assume
/// the role with its GitHub token, with the statement that would when they do not; and whether they do.
pub fn report(
    documents: &[Policy],
    scope: &PolicyScope,
    subject: &TrustSubject,
    issuer: &str,
) -> (String, bool) {
    let (region, account, audience) = (&scope.spec.region, &scope.account, &scope.audience);
    let provider = oidc_provider_arn(region, account, issuer);
    let verdict = check(documents, &provider, issuer, &subject.0, audience);
    let said = verdict.in_words("accepted", "NOT accepted");
    let line = advice::token_verdict(&subject.0, audience, &provider, &said);
    let mut text = crate::github::neutralise(&line) + "\n";
    let accepted = matches!(verdict, Verdict::Allowed(_));
    if !accepted {
        for hint in hints(documents, &provider, &subject.0) {
            text += &(crate::github::neutralise(&format!("  {hint}")) + "\n");
        }
        let wanted = trust_policy(region, account, subject, audience, issuer);
        let pretty = serde_json::to_string_pretty(&wanted).unwrap_or_default();
        let _ = writeln!(text, "{}\n{pretty}", advice::ACCEPTING_TRUST_POLICY);
    }
    (text, accepted)
}

/// Whether a trust policy lets the GitHub workflow whose token has `sub` and `aud` (from `issuer`)
/// assume the role: `sts:AssumeRoleWithWebIdentity` with the provider `provider_arn` as principal,
/// the token's `sub` and `aud` as the known condition keys; any other key makes it depend.
pub fn check(
    documents: &[Policy],
    provider_arn: &str,
    issuer: &str,
    sub: &str,
    aud: &str,
) -> Verdict {
    // IAM matches a trust statement's Principal as an identity policy matches its Resource.
    let as_resources: Vec<Policy> = documents
        .iter()
        .map(|policy| {
            let statements: Vec<Value> = evaluate::listed(&policy.document["Statement"])
                .into_iter()
                .map(|mut statement| {
                    let federated = statement["Principal"]["Federated"].clone();
                    if let Some(object) = statement.as_object_mut() {
                        object.remove("Principal");
                        object.insert("Resource".into(), federated);
                    }
                    statement
                })
                .collect();
            let mut document = json!({ "Statement": statements });
            document["Version"] = policy.document["Version"].clone();
            Policy {
                source: policy.source.clone(),
                document,
            }
        })
        .collect();
    let mut context = Context::unknown_unless_given();
    context.set(&format!("{issuer}:sub"), vec![sub.to_owned()]);
    context.set(&format!("{issuer}:aud"), vec![aud.to_owned()]);
    let request = Request {
        action: "sts:AssumeRoleWithWebIdentity".into(),
        resource: provider_arn.to_owned(),
        context,
        caller: None,
    };
    evaluate::evaluate(&as_resources, &request)
}

/// Why a trust policy does not accept the token, where a near miss says it: another provider (e.g.
/// github.com's on a GitHub Enterprise Server), or a subject that differs only in case.
pub fn hints(documents: &[Policy], provider_arn: &str, sub: &str) -> Vec<String> {
    let texts: Vec<&Value> = documents.iter().map(|p| &p.document).collect();
    let text = serde_json::to_string(&texts).unwrap_or_default();
    let mut hints = Vec::new();
    if !text.contains(provider_arn) && text.contains(":oidc-provider/") {
        hints.push(advice::provider_not_named(provider_arn));
    }
    if !text.contains(sub)
        && text
            .to_ascii_lowercase()
            .contains(&sub.to_ascii_lowercase())
    {
        hints.push(advice::subject_in_another_case(sub));
    }
    hints
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::codes;

    #[test]
    fn trust_subjects() {
        let sub = |s: &str| s.parse::<TrustSubject>().map(|t| t.0).ok();
        assert_eq!(sub("github:o/r").as_deref(), Some("repo:o/r:*"));
        assert_eq!(
            sub("github:o/r:ref:refs/heads/main").as_deref(),
            Some("repo:o/r:ref:refs/heads/main")
        );
        assert_eq!(
            sub("github:o/r:environment:prod").as_deref(),
            Some("repo:o/r:environment:prod")
        );
        assert_eq!(
            sub("github:o/r:pull_request").as_deref(),
            Some("repo:o/r:pull_request")
        );
        assert_eq!(
            sub("github:o/r:ref:refs/heads/release-*").as_deref(),
            Some("repo:o/r:ref:refs/heads/release-*")
        );
        let refused = |s: &str| {
            let err = s.parse::<TrustSubject>().expect_err(s);
            codes(&err)
        };
        for bad in [
            "o/r",
            "github:o",
            "github:o/r:branch:main",
            "github:o/r:ref:refs/heads/a b",
            "github:/r",
            "github:-octo/app",
            "github:o/..",
        ] {
            assert_eq!(refused(bad), ["E-POLICY-TRUST-SUBJECT"], "{bad}");
        }
        // A wildcard where it would let other repositories in is refused as that, not as a typo.
        for wild in [
            "github:*/*",
            "github:octo*/app",
            "github:octo-org/*",
            "github:octo-org/ap?",
        ] {
            assert_eq!(refused(wild), ["E-POLICY-TRUST-WILDCARD"], "{wild}");
        }
    }

    #[test]
    fn a_subject_for_every_workflow_warns_what_it_allows() {
        let warning = |s: &str| s.parse::<TrustSubject>().expect("valid").warning();
        let any = warning("github:o/r").expect("a warning");
        assert_eq!(any, advice::every_workflow_trusted("o/r"));
        assert_eq!(warning("github:o/r:ref:refs/heads/main"), None);
        assert_eq!(warning("github:o/r:environment:prod"), None);
    }
}

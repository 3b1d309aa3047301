//! The result of a run, as step outputs and as a row per tag in the job summary.

use std::fmt::Write as _;

use anyhow::Result;

use crate::aws::registry::Repository;
use crate::aws::token::RegistryLogin;
use crate::docker::PushedTag;
use crate::github;

pub fn write(
    login: &RegistryLogin,
    repository: &Repository,
    pushed: &[PushedTag],
    authenticated_arn: Option<&str>,
) -> Result<()> {
    let registry_host = login.host.as_str();
    let repository_uri = format!("{registry_host}/{}", repository.name);
    let image_uris: Vec<String> = pushed
        .iter()
        .map(|p| format!("{repository_uri}:{}", p.tag))
        .collect();
    let digest = pushed.first().map(|p| p.digest.clone()).unwrap_or_default();
    github::set_outputs(&outputs(
        registry_host,
        &repository_uri,
        &image_uris,
        &digest,
        &login.account,
        repository.created,
        authenticated_arn,
    ))?;
    github::append_summary(&summary(&login.account, repository, pushed, &image_uris))
}

/// Every output the action sets, in the order of `action.yml`.
fn outputs(
    registry_host: &str,
    repository_uri: &str,
    image_uris: &[String],
    digest: &str,
    account: &str,
    created: bool,
    authenticated_arn: Option<&str>,
) -> Vec<(&'static str, String)> {
    vec![
        ("registry", registry_host.to_owned()),
        ("repository-uri", repository_uri.to_owned()),
        ("image-uri", image_uris.first().cloned().unwrap_or_default()),
        ("image-uris", image_uris.join("\n")),
        ("digest", digest.to_owned()),
        ("image-ref", format!("{repository_uri}@{digest}")),
        ("aws-account-id", account.to_owned()),
        ("repository-created", created.to_string()),
        (
            "authenticated-arn",
            authenticated_arn.unwrap_or_default().to_owned(),
        ),
    ]
}

fn summary(
    account: &str,
    repository: &Repository,
    pushed: &[PushedTag],
    image_uris: &[String],
) -> String {
    let mut summary = format!(
        "### Pushed to Amazon ECR\n\nRepository `{}`{} in account {}\n\n| Tag | Image URI | Digest |\n| --- | --- | --- |\n",
        github::table_cell(&repository.name),
        if repository.created {
            " (created by this run)"
        } else {
            ""
        },
        account,
    );
    for (p, uri) in pushed.iter().zip(image_uris) {
        let _ = writeln!(
            summary,
            "| `{}` | `{}` | `{}` |",
            github::table_cell(p.tag.as_str()),
            github::table_cell(uri),
            github::table_cell(&p.digest)
        );
    }
    summary.push('\n');
    summary
}

/// The names declared under a top-level `section:` of action.yml (for tests that keep it honest).
#[cfg(test)]
pub fn declared_in_action_yml(section: &str) -> Vec<String> {
    let action = include_str!("../action.yml");
    let mut names = Vec::new();
    let mut inside = false;
    for line in action.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            inside = line == format!("{section}:");
        } else if inside
            && let Some(name) = line.strip_prefix("  ").and_then(|l| l.strip_suffix(':'))
            && !name.starts_with(' ')
        {
            names.push(name.to_owned());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_yml_declares_exactly_the_outputs_written() {
        let written: Vec<String> = outputs("h", "h/r", &[], "d", "1", true, None)
            .into_iter()
            .map(|(n, _)| n.to_owned())
            .collect();
        assert_eq!(written, declared_in_action_yml("outputs"));
    }
}

//! The result of a run, as step outputs and as a row per tag in the job summary.

use std::fmt::Write as _;

use anyhow::Result;

use crate::aws::registry::Repository;
use crate::docker::PushedTag;
use crate::github;

pub fn write(
    registry_host: &str,
    repository: &Repository,
    pushed: &[PushedTag],
    authenticated_arn: Option<&str>,
) -> Result<()> {
    let repository_uri = format!("{registry_host}/{}", repository.name);
    let image_uris: Vec<String> = pushed
        .iter()
        .map(|p| format!("{repository_uri}:{}", p.tag))
        .collect();
    let digest = pushed.first().map(|p| p.digest.clone()).unwrap_or_default();
    github::set_outputs(&[
        ("registry", registry_host.to_owned()),
        ("repository-uri", repository_uri.clone()),
        ("image-uri", image_uris.first().cloned().unwrap_or_default()),
        ("image-uris", image_uris.join("\n")),
        ("digest", digest.clone()),
        ("image-ref", format!("{repository_uri}@{digest}")),
        ("aws-account-id", repository.registry_id.clone()),
        ("repository-created", repository.created.to_string()),
        (
            "authenticated-arn",
            authenticated_arn.unwrap_or_default().to_owned(),
        ),
    ])?;

    let mut summary = format!(
        "### Pushed to Amazon ECR\n\nRepository `{}`{} in account {}\n\n| Tag | Image URI | Digest |\n| --- | --- | --- |\n",
        github::table_cell(&repository.name),
        if repository.created {
            " (created by this run)"
        } else {
            ""
        },
        repository.registry_id,
    );
    for (p, uri) in pushed.iter().zip(&image_uris) {
        let _ = writeln!(
            summary,
            "| `{}` | `{}` | `{}` |",
            github::table_cell(p.tag.as_str()),
            github::table_cell(uri),
            github::table_cell(&p.digest)
        );
    }
    summary.push('\n');
    github::append_summary(&summary)
}

//! Tags that already exist in the repository, checked before pushing (`if-tag-exists`), so that an
//! existing tag is skipped, refused, or — in an immutable repository — explained instead of the
//! registry's bare `tag invalid`.

use anyhow::{Result, bail};
use aws_sdk_ecr::operation::describe_images::DescribeImagesError;
use aws_sdk_ecr::types::{ImageIdentifier, ImageTagMutability, Repository as EcrRepository};

use crate::github;
use crate::inputs::{IfTagExists, Settings, Tag};

/// Which tags to push, and which were left as they are (with the digest they hold).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    pub push: Vec<Tag>,
    pub skipped: Vec<(Tag, String)>,
}

/// The repository's tag rule: its mode and exclusion filters, from the settings being applied or
/// from what ECR said of it.
struct Mutability {
    immutable: bool,
    exclusions: Vec<String>,
}

impl Mutability {
    fn of(described: Option<&EcrRepository>, settings: &Settings) -> Self {
        if let Some(wanted) = &settings.tag_mutability {
            return Mutability {
                immutable: wanted.mode.is_immutable(),
                exclusions: wanted.exclusions.clone(),
            };
        }
        let mode = described.and_then(EcrRepository::image_tag_mutability);
        Mutability {
            immutable: matches!(
                mode,
                Some(ImageTagMutability::Immutable | ImageTagMutability::ImmutableWithExclusion)
            ),
            exclusions: described
                .map(|d| {
                    d.image_tag_mutability_exclusion_filters()
                        .iter()
                        .map(|f| f.filter().to_owned())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    fn protects(&self, tag: &str) -> bool {
        self.immutable && !self.exclusions.iter().any(|f| wildcard_match(f, tag))
    }
}

pub struct Check<'a> {
    pub repository: &'a str,
    pub registry_id: Option<&'a str>,
    pub described: Option<&'a EcrRepository>,
    pub settings: &'a Settings,
    pub rule: IfTagExists,
}

pub async fn plan(ecr: &aws_sdk_ecr::Client, check: &Check<'_>, tags: &[Tag]) -> Result<Plan> {
    let mutability = Mutability::of(check.described, check.settings);
    let needed = check.rule != IfTagExists::Overwrite || mutability.immutable;
    if !needed {
        return Ok(Plan {
            push: tags.to_vec(),
            skipped: Vec::new(),
        });
    }
    let mut plan = Plan::default();
    for tag in tags {
        let existing = match existing_digest(ecr, check, tag).await {
            Ok(existing) => existing,
            Err(doctor) if check.rule == IfTagExists::Overwrite => {
                github::warning(&format!(
                    "Cannot check whether tag {tag} exists in the immutable repository {}: {}; pushing anyway.",
                    check.repository,
                    doctor.lines().next().unwrap_or_default()
                ));
                None
            }
            Err(doctor) => bail!("{doctor}"),
        };
        match (existing, check.rule) {
            (Some(digest), IfTagExists::Skip) => {
                github::info(&format!(
                    "Tag {tag} exists already ({digest}): skipped, as `if-tag-exists: skip` asks"
                ));
                plan.skipped.push((tag.clone(), digest));
            }
            (Some(digest), IfTagExists::Fail) => bail!(
                "Tag `{tag}` already exists in repository {} (digest {digest}), and `if-tag-exists` is `fail`.\n\
                 Push under a new tag, or set `if-tag-exists: skip` or `overwrite`.",
                check.repository
            ),
            (Some(digest), IfTagExists::Overwrite) if mutability.protects(tag.as_str()) => bail!(
                "Tag `{tag}` already exists in repository {} (digest {digest}), and the repository is immutable: ECR \
                 will not overwrite it.\nPush under a new tag, set `if-tag-exists: skip`, or exclude such tags from \
                 immutability (`image-tag-mutability: IMMUTABLE_WITH_EXCLUSION`).",
                check.repository
            ),
            (None, _) | (Some(_), IfTagExists::Overwrite) => plan.push.push(tag.clone()),
        }
    }
    Ok(plan)
}

/// The digest `tag` holds, `None` when it does not exist; `Err` is the user-facing cause.
async fn existing_digest(
    ecr: &aws_sdk_ecr::Client,
    check: &Check<'_>,
    tag: &Tag,
) -> Result<Option<String>, String> {
    let result = ecr
        .describe_images()
        .repository_name(check.repository)
        .set_registry_id(check.registry_id.map(str::to_owned))
        .image_ids(ImageIdentifier::builder().image_tag(tag.as_str()).build())
        .send()
        .await;
    match result {
        Ok(out) => Ok(out
            .image_details()
            .first()
            .and_then(|d| d.image_digest().map(str::to_owned))),
        Err(err)
            if err
                .as_service_error()
                .is_some_and(DescribeImagesError::is_image_not_found_exception) =>
        {
            Ok(None)
        }
        Err(err) => {
            let arn = check
                .described
                .and_then(EcrRepository::repository_arn)
                .unwrap_or("*");
            Err(super::call_failed(&err, "ecr:DescribeImages", arn).to_string())
        }
    }
}

/// ECR's tag filters: `*` matches any run of characters.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first)
        || !text[first.len()..].ends_with(last)
        || text.len() < first.len() + last.len()
    {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::wildcard_match;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("latest", "latest"));
        assert!(!wildcard_match("latest", "latest2"));
        assert!(wildcard_match("dev-*", "dev-123"));
        assert!(wildcard_match("*-rc*", "1.0-rc2"));
        assert!(!wildcard_match("a*b*c", "acb"));
        assert!(wildcard_match("*", ""));
        assert!(!wildcard_match("ab*ba", "aba"));
    }
}

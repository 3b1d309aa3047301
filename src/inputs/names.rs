//! The names the action reads and their grammars: the local image (Docker's reference grammar or an
//! image ID), the ECR repository, the tags to push, the region and the registry's account.

use std::fmt;
use std::sync::LazyLock;

use regex_lite::Regex;

use super::advice;
use super::problem::Checked;

/// An ECR repository name (ECR's own rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryName(String);

/// An image tag (Docker's and ECR's rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag(pub(super) String);

impl RepositoryName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Tag {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RepositoryName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

static REPOSITORY_RULE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
        .expect("valid regex")
});
static TAG_RULE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$").expect("valid regex"));
/// Docker's reference grammar (distribution/reference): `[domain[:port]/]path[:tag][@digest]`, with
/// lowercase path components joined by `.`, `_`, `__` or dashes.
static LOCAL_IMAGE_RULE: LazyLock<Regex> = LazyLock::new(|| {
    let component = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    let domain = format!(r"(?:{component}(?:\.{component})*|\[[0-9a-fA-F:.]+\])(?::[0-9]{{1,5}})?");
    let path = r"[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*";
    Regex::new(&format!(
        r"^(?:{domain}/)?{path}(?:/{path})*(?::[\w][\w.-]{{0,127}})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{{32,128}})?$"
    ))
    .expect("valid regex")
});
/// A local image's name (without tag or digest) is at most 255 characters (Docker's own limit), and the
/// whole reference at most this: a name, a 128-character tag and a SHA-512 digest fit.
pub const LOCAL_IMAGE_MAX: usize = 600;
/// An AWS region's name, as it stands alone and inside hosts and ARNs: two letters (`eu-west-1`), or
/// the European Sovereign Cloud's four (`eusc-de-east-1`, the SDK's partition model).
pub(super) const REGION: &str = r"(?:[a-z]{2}|eusc)(?:-[a-z]+)+-[0-9]{1,2}";
pub(super) static REGION_RULE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("^{REGION}$")).expect("valid regex"));

/// The items of a list input, separated by commas, whitespace or newlines.
pub(super) fn items(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|i| !i.is_empty())
}

/// `sha256:` and 64 lower-case hex digits (the OCI spec's form): an image ID, or a manifest's or blob's
/// digest — the one digest grammar for inputs, for what a registry sends, and for the outputs.
pub fn is_sha256_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// A reference in Docker's grammar (it goes into the Engine API's URL path, so nothing else may pass),
/// or an image ID (`sha256:` and 64 hex digits; a short ID is a valid reference already).
pub fn local_image_rule(image: Option<&str>) -> Checked<()> {
    let Some(image) = image else {
        return Err(advice::local_image_required());
    };
    let shown: String = image.chars().take(80).collect();
    let shown = if shown.len() < image.len() {
        format!("{shown}…")
    } else {
        shown
    };
    if image.len() > LOCAL_IMAGE_MAX {
        return Err(advice::local_image_too_long(
            &shown,
            image.len(),
            LOCAL_IMAGE_MAX,
        ));
    }
    let is_id = is_sha256_digest(image);
    let name = image.split('@').next().unwrap_or(image);
    let name = match name.rsplit_once(':') {
        Some((before, tag)) if !tag.contains('/') => before,
        _ => name,
    };
    if is_id || (LOCAL_IMAGE_RULE.is_match(image) && name.len() <= 255) {
        return Ok(());
    }
    if image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(advice::odd_characters_in_image(&shown, image));
    }
    if name.len() > 255 {
        return Err(advice::image_name_too_long(&shown));
    }
    Err(advice::not_an_image_reference(&shown))
}

pub fn repository_rule(name: Option<&str>) -> Checked<RepositoryName> {
    match name {
        None => Err(advice::repository_required()),
        Some(name) if (2..=256).contains(&name.len()) && REPOSITORY_RULE.is_match(name) => {
            Ok(RepositoryName(name.to_owned()))
        }
        Some(name) => Err(advice::bad_repository(name)),
    }
}

/// Tags separated by commas, whitespace or newlines; by default the local image's own tag.
/// `assemble`: tags or `sha256:` digests of images in the destination repository, each once; `None`
/// when empty (a push of `local-image`).
pub fn assemble_rule(value: Option<&str>) -> Checked<Option<Vec<String>>> {
    let Some(value) = value else {
        return Ok(None);
    };
    let mut references: Vec<String> = Vec::new();
    for item in items(value) {
        if !is_sha256_digest(item) && !TAG_RULE.is_match(item) {
            return Err(advice::bad_assemble_reference(item));
        }
        if references.iter().any(|r| r == item) {
            return Err(advice::assemble_reference_twice(item));
        }
        references.push(item.to_owned());
    }
    Ok(Some(references))
}

pub fn tags_rule(tags: Option<&str>, local_image: Option<&str>) -> Checked<Vec<Tag>> {
    let requested: Vec<&str> = items(tags.unwrap_or_default()).collect();
    let (input, names) = if requested.is_empty() {
        (
            "local-image",
            vec![local_image.and_then(tag_of_reference).unwrap_or("latest")],
        )
    } else {
        ("tags", requested)
    };
    let mut valid: Vec<Tag> = Vec::new();
    for name in names {
        if !TAG_RULE.is_match(name) {
            return Err(advice::bad_tag(input, name));
        }
        if !valid.iter().any(|t| t.0 == name) {
            valid.push(Tag(name.to_owned()));
        }
    }
    Ok(valid)
}

/// The tag of a Docker reference (`app:1.2` → `1.2`, `host:5000/app` → none, `app@sha256:…` → none).
fn tag_of_reference(reference: &str) -> Option<&str> {
    let name = reference.split('@').next().unwrap_or(reference);
    let last = name.rsplit('/').next().unwrap_or(name);
    last.split_once(':')
        .map(|(_, tag)| tag)
        .filter(|t| !t.is_empty())
}

pub fn region_rule(region: Option<&str>) -> Checked<String> {
    match region {
        None => Err(advice::region_required()),
        Some(region) if REGION_RULE.is_match(region) => Ok(region.to_owned()),
        Some(region) => Err(advice::bad_region(region)),
    }
}

pub fn registry_id_rule(id: Option<&str>) -> Checked<Option<String>> {
    match id {
        Some(id) if !(id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())) => {
            Err(advice::bad_registry_id(id))
        }
        id => Ok(id.map(str::to_owned)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_images_follow_dockers_reference_grammar() {
        let hex = "0123456789abcdef".repeat(4);
        for good in [
            "app".to_owned(),
            "app:1.0".to_owned(),
            "team/app_x__y.z-w:v1".to_owned(),
            "localhost:5000/app:v2".to_owned(),
            "ghcr.io/org/app@sha256:".to_owned() + &hex,
            "0123456789ab".to_owned(),
            "sha256:".to_owned() + &hex,
            "a".repeat(255),
        ] {
            assert_eq!(local_image_rule(Some(&good)), Ok(()), "{good}");
        }
        for (bad, code) in [
            ("app/../etc".to_owned(), "E-INPUT-LOCAL-IMAGE"),
            ("../app".to_owned(), "E-INPUT-LOCAL-IMAGE"),
            ("app?x".to_owned(), "E-INPUT-LOCAL-IMAGE"),
            ("App".to_owned(), "E-INPUT-LOCAL-IMAGE"),
            ("app:".to_owned(), "E-INPUT-LOCAL-IMAGE"),
            ("app\u{0}".to_owned(), "E-INPUT-LOCAL-IMAGE-CHARACTERS"),
            ("app x".to_owned(), "E-INPUT-LOCAL-IMAGE-CHARACTERS"),
            ("app#x".to_owned(), "E-INPUT-LOCAL-IMAGE"),
            ("a".repeat(256), "E-INPUT-LOCAL-IMAGE-NAME-TOO-LONG"),
            (format!("app:{}", "t".repeat(129)), "E-INPUT-LOCAL-IMAGE"),
            ("x".repeat(5000), "E-INPUT-LOCAL-IMAGE-TOO-LONG"),
        ] {
            let refused = local_image_rule(Some(&bad)).expect_err(&bad);
            assert_eq!(
                (refused.input, refused.code),
                ("local-image", code),
                "{bad}"
            );
        }
    }
}

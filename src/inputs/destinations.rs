//! The `destinations` input: the private registries one run pushes to, each a region (the caller's
//! account, or `registry-id`'s) or a registry host (`<account>.dkr.ecr.<region>.amazonaws.com`).
//! Empty means the one registry that `aws-region` and `registry-id` name, as before.

use std::fmt;
use std::sync::LazyLock;

use regex_lite::Regex;

use super::advice;
use super::names::{REGION, REGION_RULE, items};
use super::problem::Checked;
use crate::partition::HostForm;

/// One registry to push to: the region whose ECR API and token serve it, and the account that owns it
/// (`None`: the caller's own, known once the credentials are).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub region: String,
    pub registry_id: Option<String>,
    /// The host form a destination given as a host names (dual-stack, FIPS); `None` for a region,
    /// which takes the `dualstack` and `fips` inputs'.
    pub form: Option<HostForm>,
}

impl Target {
    /// Both name one registry, whatever host form each names it by.
    pub fn same_registry(&self, other: &Target) -> bool {
        self.region == other.region && self.registry_id == other.registry_id
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.registry_id {
            Some(account) => write!(f, "account {account} in {}", self.region),
            None => write!(f, "{}", self.region),
        }
    }
}

/// `<12 digits>.dkr.ecr.<region>.<the partition's DNS suffix>`: `amazonaws.com`, `amazonaws.com.cn`
/// in China, and the isolated and sovereign partitions' own; FIPS `….dkr.ecr-fips.…`; dual-stack
/// `<12 digits>.dkr-ecr[-fips].<region>.on.aws`. Whether AWS documents the form in that region is
/// [`crate::partition::registry_host`]'s to say.
static ECR_HOST: LazyLock<Regex> = LazyLock::new(|| {
    let suffixes = crate::partition::dns_suffixes_pattern();
    Regex::new(&format!(
        r"^([0-9]{{12}})\.(dkr\.ecr|dkr\.ecr-fips|dkr-ecr|dkr-ecr-fips)\.({REGION})\.(?:{suffixes}|on\.aws)$"
    ))
    .expect("valid regex")
});

/// The destinations, in the order given; `None` when the input is empty (the single registry of
/// `aws-region` and `registry-id`). Every item is checked, and the first bad one named.
pub fn destinations_rule(
    value: Option<&str>,
    registry_id: Option<&str>,
    public: bool,
) -> Checked<Option<Vec<Target>>> {
    let Some(value) = value else {
        return Ok(None);
    };
    if public {
        return Err(advice::destinations_with_public());
    }
    let mut targets: Vec<Target> = Vec::new();
    for item in items(value) {
        let target = target(item, registry_id)?;
        if targets.iter().any(|t| t.same_registry(&target)) {
            return Err(advice::duplicate_destination(item, &target));
        }
        targets.push(target);
    }
    Ok(Some(targets))
}

/// The registry an ECR host names (`<account>.dkr.ecr.<region>.amazonaws.com`, or its dual-stack or
/// FIPS form), `None` for any other host. `Err` is a host in ECR's shape that AWS documents no such
/// host for (`….dkr.ecr-fips.eu-west-1.amazonaws.com`, `….dkr-ecr.cn-north-1.on.aws`), with its form.
pub fn ecr_host(host: &str) -> Option<Result<Target, HostForm>> {
    let parts = ECR_HOST.captures(host)?;
    let (account, kind, region) = (&parts[1], &parts[2], &parts[3]);
    let form = HostForm {
        dual_stack: kind.starts_with("dkr-"),
        fips: kind.ends_with("-fips"),
    };
    // Only the host AWS documents for that account, region and form: the right suffix too.
    if crate::partition::registry_host(account, region, form).as_deref() != Some(host) {
        return Some(Err(form));
    }
    Some(Ok(Target {
        region: region.to_owned(),
        registry_id: Some(account.to_owned()),
        form: Some(form).filter(|f| *f != HostForm::default()),
    }))
}

/// Tags given as full references (`<registry>/<repository>:<tag>`, as docker/metadata-action writes
/// them): each must name `repository` in one of `targets`, and gives its tag part. Returns the tags as
/// plain tags (one per line, for the tag rule), and the hosts whose account is known only once the
/// credentials are (checked then, before any side effect). Every reference that names another
/// registry or repository is listed in one refusal.
pub fn tag_references_rule(
    tags: &str,
    repository: &str,
    targets: &[Target],
) -> Checked<(String, Vec<String>)> {
    let (mut plain, mut unsure, mut foreign) = (Vec::new(), Vec::new(), Vec::new());
    for item in items(tags) {
        let Some((name, tag)) = item
            .rsplit_once(':')
            .filter(|(n, t)| n.contains('/') && !t.contains('/'))
        else {
            if item.contains('/') {
                foreign.push(item.to_owned());
            } else {
                plain.push(item.to_owned());
            }
            continue;
        };
        let (host, path) = name.split_once('/').unwrap_or((name, ""));
        let host = host.to_ascii_lowercase();
        let named = ecr_host(&host)
            .and_then(Result::ok)
            .filter(|_| path == repository);
        let ours = named.as_ref().and_then(|named| {
            targets.iter().find(|t| {
                t.region == named.region
                    && t.registry_id
                        .as_ref()
                        .is_none_or(|id| Some(id) == named.registry_id.as_ref())
            })
        });
        match ours {
            Some(target) => {
                if target.registry_id.is_none() {
                    unsure.push(host);
                }
                plain.push(tag.to_owned());
            }
            None => foreign.push(item.to_owned()),
        }
    }
    if !foreign.is_empty() {
        return Err(advice::foreign_tag_references(&foreign, repository));
    }
    unsure.dedup();
    Ok((plain.join("\n"), unsure))
}

fn target(item: &str, registry_id: Option<&str>) -> Checked<Target> {
    let lower = item.to_ascii_lowercase();
    let lower = lower
        .trim_start_matches("https://")
        .trim_end_matches('/')
        .to_owned();
    if REGION_RULE.is_match(&lower) {
        return Ok(Target {
            region: lower,
            registry_id: registry_id.map(str::to_owned),
            form: None,
        });
    }
    match ecr_host(&lower) {
        Some(Ok(target)) => return Ok(target),
        // An IPv4 host in the wrong domain is no registry's host, as any other.
        Some(Err(form)) if form != HostForm::default() => {
            return Err(advice::undocumented_registry_host(
                item,
                form.name(),
                super::host_form::FORMS,
            ));
        }
        _ => {}
    }
    if lower == "public.ecr.aws" || lower.starts_with("public.ecr.aws/") {
        return Err(advice::public_destination(item));
    }
    if lower.contains('.') || lower.contains('/') || lower.contains(':') {
        return Err(advice::not_an_ecr_host(item));
    }
    Err(advice::not_a_destination(item))
}

#[cfg(test)]
mod tests {
    use super::super::problem::Problem;
    use super::*;

    fn parse(value: &str, registry_id: Option<&str>) -> Result<Vec<Target>, Problem> {
        destinations_rule(Some(value), registry_id, false).map(Option::unwrap_or_default)
    }

    fn target(region: &str, account: Option<&str>) -> Target {
        Target {
            region: region.into(),
            registry_id: account.map(str::to_owned),
            form: None,
        }
    }

    #[test]
    fn regions_and_hosts_split_on_any_separator() {
        let parsed = parse(
            "eu-west-1, us-east-1\n210987654321.dkr.ecr.us-east-1.amazonaws.com\n\n 111111111111.dkr.ecr.cn-north-1.amazonaws.com.cn",
            None,
        )
        .expect("valid");
        assert_eq!(
            parsed,
            [
                target("eu-west-1", None),
                target("us-east-1", None),
                target("us-east-1", Some("210987654321")),
                target("cn-north-1", Some("111111111111")),
            ]
        );
        let with_id = parse("eu-west-1", Some("123456789012")).expect("valid");
        assert_eq!(with_id, [target("eu-west-1", Some("123456789012"))]);
        assert_eq!(
            destinations_rule(None, None, false).expect("empty is valid"),
            None
        );
    }

    #[test]
    fn full_references_give_their_tag_when_they_name_this_repository() {
        let targets = [
            target("us-east-1", None),
            target("eu-west-1", Some("210987654321")),
        ];
        let tags = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/api:1.2, latest\n\
                    210987654321.dkr.ecr.eu-west-1.amazonaws.com/team/api:sha-1";
        let (plain, unsure) = tag_references_rule(tags, "team/api", &targets).expect("ours");
        assert_eq!(plain, "1.2\nlatest\nsha-1");
        assert_eq!(unsure, ["123456789012.dkr.ecr.us-east-1.amazonaws.com"]);
        let refused = tag_references_rule(
            "ghcr.io/org/api:1.2 123456789012.dkr.ecr.us-east-1.amazonaws.com/team/other:1 \
             111111111111.dkr.ecr.eu-west-1.amazonaws.com/team/api:2 v3",
            "team/api",
            &targets,
        )
        .expect_err("foreign");
        assert_eq!(
            (refused.input, refused.code),
            ("tags", "E-INPUT-TAG-REFERENCE")
        );
        for piece in [
            "`ghcr.io/org/api:1.2`",
            "`123456789012.dkr.ecr.us-east-1.amazonaws.com/team/other:1`",
            "`111111111111.dkr.ecr.eu-west-1.amazonaws.com/team/api:2`",
        ] {
            assert!(refused.text.contains(piece), "{piece}: {refused:?}");
        }
    }

    /// The dual-stack and FIPS hosts (ECR User Guide, "Making requests over IPv6"; General
    /// Reference, "Amazon ECR endpoints") name the same registry as the IPv4 one, with their form.
    #[test]
    fn dual_stack_and_fips_hosts_name_their_registry_and_form() {
        let form = |dual_stack, fips| Some(HostForm { dual_stack, fips });
        for (host, region, want) in [
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com",
                "us-east-1",
                None,
            ),
            (
                "123456789012.dkr-ecr.eu-west-1.on.aws",
                "eu-west-1",
                form(true, false),
            ),
            (
                "123456789012.dkr.ecr-fips.us-west-2.amazonaws.com",
                "us-west-2",
                form(false, true),
            ),
            (
                "123456789012.dkr-ecr-fips.us-gov-east-1.on.aws",
                "us-gov-east-1",
                form(true, true),
            ),
        ] {
            let parsed = parse(host, None).expect(host);
            assert_eq!(parsed.len(), 1);
            assert_eq!(
                (parsed[0].region.as_str(), parsed[0].registry_id.as_deref()),
                (region, Some("123456789012"))
            );
            assert_eq!(parsed[0].form, want, "{host}");
        }
        let twice = parse(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com 123456789012.dkr-ecr.us-east-1.on.aws",
            None,
        )
        .expect_err("one registry");
        assert_eq!(twice.code, "E-INPUT-DESTINATION-TWICE");
        for undocumented in [
            "123456789012.dkr.ecr-fips.eu-west-1.amazonaws.com",
            "123456789012.dkr-ecr.cn-north-1.on.aws",
            "123456789012.dkr-ecr-fips.ca-central-1.on.aws",
            "123456789012.dkr-ecr.us-east-1.amazonaws.com",
        ] {
            let refused = parse(undocumented, None).expect_err(undocumented);
            assert_eq!(
                (refused.input, refused.code),
                ("destinations", "E-INPUT-DESTINATION-FORM"),
                "{undocumented}"
            );
        }
        for wrong_domain in [
            "123456789012.dkr.ecr.us-east-1.on.aws",
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com",
        ] {
            let refused = parse(wrong_domain, None).expect_err(wrong_domain);
            assert_eq!(refused.code, "E-INPUT-DESTINATION-HOST", "{wrong_domain}");
        }
        let targets = [target("us-east-1", None)];
        let tags = "123456789012.dkr-ecr.us-east-1.on.aws/team/api:1, \
                    123456789012.dkr.ecr-fips.us-east-1.amazonaws.com/team/api:2";
        let (plain, unsure) = tag_references_rule(tags, "team/api", &targets).expect("ours");
        assert_eq!(plain, "1\n2");
        assert_eq!(
            unsure,
            [
                "123456789012.dkr-ecr.us-east-1.on.aws",
                "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com"
            ]
        );
    }

    #[test]
    fn bad_items_are_named() {
        for (value, code, named) in [
            (
                "eu-west-1 eu-west-1",
                "E-INPUT-DESTINATION-TWICE",
                "eu-west-1",
            ),
            (
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com eu-west-1",
                "E-INPUT-DESTINATION-TWICE",
                "eu-west-1",
            ),
            (
                "public.ecr.aws",
                "E-INPUT-DESTINATION-PUBLIC",
                "public.ecr.aws",
            ),
            ("ghcr.io", "E-INPUT-DESTINATION-HOST", "ghcr.io"),
            (
                "12345.dkr.ecr.eu-west-1.amazonaws.com",
                "E-INPUT-DESTINATION-HOST",
                "12345.dkr.ecr.eu-west-1.amazonaws.com",
            ),
            ("Frankfurt", "E-INPUT-DESTINATION", "Frankfurt"),
        ] {
            let registry_id = value
                .contains("eu-west-1 eu-west-1")
                .then_some("123456789012");
            let registry_id = if value.starts_with("123456789012") {
                Some("123456789012")
            } else {
                registry_id
            };
            let error = parse(value, registry_id).expect_err(value);
            assert_eq!((error.input, error.code), ("destinations", code), "{value}");
            assert!(error.text.starts_with(&format!("`{named}`")), "{error:?}");
        }
        let error = destinations_rule(Some("eu-west-1"), None, true).expect_err("public");
        assert_eq!(
            (error.input, error.code),
            ("destinations", "E-INPUT-DESTINATIONS-WITH-PUBLIC")
        );
    }
}

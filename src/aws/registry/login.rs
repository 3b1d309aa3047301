//! The registry login, for every destination at once: each destination's registry client and its
//! token (masked, in memory), and the checks that need every login together — two destinations that
//! are one registry, tags that name a registry no destination is. All of this comes before any
//! repository is touched, so a duplicate or a missing permission never leaves a new, empty repository.

use anyhow::Result;

use super::advice;
use super::client::Registry;
use crate::aws::token::RegistryLogin;
use crate::inputs::Config;
use crate::{github, step};

/// One destination logged in: its inputs (the run's, narrowed to it), its registry and the login.
pub struct LoggedIn<'a> {
    pub config: &'a Config,
    pub registry: Registry<'a>,
    pub login: RegistryLogin,
}

/// Every destination of `targets` (the run's inputs, one per destination) logged in, in the order
/// listed; each `Err` says why that destination cannot be pushed to. The run stops (`Err`) when two
/// destinations are one registry, or a tag names a registry that is none of them. Logins are fetched
/// at once (each waits on the network), their logs held and printed in the order listed.
pub async fn login<'a>(
    sdk: &aws_config::SdkConfig,
    config: &Config,
    targets: &'a [Config],
) -> Result<Vec<Result<LoggedIn<'a>>>> {
    let logins: Vec<Result<LoggedIn>> = github::at_once(targets.iter().map(|target| async move {
        let _step = step::enter(&step_title("Registry login", target, targets.len()));
        let registry = Registry::new(&for_target(sdk, target), target);
        let login = registry.login(target).await?;
        Ok(LoggedIn {
            config: target,
            registry,
            login,
        })
    }))
    .await;
    let hosts: Vec<&str> = logins
        .iter()
        .flatten()
        .map(|l| l.login.host.as_str())
        .collect();
    // One registry by two of its hosts (a region and the dual-stack host of the caller's registry
    // there) is one registry too.
    if let Some(twice) = hosts
        .iter()
        .enumerate()
        .find(|(i, h)| hosts[..*i].iter().any(|before| same_registry(before, h)))
    {
        return Err(advice::same_registry_twice(twice.1));
    }
    let elsewhere: Vec<&str> = config
        .tag_hosts
        .iter()
        .map(String::as_str)
        .filter(|h| !hosts.iter().any(|host| same_registry(h, host)))
        .collect();
    if !elsewhere.is_empty() {
        return Err(advice::tags_name_another_registry(&elsewhere, &hosts));
    }
    Ok(logins)
}

/// A step's title in the log: with several destinations, it names the one it is about.
pub fn step_title(what: &str, target: &Config, destinations: usize) -> String {
    match target.destinations.first() {
        Some(destination) if destinations > 1 => format!("{what} — {destination}"),
        _ => what.to_owned(),
    }
}

/// Both hosts name one registry: the same host, or the IPv4, dual-stack or FIPS hosts of one account's
/// registry in one region (a tag may name any of them).
fn same_registry(a: &str, b: &str) -> bool {
    let registry = |host| crate::inputs::ecr_host(host).and_then(Result::ok);
    a == b
        || registry(a)
            .zip(registry(b))
            .is_some_and(|(a, b)| a.same_registry(&b))
}

/// The SDK configuration for one destination (its narrowed inputs): its region, and its API
/// endpoints' form (the credentials are shared).
fn for_target(sdk: &aws_config::SdkConfig, target: &Config) -> aws_config::SdkConfig {
    let api = target.api_form();
    sdk.to_builder()
        .region(aws_config::Region::new(target.region.clone()))
        .use_dual_stack(api.dual_stack)
        .use_fips(api.fips)
        .build()
}

#[cfg(test)]
mod tests {
    use super::{for_target, same_registry};
    use aws_sdk_ecr::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};

    fn target(extra: &[(&str, &str)]) -> crate::inputs::Config {
        let vars = [
            ("INPUT_LOCAL-IMAGE", "app:1"),
            ("INPUT_REPOSITORY", "team/api"),
            ("INPUT_AWS-REGION", "us-east-1"),
        ];
        let vars = vars
            .iter()
            .chain(extra)
            .map(|(k, v)| ((*k).into(), (*v).into()));
        let config = crate::inputs::from_vars(vars).expect("valid");
        config.targets().remove(0)
    }

    /// Each destination's ECR client is made in its form, unless a custom endpoint is set (the SDK
    /// refuses "Dualstack and custom endpoint are not supported"); and the SDK in use resolves ECR's
    /// dual-stack API to `ecr.<region>.api.aws` — the rules of 2024-12 to 2025-04 gave
    /// `api.ecr.<region>.api.aws`, which does not exist (aws-actions/amazon-ecr-login#808).
    #[tokio::test]
    async fn each_destination_calls_the_api_in_its_form() {
        let sdk = aws_config::SdkConfig::builder().build();
        let dual = for_target(&sdk, &target(&[("INPUT_DUALSTACK", "true")]));
        assert_eq!(
            (dual.use_dual_stack(), dual.use_fips()),
            (Some(true), Some(false))
        );
        let custom = [
            ("INPUT_DUALSTACK", "true"),
            ("AWS_ENDPOINT_URL_ECR", "http://127.0.0.1:5000"),
        ];
        let custom = for_target(&sdk, &target(&custom));
        assert_eq!(custom.use_dual_stack(), Some(false));
        let fips_host = [(
            "INPUT_DESTINATIONS",
            "123456789012.dkr.ecr-fips.us-east-2.amazonaws.com",
        )];
        let fips = for_target(&sdk, &target(&fips_host));
        assert_eq!(
            (fips.use_fips(), fips.region().map(AsRef::as_ref)),
            (Some(true), Some("us-east-2"))
        );
        for (dual_stack, fips, url) in [
            (true, false, "https://ecr.us-east-1.api.aws"),
            (false, true, "https://api.ecr-fips.us-east-1.amazonaws.com"),
            (true, true, "https://ecr-fips.us-east-1.api.aws"),
        ] {
            let params = Params::builder()
                .region("us-east-1")
                .use_dual_stack(dual_stack)
                .use_fips(fips)
                .build()
                .expect("params");
            let endpoint = DefaultResolver::new().resolve_endpoint(&params).await;
            assert_eq!(endpoint.expect("resolved").url(), url);
        }
    }

    /// A registry's IPv4, dual-stack and FIPS hosts are one registry; another account's or region's
    /// is not; hosts that are no ECR registry's are compared as they are.
    #[test]
    fn one_registry_by_any_of_its_hosts() {
        let ipv4 = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
        for other in [
            ipv4,
            "123456789012.dkr-ecr.us-east-1.on.aws",
            "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com",
            "123456789012.dkr-ecr-fips.us-east-1.on.aws",
        ] {
            assert!(same_registry(ipv4, other), "{other}");
        }
        for other in [
            "210987654321.dkr-ecr.us-east-1.on.aws",
            "123456789012.dkr-ecr.us-east-2.on.aws",
            "public.ecr.aws",
        ] {
            assert!(!same_registry(ipv4, other), "{other}");
        }
        assert!(same_registry("public.ecr.aws", "public.ecr.aws"));
    }
}

//! AWS's partitions — each one's ID (the second field of its ARNs), DNS suffix and region names — as
//! the AWS SDK's endpoint model lists them (`partitions.json`, embedded in aws-sdk-ecr 1.138's
//! `endpoint_lib.rs`: `regionRegex` and `dnsSuffix` of each). The one place that knows them: ARNs,
//! service host names and the inputs' ARN rules ask here, so an ISO or sovereign-cloud region gets
//! its own partition everywhere, never `aws` by default.

/// One partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// `aws`, `aws-cn`, …: the second field of every ARN in it.
    pub id: &'static str,
    /// Of its service endpoints: `ecr.<region>.<dns_suffix>`.
    pub dns_suffix: &'static str,
    /// Its regions' names start with this (the model's `regionRegex`); empty for `aws`, the rest.
    region_prefix: &'static str,
}

/// Every partition; `aws`, whose regions are the rest, last.
const PARTITIONS: [Partition; 8] = [
    Partition {
        id: "aws-us-gov",
        dns_suffix: "amazonaws.com",
        region_prefix: "us-gov-",
    },
    Partition {
        id: "aws-iso",
        dns_suffix: "c2s.ic.gov",
        region_prefix: "us-iso-",
    },
    Partition {
        id: "aws-iso-b",
        dns_suffix: "sc2s.sgov.gov",
        region_prefix: "us-isob-",
    },
    Partition {
        id: "aws-iso-e",
        dns_suffix: "cloud.adc-e.uk",
        region_prefix: "eu-isoe-",
    },
    Partition {
        id: "aws-iso-f",
        dns_suffix: "csp.hci.ic.gov",
        region_prefix: "us-isof-",
    },
    Partition {
        id: "aws-eusc",
        dns_suffix: "amazonaws.eu",
        region_prefix: "eusc-",
    },
    Partition {
        id: "aws-cn",
        dns_suffix: "amazonaws.com.cn",
        region_prefix: "cn-",
    },
    Partition {
        id: "aws",
        dns_suffix: "amazonaws.com",
        region_prefix: "",
    },
];

/// The partition of `region`.
pub fn of_region(region: &str) -> Partition {
    PARTITIONS
        .into_iter()
        .find(|p| region.starts_with(p.region_prefix))
        .unwrap_or(PARTITIONS[PARTITIONS.len() - 1])
}

/// A regular expression (no groups) matching any partition ID, for ARN rules.
pub fn ids_pattern() -> String {
    let ids: Vec<&str> = PARTITIONS.iter().map(|p| p.id).collect();
    format!("(?:{})", ids.join("|"))
}

/// A regular expression (no groups) matching any partition's DNS suffix, for host rules.
pub fn dns_suffixes_pattern() -> String {
    let mut suffixes: Vec<String> = PARTITIONS
        .iter()
        .map(|p| p.dns_suffix.replace('.', r"\."))
        .collect();
    suffixes.dedup();
    // The longest first, so that `amazonaws.com.cn` is not read as `amazonaws.com`.
    suffixes.sort_by_key(|s| std::cmp::Reverse(s.len()));
    format!("(?:{})", suffixes.join("|"))
}

impl Partition {
    /// The host of `service` in `region`: `ecr.cn-north-1.amazonaws.com.cn` (what `kms:ViaService`
    /// names).
    pub fn service_host(&self, service: &str, region: &str) -> String {
        format!("{service}.{region}.{}", self.dns_suffix)
    }

    /// An ARN in this partition: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, `region` empty for
    /// a global service's (IAM's) — whose ARNs still name the partition of the account's region.
    pub fn arn(&self, service: &str, region: &str, account: &str, resource: &str) -> String {
        format!("arn:{}:{service}:{region}:{account}:{resource}", self.id)
    }
}

/// The account an ARN names (its fifth field), or an account ID given as it is; `None` for an ARN
/// without one (`*`, an S3 bucket's).
pub fn account_of(arn: &str) -> Option<&str> {
    if arn.len() == 12 && arn.bytes().all(|b| b.is_ascii_digit()) {
        return Some(arn);
    }
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// The region an ARN names (its fourth field); `None` for a global resource's (`*`, IAM's).
pub fn region_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(3).filter(|r| !r.is_empty())
}

/// The ARN of a private ECR repository.
pub fn repository_arn(region: &str, account: &str, repository: &str) -> String {
    of_region(region).arn("ecr", region, account, &format!("repository/{repository}"))
}

/// The ARN of an ECR Public repository: ECR Public is a service of the `aws` partition alone (its API
/// is in us-east-1), and its ARNs name no region.
pub fn public_repository_arn(account: &str, repository: &str) -> String {
    of_region("us-east-1").arn(
        "ecr-public",
        "",
        account,
        &format!("repository/{repository}"),
    )
}

/// The ARN of the IAM OIDC identity provider for `issuer` in `account`: IAM's ARNs name no region,
/// but the partition of the account's `region`.
pub fn oidc_provider_arn(region: &str, account: &str, issuer: &str) -> String {
    of_region(region).arn("iam", "", account, &format!("oidc-provider/{issuer}"))
}

/// The ARN a policy's principal matches for `caller` (`aws:PrincipalArn`): a role session's
/// (`arn:P:sts::A:assumed-role/ROLE/SESSION`) is its role's (`arn:P:iam::A:role/ROLE`), in the same
/// partition; any other ARN is itself (IAM User Guide, "AWS global condition context keys").
pub fn principal_arn(caller: &str) -> String {
    let parts: Vec<&str> = caller.splitn(6, ':').collect();
    if let ["arn", partition, "sts", _, account, resource] = parts.as_slice()
        && let Some(session) = resource.strip_prefix("assumed-role/")
    {
        let role = session.split('/').next().unwrap_or(session);
        return format!("arn:{partition}:iam::{account}:role/{role}");
    }
    caller.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SDK's endpoint model: each partition's region regex and DNS suffix.
    #[test]
    fn every_partition_is_known_by_its_regions() {
        for (region, id, host) in [
            ("eu-west-1", "aws", "ecr.eu-west-1.amazonaws.com"),
            ("cn-north-1", "aws-cn", "ecr.cn-north-1.amazonaws.com.cn"),
            (
                "us-gov-west-1",
                "aws-us-gov",
                "ecr.us-gov-west-1.amazonaws.com",
            ),
            ("us-iso-east-1", "aws-iso", "ecr.us-iso-east-1.c2s.ic.gov"),
            (
                "us-isob-east-1",
                "aws-iso-b",
                "ecr.us-isob-east-1.sc2s.sgov.gov",
            ),
            (
                "eu-isoe-west-1",
                "aws-iso-e",
                "ecr.eu-isoe-west-1.cloud.adc-e.uk",
            ),
            (
                "us-isof-south-1",
                "aws-iso-f",
                "ecr.us-isof-south-1.csp.hci.ic.gov",
            ),
            (
                "eusc-de-east-1",
                "aws-eusc",
                "ecr.eusc-de-east-1.amazonaws.eu",
            ),
        ] {
            let partition = of_region(region);
            assert_eq!(partition.id, id, "{region}");
            assert_eq!(partition.service_host("ecr", region), host);
        }
        assert_eq!(
            repository_arn("us-iso-east-1", "123456789012", "team/api"),
            "arn:aws-iso:ecr:us-iso-east-1:123456789012:repository/team/api"
        );
        assert_eq!(
            repository_arn("eusc-de-east-1", "123456789012", "team/api"),
            "arn:aws-eusc:ecr:eusc-de-east-1:123456789012:repository/team/api"
        );
        assert_eq!(
            account_of("arn:aws:iam::123456789012:role/ci"),
            Some("123456789012")
        );
        assert_eq!(account_of("123456789012"), Some("123456789012"));
        assert_eq!(account_of("arn:aws:s3:::bucket"), None);
        assert_eq!(account_of("*"), None);
        assert_eq!(
            region_of("arn:aws-cn:ecr:cn-north-1:1:repository/a"),
            Some("cn-north-1")
        );
        assert_eq!(region_of("arn:aws-cn:iam::1:role/ci"), None);
        assert_eq!(region_of("*"), None);
        assert_eq!(
            public_repository_arn("123456789012", "team/api"),
            "arn:aws:ecr-public::123456789012:repository/team/api"
        );
        assert_eq!(
            oidc_provider_arn("us-gov-west-1", "1", "token.actions.githubusercontent.com"),
            "arn:aws-us-gov:iam::1:oidc-provider/token.actions.githubusercontent.com"
        );
        assert_eq!(
            principal_arn("arn:aws-iso:sts::1:assumed-role/ci/run-1"),
            "arn:aws-iso:iam::1:role/ci"
        );
        assert_eq!(
            principal_arn("arn:aws-eusc:iam::1:user/ci"),
            "arn:aws-eusc:iam::1:user/ci"
        );
        let ids = regex_lite::Regex::new(&format!("^{}$", ids_pattern())).expect("valid");
        assert!(ids.is_match("aws-iso-f") && !ids.is_match("aws-x"));
        let hosts =
            regex_lite::Regex::new(&format!("^x\\.{}$", dns_suffixes_pattern())).expect("valid");
        assert!(hosts.is_match("x.amazonaws.com.cn") && hosts.is_match("x.c2s.ic.gov"));
        assert!(!hosts.is_match("x.example.com"));
    }
}

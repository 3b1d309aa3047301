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

/// Which of a registry's hosts (and of the API's endpoints) is used: IPv4 or dual-stack (IPv4 and
/// IPv6), FIPS 140 validated or not. The default is the IPv4, non-FIPS one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct HostForm {
    pub dual_stack: bool,
    pub fips: bool,
}

impl HostForm {
    /// How the form is called in messages: `IPv4`, `dual-stack`, `FIPS`, `FIPS dual-stack`.
    pub fn name(self) -> &'static str {
        match (self.dual_stack, self.fips) {
            (false, false) => "IPv4",
            (true, false) => "dual-stack",
            (false, true) => "FIPS",
            (true, true) => "FIPS dual-stack",
        }
    }
}

/// The `aws` regions with FIPS registry hosts (General Reference, "Amazon ECR endpoints":
/// `dkr.ecr-fips.<region>.amazonaws.com` for these four only).
const FIPS_REGIONS: [&str; 4] = ["us-east-1", "us-east-2", "us-west-1", "us-west-2"];

/// The host of `account`'s registry in `region` in `form` ([`Partition::registry_host`]).
pub fn registry_host(account: &str, region: &str, form: HostForm) -> Option<String> {
    of_region(region).registry_host(account, region, form)
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

    /// The host of `account`'s private registry in `region`, in `form`; `None` where AWS documents no
    /// such host (then nothing may be pushed that way: the run refuses before any AWS call).
    ///
    /// - IPv4: `<account>.dkr.ecr.<region>.<dns suffix>` (ECR User Guide, "Private registry").
    /// - Dual-stack: `<account>.dkr-ecr.<region>.on.aws` (ECR User Guide, "Making requests over
    ///   IPv6"), in `aws` and `aws-us-gov`; AWS documents none for China (the credential helper's
    ///   `dkr.ecr.<region>.on.amazonwebservices.com.cn` is unverified) nor the ISO and EUSC
    ///   partitions.
    /// - FIPS: `<account>.dkr.ecr-fips.<region>.amazonaws.com`, FIPS dual-stack
    ///   `<account>.dkr-ecr-fips.<region>.on.aws` (General Reference, "Amazon ECR endpoints"), in the
    ///   US commercial FIPS regions and `GovCloud` only.
    pub fn registry_host(&self, account: &str, region: &str, form: HostForm) -> Option<String> {
        let us_fips_region = match self.id {
            "aws" => FIPS_REGIONS.contains(&region),
            "aws-us-gov" => true,
            _ => false,
        };
        let dual_stack_partition = matches!(self.id, "aws" | "aws-us-gov");
        match (form.dual_stack, form.fips) {
            (false, false) => Some(format!("{account}.dkr.ecr.{region}.{}", self.dns_suffix)),
            (true, false) if dual_stack_partition => {
                Some(format!("{account}.dkr-ecr.{region}.on.aws"))
            }
            (false, true) if us_fips_region => Some(format!(
                "{account}.dkr.ecr-fips.{region}.{}",
                self.dns_suffix
            )),
            (true, true) if us_fips_region => {
                Some(format!("{account}.dkr-ecr-fips.{region}.on.aws"))
            }
            _ => None,
        }
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

    const IPV4: HostForm = HostForm {
        dual_stack: false,
        fips: false,
    };
    const DUAL: HostForm = HostForm {
        dual_stack: true,
        fips: false,
    };
    const FIPS: HostForm = HostForm {
        dual_stack: false,
        fips: true,
    };
    const FIPS_DUAL: HostForm = HostForm {
        dual_stack: true,
        fips: true,
    };

    /// Each region's registry host: IPv4, dual-stack, FIPS, FIPS dual-stack.
    const HOSTS: [(&str, [Option<&str>; 4]); 11] = [
        (
            "us-east-1",
            [
                Some("123456789012.dkr.ecr.us-east-1.amazonaws.com"),
                Some("123456789012.dkr-ecr.us-east-1.on.aws"),
                Some("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com"),
                Some("123456789012.dkr-ecr-fips.us-east-1.on.aws"),
            ],
        ),
        (
            "us-west-2",
            [
                Some("123456789012.dkr.ecr.us-west-2.amazonaws.com"),
                Some("123456789012.dkr-ecr.us-west-2.on.aws"),
                Some("123456789012.dkr.ecr-fips.us-west-2.amazonaws.com"),
                Some("123456789012.dkr-ecr-fips.us-west-2.on.aws"),
            ],
        ),
        // FIPS only in the four US commercial regions.
        (
            "eu-west-1",
            [
                Some("123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
                Some("123456789012.dkr-ecr.eu-west-1.on.aws"),
                None,
                None,
            ],
        ),
        (
            "ca-central-1",
            [
                Some("123456789012.dkr.ecr.ca-central-1.amazonaws.com"),
                Some("123456789012.dkr-ecr.ca-central-1.on.aws"),
                None,
                None,
            ],
        ),
        (
            "us-gov-west-1",
            [
                Some("123456789012.dkr.ecr.us-gov-west-1.amazonaws.com"),
                Some("123456789012.dkr-ecr.us-gov-west-1.on.aws"),
                Some("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com"),
                Some("123456789012.dkr-ecr-fips.us-gov-west-1.on.aws"),
            ],
        ),
        (
            "us-gov-east-1",
            [
                Some("123456789012.dkr.ecr.us-gov-east-1.amazonaws.com"),
                Some("123456789012.dkr-ecr.us-gov-east-1.on.aws"),
                Some("123456789012.dkr.ecr-fips.us-gov-east-1.amazonaws.com"),
                Some("123456789012.dkr-ecr-fips.us-gov-east-1.on.aws"),
            ],
        ),
        // China: no documented dual-stack host (refused), no FIPS.
        (
            "cn-north-1",
            [
                Some("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"),
                None,
                None,
                None,
            ],
        ),
        (
            "us-iso-east-1",
            [
                Some("123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov"),
                None,
                None,
                None,
            ],
        ),
        (
            "us-isob-east-1",
            [
                Some("123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov"),
                None,
                None,
                None,
            ],
        ),
        (
            "eu-isoe-west-1",
            [
                Some("123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk"),
                None,
                None,
                None,
            ],
        ),
        (
            "eusc-de-east-1",
            [
                Some("123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu"),
                None,
                None,
                None,
            ],
        ),
    ];

    /// Every partition's registry hosts in each form, `None` where AWS documents none. Sources
    /// (see README, "Dual-stack and FIPS endpoints"): IPv4 — ECR User Guide "Private registry"
    /// (<https://docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html>); dual-stack —
    /// "Making requests over IPv6" (<https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-requests.html>);
    /// FIPS and FIPS dual-stack — General Reference "Amazon ECR endpoints and quotas"
    /// (<https://docs.aws.amazon.com/general/latest/gr/ecr.html>: `dkr.ecr-fips.<r>.amazonaws.com`,
    /// `dkr-ecr-fips.<r>.on.aws` for us-east-1/2 and us-west-1/2). `GovCloud`'s FIPS and dual-stack
    /// hosts rest on the ECR credential helper's tests (`dkr.ecr-fips.us-gov-west-1.amazonaws.com`,
    /// `dkr-ecr[-fips].us-gov-east-1.on.aws`); the other partitions' IPv4 hosts on its host regex.
    #[test]
    fn every_partitions_registry_hosts_in_each_form() {
        let a = "123456789012";
        let host = |region: &str, form| registry_host(a, region, form);
        for (region, expected) in HOSTS {
            for (form, want) in [IPV4, DUAL, FIPS, FIPS_DUAL].into_iter().zip(expected) {
                assert_eq!(
                    host(region, form).as_deref(),
                    want,
                    "{region} {}",
                    form.name()
                );
            }
        }
        assert_eq!(
            host("us-isof-south-1", IPV4).as_deref(),
            Some("123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov")
        );
        assert_eq!(host("us-isof-south-1", DUAL), None);
        assert_eq!(host("us-isof-south-1", FIPS), None);
    }
}

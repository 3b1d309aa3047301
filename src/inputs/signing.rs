//! `signing-profile` and `require-signature`: the AWS Signer signing profiles the pusher signs with
//! when ECR's managed signing covers the repository, for a pusher that may not read the registry's
//! signing configuration (and for `policy`), and whether a signature that does not come is an error.

use super::advice;
use super::problem::Checked;
use super::settings::boolean_rule;

/// What the inputs say about managed signing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Signing {
    /// `signing-profile`: signing-profile ARNs, in the order given, without duplicates.
    pub profiles: Vec<String>,
    /// `require-signature`; `None` (unset) requires a signature where a signing rule matches.
    pub require: Option<bool>,
}

/// Both inputs; each problem names its input.
pub fn rules(
    profiles: Option<&str>,
    require: Option<&str>,
) -> (Checked<Vec<String>>, Checked<Option<bool>>) {
    let require = require
        .map(|_| boolean_rule("require-signature", require, true))
        .transpose();
    (profiles_rule(profiles), require)
}

/// Signing-profile ARNs, separated by commas or new lines.
fn profiles_rule(value: Option<&str>) -> Checked<Vec<String>> {
    let mut profiles: Vec<String> = Vec::new();
    let listed = value.unwrap_or_default().split([',', '\n', '\r']);
    for arn in listed.map(str::trim).filter(|s| !s.is_empty()) {
        if !is_signing_profile_arn(arn) {
            return Err(advice::bad_signing_profile(arn));
        }
        if !profiles.iter().any(|p| p == arn) {
            profiles.push(arn.to_owned());
        }
    }
    Ok(profiles)
}

/// The grammar ECR's API states for `signingProfileArn` (API Reference, `ImageSigningStatus` and
/// `SigningRule`): `^arn:aws(-[a-z]+)*:signer:[a-z0-9-]+:[0-9]{12}:\/signing-profiles\/[a-zA-Z0-9_]{2,}$`,
/// at most 200 characters.
pub fn is_signing_profile_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:aws") else {
        return false;
    };
    let Some((partition_tail, rest)) = rest.split_once(":signer:") else {
        return false;
    };
    let partition_ok = partition_tail.is_empty()
        || partition_tail.strip_prefix('-').is_some_and(|t| {
            t.split('-')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        });
    let Some((region, rest)) = rest.split_once(':') else {
        return false;
    };
    let Some((account, name)) = rest.split_once(":/signing-profiles/") else {
        return false;
    };
    arn.len() <= 200
        && partition_ok
        && !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && name.len() >= 2
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pattern of `signingProfileArn` in the ECR API Reference (`ImageSigningStatus`,
    /// <https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageSigningStatus.html>), and the
    /// form the managed-signing guide shows: `arn:partition:signer:region:account-id:/signing-profiles/profile-name`
    /// (<https://docs.aws.amazon.com/AmazonECR/latest/userguide/managed-signing.html>).
    #[test]
    fn signing_profile_arns_follow_the_api_pattern() {
        for good in [
            "arn:aws:signer:us-west-2:123456789012:/signing-profiles/team_profile",
            "arn:aws-cn:signer:cn-north-1:123456789012:/signing-profiles/P1",
            "arn:aws-us-gov:signer:us-gov-west-1:123456789012:/signing-profiles/ab",
        ] {
            assert!(is_signing_profile_arn(good), "{good}");
        }
        for bad in [
            "arn:aws:signer:us-west-2:123456789012:signing-profiles/team",
            "arn:aws:signer:us-west-2:12345678901:/signing-profiles/team",
            "arn:aws:signer:us-west-2:123456789012:/signing-profiles/a",
            "arn:aws:signer:us-west-2:123456789012:/signing-profiles/team-1",
            "arn:aws:signer:us-west-2:123456789012:/signing-profiles/team/1.0",
            "arn:aws:ecr:us-west-2:123456789012:/signing-profiles/team",
            "arn:aws-:signer:us-west-2:123456789012:/signing-profiles/team",
            "arn:aws:signer::123456789012:/signing-profiles/team",
            "team",
        ] {
            assert!(!is_signing_profile_arn(bad), "{bad}");
        }
    }

    #[test]
    fn profiles_are_listed_once_and_require_is_a_boolean() {
        let a = "arn:aws:signer:us-west-2:123456789012:/signing-profiles/team";
        let (profiles, require) = rules(Some(&format!("{a},\n{a}")), Some("FALSE"));
        assert_eq!(profiles, Ok(vec![a.to_owned()]));
        assert_eq!(require, Ok(Some(false)));
        let (profiles, require) = rules(Some("team"), Some("maybe"));
        assert_eq!(profiles.map_err(|p| p.code), Err("E-INPUT-SIGNING-PROFILE"));
        assert_eq!(require.map_err(|p| p.code), Err("E-INPUT-BOOLEAN"));
        assert_eq!(rules(None, None), (Ok(Vec::new()), Ok(None)));
    }
}

//! The registry login: `GetAuthorizationToken` → registry host and `AWS:<password>`, masked at once and
//! kept in memory only (no `docker login`, no `config.json`).

use std::fmt;

use anyhow::Result;
use base64::Engine as _;

use super::advice::{self, TokenFlaw};
use crate::github;
use crate::partition::HostForm;

/// Credentials for one registry host.
pub struct RegistryLogin {
    /// `<account>.dkr.ecr.<region>.amazonaws.com`, from the token's `proxyEndpoint`.
    pub host: String,
    /// The account that owns the registry (the host's first label).
    pub account: String,
    pub username: String,
    pub password: String,
}

impl fmt::Debug for RegistryLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryLogin")
            .field("host", &self.host)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

const ACTION: &str = "ecr:GetAuthorizationToken";

/// Gets a login for the registry of account `registry_id` (the caller's own when `None`). ECR's token
/// is the caller's and is good for every registry the caller may use, so one token serves a
/// cross-account push too; only the host differs.
///
/// The same token serves the registry's dual-stack and FIPS hosts (`form`, in `region`): AWS does not
/// say so outright, but the token "can be used to access any Amazon ECR registry that your IAM
/// principal has access to" (`GetAuthorizationToken`), and AWS's credential helper logs in to those
/// hosts with the token of the region's default endpoint. `proxyEndpoint` always names the IPv4 host
/// (its documented format), so those hosts are derived, never read from it.
pub async fn fetch(
    ecr: &aws_sdk_ecr::Client,
    registry_id: Option<&str>,
    region: &str,
    form: HostForm,
) -> Result<RegistryLogin> {
    let out = ecr
        .get_authorization_token()
        .send()
        .await
        .map_err(|err| super::call_failed(&err, ACTION, "*"))?;
    let unusable = |flaw| advice::token_unusable(ACTION, flaw);
    let data = out
        .authorization_data()
        .first()
        .ok_or_else(|| unusable(TokenFlaw::NoData))?;
    let token = data
        .authorization_token()
        .ok_or_else(|| unusable(TokenFlaw::NoToken))?;
    let login = login_from(token, data.proxy_endpoint(), registry_id)?;
    in_form(login, region, form)
}

/// `login` for the registry's host in `form`: the IPv4 one as `proxyEndpoint` named it, else the
/// dual-stack or FIPS host of its account in `region`.
fn in_form(login: RegistryLogin, region: &str, form: HostForm) -> Result<RegistryLogin> {
    if form == HostForm::default() {
        return Ok(login);
    }
    let host = crate::partition::registry_host(&login.account, region, form)
        .ok_or_else(|| advice::token_unusable(ACTION, TokenFlaw::BadEndpoint(&login.host)))?;
    github::info(&format!(
        "Pushing to the {} host {host} with that token",
        form.name()
    ));
    Ok(RegistryLogin { host, ..login })
}

/// The login in a registry token, masked before anything could print it: the encoded token is as
/// secret as the password inside it.
pub(super) fn login_from(
    token: &str,
    proxy_endpoint: Option<&str>,
    registry_id: Option<&str>,
) -> Result<RegistryLogin> {
    github::mask(token);
    let login = decode(token, proxy_endpoint, registry_id)?;
    github::mask(&login.password);
    github::info(&format!(
        "Got a registry token for {} (held in memory only)",
        login.host
    ));
    Ok(login)
}

fn decode(
    token: &str,
    proxy_endpoint: Option<&str>,
    registry_id: Option<&str>,
) -> Result<RegistryLogin> {
    let unusable = |flaw| advice::token_unusable(ACTION, flaw);
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .map_err(|e| unusable(TokenFlaw::NotBase64(e.to_string())))?;
    let decoded =
        String::from_utf8(decoded).map_err(|e| unusable(TokenFlaw::NotUtf8(e.to_string())))?;
    let Some((username, password)) = decoded.split_once(':') else {
        return Err(unusable(TokenFlaw::NotUserPassword));
    };
    let endpoint = proxy_endpoint.ok_or_else(|| unusable(TokenFlaw::NoEndpoint))?;
    let host = endpoint
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    if host.is_empty() || host.contains('/') {
        return Err(unusable(TokenFlaw::BadEndpoint(endpoint)));
    }
    // `<account>.dkr.ecr.<region>.<domain>`: the caller's registry; another account's differs only in
    // the first label.
    let (host, account) = match host.split_once('.') {
        Some((own, rest)) if own.len() == 12 && own.bytes().all(|b| b.is_ascii_digit()) => {
            let account = registry_id.unwrap_or(own);
            (format!("{account}.{rest}"), account.to_owned())
        }
        _ => (host.to_owned(), registry_id.unwrap_or_default().to_owned()),
    };
    Ok(RegistryLogin {
        host,
        account,
        username: username.to_owned(),
        password: password.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let login = RegistryLogin {
            host: "h".into(),
            account: "1".into(),
            username: "AWS".into(),
            password: "registry-password-value".into(),
        };
        let printed = format!("{login:?}");
        assert!(
            printed.contains("AWS") && !printed.contains("registry-password-value"),
            "{printed}"
        );
    }

    #[test]
    fn decodes_user_password_and_host() {
        let token = base64::engine::general_purpose::STANDARD.encode("AWS:pa:ss");
        let login = decode(
            &token,
            Some("https://111111111111.dkr.ecr.eu-west-1.amazonaws.com/"),
            None,
        )
        .expect("valid");
        assert_eq!(
            (
                login.host.as_str(),
                login.username.as_str(),
                login.password.as_str()
            ),
            (
                "111111111111.dkr.ecr.eu-west-1.amazonaws.com",
                "AWS",
                "pa:ss"
            )
        );
        assert_eq!(login.account, "111111111111");
    }

    #[test]
    fn another_accounts_registry_differs_in_the_first_label() {
        let token = base64::engine::general_purpose::STANDARD.encode("AWS:p");
        let login = decode(
            &token,
            Some("https://111111111111.dkr.ecr.cn-north-1.amazonaws.com.cn"),
            Some("222222222222"),
        )
        .expect("valid");
        assert_eq!(login.account, "222222222222");
        assert_eq!(
            login.host,
            "222222222222.dkr.ecr.cn-north-1.amazonaws.com.cn"
        );
        assert!(!format!("{login:?}").contains("pa:ss"));
    }

    /// The dual-stack and FIPS hosts are derived from the account and region, not taken from
    /// `proxyEndpoint`, which names the IPv4 host ("The Amazon ECR registry URL format is
    /// `https://aws_account_id.dkr.ecr.region.amazonaws.com`", API reference, `AuthorizationData`).
    #[test]
    fn dual_stack_and_fips_hosts_are_derived_for_the_same_token() {
        let token = base64::engine::general_purpose::STANDARD.encode("AWS:p");
        let ipv4 = Some("https://111111111111.dkr.ecr.us-east-1.amazonaws.com");
        let login = |form| {
            let login = decode(&token, ipv4, Some("222222222222")).expect("valid");
            in_form(login, "us-east-1", form).expect("documented")
        };
        for (dual_stack, fips, host) in [
            (false, false, "222222222222.dkr.ecr.us-east-1.amazonaws.com"),
            (true, false, "222222222222.dkr-ecr.us-east-1.on.aws"),
            (
                false,
                true,
                "222222222222.dkr.ecr-fips.us-east-1.amazonaws.com",
            ),
            (true, true, "222222222222.dkr-ecr-fips.us-east-1.on.aws"),
        ] {
            let login = login(HostForm { dual_stack, fips });
            assert_eq!(
                (
                    login.host.as_str(),
                    login.account.as_str(),
                    login.password.as_str()
                ),
                (host, "222222222222", "p")
            );
        }
        let login = decode(&token, ipv4, None).expect("valid");
        let fips = HostForm {
            dual_stack: false,
            fips: true,
        };
        let refused = in_form(login, "eu-west-1", fips).expect_err("no FIPS host there");
        assert_eq!(crate::diagnostic::codes(&refused), ["E-LOGIN-TOKEN"]);
    }

    #[test]
    fn rejects_malformed_tokens() {
        let refused = |token: &str, endpoint| {
            let err = decode(token, endpoint, Some("111111111111")).expect_err(token);
            crate::diagnostic::codes(&err)
        };
        assert_eq!(refused("%%%", Some("https://h")), ["E-LOGIN-TOKEN"]);
        let no_colon = base64::engine::general_purpose::STANDARD.encode("nocolon");
        assert_eq!(refused(&no_colon, Some("https://h")), ["E-LOGIN-TOKEN"]);
        let ok = base64::engine::general_purpose::STANDARD.encode("AWS:p");
        assert_eq!(refused(&ok, None), ["E-LOGIN-TOKEN"]);
        assert_eq!(refused(&ok, Some("https://h/path")), ["E-LOGIN-TOKEN"]);
    }
}

//! `policy --check role:NAME` / `user:NAME`: the policies a principal has, read from IAM with read-only
//! calls (`iam:GetRole`, `ListRolePolicies`, `GetRolePolicy`, `ListAttachedRolePolicies`, `GetPolicy`,
//! `GetPolicyVersion`, and the user equivalents), with the standard AWS credential chain.

use anyhow::{Result, anyhow};
use aws_sdk_iam::Client;
use serde_json::Value;

/// Whose policies: a role or a user, by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Role(String),
    User(String),
}

impl Principal {
    /// `role:NAME` or `user:NAME`; `None` for anything else (a file name).
    pub fn parse(source: &str) -> Option<Principal> {
        match source.split_once(':')? {
            ("role", name) if !name.is_empty() => Some(Principal::Role(name.to_owned())),
            ("user", name) if !name.is_empty() => Some(Principal::User(name.to_owned())),
            _ => None,
        }
    }
}

/// The principal's identity policies (inline and attached, each attached one at its default
/// version); and for a role, its trust policy.
pub struct Policies {
    pub identity: Vec<Value>,
    pub trust: Option<Value>,
}

/// Reads `principal`'s policies; IAM is global, the region only signs the calls.
pub fn read(principal: &Principal, region: &str) -> Result<Policies> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_owned()))
            .load()
            .await;
        let iam = Client::new(&sdk);
        match principal {
            Principal::Role(name) => role(&iam, name).await,
            Principal::User(name) => user(&iam, name).await,
        }
    })
}

async fn role(iam: &Client, name: &str) -> Result<Policies> {
    let got = iam
        .get_role()
        .role_name(name)
        .send()
        .await
        .map_err(|e| failed("iam:GetRole", name, &e))?;
    let trust = got
        .role()
        .and_then(|r| r.assume_role_policy_document())
        .map(document)
        .transpose()?;
    let mut identity = Vec::new();
    let inline = iam.list_role_policies().role_name(name).send().await;
    for policy in inline
        .map_err(|e| failed("iam:ListRolePolicies", name, &e))?
        .policy_names()
    {
        let got = iam
            .get_role_policy()
            .role_name(name)
            .policy_name(policy)
            .send()
            .await;
        identity.push(document(
            got.map_err(|e| failed("iam:GetRolePolicy", name, &e))?
                .policy_document(),
        )?);
    }
    let attached = iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await;
    let arns = attached.map_err(|e| failed("iam:ListAttachedRolePolicies", name, &e))?;
    for arn in arns
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
    {
        identity.push(managed(iam, arn).await?);
    }
    Ok(Policies { identity, trust })
}

async fn user(iam: &Client, name: &str) -> Result<Policies> {
    let mut identity = Vec::new();
    let inline = iam.list_user_policies().user_name(name).send().await;
    for policy in inline
        .map_err(|e| failed("iam:ListUserPolicies", name, &e))?
        .policy_names()
    {
        let got = iam
            .get_user_policy()
            .user_name(name)
            .policy_name(policy)
            .send()
            .await;
        identity.push(document(
            got.map_err(|e| failed("iam:GetUserPolicy", name, &e))?
                .policy_document(),
        )?);
    }
    let attached = iam
        .list_attached_user_policies()
        .user_name(name)
        .send()
        .await;
    let arns = attached.map_err(|e| failed("iam:ListAttachedUserPolicies", name, &e))?;
    for arn in arns
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn())
    {
        identity.push(managed(iam, arn).await?);
    }
    Ok(Policies {
        identity,
        trust: None,
    })
}

/// A managed policy's default version.
async fn managed(iam: &Client, arn: &str) -> Result<Value> {
    let policy = iam
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| failed("iam:GetPolicy", arn, &e))?;
    let version = policy
        .policy()
        .and_then(|p| p.default_version_id())
        .ok_or_else(|| anyhow!("iam:GetPolicy on {arn} named no default version"))?;
    let got = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await;
    let got = got.map_err(|e| failed("iam:GetPolicyVersion", arn, &e))?;
    document(
        got.policy_version()
            .and_then(|v| v.document())
            .unwrap_or_default(),
    )
}

/// IAM returns documents URL-encoded (RFC 3986).
fn document(encoded: &str) -> Result<Value> {
    let decoded = percent_decode(encoded);
    serde_json::from_str(&decoded)
        .map_err(|e| anyhow!("IAM returned a policy document that is not JSON: {e}"))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                i += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn failed<E>(
    action: &str,
    name: &str,
    err: &aws_sdk_iam::error::SdkError<E, aws_sdk_iam::config::http::HttpResponse>,
) -> anyhow::Error
where
    E: aws_sdk_iam::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let text = match (
        aws_sdk_iam::error::ProvideErrorMetadata::code(err),
        aws_sdk_iam::error::ProvideErrorMetadata::message(err),
    ) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        _ => crate::aws::error_chain(err),
    };
    anyhow!(
        "`--check`: {action} for `{name}` failed: {text}. Reading a principal's policies needs read-only IAM \
         permissions (iam:GetRole, iam:ListRolePolicies, iam:GetRolePolicy, iam:ListAttachedRolePolicies, \
         iam:GetPolicy, iam:GetPolicyVersion, or the user equivalents) and AWS credentials in the environment."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_and_documents_are_read() {
        assert_eq!(
            Principal::parse("role:gha-push"),
            Some(Principal::Role("gha-push".into()))
        );
        assert_eq!(
            Principal::parse("user:ci"),
            Some(Principal::User("ci".into()))
        );
        assert_eq!(Principal::parse("policy.json"), None);
        assert_eq!(Principal::parse("role:"), None);
        let value = document("%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D")
            .expect("JSON");
        assert_eq!(value["Version"], "2012-10-17");
        assert_eq!(percent_decode("a%2Fb%"), "a/b%");
    }
}

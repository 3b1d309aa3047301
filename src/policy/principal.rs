//! `policy --check role:NAME` / `user:NAME`: the policies a principal has, read from IAM with read-only
//! calls (`iam:GetRole`, `ListRolePolicies`, `GetRolePolicy`, `ListAttachedRolePolicies`, `GetPolicy`,
//! `GetPolicyVersion`, and the user equivalents), with the standard AWS credential chain: every page of
//! each list, the permissions boundary, and each document under the name a report gives it.

use anyhow::Result;
use aws_sdk_iam::Client;
use serde_json::Value;

use super::advice;

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

/// `role NAME` / `user NAME`, as the documents' names say it.
impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Principal::Role(name) => write!(f, "role {name}"),
            Principal::User(name) => write!(f, "user {name}"),
        }
    }
}

/// A policy document and what a report calls it (`inline policy NAME of role R`, `managed policy
/// ARN`, `permissions boundary ARN`, `trust policy of role R`).
#[derive(Debug, Clone, PartialEq)]
pub struct Named {
    pub name: String,
    pub document: Value,
}

/// The principal's identity policies (inline and attached, each attached one at its default
/// version), its permissions boundary if it has one, and for a role, its trust policy.
pub struct Policies {
    pub identity: Vec<Named>,
    pub trust: Option<Named>,
    pub boundary: Option<Named>,
    /// The principal's ARN as IAM gives it (`GetRole` / `GetUser`): `aws:PrincipalArn` in a check.
    pub arn: String,
}

/// Reads `principal`'s policies; IAM is global, the region only signs the calls.
pub fn read(principal: &Principal, region: &str) -> Result<Policies> {
    crate::aws::with_sdk(region, async |sdk| {
        policies(&Client::new(sdk), principal).await
    })?
}

/// The one reading for roles and users; only the calls that name the kind of principal differ
/// (`Principal`'s methods below).
async fn policies(iam: &Client, principal: &Principal) -> Result<Policies> {
    let entity = principal.entity(iam).await?;
    let mut identity = Vec::new();
    for policy in principal.inline_names(iam).await? {
        let text = principal.inline_document(iam, &policy).await?;
        identity.push(named(
            format!("inline policy {policy} of {principal}"),
            &text,
        )?);
    }
    for arn in principal.attached(iam).await? {
        identity.push(managed(iam, format!("managed policy {arn}"), &arn).await?);
    }
    let boundary = match entity.boundary {
        Some(arn) => Some(managed(iam, format!("permissions boundary {arn}"), &arn).await?),
        None => None,
    };
    let trust = entity
        .trust
        .map(|text| named(format!("trust policy of {principal}"), &text))
        .transpose()?;
    Ok(Policies {
        identity,
        trust,
        boundary,
        arn: entity.arn,
    })
}

/// What `GetRole` / `GetUser` say about the principal itself.
struct Entity {
    arn: String,
    /// The managed policy set as its permissions boundary.
    boundary: Option<String>,
    /// A role's trust policy, still URL-encoded.
    trust: Option<String>,
}

/// The calls that differ between roles and users. The lists go through the SDK's paginators: IAM
/// answers a list a page at a time (`IsTruncated`, `Marker`; 100 items by default, and it may send
/// fewer), and a check that read one page would leave out policies that are there.
impl Principal {
    async fn entity(&self, iam: &Client) -> Result<Entity> {
        let missing = || advice::iam_without_entity(self);
        let (arn, boundary, trust) = match self {
            Principal::Role(name) => {
                let got = iam.get_role().role_name(name).send().await;
                let got = got.map_err(|e| failed("iam:GetRole", name, &e))?;
                let role = got.role.ok_or_else(missing)?;
                (
                    role.arn,
                    role.permissions_boundary,
                    role.assume_role_policy_document,
                )
            }
            Principal::User(name) => {
                let got = iam.get_user().user_name(name).send().await;
                let got = got.map_err(|e| failed("iam:GetUser", name, &e))?;
                let user = got.user.ok_or_else(missing)?;
                (user.arn, user.permissions_boundary, None)
            }
        };
        Ok(Entity {
            arn,
            boundary: boundary.and_then(|b| b.permissions_boundary_arn),
            trust,
        })
    }

    /// The names of the inline policies, from every page.
    async fn inline_names(&self, iam: &Client) -> Result<Vec<String>> {
        match self {
            Principal::Role(name) => {
                let pages = iam.list_role_policies().role_name(name).into_paginator();
                let names = pages.items().send().try_collect().await;
                names.map_err(|e| failed("iam:ListRolePolicies", name, &e))
            }
            Principal::User(name) => {
                let pages = iam.list_user_policies().user_name(name).into_paginator();
                let names = pages.items().send().try_collect().await;
                names.map_err(|e| failed("iam:ListUserPolicies", name, &e))
            }
        }
    }

    /// One inline policy's document, URL-encoded as IAM returns it.
    async fn inline_document(&self, iam: &Client, policy: &str) -> Result<String> {
        match self {
            Principal::Role(name) => {
                let call = iam.get_role_policy().role_name(name).policy_name(policy);
                let got = call.send().await;
                let got = got.map_err(|e| failed("iam:GetRolePolicy", name, &e))?;
                Ok(got.policy_document().to_owned())
            }
            Principal::User(name) => {
                let call = iam.get_user_policy().user_name(name).policy_name(policy);
                let got = call.send().await;
                let got = got.map_err(|e| failed("iam:GetUserPolicy", name, &e))?;
                Ok(got.policy_document().to_owned())
            }
        }
    }

    /// The ARNs of the attached managed policies, from every page.
    async fn attached(&self, iam: &Client) -> Result<Vec<String>> {
        let policies = match self {
            Principal::Role(name) => {
                let pages = iam.list_attached_role_policies().role_name(name);
                let got = pages.into_paginator().items().send().try_collect().await;
                got.map_err(|e| failed("iam:ListAttachedRolePolicies", name, &e))?
            }
            Principal::User(name) => {
                let pages = iam.list_attached_user_policies().user_name(name);
                let got = pages.into_paginator().items().send().try_collect().await;
                got.map_err(|e| failed("iam:ListAttachedUserPolicies", name, &e))?
            }
        };
        Ok(policies
            .iter()
            .filter_map(|p| p.policy_arn())
            .map(str::to_owned)
            .collect())
    }
}

/// A managed policy's default version, under `name`.
async fn managed(iam: &Client, name: String, arn: &str) -> Result<Named> {
    let policy = iam
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| failed("iam:GetPolicy", arn, &e))?;
    let version = policy
        .policy()
        .and_then(|p| p.default_version_id())
        .ok_or_else(|| advice::iam_without_default_version(arn))?;
    let got = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await;
    let got = got.map_err(|e| failed("iam:GetPolicyVersion", arn, &e))?;
    named(
        name,
        got.policy_version()
            .and_then(|v| v.document())
            .unwrap_or_default(),
    )
}

/// A document as IAM sends it, under `name`, which also says in an error which document it was.
fn named(name: String, encoded: &str) -> Result<Named> {
    let document = document(encoded).map_err(|e| advice::iam_document_not_json(&name, &e))?;
    Ok(Named { name, document })
}

/// IAM returns documents URL-encoded (RFC 3986).
fn document(encoded: &str) -> serde_json::Result<Value> {
    serde_json::from_str(&percent_decode(encoded))
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

/// IAM's refusal of `action` on `name`, in IAM's words (its code and message, else the error chain).
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
    advice::iam_call_failed(action, name, &text)
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

    // IAM's answers below are shaped as the IAM API reference shows them (Query API, XML:
    // `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…`), e.g.
    // https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListRolePolicies.html and
    // https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAttachedRolePolicies.html: "When
    // IsTruncated is true, this element [Marker] is present and contains the value to use for the
    // Marker parameter in a subsequent pagination request"; GetRole / GetUser carry `Arn` and
    // `PermissionsBoundary` (API_GetRole.html, API_AttachedPermissionsBoundary.html); documents are
    // URL-encoded JSON (API_GetPolicyVersion.html). They go through the SDK's own parsing.
    use aws_sdk_iam::config::{BehaviorVersion, Credentials, Region, retry::RetryConfig};
    use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
    use aws_smithy_types::body::SdkBody;

    const ROLE: &str = "arn:aws:iam::123456789012:role/gha-push";
    const PUSH: &str = "arn:aws:iam::123456789012:policy/ecr-push";
    const READ: &str = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";
    const BOUNDARY: &str = "arn:aws:iam::123456789012:policy/ci-boundary";
    /// IAM's markers are opaque; this one has characters the next request must encode.
    const MARKER: &str = "AAIAAZ2hhLXB1c2gvcHVsbA==";

    /// A policy document with one statement, as IAM sends it: URL-encoded (RFC 3986).
    fn encoded(sid: &str) -> String {
        let json = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{sid}","Effect":"Allow","Action":"ecr:*","Resource":"*"}}]}}"#
        );
        json.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    char::from(b).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    }

    /// One IAM call: the form the SDK must send (`Action=…&Version=2010-05-08&{params}`) and
    /// IAM's 200 answer wrapping `result`.
    fn call(action: &str, params: &str, result: &str) -> ReplayEvent {
        let request = http::Request::builder()
            .uri("https://iam.amazonaws.com/")
            .body(SdkBody::from(format!(
                "Action={action}&Version=2010-05-08&{params}"
            )))
            .expect("request");
        let answer = format!(
            "<{action}Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\">\n  \
             <{action}Result>\n{result}\n  </{action}Result>\n  <ResponseMetadata>\n    \
             <RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId>\n  </ResponseMetadata>\n\
             </{action}Response>\n"
        );
        let response = http::Response::builder()
            .status(200)
            .header("Content-Type", "text/xml")
            .body(SdkBody::from(answer))
            .expect("response");
        ReplayEvent::new(request, response)
    }

    /// `GetPolicy` then `GetPolicyVersion` of a managed policy whose default version is v2.
    fn managed_calls(arn: &str, sid: &str) -> [ReplayEvent; 2] {
        let query = percent_encoded(arn);
        [
            call(
                "GetPolicy",
                &format!("PolicyArn={query}"),
                &format!(
                    "    <Policy>\n      <PolicyName>{sid}</PolicyName>\n      \
                     <DefaultVersionId>v2</DefaultVersionId>\n      <PolicyId>ANPAEXAMPLE1234567890</PolicyId>\n      \
                     <Path>/</Path>\n      <Arn>{arn}</Arn>\n      <AttachmentCount>1</AttachmentCount>\n      \
                     <IsAttachable>true</IsAttachable>\n      <CreateDate>2024-05-01T10:00:00Z</CreateDate>\n      \
                     <UpdateDate>2024-06-01T10:00:00Z</UpdateDate>\n    </Policy>"
                ),
            ),
            call(
                "GetPolicyVersion",
                &format!("PolicyArn={query}&VersionId=v2"),
                &format!(
                    "    <PolicyVersion>\n      <Document>{}</Document>\n      \
                     <IsDefaultVersion>true</IsDefaultVersion>\n      <VersionId>v2</VersionId>\n      \
                     <CreateDate>2024-06-01T10:00:00Z</CreateDate>\n    </PolicyVersion>",
                    encoded(sid)
                ),
            ),
        ]
    }

    /// How the SDK writes a value into the form: `:`, `/` and `=` escaped.
    fn percent_encoded(value: &str) -> String {
        value
            .replace(':', "%3A")
            .replace('/', "%2F")
            .replace('=', "%3D")
    }

    /// Reads `principal` from an IAM that answers `events` in turn, and checks that each request
    /// was the one its event names (so a next page was asked for with the marker of the one before).
    async fn read_replayed(principal: Principal, events: Vec<ReplayEvent>) -> Policies {
        let http = StaticReplayClient::new(events);
        let config = aws_sdk_iam::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
            .http_client(http.clone())
            .retry_config(RetryConfig::disabled())
            .build();
        let read = policies(&Client::from_conf(config), &principal)
            .await
            .expect("read");
        http.assert_requests_match(&[]);
        read
    }

    fn sid(named: &Named) -> &str {
        named.document["Statement"][0]["Sid"]
            .as_str()
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn every_page_of_a_roles_policies_is_read() {
        let role = format!(
            "    <Role>\n      <Path>/</Path>\n      <RoleName>gha-push</RoleName>\n      \
             <RoleId>AROAEXAMPLE1234567890</RoleId>\n      <Arn>{ROLE}</Arn>\n      \
             <CreateDate>2024-05-01T10:00:00Z</CreateDate>\n      \
             <AssumeRolePolicyDocument>{}</AssumeRolePolicyDocument>\n      \
             <MaxSessionDuration>3600</MaxSessionDuration>\n    </Role>",
            encoded("trust")
        );
        let attached = |arn: &str, name: &str, more: &str| {
            format!(
                "    <AttachedPolicies>\n      <member>\n        <PolicyName>{name}</PolicyName>\n        \
                 <PolicyArn>{arn}</PolicyArn>\n      </member>\n    </AttachedPolicies>\n{more}"
            )
        };
        let truncated =
            format!("    <IsTruncated>true</IsTruncated>\n    <Marker>{MARKER}</Marker>");
        let last = "    <IsTruncated>false</IsTruncated>";
        let marker = percent_encoded(MARKER);
        let mut events = vec![
            call("GetRole", "RoleName=gha-push", &role),
            call(
                "ListRolePolicies",
                "RoleName=gha-push",
                &format!(
                    "    <PolicyNames>\n      <member>push</member>\n    </PolicyNames>\n{truncated}"
                ),
            ),
            call(
                "ListRolePolicies",
                &format!("RoleName=gha-push&Marker={marker}"),
                &format!(
                    "    <PolicyNames>\n      <member>tag</member>\n    </PolicyNames>\n{last}"
                ),
            ),
        ];
        for name in ["push", "tag"] {
            events.push(call(
                "GetRolePolicy",
                &format!("RoleName=gha-push&PolicyName={name}"),
                &format!(
                    "    <RoleName>gha-push</RoleName>\n    <PolicyName>{name}</PolicyName>\n    \
                     <PolicyDocument>{}</PolicyDocument>",
                    encoded(name)
                ),
            ));
        }
        events.push(call(
            "ListAttachedRolePolicies",
            "RoleName=gha-push",
            &attached(PUSH, "ecr-push", &truncated),
        ));
        events.push(call(
            "ListAttachedRolePolicies",
            &format!("RoleName=gha-push&Marker={marker}"),
            &attached(READ, "AmazonEC2ContainerRegistryReadOnly", last),
        ));
        events.extend(managed_calls(PUSH, "managed-push"));
        events.extend(managed_calls(READ, "managed-read"));
        let read = read_replayed(Principal::Role("gha-push".into()), events).await;

        let names: Vec<(&str, &str)> = read
            .identity
            .iter()
            .map(|n| (n.name.as_str(), sid(n)))
            .collect();
        assert_eq!(
            names,
            [
                ("inline policy push of role gha-push", "push"),
                ("inline policy tag of role gha-push", "tag"),
                (&*format!("managed policy {PUSH}"), "managed-push"),
                (&*format!("managed policy {READ}"), "managed-read"),
            ]
        );
        let trust = read.trust.expect("a role's trust policy");
        assert_eq!(
            (trust.name.as_str(), sid(&trust)),
            ("trust policy of role gha-push", "trust")
        );
        assert_eq!(read.boundary, None);
        assert_eq!(read.arn, ROLE);
    }

    #[tokio::test]
    async fn a_users_permissions_boundary_is_read_and_named() {
        let user = format!(
            "    <User>\n      <Path>/</Path>\n      <UserName>ci</UserName>\n      \
             <UserId>AIDAEXAMPLE1234567890</UserId>\n      <Arn>arn:aws:iam::123456789012:user/ci</Arn>\n      \
             <CreateDate>2024-05-01T10:00:00Z</CreateDate>\n      <PermissionsBoundary>\n        \
             <PermissionsBoundaryType>PermissionsBoundaryPolicy</PermissionsBoundaryType>\n        \
             <PermissionsBoundaryArn>{BOUNDARY}</PermissionsBoundaryArn>\n      </PermissionsBoundary>\n    </User>"
        );
        let last = "    <IsTruncated>false</IsTruncated>";
        let mut events = vec![
            call("GetUser", "UserName=ci", &user),
            call(
                "ListUserPolicies",
                "UserName=ci",
                &format!("    <PolicyNames/>\n{last}"),
            ),
            call(
                "ListAttachedUserPolicies",
                "UserName=ci",
                &format!("    <AttachedPolicies/>\n{last}"),
            ),
        ];
        events.extend(managed_calls(BOUNDARY, "boundary"));
        let read = read_replayed(Principal::User("ci".into()), events).await;

        let boundary = read.boundary.expect("the boundary");
        assert_eq!(boundary.name, format!("permissions boundary {BOUNDARY}"));
        assert_eq!(sid(&boundary), "boundary");
        assert!(read.identity.is_empty());
        assert_eq!(read.trust, None);
        assert_eq!(read.arn, "arn:aws:iam::123456789012:user/ci");
    }
}

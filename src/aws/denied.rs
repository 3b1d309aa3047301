//! The doctor for refusals: reads AWS's "User: … is not authorized to perform: … on resource: …"
//! (from an ECR API error, IAM's XML body, or the registry's `denied:` line in the push stream) and
//! says which permission is missing, on what, for whom, which kind of policy is at fault, and the
//! statement that would allow it.

use std::sync::LazyLock;

use aws_sdk_ecr::config::http::HttpResponse;
use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};
use regex_lite::Regex;

/// One refusal, as AWS reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The caller, e.g. `arn:aws:sts::123456789012:assumed-role/ci/GitHubActions`.
    pub principal: Option<String>,
    /// e.g. `ecr:PutImage`.
    pub action: String,
    pub resource: Option<String>,
    pub cause: Cause,
}

/// Which kind of policy refused, from the tail of AWS's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    NoIdentityPolicy,
    NoResourcePolicy,
    ExplicitDeny(PolicyKind),
    NoAllow(PolicyKind),
    /// AWS did not say.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    Identity,
    Resource,
    ServiceControl,
    PermissionsBoundary,
    Session,
}

static DENIED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"User: (?P<principal>[^\s<]+) is not authorized to perform: (?P<action>[a-z0-9-]+:[A-Za-z0-9]+)(?: on resource: (?P<resource>[^\s<]+))?(?: (?P<tail>because no [a-z -]+ (?:policy|boundary) allows|with an explicit deny in an? [a-z -]+ (?:policy|boundary)))?",
    )
    .expect("valid regex")
});

/// Finds AWS's refusal sentence anywhere in `text`.
pub fn parse(text: &str) -> Option<Denied> {
    let caps = DENIED.captures(text)?;
    let tail = caps.name("tail").map_or("", |m| m.as_str());
    let kind = if tail.contains("identity-based") {
        PolicyKind::Identity
    } else if tail.contains("resource-based") {
        PolicyKind::Resource
    } else if tail.contains("service control") {
        PolicyKind::ServiceControl
    } else if tail.contains("permissions boundary") {
        PolicyKind::PermissionsBoundary
    } else {
        PolicyKind::Session
    };
    let cause = match (
        tail.is_empty(),
        tail.starts_with("with an explicit deny"),
        kind,
    ) {
        (true, _, _) => Cause::Unknown,
        (false, true, kind) => Cause::ExplicitDeny(kind),
        (false, false, PolicyKind::Identity) => Cause::NoIdentityPolicy,
        (false, false, PolicyKind::Resource) => Cause::NoResourcePolicy,
        (false, false, kind) => Cause::NoAllow(kind),
    };
    Some(Denied {
        principal: Some(caps["principal"].to_owned()),
        action: caps["action"].to_owned(),
        resource: caps.name("resource").map(|m| m.as_str().to_owned()),
        cause,
    })
}

static REGISTRY_REQUEST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"unexpected status from (?P<method>HEAD|GET|PUT|POST|PATCH) request to https://[^/\s]+/v2/\S+?/(?P<kind>manifests|blobs/uploads|blobs)/\S*: 403 Forbidden",
    )
    .expect("valid regex")
});

/// A registry request the daemon reports refused with a bare 403 — ECR answers a `HEAD` without a
/// body, so no AWS sentence says what was missing. The request itself does: ECR authorizes each
/// registry request as one ECR action on the repository (`repository_arn`).
pub fn from_registry_request(text: &str, repository_arn: &str) -> Option<Denied> {
    let caps = REGISTRY_REQUEST.captures(text)?;
    registry_action(&caps["method"], &caps["kind"], repository_arn)
}

/// The ECR action a registry request needs — `method` on `kind` (`manifests`, `blobs` or
/// `blobs/uploads`) — refused on the repository.
pub fn registry_action(method: &str, kind: &str, repository_arn: &str) -> Option<Denied> {
    let action = match (method, kind) {
        ("HEAD" | "GET", "manifests") => "BatchGetImage",
        ("PUT", "manifests") => "PutImage",
        ("HEAD", "blobs") => "BatchCheckLayerAvailability",
        ("GET", "blobs") => "GetDownloadUrlForLayer",
        ("POST", "blobs/uploads") => "InitiateLayerUpload",
        ("PATCH", "blobs/uploads") => "UploadLayerPart",
        ("PUT", "blobs/uploads") => "CompleteLayerUpload",
        _ => return None,
    };
    let service = if repository_arn.contains(":ecr-public:") {
        "ecr-public"
    } else {
        "ecr"
    };
    Some(Denied {
        principal: None,
        action: format!("{service}:{action}"),
        resource: Some(repository_arn.to_owned()),
        cause: Cause::Unknown,
    })
}

/// When an ECR API call was refused for lack of permission, the explanation; `action` and
/// `resource` are what the call was, for when AWS's text does not say (moto's IAM answers omit the
/// resource; an empty body says nothing).
pub fn from_sdk_error<E>(
    err: &SdkError<E, HttpResponse>,
    action: &str,
    resource: &str,
) -> Option<String>
where
    E: ProvideErrorMetadata,
{
    let code = err.code().unwrap_or_default();
    let status = err.raw_response().map(|r| r.status().as_u16());
    if !code.starts_with("AccessDenied") && status != Some(403) {
        return None;
    }
    let body = err
        .raw_response()
        .and_then(|r| r.body().bytes())
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    let found = err.message().and_then(parse).or_else(|| parse(&body));
    let denied = found.map_or_else(
        || Denied {
            principal: None,
            action: action.to_owned(),
            resource: Some(resource.to_owned()),
            cause: Cause::Unknown,
        },
        |mut d| {
            // An unknown account in our own guess of the ARN is the caller's: the principal's account.
            let account = d
                .principal
                .as_deref()
                .and_then(|p| p.split(':').nth(4))
                .filter(|a| !a.is_empty());
            let guess = match account {
                Some(account) => resource.replacen(":*:", &format!(":{account}:"), 1),
                None => resource.to_owned(),
            };
            d.resource.get_or_insert(guess);
            d
        },
    );
    Some(explain(&denied))
}

/// The doctor's text for one refusal.
pub fn explain(denied: &Denied) -> String {
    let action = &denied.action;
    let token = action.ends_with(":GetAuthorizationToken");
    // The token call is account-wide: whatever AWS names as its resource, only "*" grants it.
    let resource = if token {
        "*"
    } else {
        denied.resource.as_deref().unwrap_or("*")
    };
    let who = denied
        .principal
        .as_deref()
        .unwrap_or("the credentials in use");
    let holder = denied.principal.as_deref().map_or_else(
        || "the role or user the action runs as".to_owned(),
        policy_holder,
    );
    let mut text = format!(
        "AWS denied {action} on {resource} to {who}{}",
        reason(denied.cause, action, resource, &holder)
    );
    if action.ends_with(":BatchGetImage") {
        text.push_str(MANIFEST_READS);
    }
    if token {
        text.push_str(TOKEN_IS_ACCOUNT_WIDE);
    }
    text.push_str("\n`ecr-push-action policy` prints the complete least-privilege policy for this configuration.");
    text
}

/// Why AWS refused, and the statement that fixes it, by the kind of policy at fault.
fn reason(cause: Cause, action: &str, resource: &str, holder: &str) -> String {
    let statement =
        format!(r#"{{"Effect": "Allow", "Action": "{action}", "Resource": "{resource}"}}"#);
    let allow = format!("Allow it in the identity policy of {holder}:\n  {statement}");
    match cause {
        Cause::NoIdentityPolicy => format!(": no identity-based policy allows it.\n{allow}"),
        Cause::Unknown => format!(".\n{allow}"),
        Cause::NoResourcePolicy => {
            let owner = resource
                .split(':')
                .nth(4)
                .unwrap_or("the registry's account");
            format!(
                ": the repository's own policy (a resource-based policy, needed across accounts) does not allow it.\n\
                 Ask account {owner} to add to the repository policy of {resource}:\n  \
                 {{\"Effect\": \"Allow\", \"Principal\": {{\"AWS\": \"{holder}\"}}, \"Action\": \"{action}\"}}\n\
                 and allow it in your own identity policy too:\n  {statement}"
            )
        }
        Cause::ExplicitDeny(kind) => format!(
            ": an explicit Deny in {} overrides every Allow. Find the Deny statement that matches {action} and \
             narrow it; adding an Allow does not help.",
            kind.name()
        ),
        Cause::NoAllow(kind) => format!(
            ": {} does not allow it (an Allow is needed there as well as in the identity policy).\n{allow}",
            kind.name()
        ),
    }
}

const MANIFEST_READS: &str = "\nDocker engines with the containerd image store (Docker 29's default, GitHub's newer \
    runners) read each manifest back (HEAD/GET …/manifests/…) before they write it, and ECR authorizes that read \
    as ecr:BatchGetImage: a pusher needs it on these engines, while Docker 20.10's classic store does not.";

const TOKEN_IS_ACCOUNT_WIDE: &str = "\necr:GetAuthorizationToken cannot be scoped to a repository: its Resource must \
    be \"*\". The token it returns only opens the repositories your other statements allow.";

impl PolicyKind {
    fn name(self) -> &'static str {
        match self {
            PolicyKind::Identity => "an identity-based policy",
            PolicyKind::Resource => "the repository's resource-based policy",
            PolicyKind::ServiceControl => "a service control policy (AWS Organizations)",
            PolicyKind::PermissionsBoundary => "the permissions boundary",
            PolicyKind::Session => "the session policy",
        }
    }
}

/// The IAM entity whose policy grants a principal's permissions: an assumed-role session's role.
fn policy_holder(principal: &str) -> String {
    // arn:aws:sts::123456789012:assumed-role/ROLE/SESSION → arn:aws:iam::123456789012:role/ROLE
    let parts: Vec<&str> = principal.splitn(6, ':').collect();
    if let [_, partition, "sts", _, account, rest] = parts.as_slice()
        && let Some(role) = rest
            .strip_prefix("assumed-role/")
            .and_then(|r| r.split('/').next())
    {
        return format!("arn:{partition}:iam::{account}:role/{role}");
    }
    principal.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE: &str = "arn:aws:sts::123456789012:assumed-role/gha-push/GitHubActions";
    const REPO: &str = "arn:aws:ecr:us-east-1:123456789012:repository/team/api";

    #[test]
    fn reads_the_registrys_denied_line_for_each_layer_and_manifest_action() {
        for action in [
            "InitiateLayerUpload",
            "UploadLayerPart",
            "CompleteLayerUpload",
            "PutImage",
            "BatchCheckLayerAvailability",
        ] {
            // The exact shape ECR puts into the push stream.
            let line = format!(
                "denied: User: {ROLE} is not authorized to perform: ecr:{action} on resource: {REPO} because no \
                 identity-based policy allows the ecr:{action} action"
            );
            let denied = parse(&line).expect("a refusal");
            assert_eq!(denied.action, format!("ecr:{action}"));
            assert_eq!(denied.resource.as_deref(), Some(REPO));
            assert_eq!(denied.cause, Cause::NoIdentityPolicy);
            let text = explain(&denied);
            assert!(text.starts_with(&format!("AWS denied ecr:{action} on {REPO} to {ROLE}: no identity-based policy allows it.")), "{text}");
            assert!(
                text.contains("identity policy of arn:aws:iam::123456789012:role/gha-push"),
                "{text}"
            );
            assert!(
                text.contains(&format!(
                    r#"{{"Effect": "Allow", "Action": "ecr:{action}", "Resource": "{REPO}"}}"#
                )),
                "{text}"
            );
        }
    }

    #[test]
    fn a_bare_403_on_a_manifest_read_is_batch_get_image() {
        // What the containerd store's pusher reports when ECR refuses its HEAD (no body) and its GET.
        for text in [
            format!(
                "unknown: unexpected status from HEAD request to https://123456789012.dkr.ecr.us-east-1.amazonaws.com\
                 /v2/team/api/manifests/sha256:{}: 403 Forbidden",
                "a".repeat(64)
            ),
            "unexpected status from GET request to https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/team/api\
             /manifests/v1: 403 Forbidden"
                .to_owned(),
        ] {
            let denied = from_registry_request(&text, REPO).expect("a refusal");
            assert_eq!(denied.action, "ecr:BatchGetImage");
            assert_eq!(denied.resource.as_deref(), Some(REPO));
            let advice = explain(&denied);
            assert!(
                advice.contains(&format!(
                    r#"{{"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "{REPO}"}}"#
                )),
                "{advice}"
            );
            assert!(advice.contains("containerd image store"), "{advice}");
        }
        // ECR's GET answer has a body with AWS's own sentence: that one names the principal too.
        let body = format!(
            "denied: User: {ROLE} is not authorized to perform: ecr:BatchGetImage on resource: {REPO} because no \
             identity-based policy allows the ecr:BatchGetImage action"
        );
        let denied = parse(&body).expect("a refusal");
        assert_eq!(denied.action, "ecr:BatchGetImage");
        assert!(explain(&denied).contains("containerd image store"));
        // Other requests map to their own actions; other statuses are not refusals.
        let layer = "unexpected status from HEAD request to https://r/v2/team/api/blobs/sha256:ab: 403 Forbidden";
        assert_eq!(
            from_registry_request(layer, REPO).map(|d| d.action),
            Some("ecr:BatchCheckLayerAvailability".to_owned())
        );
        assert_eq!(
            from_registry_request(&layer.replace("403 Forbidden", "404 Not Found"), REPO),
            None
        );
    }

    #[test]
    fn the_token_needs_resource_star() {
        let text = explain(&parse(&format!(
            "User: {ROLE} is not authorized to perform: ecr:GetAuthorizationToken on resource: * because no identity-based policy allows the ecr:GetAuthorizationToken action"
        )).expect("refusal"));
        assert!(
            text.contains(r#""Action": "ecr:GetAuthorizationToken", "Resource": "*""#),
            "{text}"
        );
        assert!(text.contains("its Resource must be \"*\""), "{text}");
    }

    #[test]
    fn says_which_kind_of_policy_is_at_fault() {
        let base =
            format!("User: {ROLE} is not authorized to perform: ecr:PutImage on resource: {REPO}");
        let deny = explain(
            &parse(&format!(
                "{base} with an explicit deny in an identity-based policy"
            ))
            .expect("refusal"),
        );
        assert!(
            deny.contains("an explicit Deny in an identity-based policy overrides every Allow"),
            "{deny}"
        );
        let scp = parse(&format!(
            "{base} with an explicit deny in a service control policy"
        ))
        .expect("refusal");
        assert_eq!(scp.cause, Cause::ExplicitDeny(PolicyKind::ServiceControl));
        assert!(explain(&scp).contains("service control policy"));
        let cross = parse(&format!(
            "User: {ROLE} is not authorized to perform: ecr:PutImage on resource: arn:aws:ecr:us-east-1:210987654321:repository/shared because no resource-based policy allows the ecr:PutImage action"
        )).expect("refusal");
        assert_eq!(cross.cause, Cause::NoResourcePolicy);
        let text = explain(&cross);
        assert!(
            text.contains("Ask account 210987654321 to add to the repository policy"),
            "{text}"
        );
        assert!(
            text.contains(r#""Principal": {"AWS": "arn:aws:iam::123456789012:role/gha-push"}"#),
            "{text}"
        );
        let boundary = parse(&format!(
            "{base} because no permissions boundary allows the ecr:PutImage action"
        ))
        .expect("refusal");
        assert_eq!(
            boundary.cause,
            Cause::NoAllow(PolicyKind::PermissionsBoundary)
        );
    }

    #[test]
    fn reads_motos_iam_xml_and_text_without_a_resource() {
        let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/u1 is not authorized to perform: ecr:CreateRepository</Message><Type>Sender</Type></Error></Errors></ErrorResponse>"#;
        let denied = parse(xml).expect("refusal");
        assert_eq!(
            denied.principal.as_deref(),
            Some("arn:aws:iam::123456789012:user/u1")
        );
        assert_eq!(denied.action, "ecr:CreateRepository");
        assert_eq!((denied.resource, denied.cause), (None, Cause::Unknown));
        assert_eq!(parse("unauthorized: authentication required"), None);
    }

    /// An ECR client whose HTTP layer answers every call with `status` and `body`.
    fn ecr_answering(
        status: u16,
        content_type: &'static str,
        body: &'static str,
    ) -> aws_sdk_ecr::Client {
        let http = aws_smithy_http_client::test_util::infallible_client_fn(move |_| {
            http::Response::builder()
                .status(status)
                .header("Content-Type", content_type)
                .body(aws_smithy_types::body::SdkBody::from(body))
                .expect("response")
        });
        let config = aws_sdk_ecr::Config::builder()
            .behavior_version(aws_sdk_ecr::config::BehaviorVersion::latest())
            .region(aws_sdk_ecr::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_ecr::config::Credentials::new(
                "AKID", "secret", None, None, "test",
            ))
            .http_client(http)
            .retry_config(aws_sdk_ecr::config::retry::RetryConfig::disabled())
            .build();
        aws_sdk_ecr::Client::from_conf(config)
    }

    #[tokio::test]
    async fn reads_real_ecrs_json_access_denied_through_the_sdk() {
        // Real ECR: HTTP 400, awsJson1.1, __type AccessDeniedException.
        let ecr = ecr_answering(
            400,
            "application/x-amz-json-1.1",
            r#"{"__type":"AccessDeniedException","message":"User: arn:aws:sts::123456789012:assumed-role/gha-push/GitHubActions is not authorized to perform: ecr:CreateRepository on resource: arn:aws:ecr:us-east-1:123456789012:repository/team/api because no identity-based policy allows the ecr:CreateRepository action"}"#,
        );
        let err = ecr
            .create_repository()
            .repository_name("team/api")
            .send()
            .await
            .expect_err("denied");
        let text = from_sdk_error(
            &err,
            "ecr:CreateRepository",
            "arn:aws:ecr:us-east-1:*:repository/team/api",
        )
        .expect("a denial");
        assert!(text.starts_with(&format!("AWS denied ecr:CreateRepository on {REPO} to {ROLE}: no identity-based policy allows it.")), "{text}");
    }

    #[tokio::test]
    async fn reads_motos_403_xml_and_fills_in_the_resource() {
        let ecr = ecr_answering(
            403,
            "text/xml",
            r#"<?xml version="1.0" encoding="utf-8"?>
<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/u1 is not authorized to perform: ecr:DescribeRepositories</Message><Type>Sender</Type></Error></Errors></ErrorResponse>"#,
        );
        let err = ecr
            .describe_repositories()
            .repository_names("team/api")
            .send()
            .await
            .expect_err("denied");
        let text = from_sdk_error(
            &err,
            "ecr:DescribeRepositories",
            "arn:aws:ecr:us-east-1:*:repository/team/api",
        )
        .expect("a denial");
        assert!(text.starts_with(&format!("AWS denied ecr:DescribeRepositories on {REPO} to arn:aws:iam::123456789012:user/u1.")), "{text}");
        // Not a refusal: no doctor.
        let ecr = ecr_answering(
            400,
            "application/x-amz-json-1.1",
            r#"{"__type":"RepositoryNotFoundException","message":"nope"}"#,
        );
        let err = ecr
            .describe_repositories()
            .repository_names("x")
            .send()
            .await
            .expect_err("missing");
        assert_eq!(from_sdk_error(&err, "ecr:DescribeRepositories", "*"), None);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn never_panics(text in ".*") {
            if let Some(denied) = parse(&text) {
                let _ = explain(&denied);
            }
        }

        #[test]
        fn reads_back_what_aws_writes(
            principal in "arn:aws:(iam|sts)::[0-9]{12}:(user|role|assumed-role)/[A-Za-z0-9+=,.@_-]{1,20}",
            action in "ecr(-public)?:[A-Z][A-Za-z]{2,30}",
            resource in "(\\*|arn:aws:ecr:[a-z]{2}-[a-z]+-[0-9]:[0-9]{12}:repository/[a-z0-9/._-]{2,30})",
            tail in prop_oneof![
                Just(("because no identity-based policy allows the X action", Cause::NoIdentityPolicy)),
                Just(("with an explicit deny in a service control policy", Cause::ExplicitDeny(PolicyKind::ServiceControl))),
                Just(("because no resource-based policy allows the X action", Cause::NoResourcePolicy)),
            ],
            prefix in "(denied: )?",
        ) {
            let text = format!("{prefix}User: {principal} is not authorized to perform: {action} on resource: {resource} {}", tail.0);
            let denied = parse(&text).expect("a refusal");
            prop_assert_eq!(&denied.principal, &Some(principal));
            prop_assert_eq!(&denied.action, &action);
            prop_assert_eq!(&denied.resource, &Some(resource));
            prop_assert_eq!(denied.cause, tail.1);
        }
    }
}

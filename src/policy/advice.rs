//! What `ecr-push-action policy` says: one named constructor per problem, each written once, so that
//! the flags, the readers and the checks read as logic. An error carries its stable `E-POLICY-…` code
//! (`diagnostic.rs`; the README lists them); the warnings and `--check`'s hints are text beside the
//! document, with no code, for they stop nothing.

use std::fmt::Display;

use anyhow::Error;
use serde_json::Value;

use crate::diagnostic::error;

// The flags of `policy` and of `policy simulate`; `usage` is the subcommand's own.

pub fn unknown_flag(flag: &str, usage: &str) -> Error {
    error(
        "E-POLICY-UNKNOWN-FLAG",
        format!("unknown option `{flag}`\n{usage}"),
    )
}

pub fn flag_needs_value(flag: &str, usage: &str) -> Error {
    error(
        "E-POLICY-FLAG-VALUE",
        format!("`{flag}` needs a value\n{usage}"),
    )
}

pub fn bad_format(format: &str, usage: &str) -> Error {
    error(
        "E-POLICY-FORMAT",
        format!("`--format {format}`: use text or json\n{usage}"),
    )
}

pub fn bad_persona(persona: &str) -> Error {
    error(
        "E-POLICY-PERSONA",
        format!("`--persona {persona}`: use pusher, puller, assembler or scanner"),
    )
}

pub fn value_without_flag(value: &str, usage: &str) -> Error {
    error(
        "E-POLICY-STRAY-VALUE",
        format!("`{value}`: a value without a flag before it\n{usage}"),
    )
}

pub fn one_value_only(flag: &str, usage: &str) -> Error {
    error(
        "E-POLICY-ONE-VALUE",
        format!("`{flag}` takes one value\n{usage}"),
    )
}

pub fn flag_required(flag: &str, usage: &str) -> Error {
    error(
        "E-POLICY-FLAG-REQUIRED",
        format!("`{flag}` is required\n{usage}"),
    )
}

/// As `SimulateCustomPolicy`: the resource policy's `Principal` needs a caller to match.
pub fn caller_needed() -> Error {
    error(
        "E-POLICY-CALLER-NEEDED",
        "`--resource-policy` needs `--caller-arn`: the caller its Principal is matched with",
    )
}

// `--trust`: whose workflows may assume the role.

pub fn bad_trust_subject(subject: &str) -> Error {
    error(
        "E-POLICY-TRUST-SUBJECT",
        format!(
            "`--trust {subject}`: use github:OWNER/REPO, optionally followed by :ref:refs/heads/BRANCH, \
             :environment:NAME or :pull_request"
        ),
    )
}

pub fn wildcard_owner_or_repository(subject: &str) -> Error {
    error(
        "E-POLICY-TRUST-WILDCARD",
        format!(
            "`--trust {subject}`: a wildcard in the owner or repository name would let other repositories assume the \
             role (`*/*` is every repository on GitHub, `octo*` any look-alike organisation). Name the owner and \
             the repository exactly; wildcards are for the branch or environment part."
        ),
    )
}

pub fn trust_subject_needed() -> Error {
    error(
        "E-POLICY-TRUST-SUBJECT-NEEDED",
        "`--check` of a trust policy needs the workflow it should accept: `--trust \
         github:OWNER/REPO[:ref:refs/heads/BRANCH|:environment:NAME|:pull_request]`.",
    )
}

pub fn trust_and_identity_policies() -> Error {
    error(
        "E-POLICY-MIXED-DOCUMENTS",
        "`--check`: give either trust policies or identity policies, not both at once",
    )
}

/// `--signing-profile registry`: a destination registry's signing configuration could not be read.
pub fn signing_configuration_unreadable(registry: &str, why: &str) -> Error {
    error(
        "E-POLICY-SIGNING-UNREADABLE",
        format!(
            "`--signing-profile registry`: the signing configuration of the registry in {registry} \
             could not be read: {why}\nGrant ecr:GetSigningConfiguration (Resource \"*\") to these \
             credentials, or name the profiles: `--signing-profile ARN[,ARN...]`."
        ),
    )
}

/// `--signing-profile registry`: no rule of the registry's signing configuration covers the repository.
pub fn no_signing_rule(registry: &str, repository: &str) -> String {
    format!(
        "no rule of the signing configuration of the registry in {registry} covers {repository}: \
         ECR does not sign its pushes, and the policy has nothing for signing there"
    )
}

// Reading the documents: `what` names the flag and value, or the simulator's list entry.

pub fn unreadable(what: &str, err: &std::io::Error) -> Error {
    error("E-POLICY-UNREADABLE", format!("{what}: {err}"))
}

pub fn not_json(what: &str, err: &serde_json::Error) -> Error {
    error(
        "E-POLICY-NOT-JSON",
        format!(
            "{what} is not a JSON policy document (line {}, column {}): {err}",
            err.line(),
            err.column()
        ),
    )
}

pub fn no_trust_policy(source: &str) -> Error {
    error(
        "E-POLICY-NO-TRUST-POLICY",
        format!("`--check {source}`: a user has no trust policy; check a role's"),
    )
}

pub fn no_identity_policies(source: &str) -> Error {
    error(
        "E-POLICY-NO-IDENTITY-POLICIES",
        format!(
            "`--check {source}` has no identity policies, inline or attached: it may call nothing"
        ),
    )
}

/// IAM refuses an identity policy with a principal ("IAM JSON policy elements: Principal").
pub fn principal_in_identity_policy(source: &str, statement: usize) -> Error {
    error(
        "E-POLICY-PRINCIPAL-IN-IDENTITY",
        format!(
            "{source}: statement {statement}: an identity policy's statement cannot have a `Principal` or \
             `NotPrincipal` (give a resource policy with --resource-policy)"
        ),
    )
}

/// IAM refuses a resource policy without a principal.
pub fn principal_missing(source: &str, statement: usize) -> Error {
    error(
        "E-POLICY-PRINCIPAL-MISSING",
        format!(
            "{source}: statement {statement}: a resource policy's statement must name a `Principal` or \
             `NotPrincipal`"
        ),
    )
}

// The shape IAM requires of a policy document (`statement` counts from 1).

pub fn no_statement() -> Error {
    error(
        "E-POLICY-NO-STATEMENT",
        "no `Statement`: it is not an IAM policy document",
    )
}

pub fn statement_not_listed() -> Error {
    error(
        "E-POLICY-STATEMENT-LIST",
        "`Statement` must be a statement or a list of them",
    )
}

pub fn statement_not_object(statement: usize) -> Error {
    error(
        "E-POLICY-STATEMENT-OBJECT",
        format!("statement {statement}: must be an object"),
    )
}

pub fn bad_effect(statement: usize) -> Error {
    error(
        "E-POLICY-EFFECT",
        format!("statement {statement}: `Effect` must be `Allow` or `Deny`"),
    )
}

pub fn action_element(statement: usize) -> Error {
    error(
        "E-POLICY-ACTION-ELEMENT",
        format!("statement {statement}: give exactly one of `Action` and `NotAction`"),
    )
}

pub fn resource_element(statement: usize) -> Error {
    error(
        "E-POLICY-RESOURCE-ELEMENT",
        format!("statement {statement}: give at most one of `Resource` and `NotResource`"),
    )
}

pub fn condition_not_object(statement: usize) -> Error {
    error(
        "E-POLICY-CONDITION-ELEMENT",
        format!("statement {statement}: `Condition` must be an object of operators"),
    )
}

/// The operators are those of the IAM User Guide's "IAM JSON policy elements: Condition operators".
pub fn unknown_condition_operator(statement: usize, operator: &str) -> Error {
    error(
        "E-POLICY-CONDITION-OPERATOR",
        format!("statement {statement}: `{operator}` is not an IAM condition operator"),
    )
}

pub fn condition_keys_not_object(statement: usize, operator: &str) -> Error {
    error(
        "E-POLICY-CONDITION-KEYS",
        format!("statement {statement}: `{operator}` must map condition keys to values"),
    )
}

pub fn condition_value(statement: usize, operator: &str, key: &str) -> Error {
    error(
        "E-POLICY-CONDITION-VALUE",
        format!(
            "statement {statement}: `{operator}` → `{key}`: a value must be a string, number or boolean, or a \
             list of them"
        ),
    )
}

// `policy simulate --context-entries`.

pub fn context_not_json(err: &serde_json::Error) -> Error {
    error(
        "E-POLICY-CONTEXT-NOT-JSON",
        format!("`--context-entries`: not JSON: {err}"),
    )
}

pub fn context_shorthand(text: &str) -> Error {
    error(
        "E-POLICY-CONTEXT-SHORTHAND",
        format!(
            "`--context-entries {text}`: expected ContextKeyName=…,ContextKeyValues=…,ContextKeyType=…"
        ),
    )
}

pub fn context_key_name_missing(entry: &Value) -> Error {
    error(
        "E-POLICY-CONTEXT-KEY-NAME",
        format!("`--context-entries`: an entry without ContextKeyName: {entry}"),
    )
}

pub fn context_one_value(key: &str, kind: &str) -> Error {
    error(
        "E-POLICY-CONTEXT-ONE-VALUE",
        format!(
            "`--context-entries`: {key} is of type {kind}, which takes one value; use {kind}List"
        ),
    )
}

pub fn context_type(key: &str, kind: &str) -> Error {
    error(
        "E-POLICY-CONTEXT-TYPE",
        format!(
            "`--context-entries`: ContextKeyType `{kind}` of {key}: use string, stringList, numeric, numericList, \
             boolean, booleanList, ip, ipList, binary, binaryList, date or dateList"
        ),
    )
}

pub fn context_value(key: &str, scalar: &str, value: &str) -> Error {
    error(
        "E-POLICY-CONTEXT-VALUE",
        format!("`--context-entries`: `{value}` is not a {scalar} value for {key}"),
    )
}

// `--check role:NAME` / `user:NAME`: IAM's answers.

pub fn iam_call_failed(action: &str, name: &str, text: &str) -> Error {
    error(
        "E-POLICY-IAM-READ",
        format!(
            "`--check`: {action} for `{name}` failed: {text}. Reading a principal's policies needs read-only IAM \
             permissions (iam:GetRole, iam:ListRolePolicies, iam:GetRolePolicy, iam:ListAttachedRolePolicies, \
             iam:GetPolicy, iam:GetPolicyVersion, or the user equivalents) and AWS credentials in the environment."
        ),
    )
}

pub fn iam_without_entity(principal: impl Display) -> Error {
    error(
        "E-POLICY-IAM-NO-ENTITY",
        format!("IAM answered for {principal} without describing it"),
    )
}

pub fn iam_without_default_version(arn: &str) -> Error {
    error(
        "E-POLICY-IAM-NO-VERSION",
        format!("iam:GetPolicy on {arn} named no default version"),
    )
}

pub fn iam_document_not_json(name: &str, err: &serde_json::Error) -> Error {
    error(
        "E-POLICY-IAM-NOT-JSON",
        format!("{name}: IAM returned a policy document that is not JSON: {err}"),
    )
}

// Warnings beside the document.

/// A GitHub Enterprise Server's tokens need an identity provider of their own in the account.
pub fn enterprise_provider(issuer: &str, audience: &str) -> String {
    format!(
        "This trust policy is for the tokens of https://{issuer} (GitHub Enterprise Server). The account \
         needs that identity provider once: aws iam create-open-id-connect-provider --url https://{issuer} \
         --client-id-list {audience}"
    )
}

pub fn every_workflow_trusted(repository: &str) -> String {
    format!(
        "The trust policy lets every workflow run of {repository} assume the role: any branch or tag, any \
         environment, and pull requests (including those from forks, when fork workflows get ID tokens). Prefer \
         a branch (`:ref:refs/heads/main`) or an environment (`:environment:prod`)."
    )
}

pub fn repository_policy_unread(why: &str) -> String {
    format!(
        "the registry is in another account and its repository policy could not be read ({why}): \
         the verdicts on the repository depend on it; give it with --repository-policy FILE"
    )
}

pub fn repository_tags_unread(why: &str) -> String {
    format!(
        "the repository's tags could not be read ({why}): the verdicts on its tags depend on them"
    )
}

/// Why ECR could not be read: the call, what it was on, and AWS's answer.
pub fn ecr_call_failed(action: &str, on: &str, text: &str) -> String {
    format!("{action} on {on}: {text}")
}

// `--check`'s warnings on what a policy allows beyond the need (`beyond.rs`).

pub fn every_action_of_service(statement: &str, action: &str, needed: usize) -> String {
    format!(
        "statement {statement}: `{action}` allows every action of the service; the configuration needs \
         {needed} of them"
    )
}

pub fn not_an_action(statement: &str, action: &str, service: &str) -> String {
    format!(
        "statement {statement}: `{action}` is not an action of {service} (a typo, or one that exists only in \
         the other ECR service)"
    )
}

pub fn never_called(statement: &str, action: &str) -> String {
    format!("statement {statement}: `{action}` is allowed but this configuration never calls it")
}

pub fn arn_of_another_service(
    statement: &str,
    action: &str,
    resource: &str,
    service: &str,
) -> String {
    format!(
        "statement {statement}: `{action}` on `{resource}`: that ARN is not of {service}, so it never matches"
    )
}

pub fn repository_actions_on_star(statement: &str) -> String {
    format!(
        "statement {statement}: repository actions on `\"*\"` reach every repository; name the repository's ARN"
    )
}

// `--check`'s hints: why a need fails where a mistake is common, and what to do.

/// What a cross-account verdict depends on when the repository's policy was not given.
pub const UNREAD_REPOSITORY_POLICY: &str =
    "the repository policy of the other account (give it with --repository-policy FILE)";

pub fn token_is_account_wide(action: &str) -> String {
    format!(
        "the registry token is account-wide: IAM grants `{action}` only on `\"*\"`, never on a repository ARN"
    )
}

/// IAM User Guide, "Cross-account policy evaluation logic".
pub fn repository_policy_must_allow(account: &str) -> String {
    format!(
        "the identity policy allows it, but the registry is in account {account}: its repository policy must \
         allow the caller too (IAM User Guide, \"Cross-account policy evaluation logic\")"
    )
}

/// What the request carries for a key a denying statement names: its values, or `None` when absent.
pub fn denies_on_key(statement: &str, key: &str, carried: Option<&[String]>) -> String {
    let value = match carried {
        Some(values) => format!("the request has {}", values.join(", ")),
        None => "the request does not carry it".to_owned(),
    };
    format!("statement {statement} denies on `{key}`: {value}")
}

pub fn request_tag_sent_by_input(tag: &str) -> String {
    format!(" (the input `repository-tags: {tag}=…` sends it)")
}

/// AWS global condition context keys, aws:RequestTag: present only in requests that send tags; a
/// negated operator holds on an absent key.
pub fn request_tag_never_sent(action: &str, key: &str) -> String {
    format!(
        ": {action} never sends tags, so this statement denies every such request; limit it to \
         the actions that tag (ecr:CreateRepository, ecr:TagResource), or add \
         `\"Null\": {{\"{key}\": \"false\"}}` so it only judges requests that send the tag"
    )
}

pub fn denied_without_condition(statement: &str) -> String {
    format!("statement {statement} denies it without a condition")
}

pub fn created_repository_has_no_tags(statement: &str, key: &str, tag: &str) -> String {
    format!(
        "statement {statement}: a repository being created has no resource tags yet, so `{key}` never matches \
         CreateRepository: require `aws:RequestTag/{tag}` instead, which the input `repository-tags` sends \
         (e.g. `repository-tags: {tag}=…`)"
    )
}

pub fn not_a_condition_key(statement: &str, key: &str, action: &str) -> String {
    format!(
        "statement {statement}: `{key}` is not a condition key of {action} (AWS's service authorization \
         reference), so this statement never allows it"
    )
}

pub fn request_tag_required(statement: &str, tag: &str) -> String {
    format!(
        "statement {statement}: it requires the request tag `{tag}`: set it with `repository-tags: {tag}=…` (the \
         action sends the repository tags when it creates the repository)"
    )
}

/// On GitHub Enterprise Server the token comes from the server's own provider, not github.com's.
pub fn provider_not_named(provider: &str) -> String {
    format!(
        "no statement names the provider {provider}: the token comes from that issuer (on GitHub \
         Enterprise Server it is the server's own, not github.com's)"
    )
}

pub fn subject_in_another_case(sub: &str) -> String {
    format!("the subject `{sub}` appears in another case: the `sub` condition is case-sensitive")
}

// The reports' own sentences.

/// The last word of `--check`'s report: whether the policy allows every need.
pub fn conclusion(complete: bool) -> &'static str {
    if complete {
        "The policy allows everything this configuration needs."
    } else {
        "The policy does not allow everything this configuration needs."
    }
}

pub const ADD_TO_IDENTITY_POLICY: &str = "Statements to add to the identity policy:";

pub const ADD_TO_REPOSITORY_POLICY: &str = "Statements to add to the repository policy (the registry is \
     in another account: its policy must allow the caller too):";

/// `--check` of a trust policy: whether the workflow's token is accepted (`said`, a [`verdict`]).
pub fn token_verdict(sub: &str, audience: &str, provider: &str, said: &str) -> String {
    format!("A GitHub token with sub `{sub}` and aud `{audience}` from {provider}: {said}.")
}

pub const ACCEPTING_TRUST_POLICY: &str = "A trust policy that accepts it:";

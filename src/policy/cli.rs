//! `ecr-push-action policy …`: its flags (the inputs they set, whose permissions, `--check`'s
//! sources) and what each mode prints — the generated policy, a trust policy, `--check`'s report, or
//! `simulate`'s answer.

use anyhow::Result;

use super::trust::{self, TrustSubject, trust_policy};
use super::{Persona, advice, check, evaluate, identity_policy, simulate, sources};
use crate::aws::oidc::{ISSUER, issuer_name};
use crate::inputs::{self, PolicyScope};
use crate::partition::{account_of, repository_arn};

pub const USAGE: &str = "\
usage: ecr-push-action policy [--repository NAME] [--region REGION] [--account ID]
                              [--create-repository true|false|template] [--destinations \"REGION|HOST ...\"]
                              [--signing-profile ARN[,ARN...]|registry] [--scan off|wait|start] [--mount-from \"NAME ...\"]
                              [--persona pusher|puller|assembler|scanner]
                              [--trust github:OWNER/REPO[:ref:refs/heads/BRANCH|:environment:NAME|:pull_request]]
                              [--audience AUD] [--issuer HOST/_services/token]
                              [--check FILE|-|role:NAME|user:NAME ... [--format text|json]
                               [--boundary FILE] [--repository-policy FILE] [--caller-arn ARN]]
       ecr-push-action policy simulate --help   (an offline `aws iam simulate-custom-policy`)
Prints the least-privilege IAM identity policy for the action's configuration (or, with --trust, the
role's trust policy for GitHub's OIDC); with --check, says whether existing identity policies allow
what the configuration needs (exit 0: they do, 1: they do not, 2: unreadable input). Flags override the INPUT_* variables the action reads.
--signing-profile registry reads each destination registry's signing configuration (AWS credentials and
ecr:GetSigningConfiguration needed) and takes the profiles of the rules that match the repository.";

/// What `ecr-push-action policy …` prints: the document, and warnings about what it allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printed {
    pub document: String,
    pub warnings: Vec<String>,
    /// `--check` found the policy insufficient (exit 1).
    pub insufficient: bool,
}

/// `ecr-push-action policy …`: the policy document for the configuration in `vars` (the environment)
/// and `args` (the flags after `policy`), as pretty JSON.
pub fn command(
    args: &[String],
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<Printed> {
    if args.first().map(String::as_str) == Some("simulate") {
        return Ok(Printed {
            document: simulate::command(&args[1..])?,
            warnings: Vec::new(),
            insufficient: false,
        });
    }
    let Some(flags) = Flags::parse(args)? else {
        return Ok(Printed {
            document: USAGE.to_owned(),
            warnings: Vec::new(),
            insufficient: false,
        });
    };
    // Pushed after the environment's, the flags' variables win.
    let mut scope = inputs::policy_scope(vars.into_iter().chain(flags.inputs.clone()))?;
    let mut warnings = Vec::new();
    if flags.signing_from_registry && scope.spec.registry_type == inputs::RegistryType::Private {
        let (profiles, unsigned) = sources::registry_signing_profiles(&scope.spec)?;
        scope.spec.signing.profiles = profiles;
        warnings.extend(unsigned);
    }
    // GitHub Enterprise Server issues its own tokens: `--issuer`, else from GITHUB_SERVER_URL.
    let issuer = flags
        .issuer
        .as_deref()
        .map_or_else(|| scope.issuer.clone(), issuer_name);
    if !flags.check.is_empty() {
        let mut printed = check_command(&flags, &scope, &issuer)?;
        printed.warnings.splice(0..0, warnings);
        return Ok(printed);
    }
    warnings.extend(flags.trust.iter().filter_map(TrustSubject::warning));
    if flags.trust.is_some() && issuer != ISSUER {
        warnings.push(advice::enterprise_provider(&issuer, &scope.audience));
    }
    let document = match flags.trust {
        Some(subject) => trust_policy(
            &scope.spec.region,
            &scope.account,
            &subject,
            &scope.audience,
            &issuer,
        ),
        None => identity_policy(&scope, flags.persona),
    };
    Ok(Printed {
        document: serde_json::to_string_pretty(&document)? + "\n",
        warnings,
        insufficient: false,
    })
}

/// `--check`: the policies read, judged as trust policies or as identity policies (with boundaries
/// and the repository policy).
fn check_command(flags: &Flags, scope: &PolicyScope, issuer: &str) -> Result<Printed> {
    let wanted = sources::Wanted {
        check: &flags.check,
        boundary: &flags.boundary,
        repository_policy: flags.repository_policy.as_deref(),
        caller: flags.caller.as_deref(),
        trust: flags.trust.is_some(),
    };
    let mut read = sources::read(&wanted, &scope.spec.region)?;
    if trust_policies(&read.documents)? {
        // `--trust`, else (in a workflow) the subject the runner's variables give.
        let subject = flags
            .trust
            .clone()
            .or_else(|| scope.workflow_subject.clone().map(TrustSubject))
            .ok_or_else(advice::trust_subject_needed)?;
        let (document, accepted) = trust::report(&read.documents, scope, &subject, issuer);
        return Ok(Printed {
            document,
            warnings: Vec::new(),
            insufficient: !accepted,
        });
    }
    let mut warnings = Vec::new();
    read_repository_policy(&mut read, scope, &mut warnings);
    let tags = read_repository_tags(&read, scope, &mut warnings);
    let subject = check::Subject {
        identity: &read.documents,
        boundary: read.boundary.as_deref(),
        repository_policy: read.repository_policy.as_ref(),
        caller: read.caller.as_deref(),
        existing_tags: tags.as_deref(),
    };
    let report = check::check(&subject, &identity_policy(scope, flags.persona), scope);
    Ok(Printed {
        document: if flags.json {
            check::json(&report)
        } else {
            check::text(&report)
        },
        warnings,
        insufficient: !report.sufficient(),
    })
}

/// Whether the documents are trust policies (their statements name a principal); a mix is refused.
fn trust_policies(documents: &[evaluate::Policy]) -> Result<bool> {
    let trust: Vec<bool> = documents
        .iter()
        .map(|d| {
            evaluate::listed(&d.document["Statement"])
                .iter()
                .any(|s| s.get("Principal").is_some())
        })
        .collect();
    if trust.iter().any(|t| *t) && !trust.iter().all(|t| *t) {
        return Err(advice::trust_and_identity_policies());
    }
    Ok(trust.iter().any(|t| *t))
}

/// With credentials at hand and the registry in another account than the caller's, its repository
/// policy read from ECR when `--repository-policy` did not give it.
fn read_repository_policy(
    read: &mut sources::Read,
    scope: &PolicyScope,
    warnings: &mut Vec<String>,
) {
    let other_account = read
        .caller
        .as_deref()
        .and_then(account_of)
        .is_some_and(|a| a != scope.account);
    if !other_account || read.repository_policy.is_some() || !read.with_credentials {
        return;
    }
    let repository = scope.spec.repository.to_string();
    match sources::repository_policy(&scope.spec.region, &scope.account, &repository) {
        Ok(policy) => read.repository_policy = Some(policy),
        Err(why) => warnings.push(advice::repository_policy_unread(&why)),
    }
}

/// With credentials at hand, the tags the repository has now, when a condition names them: a
/// condition on them is then decided by them.
fn read_repository_tags(
    read: &sources::Read,
    scope: &PolicyScope,
    warnings: &mut Vec<String>,
) -> Option<Vec<(String, String)>> {
    let subject = check::Subject {
        identity: &read.documents,
        boundary: read.boundary.as_deref(),
        repository_policy: read.repository_policy.as_ref(),
        ..check::Subject::default()
    };
    let on_tags = check::condition_keys(&subject)
        .iter()
        .any(|k| k.contains(":resourcetag/"));
    if !on_tags || !read.with_credentials || scope.spec.registry_type.is_public() {
        return None;
    }
    let repository = scope.spec.repository.to_string();
    let arn = repository_arn(&scope.spec.region, &scope.account, &repository);
    sources::repository_tags(&scope.spec.region, &arn)
        .map_err(|why| warnings.push(advice::repository_tags_unread(&why)))
        .ok()
}

/// The flags after `policy`: the inputs they set, whose permissions, and whose trust.
struct Flags {
    /// `INPUT_*` variables, as the action reads them.
    inputs: Vec<(String, String)>,
    persona: Persona,
    trust: Option<TrustSubject>,
    /// `--issuer`: the token issuer, for a GitHub Enterprise Server.
    issuer: Option<String>,
    /// `--check FILE` (repeatable, `-` for standard input): policies to check instead of printing one.
    check: Vec<String>,
    /// `--format json` for `--check`.
    json: bool,
    /// `--boundary FILE` (repeatable): the permissions boundary `--check` also applies.
    boundary: Vec<String>,
    /// `--repository-policy FILE`: the repository's policy, for a registry in another account.
    repository_policy: Option<String>,
    /// `--caller-arn ARN`: the principal whose policies `--check` reads.
    caller: Option<String>,
    /// `--signing-profile registry`: the profiles from the registries' signing configurations.
    signing_from_registry: bool,
}

impl Flags {
    /// `None` for `--help`.
    fn parse(args: &[String]) -> Result<Option<Flags>> {
        let mut flags = Flags {
            inputs: Vec::new(),
            persona: Persona::Pusher,
            trust: None,
            issuer: None,
            check: Vec::new(),
            json: false,
            boundary: Vec::new(),
            repository_policy: None,
            caller: None,
            signing_from_registry: false,
        };
        let mut rest = args.iter();
        while let Some(flag) = rest.next() {
            if flag == "--help" || flag == "-h" {
                return Ok(None);
            }
            let (name, value) = match flag.split_once('=') {
                Some((name, value)) => (name, value.to_owned()),
                None => (
                    flag.as_str(),
                    rest.next()
                        .cloned()
                        .ok_or_else(|| advice::flag_needs_value(flag, USAGE))?,
                ),
            };
            flags.set(name, value)?;
        }
        Ok(Some(flags))
    }

    /// One flag: one of the subcommand's own, or an input it sets.
    fn set(&mut self, name: &str, value: String) -> Result<()> {
        match name {
            "--persona" => self.persona = persona(&value)?,
            "--format" => {
                self.json = match value.as_str() {
                    "json" => true,
                    "text" => false,
                    other => return Err(advice::bad_format(other, USAGE)),
                };
            }
            "--trust" => self.trust = Some(value.parse()?),
            "--check" => self.check.push(value),
            "--boundary" => self.boundary.push(value),
            "--issuer" => self.issuer = Some(value),
            "--repository-policy" => self.repository_policy = Some(value),
            "--caller-arn" => self.caller = Some(value),
            "--signing-profile" if value == "registry" => self.signing_from_registry = true,
            other => {
                let input = match other {
                    "--repository" => "INPUT_REPOSITORY",
                    "--region" => "INPUT_AWS-REGION",
                    "--account" => "INPUT_REGISTRY-ID",
                    "--destinations" => "INPUT_DESTINATIONS",
                    "--create-repository" => "INPUT_CREATE-REPOSITORY",
                    "--audience" => "INPUT_AUDIENCE",
                    "--signing-profile" => "INPUT_SIGNING-PROFILE",
                    "--scan" => "INPUT_SCAN",
                    "--mount-from" => "INPUT_MOUNT-FROM",
                    _ => return Err(advice::unknown_flag(other, USAGE)),
                };
                self.inputs.push((input.to_owned(), value));
            }
        }
        Ok(())
    }
}

/// `--persona NAME`: whose permissions the policy describes.
fn persona(name: &str) -> Result<Persona> {
    match name {
        "pusher" => Ok(Persona::Pusher),
        "puller" => Ok(Persona::Puller),
        "scanner" => Ok(Persona::Scanner),
        "assembler" => Ok(Persona::Assembler),
        other => Err(advice::bad_persona(other)),
    }
}

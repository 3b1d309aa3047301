//! Each destination's repository made ready for what this run puts there: found, or created when
//! allowed ([`ensure`]); its settings brought to the inputs ([`reconcile`]); and, under
//! `if-tag-exists`, which tags to push ([`plan_tags`]). The same steps in the same order for private
//! ECR and ECR Public; what differs is a call on [`Registry`], what to do with an answer is decided in
//! [`plan`](super::plan) (pure), and what the user is told is written in [`advice`](super::advice).

use std::future::Future;

use anyhow::Result;

use super::advice::{self, Change};
use super::client::Registry;
use super::login::{LoggedIn, step_title};
use super::plan::{self, Decision, Held, Identity, Mutability, Plan};
use super::private;
use super::repository::{Created, Described, Lookup, Repository, Tagged, private_location};
use super::signing;
use crate::aws::token::RegistryLogin;
use crate::inputs::{Config, Document, IfTagExists, RegistryType, Settings, Tag};
use crate::{github, step};

/// Where the images go, ready to push: the registry login, the repository and which tags to push.
pub struct Destination {
    pub kind: RegistryType,
    pub login: RegistryLogin,
    /// `<registry host>/<repository>` (ECR Public: `public.ecr.aws/<alias>/<repository>`).
    pub repository_uri: String,
    pub name: String,
    /// The repository's ARN, for the doctor's explanation of a registry refusal.
    pub arn: String,
    /// This run created the repository.
    pub created: bool,
    /// ECR creates the repository on push (`create-repository: template`).
    pub created_on_push: bool,
    pub plan: Plan,
    /// ECR's managed signing covers the repository: who signs, and whether it is required.
    pub signing: Option<signing::Plan>,
    /// The private registry's client, for what follows the push (the scan gate); `None` for ECR
    /// Public.
    pub ecr: Option<aws_sdk_ecr::Client>,
}

/// Every destination logged in and identified (what the run puts there: the local image's identity,
/// or the index `assemble` made from what the registry holds) made ready, in the order given; each
/// `Err` says why that destination cannot be pushed to. The run stops (`Err`) when a tag is refused:
/// refusals hold for the image, not one registry, and they stop it before anything is pushed
/// anywhere. Destinations are worked on at once, their logs held and printed in the order given.
pub async fn prepare(
    ready: Vec<Result<(LoggedIn<'_>, Identity)>>,
) -> Result<Vec<Result<Destination>>> {
    let several = ready.len();
    let mut prepared: Vec<Result<Destination>> =
        github::at_once(ready.into_iter().map(|ready| async move {
            let (logged_in, identity) = ready?;
            let LoggedIn {
                config,
                registry,
                login,
            } = logged_in;
            let _step = step::enter(&step_title(registry.kind().group(), config, several));
            prepare_one(&registry, login, config, &identity).await
        }))
        .await;
    let refusal = |r: &Result<Destination>| r.as_ref().is_err_and(advice::refuses_tag);
    if let Some(at) = prepared.iter().position(refusal)
        && let Err(refused) = prepared.swap_remove(at)
    {
        return Err(refused);
    }
    Ok(prepared)
}

/// Makes sure the repository exists and is set up as asked, and plans the tags; meanwhile (it needs
/// only the repository's name) learns who signs its pushes — one API round trip less before the push.
/// The signing lines are logged after the repository's, and not at all when the repository fails.
async fn prepare_one(
    registry: &Registry<'_>,
    login: RegistryLogin,
    config: &Config,
    identity: &Identity,
) -> Result<Destination> {
    let signing = Box::pin(async {
        match registry {
            Registry::Private(ecr) => signing::plan(ecr, config).await,
            Registry::Public(..) => None,
        }
    });
    let repository = Box::pin(ready_repository(registry, login, config, identity));
    let (destination, signing) = github::both(repository, signing).await;
    let mut destination = destination?;
    if let Registry::Private(ecr) = registry {
        destination.signing = signing;
        destination.ecr = Some(ecr.clone());
    }
    Ok(destination)
}

async fn ready_repository(
    registry: &Registry<'_>,
    login: RegistryLogin,
    config: &Config,
    identity: &Identity,
) -> Result<Destination> {
    let repository = ensure(registry, config).await?;
    registry_scanning(registry, config).await;
    // ECR Public's URI comes from the API: missing, it stops the run before any setting is changed.
    let mut destination = registry
        .kind()
        .destination(login, &repository, &config.region)?;
    match &repository.described {
        Some(described) => reconcile(registry, &repository, described, &config.settings).await?,
        None if config.settings.is_empty() || repository.created_on_push => {}
        None => return Err(advice::settings_unreadable(&repository.name)),
    }
    let described = repository.described.as_ref();
    destination.plan = plan_tags(registry, config, described, &destination, identity).await?;
    Ok(destination)
}

/// With `scan-on-push`, whether the registry's scanning configuration leaves it any effect: a warning
/// when it does not; one line when it cannot be read. The API reads only the caller's own registry,
/// so with `registry-id` nothing is checked.
async fn registry_scanning(registry: &Registry<'_>, config: &Config) {
    let (Registry::Private(ecr), Some(_), None) =
        (registry, config.settings.scan_on_push, &config.registry_id)
    else {
        return;
    };
    match private::registry_scanning(ecr).await {
        Ok((scan_type, rules)) if plan::registry_overrides_scan_on_push(&scan_type, rules) => {
            let name = config.repository.as_str();
            github::warning(&advice::registry_scanning_overrides(
                name, &scan_type, rules,
            ));
        }
        Ok(_) => {}
        Err(why) => github::info(&advice::registry_scanning_unchecked(&why)),
    }
}

/// Makes sure the repository exists. A concurrent job that creates it first is not an error, and a
/// pusher that may not describe or create repositories still gets to push into one that exists (with
/// one warning).
async fn ensure(registry: &Registry<'_>, config: &Config) -> Result<Repository> {
    let (kind, name, id) = (
        registry.kind(),
        config.repository.as_str(),
        config.registry_id.as_deref(),
    );
    let unchecked = || Repository::new(name, false, None);
    let describe_denied = match registry.describe(config).await? {
        Lookup::Found(found) => {
            github::info(&advice::exists(kind, name, id, found.uri.as_deref()));
            return Ok(Repository::new(name, false, Some(found)));
        }
        Lookup::Missing => match missing(registry, config).await? {
            Some(created_on_push) => return Ok(created_on_push),
            None => None,
        },
        Lookup::Denied(_) if !config.create_repository => {
            github::info(&advice::not_checking(name));
            return Ok(unchecked());
        }
        Lookup::Denied(doctor) => Some(doctor),
    };
    // The repository is missing, or we may not look: creating it settles both.
    let cannot_check = |outcome: &str| {
        let doctor = describe_denied.as_deref().unwrap_or_default();
        github::warning(&advice::cannot_check(doctor, outcome));
    };
    match registry.create(config).await? {
        Created::Made(described) => {
            let uri = described.as_ref().and_then(|d| d.uri.as_deref());
            github::info(&advice::created(kind, name, id, uri));
            if describe_denied.is_some() {
                cannot_check("It did not exist and was created.");
            }
            // Without ECR's description it counts as found, not made, as it always did.
            Ok(described.map_or_else(unchecked, |d| Repository::new(name, true, Some(d))))
        }
        Created::AlreadyExists if describe_denied.is_some() => {
            cannot_check("It exists already.");
            Ok(unchecked())
        }
        Created::AlreadyExists => {
            github::info(&advice::created_concurrently(kind, name));
            match (registry.describe(config).await?, kind) {
                (Lookup::Found(found), _) => Ok(Repository::new(name, false, Some(found))),
                (_, RegistryType::Private) => Ok(unchecked()),
                (_, RegistryType::Public) => Err(advice::public_vanished(name)),
            }
        }
        // A pusher given only push permissions on a repository made beforehand.
        Created::Denied(_) if describe_denied.is_some() => {
            cannot_check("ecr:CreateRepository is not allowed either, so it must exist already.");
            Ok(unchecked())
        }
        Created::Denied(doctor) => Err(advice::create_denied(name, id, &doctor)),
    }
}

/// The repository is missing: ECR's to create on push (`Some`), or the action's to create (`None`);
/// `Err` when neither may.
async fn missing(registry: &Registry<'_>, config: &Config) -> Result<Option<Repository>> {
    let (name, id) = (config.repository.as_str(), config.registry_id.as_deref());
    if config.create_on_push {
        let on_push = on_push(registry, config, true).await?;
        return on_push
            .map(Some)
            .ok_or_else(|| advice::no_template(name, id));
    }
    if !config.create_repository {
        return Err(advice::missing(registry.kind(), name, id));
    }
    on_push(registry, config, false).await
}

/// The repository is missing: is it ECR's to create on push, from the `CREATE_ON_PUSH` repository
/// creation template that covers it? Then the action creates nothing and applies no setting (the next
/// run reconciles them), and a setting input that contradicts the template is a warning. `None`: no
/// template covers it. With `create-repository: template` (`required`) templates that cannot be read
/// are trusted to cover it (one line says so); otherwise they count as none, and the action creates
/// the repository itself as always.
async fn on_push(
    registry: &Registry<'_>,
    config: &Config,
    required: bool,
) -> Result<Option<Repository>> {
    let name = config.repository.as_str();
    let mut repository = Repository::new(name, false, None);
    repository.created_on_push = true;
    let Registry::Private(ecr) = registry else {
        return Ok(required.then_some(repository));
    };
    let templates = match private::creation_templates(ecr, config).await {
        Ok(templates) => templates,
        Err(why) if required => {
            github::info(&advice::templates_unreadable(&why));
            github::info(&advice::created_on_push(name, None));
            return Ok(Some(repository));
        }
        Err(_) => return Ok(None),
    };
    let Some(template) = plan::covering_template(name, &templates) else {
        return Ok(None);
    };
    github::info(&advice::created_on_push(name, Some(&template.prefix)));
    for (input, asked, given) in plan::contradicting(&config.settings, template) {
        let warning = advice::template_contradicted(input, &asked, &template.prefix, &given);
        github::warning(&warning);
    }
    Ok(Some(repository))
}

/// Brings an existing repository to `settings`: each setting is read first and written only when it
/// differs, so a run with nothing to change makes no write call. A repository created just now has
/// everything but its policies already.
async fn reconcile(
    registry: &Registry<'_>,
    repository: &Repository,
    described: &Described,
    settings: &Settings,
) -> Result<()> {
    let name = repository.name.as_str();
    let mut changes = Vec::new();
    if !repository.created {
        if let Registry::Private(ecr) = registry {
            changes.extend(private::settings::reconcile(ecr, name, described, settings).await?);
        }
        if !settings.tags.is_empty() {
            changes.extend(reconcile_tags(registry, described, &settings.tags).await?);
        }
    }
    if let (Registry::Private(ecr), Some(wanted)) = (registry, &settings.lifecycle_policy) {
        let current = private::settings::lifecycle_policy(ecr, name, described).await?;
        let put = || private::settings::put_lifecycle_policy(ecr, name, described, wanted);
        changes.extend(reconcile_document("lifecycle policy", current, wanted, put).await?);
    }
    if let Some(wanted) = &settings.repository_policy {
        let current = registry.repository_policy(name, described).await?;
        let set = || registry.set_repository_policy(name, described, wanted);
        changes.extend(reconcile_document("repository policy", current, wanted, set).await?);
    }
    for line in advice::changes(
        registry.kind(),
        name,
        &changes,
        repository.created,
        settings,
    ) {
        github::info(&line);
    }
    Ok(())
}

/// Tags are added or updated, never removed: other tools may own other tags.
async fn reconcile_tags(
    registry: &Registry<'_>,
    described: &Described,
    wanted: &[(String, String)],
) -> Result<Option<Change>> {
    let arn = described.arn();
    let missing = plan::missing_tags(&registry.tags(arn).await?, wanted);
    if missing.is_empty() {
        return Ok(None);
    }
    registry.add_tags(arn, &missing).await?;
    Ok(Some(Change::Tags(missing)))
}

/// A policy document, written only when it differs from the `current` one.
async fn reconcile_document<F>(
    what: &str,
    current: Option<String>,
    wanted: &Document,
    write: impl FnOnce() -> F,
) -> Result<Option<Change>>
where
    F: Future<Output = Result<()>>,
{
    if !plan::differs(current.as_deref(), wanted) {
        return Ok(None);
    }
    write().await?;
    Ok(Some(Change::policy(what, &wanted.source)))
}

/// `if-tag-exists`, checked before pushing: which tags to push and which to leave as they are.
async fn plan_tags(
    registry: &Registry<'_>,
    config: &Config,
    described: Option<&Described>,
    destination: &Destination,
    identity: &Identity,
) -> Result<Plan> {
    let rule = config.if_tag_exists;
    let mutability = Mutability::of(described, &config.settings);
    if !plan::needs_lookup(rule, &mutability) {
        return Ok(Plan {
            push: config.tags.clone(),
            ..Plan::default()
        });
    }
    let (repository, uri) = (config.repository.as_str(), &destination.repository_uri);
    // Learns each digest found to be this image: tags mostly share one, which is then asked once.
    let mut identity = identity.clone();
    let mut plan = Plan::default();
    for tag in &config.tags {
        let existing = match registry.existing_digest(config, described, tag).await {
            Ok(existing) => existing,
            Err(doctor) if rule == IfTagExists::Overwrite => {
                let doctor = doctor.to_string();
                github::warning(&advice::tag_unchecked(tag.as_str(), repository, &doctor));
                None
            }
            Err(doctor) => return Err(doctor),
        };
        let held = held(registry, config, destination, &mut identity, existing).await?;
        match plan::decide(tag.as_str(), held, rule, &mutability) {
            Decision::Push => plan.push.push(tag.clone()),
            Decision::Restore(digest) => restore(&mut plan, tag, digest),
            Decision::AlreadyThere(digest) => {
                github::info(&advice::tag_there(tag.as_str(), &digest));
                plan.there.push((tag.clone(), digest));
            }
            Decision::Skip(digest) => {
                github::info(&advice::tag_skipped(tag.as_str(), &digest));
                plan.skipped.push((tag.clone(), digest));
            }
            Decision::Refuse(why) => {
                let ours = identity.describe();
                return Err(advice::tag_refused(
                    registry.kind(),
                    tag.as_str(),
                    uri,
                    &why,
                    &ours,
                ));
            }
        }
    }
    Ok(plan)
}

/// A tag whose image ECR archived is pushed again: a push of the same image restores it.
fn restore(plan: &mut Plan, tag: &Tag, digest: String) {
    github::info(&advice::tag_archived(tag.as_str(), &digest));
    plan.archived.push((tag.clone(), digest));
    plan.push.push(tag.clone());
}

/// What an existing tag holds (`existing`, its digest): under `match`, whether that is this image.
async fn held(
    registry: &Registry<'_>,
    config: &Config,
    destination: &Destination,
    identity: &mut Identity,
    existing: Option<Tagged>,
) -> Result<Option<Held>> {
    Ok(match existing {
        // An archived image cannot be read (ECR answers 404): only the digest tells whether it is this.
        Some(Tagged { digest, archived }) if archived => Some(Held {
            this_image: identity
                .holds(&destination.repository_uri, &digest)
                .unwrap_or(false),
            digest,
            archived,
        }),
        Some(Tagged { digest, archived }) if config.if_tag_exists == IfTagExists::Match => {
            let this_image =
                is_this_image(registry, config, destination, identity, &digest).await?;
            Some(Held {
                digest,
                this_image,
                archived,
            })
        }
        other => other.map(|Tagged { digest, archived }| Held {
            digest,
            this_image: false,
            archived,
        }),
    })
}

/// Whether `digest`, held by a tag, is the image this run pushes: by digest where the local image
/// store knows the digest a push makes; else (the classic store) by the image configuration that
/// the tag's manifest names, which private ECR returns and ECR Public's API does not. A digest found to
/// be this image that way joins `identity`'s known ones.
async fn is_this_image(
    registry: &Registry<'_>,
    config: &Config,
    destination: &Destination,
    identity: &mut Identity,
    digest: &str,
) -> Result<bool> {
    let uri = &destination.repository_uri;
    if let Some(known) = identity.holds(uri, digest) {
        return Ok(known);
    }
    let (Registry::Private(ecr), Some(ours)) = (registry, &identity.config) else {
        return Ok(false);
    };
    let config_digest = private::config_digest(ecr, config, &destination.arn, digest).await?;
    let this_image = config_digest.as_deref() == Some(ours.as_str());
    if this_image {
        identity.known.push(format!("{uri}@{digest}"));
    }
    Ok(this_image)
}

impl RegistryType {
    /// Where the repository is: private ECR's URI and ARN follow from the login; ECR Public names them,
    /// and the account that owns the repository.
    fn destination(
        self,
        login: RegistryLogin,
        repository: &Repository,
        region: &str,
    ) -> Result<Destination> {
        let name = repository.name.as_str();
        let described = repository.described.clone().unwrap_or_default();
        let (repository_uri, arn, login) = match self {
            RegistryType::Private => {
                let (uri, arn) = private_location(&login, region, name);
                (uri, arn, login)
            }
            RegistryType::Public => {
                let uri = described
                    .uri
                    .ok_or_else(|| advice::public_without_uri(name))?;
                let account = described.registry_id.unwrap_or(login.account);
                (
                    uri,
                    described.arn.unwrap_or_default(),
                    RegistryLogin { account, ..login },
                )
            }
        };
        Ok(Destination {
            kind: self,
            login,
            repository_uri,
            name: name.to_owned(),
            arn,
            created: repository.created,
            created_on_push: repository.created_on_push,
            plan: Plan::default(),
            signing: None,
            ecr: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A private repository's URI follows from the login's host, its ARN from the region's partition:
    /// `arn:<partition>:ecr:<region>:<account>:repository/<name>` (Amazon ECR's resource types in the
    /// Service Authorization Reference, "Actions, resources, and condition keys for Amazon Elastic
    /// Container Registry"; the partitions and their DNS suffixes as the SDK's partitions.json states
    /// them — China `amazonaws.com.cn`, ISO `c2s.ic.gov`, the European Sovereign Cloud `amazonaws.eu`).
    #[test]
    fn a_private_destination_has_its_partitions_arn() {
        for (region, host, arn) in [
            (
                "cn-north-1",
                "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
                "arn:aws-cn:ecr:cn-north-1:123456789012:repository/team/api",
            ),
            (
                "us-gov-west-1",
                "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com",
                "arn:aws-us-gov:ecr:us-gov-west-1:123456789012:repository/team/api",
            ),
            (
                "us-iso-east-1",
                "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov",
                "arn:aws-iso:ecr:us-iso-east-1:123456789012:repository/team/api",
            ),
            (
                "eusc-de-east-1",
                "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu",
                "arn:aws-eusc:ecr:eusc-de-east-1:123456789012:repository/team/api",
            ),
        ] {
            let login = RegistryLogin {
                host: host.to_owned(),
                account: "123456789012".to_owned(),
                username: "AWS".to_owned(),
                password: "p".to_owned(),
            };
            let repository = Repository::new("team/api", false, None);
            let destination = RegistryType::Private
                .destination(login, &repository, region)
                .expect("a private destination");
            assert_eq!(destination.arn, arn, "{region}");
            assert_eq!(destination.repository_uri, format!("{host}/team/api"));
        }
    }
}

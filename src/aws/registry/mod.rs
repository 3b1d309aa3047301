//! The registry the images go to — private ECR or ECR Public — made ready to push: the login, the
//! repository (found, or created when allowed), its settings reconciled, and which tags to push.
//!
//! One path for both: [`prepare`] runs the same steps in the same order whichever the registry, and
//! [`Registry`] is a small enum (private | public) whose methods are the few calls that really differ
//! (login, describe, create, tags, the repository policy, the digest a tag holds). An enum rather than a
//! trait: there are exactly two registries, chosen once from the inputs, and an enum keeps that choice
//! one `match` away in each method instead of spreading generics through the callers. What to do with
//! the answers is decided in [`plan`] (pure), and what the user is told is written in [`advice`].

pub mod advice;
pub mod plan;
pub mod private;
pub mod public;

pub use plan::Identity;

/// The manifest media types a registry serves (OCI image spec, Docker's distribution manifest v2):
/// what ECR's `BatchGetImage` accepts and what `assemble` asks for and writes.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Every manifest type a tag can hold: indexes, and images of both image stores.
pub const MANIFEST_TYPES: [&str; 4] = [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST];

use std::future::Future;

use anyhow::Result;
use aws_sdk_ecr::config::http::HttpResponse;
use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};

use self::advice::Change;
use self::plan::{Decision, Held, Mutability, Plan};
use super::call_failed;
use super::token::RegistryLogin;
use crate::inputs::{
    Catalog, Config, Document, IfTagExists, RegistryType, Settings, Tag, is_sha256_digest,
};
use crate::{github, step};

/// Which registry: what messages and the summary call it, and how its repository URI is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Private,
    Public,
}

impl Kind {
    /// The registry's name in the job summary.
    pub fn title(self) -> &'static str {
        match self {
            Kind::Private => "Amazon ECR",
            Kind::Public => "Amazon ECR Public",
        }
    }

    fn repository_noun(self) -> &'static str {
        match self {
            Kind::Private => "Repository",
            Kind::Public => "Public repository",
        }
    }

    fn group(self) -> &'static str {
        match self {
            Kind::Private => "ECR repository",
            Kind::Public => "ECR Public repository",
        }
    }
}

/// Where the images go, ready to push: the registry login, the repository and which tags to push.
pub struct Destination {
    pub kind: Kind,
    pub login: RegistryLogin,
    /// `<registry host>/<repository>` (ECR Public: `public.ecr.aws/<alias>/<repository>`).
    pub repository_uri: String,
    pub name: String,
    /// The repository's ARN, for the doctor's explanation of a registry refusal.
    pub arn: String,
    /// This run created the repository.
    pub created: bool,
    pub plan: Plan,
}

/// The repository the images go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub name: String,
    pub created: bool,
    /// What the registry said of it; `None` when the action may not read it (private ECR only).
    pub described: Option<Described>,
}

/// A repository as its registry described it, in the few terms this action uses.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Described {
    pub arn: Option<String>,
    pub registry_id: Option<String>,
    /// ECR Public's `public.ecr.aws/<alias>/<name>`; private ECR's follows from the login host.
    pub uri: Option<String>,
    /// Private ECR's own settings, as ECR names them; ECR Public has none of them and leaves them empty.
    pub tag_mutability: String,
    pub exclusions: Vec<String>,
    pub scan_on_push: bool,
    pub encryption: String,
    pub kms_key: Option<String>,
}

impl Described {
    /// The ARN, empty when the registry did not say it.
    fn arn(&self) -> &str {
        self.arn.as_deref().unwrap_or_default()
    }
}

/// What `DescribeRepositories` said.
pub enum Lookup {
    Found(Described),
    Missing,
    /// Not allowed to look (private ECR): the doctor's text.
    Denied(String),
}

/// What `CreateRepository` said.
pub enum Created {
    /// Made; `None` when ECR's answer did not describe it.
    Made(Option<Described>),
    /// A concurrent job (a matrix sibling) made it first, or it was there and we could not look.
    AlreadyExists,
    /// Not allowed to create (private ECR): the doctor's text.
    Denied(String),
}

/// The registry's client, and for ECR Public the catalog data a new repository gets.
pub enum Registry<'a> {
    Private(aws_sdk_ecr::Client),
    Public(aws_sdk_ecrpublic::Client, &'a Catalog),
}

/// Every destination of `config`, each logged in, its repository made sure of and set up as asked,
/// and its tags planned; in the order listed, each `Err` saying why that destination cannot be pushed
/// to. The run stops (`Err`) when two destinations are one registry, or a tag is refused: refusals
/// hold for the image, not one registry, and they stop it before anything is pushed anywhere.
///
/// Every login comes first: a duplicate is found before any side effect, and a missing permission
/// never leaves a new, empty repository. Then `identify` tells, per destination, what the run will
/// put there (the local image's identity; or, assembling, the index made from what the registry
/// holds, which it returns beside), before the repository is touched. Destinations are worked on at
/// once (each API call waits on the network), their logs held and printed in the order listed.
pub async fn prepare_all<T>(
    sdk: &aws_config::SdkConfig,
    config: &Config,
    identify: impl AsyncFn(&RegistryLogin, &Config) -> Result<(Identity, T)>,
) -> Result<Vec<Result<(Destination, T)>>> {
    let configs: Vec<Config> = config
        .destinations
        .iter()
        .map(|t| config.for_target(t))
        .collect();
    let several = configs.len() > 1;
    let label = |what: &str, config: &Config| {
        if several {
            format!("{what} — {}", config.destinations[0])
        } else {
            what.to_owned()
        }
    };
    let logins: Vec<Result<_>> = github::at_once(configs.iter().map(|config| async {
        let _step = step::enter(&label("Registry login", config));
        let registry = Registry::new(&for_region(sdk, &config.region), &config.registry_type);
        let login = registry.login(config.registry_id.as_deref()).await?;
        Ok((registry, login))
    }))
    .await;
    let hosts: Vec<&str> = logins
        .iter()
        .flatten()
        .map(|(_, l)| l.host.as_str())
        .collect();
    if let Some(twice) = hosts
        .iter()
        .enumerate()
        .find(|(i, h)| hosts[..*i].contains(h))
    {
        return Err(advice::same_registry_twice(twice.1));
    }
    let elsewhere: Vec<&str> = config
        .tag_hosts
        .iter()
        .map(String::as_str)
        .filter(|h| !hosts.contains(h))
        .collect();
    if !elsewhere.is_empty() {
        return Err(advice::tags_name_another_registry(&elsewhere, &hosts));
    }
    let identify = &identify;
    let mut ready: Vec<Result<(Destination, T)>> = github::at_once(configs.iter().zip(logins).map(
        |(config, login)| async move {
            let (registry, login) = login?;
            let _step = step::enter(&label(registry.kind().group(), config));
            let (what, made) = identify(&login, config).await?;
            let destination = prepare(&registry, login, config, &what).await?;
            Ok((destination, made))
        },
    ))
    .await;
    let refusal = |r: &Result<(Destination, T)>| {
        r.as_ref()
            .is_err_and(anyhow::Error::is::<advice::TagRefused>)
    };
    if let Some(at) = ready.iter().position(refusal)
        && let Err(refused) = ready.swap_remove(at)
    {
        return Err(refused);
    }
    Ok(ready)
}

/// The SDK configuration for one destination's region (the credentials are shared).
fn for_region(sdk: &aws_config::SdkConfig, region: &str) -> aws_config::SdkConfig {
    sdk.to_builder()
        .region(aws_config::Region::new(region.to_owned()))
        .build()
}

/// Makes sure the repository exists and is set up as asked, and plans the tags.
async fn prepare(
    registry: &Registry<'_>,
    login: RegistryLogin,
    config: &Config,
    identity: &Identity,
) -> Result<Destination> {
    let repository = ensure(registry, config).await?;
    // ECR Public's URI comes from the API: missing, it stops the run before any setting is changed.
    let mut destination = registry
        .kind()
        .destination(login, &repository, &config.region)?;
    match &repository.described {
        Some(described) => reconcile(registry, &repository, described, &config.settings).await?,
        None if config.settings.is_empty() => {}
        None => return Err(advice::settings_unreadable(&repository.name)),
    }
    let described = repository.described.as_ref();
    destination.plan = plan_tags(registry, config, described, &destination, identity).await?;
    Ok(destination)
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
        Lookup::Missing if !config.create_repository => {
            return Err(advice::missing(kind, name, id));
        }
        Lookup::Missing => None,
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
                (_, Kind::Private) => Ok(unchecked()),
                (_, Kind::Public) => Err(advice::public_vanished(name)),
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
        let held = match existing {
            Some(digest) if rule == IfTagExists::Match => {
                let this_image =
                    is_this_image(registry, config, destination, &mut identity, &digest).await?;
                Some(Held { digest, this_image })
            }
            other => other.map(|digest| Held {
                digest,
                this_image: false,
            }),
        };
        match plan::decide(tag.as_str(), held, rule, &mutability) {
            Decision::Push => plan.push.push(tag.clone()),
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

impl Repository {
    fn new(name: &str, created: bool, described: Option<Described>) -> Self {
        Repository {
            name: name.to_owned(),
            created,
            described,
        }
    }
}

/// The URI and ARN of the private repository `name` in the registry of `login`.
pub fn private_location(login: &RegistryLogin, region: &str, name: &str) -> (String, String) {
    let uri = format!("{}/{name}", login.host);
    (
        uri,
        crate::partition::repository_arn(region, &login.account, name),
    )
}

impl Kind {
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
            Kind::Private => {
                let (uri, arn) = private_location(&login, region, name);
                (uri, arn, login)
            }
            Kind::Public => {
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
            plan: Plan::default(),
        })
    }
}

impl<'a> Registry<'a> {
    pub fn new(sdk: &aws_config::SdkConfig, registry_type: &'a RegistryType) -> Self {
        match registry_type {
            RegistryType::Private => Registry::Private(aws_sdk_ecr::Client::new(sdk)),
            RegistryType::Public(catalog) => Registry::Public(public::client(sdk), catalog),
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Registry::Private(_) => Kind::Private,
            Registry::Public(..) => Kind::Public,
        }
    }

    async fn login(&self, registry_id: Option<&str>) -> Result<RegistryLogin> {
        match self {
            Registry::Private(ecr) => super::token::fetch(ecr, registry_id).await,
            Registry::Public(client, _) => public::login(client, registry_id).await,
        }
    }

    async fn describe(&self, config: &Config) -> Result<Lookup> {
        match self {
            Registry::Private(ecr) => private::describe(ecr, config).await,
            Registry::Public(client, _) => public::describe(client, config).await,
        }
    }

    async fn create(&self, config: &Config) -> Result<Created> {
        match self {
            Registry::Private(ecr) => private::create(ecr, config).await,
            Registry::Public(client, catalog) => public::create(client, config, catalog).await,
        }
    }

    async fn tags(&self, arn: &str) -> Result<Vec<(String, String)>> {
        match self {
            Registry::Private(ecr) => private::tags(ecr, arn).await,
            Registry::Public(client, _) => public::tags(client, arn).await,
        }
    }

    async fn add_tags(&self, arn: &str, tags: &[(String, String)]) -> Result<()> {
        match self {
            Registry::Private(ecr) => private::add_tags(ecr, arn, tags).await,
            Registry::Public(client, _) => public::add_tags(client, arn, tags).await,
        }
    }

    async fn repository_policy(&self, name: &str, described: &Described) -> Result<Option<String>> {
        match self {
            Registry::Private(ecr) => private::repository_policy(ecr, name, described).await,
            Registry::Public(client, _) => public::repository_policy(client, name, described).await,
        }
    }

    async fn set_repository_policy(
        &self,
        name: &str,
        described: &Described,
        wanted: &Document,
    ) -> Result<()> {
        match self {
            Registry::Private(ecr) => {
                private::set_repository_policy(ecr, name, described, wanted).await
            }
            Registry::Public(client, _) => {
                public::set_repository_policy(client, name, described, wanted).await
            }
        }
    }

    /// The digest `tag` holds, `None` when it does not exist; `Err` is the user-facing cause.
    async fn existing_digest(
        &self,
        config: &Config,
        described: Option<&Described>,
        tag: &Tag,
    ) -> Result<Option<String>> {
        let arn = described.and_then(|d| d.arn.as_deref());
        let digest = match self {
            Registry::Private(ecr) => private::digest(ecr, config, arn.unwrap_or("*"), tag).await,
            Registry::Public(client, _) => {
                public::digest(
                    client,
                    config.repository.as_str(),
                    arn.unwrap_or_default(),
                    tag,
                )
                .await
            }
        }?;
        // It can become the `digest` output: the same grammar as a digest given as input.
        match digest {
            Some(digest) if !is_sha256_digest(&digest) => Err(anyhow::anyhow!(
                advice::digest_malformed(self.kind().title(), tag.as_str(), &digest)
            )),
            digest => Ok(digest),
        }
    }
}

/// A call's answer, with the service's "not found" (as `not_found` tells it) as `None`.
fn absent_if<T, E, R>(
    result: Result<T, SdkError<E, R>>,
    not_found: fn(&E) -> bool,
) -> Result<Option<T>, SdkError<E, R>> {
    match result {
        Ok(out) => Ok(Some(out)),
        Err(err) if err.as_service_error().is_some_and(not_found) => Ok(None),
        Err(err) => Err(err),
    }
}

/// A read of a setting: "not found" is `None`, any other error is told as [`call_failed`] tells it.
fn read<T, E>(
    result: Result<T, SdkError<E, HttpResponse>>,
    not_found: fn(&E) -> bool,
    action: &str,
    arn: &str,
) -> Result<Option<T>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    absent_if(result, not_found).map_err(|e| call_failed(&e, action, arn))
}

/// The answer of a call, or its error as [`call_failed`] tells it.
fn answer<T, E>(result: Result<T, SdkError<E, HttpResponse>>, action: &str, arn: &str) -> Result<T>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    result.map_err(|e| call_failed(&e, action, arn))
}

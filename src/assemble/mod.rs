//! `assemble`: one multi-platform image from images already in the repository (each pushed by a
//! matrix job on its own platform's runner), written as an index under every tag — without a Docker
//! daemon and without `docker login`: the registry's HTTP API with the registry login in memory.
//!
//! Why the registry's API and not ECR's `BatchGetImage`/`PutImage`: it is what the daemon speaks, so the
//! test bed proves it end to end against a real registry (the API emulator does not see the registry's
//! content), it reads the image configuration (the platform) the same way, and ECR authorizes it with
//! the same IAM actions (`ecr:BatchGetImage`, `ecr:GetDownloadUrlForLayer`, `ecr:PutImage`).

mod advice;
pub mod http;
pub mod index;

use anyhow::Result;

use self::http::RepositoryApi;
use self::index::{Child, Content, Index};
use crate::aws::registry::Destination;
use crate::aws::registry::login::step_title;
use crate::aws::registry::{Identity, LoggedIn, private_location};
use crate::docker::{PushOutcome, PushedTag};
use crate::inputs::{Platform, Tag};
use crate::{github, step};

/// What `assemble` holds for one destination between reading and writing: where to write, and the index.
pub type Read = (RepositoryApi, Index);

/// The identify step of `assemble`: for every destination logged in, the references read from its
/// repository and joined into an index (what the run will put there), at once, logs held in order.
/// Returned twice over, aligned with the destinations: each login with the index's identity (or why
/// it cannot be read), for the repository to be prepared; and what [`write_all`] writes.
pub async fn read_all<'a>(
    logins: Vec<Result<LoggedIn<'a>>>,
    references: &[String],
) -> (Vec<Result<(LoggedIn<'a>, Identity)>>, Vec<Option<Read>>) {
    let several = logins.len();
    let each = logins.into_iter().map(|login| async move {
        let login = login?;
        let config = login.config;
        let _step = step::enter(&step_title("Read the images", config, several));
        let name = config.repository.as_str();
        let (uri, arn) = private_location(&login.login, &config.region, name);
        let repository = RepositoryApi::new(&login.login, name, &arn)?;
        let (identity, index) = read(&repository, &uri, references).await?;
        Ok((login, identity, (repository, index)))
    });
    github::at_once(each)
        .await
        .into_iter()
        .map(|read: Result<_>| match read {
            Ok((login, identity, read)) => (Ok((login, identity)), Some(read)),
            Err(err) => (Err(err), None),
        })
        .unzip()
}

/// Writes each destination's index ([`write`]), at once, for the destinations that were made ready;
/// `reads` is aligned with `prepared`. The outcomes are those of the ready ones, in order.
pub async fn write_all(
    prepared: &[Result<Destination>],
    reads: &[Option<Read>],
) -> Vec<PushOutcome> {
    let writes = prepared
        .iter()
        .zip(reads)
        .filter_map(|(destination, read)| Some((destination.as_ref().ok()?, read.as_ref()?)))
        .map(|(destination, (repository, index))| write(repository, destination, index));
    github::at_once_logged_as_done(writes).await
}

/// Reads every reference from the destination's repository and makes the index — nothing written.
/// A missing reference, children that no index can hold, or content that is not what it says (a
/// digest that does not match, a malformed descriptor, a platform outside the input's rule) stop
/// here, naming the reference and where the bad value came from.
pub async fn read(
    repository: &RepositoryApi,
    uri: &str,
    references: &[String],
) -> Result<(Identity, Index)> {
    let mut children = Vec::new();
    for reference in references {
        // No group of its own (groups do not nest): named for a `timeout` that stops the run here.
        step::mark(&format!("Read `{reference}` from {uri}"));
        let manifest = repository
            .manifest(reference)
            .await?
            .ok_or_else(|| advice::missing(reference, uri))?;
        let child = match index::content(&manifest.media_type, &manifest.body)
            .map_err(|why| advice::unusable(reference, uri, &manifest.digest, &why))?
        {
            Content::Index(entries) => Child::Index { entries },
            Content::Image { media_type, config } => Child::Image {
                platform: configured_platform(repository, uri, reference, &config).await?,
                media_type,
                size: manifest.body.len(),
                digest: manifest.digest.clone(),
            },
        };
        github::info(&format!(
            "{uri}@{} ({reference}): {}",
            manifest.digest,
            describe(&child)
        ));
        children.push((reference.clone(), child));
    }
    let index = index::build(&children).map_err(|why| advice::cannot_assemble(&why))?;
    let identity = Identity {
        digest: Some(index.digest.clone()),
        ..Identity::default()
    };
    Ok((identity, index))
}

/// The platform an image's configuration states: read by its digest (and checked against it), its
/// size as the manifest says, its platform under the `platform` input's rule.
async fn configured_platform(
    repository: &RepositoryApi,
    uri: &str,
    reference: &str,
    config: &index::Config,
) -> Result<Option<Platform>> {
    let bytes = repository.blob(&config.digest).await?;
    if bytes.len() as u64 != config.size {
        let (said, got) = (config.size, bytes.len());
        return Err(advice::config_size(
            reference,
            uri,
            &config.digest,
            said,
            got,
        ));
    }
    index::platform_in_config(&bytes)
        .map_err(|stated| advice::config_platform(reference, uri, &config.digest, &stated))
}

fn describe(child: &Child) -> String {
    match child {
        Child::Image {
            platform: Some(p), ..
        } => p.to_string(),
        Child::Image { platform: None, .. } => "no platform stated".to_owned(),
        Child::Index { entries } => format!("an index of {} manifests", entries.len()),
    }
}

/// Writes the index under each tag the plan pushes, retrying as a push does; every tag must end with
/// the index's digest.
pub async fn write(
    repository: &RepositoryApi,
    destination: &Destination,
    index: &Index,
) -> PushOutcome {
    let mut outcome = PushOutcome::default();
    for tag in &destination.plan.push {
        let target = format!("{}:{tag}", destination.repository_uri);
        let _step = step::enter(&format!("Write the index as {target}"));
        match write_tag(repository, tag, index).await {
            Ok(digest) if digest == index.digest => {
                github::info(&format!("{target}: index {digest}"));
                outcome.pushed.push(PushedTag {
                    tag: tag.clone(),
                    digest,
                });
            }
            Ok(digest) => outcome.fail(tag, &advice::stored_otherwise(&digest, &index.digest)),
            Err(err) => outcome.fail(tag, &err),
        }
    }
    outcome
}

/// The HTTP client retries transient failures itself; a refusal is final.
async fn write_tag(repository: &RepositoryApi, tag: &Tag, index: &Index) -> Result<String> {
    repository
        .put_manifest(tag.as_str(), index.media_type, &index.body)
        .await
}

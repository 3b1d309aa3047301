//! Tags without a push: where a destination's repository already holds the very manifest a push of
//! the local image would write (the containerd store's image ID is its digest; the classic store's is
//! known for repositories this daemon pushed it to), its tags are written through the registry's API
//! — the manifest read by digest and checked, then put under each tag — with no local tag and no
//! daemon push. That is ECR's own way to retag an image (User Guide, "Retagging an image": the
//! manifest from `BatchGetImage` given again to `PutImage` with the new tag), under the pusher
//! policy's actions (`ecr:BatchGetImage`, `ecr:PutImage`). Whether the repository holds it is asked
//! while the destinations are prepared, so a new image costs no time. Anything else — an unknown
//! digest, a manifest the repository lacks, an archived tag, any failure — leaves the destination to
//! the push.

use super::advice;
use crate::assemble::http::{Manifest, RepositoryApi};
use crate::aws::registry::{Destination, Identity, LoggedIn};
use crate::aws::token::RegistryLogin;
use crate::docker::{PushOutcome, PushedTag};
use crate::inputs::RegistryType;
use crate::{github, partition, step};

/// A destination's repository, through the registry's API, and the manifest it holds already.
pub struct Held {
    api: RepositoryApi,
    manifest: Manifest,
}

/// Per destination (in order), whether its repository holds the image: asked on tasks of their own
/// while the destinations are prepared, read with [`Asked::answers`] once they are.
pub struct Asked(Vec<Option<tokio::task::JoinHandle<Option<Held>>>>);

/// Starts asking each private repository for the image's manifest; ECR Public and anything that
/// cannot be asked get no question. Logs nothing.
pub fn held(identity: &Identity, logins: &[anyhow::Result<LoggedIn<'_>>]) -> Asked {
    let ask = |logged_in: &anyhow::Result<LoggedIn<'_>>| {
        let LoggedIn {
            config,
            registry,
            login,
        } = logged_in.as_ref().ok()?;
        if registry.kind() != RegistryType::Private {
            return None;
        }
        let name = config.repository.as_str().to_owned();
        let digest = identity.digest_in(&format!("{}/{name}", login.host))?;
        let digest = digest.to_owned();
        let arn = partition::repository_arn(&config.region, &login.account, &name);
        let login = RegistryLogin {
            host: login.host.clone(),
            account: login.account.clone(),
            username: login.username.clone(),
            password: login.password.clone(),
        };
        Some(tokio::spawn(async move {
            let api = RepositoryApi::new(&login, &name, &arn).ok()?;
            let manifest = api.manifest(&digest).await.ok()??;
            Some(Held { api, manifest })
        }))
    };
    Asked(logins.iter().map(ask).collect())
}

impl Asked {
    /// The answers for the destinations `prepared` (in the same order). A repository this run
    /// created — or that the registry creates on push — cannot hold the image: its question is
    /// dropped unanswered rather than waited for (a TLS handshake and a request on the way to the
    /// first push of every new repository).
    pub async fn answers(self, prepared: &[anyhow::Result<Destination>]) -> Vec<Option<Held>> {
        let each = (self.0.into_iter().zip(prepared)).map(|(asked, prepared)| async move {
            let asked = asked?;
            match prepared {
                Ok(d) if !d.created && !d.created_on_push => asked.await.ok().flatten(),
                _ => {
                    asked.abort();
                    None
                }
            }
        });
        futures_util::future::join_all(each).await
    }
}

/// The destination's tags put on the manifest its repository holds; `None` (for the push) when the
/// plan asks what a retag cannot do. Once the repository holds the image, a refused tag is a failed
/// tag, as from a push — not handed to the daemon, which would hide the refusal when it succeeds.
pub async fn retag(destination: &Destination, held: &Held) -> Option<PushOutcome> {
    let plan = &destination.plan;
    // An archived image is restored by a push, which a retag would not do.
    if plan.push.is_empty() || !plan.archived.is_empty() {
        return None;
    }
    let uri = &destination.repository_uri;
    let _step = step::enter(&format!("Push {uri}"));
    let Held { api, manifest } = held;
    let mut outcome = PushOutcome::default();
    for tag in &plan.push {
        let stored = api
            .put_manifest(tag.as_str(), &manifest.media_type, &manifest.body)
            .await;
        match stored {
            Ok(stored) if stored == manifest.digest => outcome.pushed.push(PushedTag {
                tag: tag.clone(),
                digest: stored,
            }),
            Ok(stored) => outcome.fail(tag, &advice::stored_as(&stored, &manifest.digest)),
            Err(err) => outcome.fail(tag, &err),
        }
    }
    let tags: Vec<&str> = (outcome.pushed.iter()).map(|p| p.tag.as_str()).collect();
    github::info(&advice::retagged(uri, &manifest.digest, &tags));
    Some(outcome)
}

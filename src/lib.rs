//! ecr-push-action: push images from the runner's Docker daemon to Amazon ECR in one step.
//!
//! [`run`] is the whole pipeline; each step lives in the module named after it.

pub mod advice;
pub mod assemble;
pub mod aws;
pub mod daemonless;
pub mod diagnostic;
pub mod docker;
pub mod github;
pub mod inputs;
pub mod partition;
pub mod policy;
pub mod proxy;
pub mod report;
pub mod retry;
pub mod scan;
pub mod step;

use anyhow::Result;

pub use inputs::{Config, Source};

/// The pipeline, each step a call in the file named after it:
/// - push: the local image (`docker/mod.rs`), and meanwhile credentials (`aws/credentials.rs`) →
///   login (`aws/registry/login.rs`); then prepare: ensure, settings, plan
///   (`aws/registry/prepare.rs`) → push (`docker/push.rs`) → report (`report.rs`);
/// - `assemble`: credentials → login → identify: the images read and joined (`assemble/mod.rs`) →
///   prepare → the index written (`assemble/mod.rs`) → report.
///
/// Docker is checked, and every registry token fetched (the two at once), before any repository is
/// created, so that a typo in `local-image` or a missing permission never leaves a new, empty
/// repository. With several destinations, one that cannot be prepared or pushed to does not stop the
/// others; the run fails at the end, saying per destination what was pushed and what was not.
pub async fn run(config: &Config) -> Result<()> {
    for warning in inputs::warnings(config) {
        github::warning(&warning);
    }
    proxy::check_environment()?;
    // Waits after the push (the scan gate) end a little before `timeout`, so that the run still
    // writes its outputs and says what it waited for.
    let margin = (config.timeout / 10).min(std::time::Duration::from_secs(15));
    let deadline = std::time::Instant::now() + config.timeout.saturating_sub(margin);
    match &config.source {
        Source::Local(reference) => push(config, reference, deadline).await,
        Source::Assemble(references) => assemble_index(config, references, deadline).await,
        Source::OnDisk(on_disk) => push_from_disk(config, on_disk, deadline).await,
    }
}

/// An image on disk: read and checked (no daemon), then the same steps as a push, the upload the
/// action's own (`daemonless/upload.rs`).
async fn push_from_disk(
    config: &Config,
    on_disk: &inputs::OnDisk,
    deadline: std::time::Instant,
) -> Result<()> {
    let image = {
        let _step = step::enter("Image on disk");
        let image = daemonless::read(on_disk)?;
        let what = if image.children.is_empty() {
            "image"
        } else {
            "index"
        };
        let platforms: Vec<String> = image.platforms.iter().map(|(p, _)| p.to_string()).collect();
        let (digest, blobs) = (&image.top.digest, image.blobs.len());
        github::info(&daemonless::advice::read(
            on_disk, what, digest, blobs, &platforms,
        ));
        image
    };
    let session = credentials(config).await?;
    let targets = config.targets();
    let logins = aws::registry::login(&session.sdk, config, &targets).await?;
    let identity = aws::registry::Identity {
        digest: Some(image.top.digest.clone()),
        config: None,
        known: Vec::new(),
    };
    let identified = logins
        .into_iter()
        .map(|login| Ok((login?, identity.clone())))
        .collect();
    let prepared = single_fails_at_once(aws::registry::prepare(identified).await?)?;
    let ready: Vec<&aws::registry::Destination> = prepared.iter().flatten().collect();
    let outcomes = daemonless::upload::write_all(&ready, &image, &config.mount_from).await;
    let manifests = if image.children.is_empty() {
        Vec::new()
    } else {
        image.platforms.clone()
    };
    let platforms = image.platforms.into_iter().map(|(p, _)| p).collect();
    let shown = Shown {
        platforms,
        manifests,
    };
    conclude(config, prepared, outcomes, &shown, deadline, &session).await
}

/// The local image is found while the credentials are resolved and every destination logged in: the
/// two do not depend on each other (their logs are printed in that order once both end), and the
/// time of the shorter is saved — on the containerd store, listing an image's platforms alone takes
/// two calls.
async fn push(config: &Config, reference: &str, deadline: std::time::Instant) -> Result<()> {
    let (host, reference, platform) = (
        config.docker_host.clone(),
        reference.to_owned(),
        config.platform.clone(),
    );
    let local = async move {
        let _step = step::enter("Docker");
        let daemon = docker::connect(&host).await?;
        let image = daemon.find_image(&reference, platform.as_ref()).await?;
        Ok::<_, anyhow::Error>((daemon, image))
    };
    let targets = config.targets();
    let remote = async {
        let session = credentials(config).await?;
        let logins = aws::registry::login(&session.sdk, config, &targets).await?;
        Ok::<_, anyhow::Error>((session, logins))
    };
    let (local, remote) = github::both_apart(local, Box::pin(remote)).await;
    let (daemon, image) = local?;
    let (session, logins) = remote?;
    // Whether each repository holds the image already is asked while the destinations are prepared.
    let held = daemonless::retag::held(&image.identity, &logins);
    let identified = logins
        .into_iter()
        .map(|login| Ok((login?, image.identity.clone())))
        .collect();
    let prepared = single_fails_at_once(aws::registry::prepare(identified).await?)?;
    let held = held.answers(&prepared).await;
    let outcomes = push_local(&daemon, &image, &prepared, held).await;
    let shown = Shown {
        platforms: image.platforms.clone(),
        manifests: Vec::new(),
    };
    conclude(config, prepared, outcomes, &shown, deadline, &session).await
}

/// The local image into every ready destination (in order): tagged there without a push where the
/// repository holds it already (`daemonless/retag.rs`); the others pushed.
async fn push_local(
    daemon: &docker::Daemon,
    image: &docker::LocalImage,
    prepared: &[Result<aws::registry::Destination>],
    held: Vec<Option<daemonless::retag::Held>>,
) -> Vec<docker::PushOutcome> {
    let ready: Vec<(&aws::registry::Destination, Option<daemonless::retag::Held>)> = (prepared
        .iter())
    .zip(held)
    .filter_map(|(p, held)| Some((p.as_ref().ok()?, held)))
    .collect();
    let retagged = github::at_once(ready.iter().map(|(destination, held)| async move {
        daemonless::retag::retag(destination, held.as_ref()?).await
    }))
    .await;
    let rest: Vec<&aws::registry::Destination> = (ready.iter().zip(&retagged))
        .filter(|(_, retagged)| retagged.is_none())
        .map(|((destination, _), _)| *destination)
        .collect();
    let mut pushed = push_rest(daemon, image, &rest).await.into_iter();
    (retagged.into_iter())
        .map(|r| r.or_else(|| pushed.next()).unwrap_or_default())
        .collect()
}

/// Through the daemon's push, except on the classic image store with several destinations — that
/// daemon pushes one destination after another and compresses every layer for each, so — when the
/// image is new in at least two of them — it is saved once, compressed once and uploaded to every
/// destination at once by the action (`daemonless/saved.rs`). Should saving fail, the daemon pushes.
async fn push_rest(
    daemon: &docker::Daemon,
    image: &docker::LocalImage,
    ready: &[&aws::registry::Destination],
) -> Vec<docker::PushOutcome> {
    if ready.len() > 1
        && daemon.is_classic_docker(image).await
        && daemonless::saved::pays(image, ready).await
    {
        let started = std::time::Instant::now();
        let saved = {
            let _step = step::enter("Save the image once");
            let saved = daemonless::saved::save(daemon, image).await;
            if let Ok(saved) = &saved {
                let (bytes, c) = (saved.archive_bytes, saved.compressed);
                let compressed = (c.layers, c.before, c.after);
                let took = started.elapsed();
                let (reference, n) = (&image.reference, ready.len());
                github::info(&daemonless::advice::saved(
                    reference, bytes, compressed, took, n,
                ));
            }
            saved
        };
        match saved {
            Ok(saved) => return daemonless::upload::write_all(ready, &saved.image, &[]).await,
            Err(err) => github::warning(&daemonless::advice::not_saved(&err)),
        }
    }
    daemon.push_all(image, ready).await
}

/// `assemble`: in each destination, the named images read and joined into one index (nothing written
/// before every one is read), then the index written under the tags.
async fn assemble_index(
    config: &Config,
    references: &[String],
    deadline: std::time::Instant,
) -> Result<()> {
    let session = credentials(config).await?;
    let targets = config.targets();
    let logins = aws::registry::login(&session.sdk, config, &targets).await?;
    let (identified, indexes) = assemble::read_all(logins, references).await;
    let prepared = single_fails_at_once(aws::registry::prepare(identified).await?)?;
    let outcomes = assemble::write_all(&prepared, &indexes).await;
    let manifests = indexes
        .iter()
        .flatten()
        .next()
        .map(|(_, index)| index.platforms.clone())
        .unwrap_or_default();
    let shown = Shown {
        platforms: manifests.iter().map(|(p, _)| p.clone()).collect(),
        manifests,
    };
    conclude(config, prepared, outcomes, &shown, deadline, &session).await
}

/// What the run pushed, as the outputs and the summary show it: its platforms, and an index's
/// manifests with theirs.
struct Shown {
    platforms: Vec<inputs::Platform>,
    manifests: Vec<(inputs::Platform, String)>,
}

/// After the push, whatever the source: ECR's signatures and the scan gate (within `deadline`), then
/// the outputs, the summary and the verdict.
async fn conclude(
    config: &Config,
    prepared: Vec<Result<aws::registry::Destination>>,
    outcomes: Vec<docker::PushOutcome>,
    shown: &Shown,
    deadline: std::time::Instant,
    session: &aws::credentials::Session,
) -> Result<()> {
    let signatures = signatures(&prepared, &outcomes).await;
    let single = (shown.platforms.len() == 1).then(|| shown.platforms[0].to_string());
    let scans = scans(config, &prepared, &outcomes, single, deadline).await;
    let image = report::Image {
        platforms: &shown.platforms,
        manifests: &shown.manifests,
    };
    let after = After {
        outcomes,
        signatures,
        scans,
    };
    finish(config, prepared, after, &image, session)
}

async fn credentials(config: &Config) -> Result<aws::credentials::Session> {
    let _step = step::enter("AWS credentials");
    aws::credentials::load(&config.region, &config.auth, config.api_form()).await
}

/// After the push: ECR's signature of each destination's pushed image, where a signing rule covers
/// the repository (aligned with `outcomes`, the ready destinations').
async fn signatures(
    prepared: &[Result<aws::registry::Destination>],
    outcomes: &[docker::PushOutcome],
) -> Vec<Option<aws::registry::signing::Signed>> {
    let ready = prepared.iter().filter_map(|p| p.as_ref().ok());
    let pushed = ready.zip(outcomes).map(|(destination, outcome)| {
        Some(aws::registry::signing::Pushed {
            plan: destination.signing.as_ref()?,
            repository: &destination.name,
            repository_arn: &destination.arn,
            digest: &outcome.pushed.first()?.digest,
        })
    });
    aws::registry::signing::wait_all(pushed.collect()).await
}

/// After the push: the scan gate's judgement of each destination's pushed image (aligned with
/// `outcomes`), within `deadline`.
async fn scans(
    config: &Config,
    prepared: &[Result<aws::registry::Destination>],
    outcomes: &[docker::PushOutcome],
    platform: Option<String>,
    deadline: std::time::Instant,
) -> Vec<Option<scan::Scanned>> {
    let ready = prepared.iter().filter_map(|p| p.as_ref().ok());
    let pushed = ready.zip(outcomes).map(|(destination, outcome)| {
        let digest = outcome.pushed.first().map(|p| p.digest.as_str());
        let there = destination.plan.there.first().map(|(_, d)| d.as_str());
        Some(scan::Pushed {
            ecr: destination.ecr.as_ref()?,
            registry_id: Some(destination.login.account.as_str()),
            repository: &destination.name,
            repository_arn: &destination.arn,
            digest: digest.or(there)?,
            platform: platform.clone(),
        })
    });
    scan::gate_all(&config.scan, pushed.collect(), deadline).await
}

/// What happened after the destinations were prepared, aligned with the ready ones.
struct After {
    outcomes: Vec<docker::PushOutcome>,
    signatures: Vec<Option<aws::registry::signing::Signed>>,
    scans: Vec<Option<scan::Scanned>>,
}

/// One destination fails as it always did: at once, with its own error and no outputs.
fn single_fails_at_once<T>(mut prepared: Vec<Result<T>>) -> Result<Vec<Result<T>>> {
    if prepared.len() == 1 && prepared[0].is_err() {
        return prepared.remove(0).map(|_| Vec::new());
    }
    Ok(prepared)
}

/// Outputs and summary, then the verdict. They say what was pushed even when a tag failed; the exit
/// code says it failed. `outcomes` (and their signatures) are those of the destinations that were
/// ready, in order.
fn finish(
    config: &Config,
    prepared: Vec<Result<aws::registry::Destination>>,
    after: After,
    shown: &report::Image<'_>,
    session: &aws::credentials::Session,
) -> Result<()> {
    let mut outcomes = after.outcomes.into_iter();
    let mut signatures = after.signatures.into_iter();
    let mut scans = after.scans.into_iter();
    let deliveries: Vec<report::Delivery> = config
        .destinations
        .iter()
        .zip(prepared)
        .map(|(target, prepared)| report::Delivery {
            target: target.clone(),
            outcome: match prepared {
                Ok(_) => outcomes.next().unwrap_or_default(),
                Err(_) => docker::PushOutcome::default(),
            },
            signing: match prepared {
                Ok(_) => signatures.next().flatten(),
                Err(_) => None,
            },
            scan: match prepared {
                Ok(_) => scans.next().flatten(),
                Err(_) => None,
            },
            prepared: prepared.map_err(|err| {
                diagnostic::Diagnostic::gathered(diagnostic::codes(&err), format!("{err:#}"))
            }),
        })
        .collect();
    report::write(
        &deliveries,
        &config.tags,
        shown,
        session.authenticated_arn.as_deref(),
        config.summary,
    )?;
    match report::failure(&deliveries) {
        None => Ok(()),
        Some(failure) => Err(failure.into()),
    }
}

/// [`run`] within the `timeout` input. When it runs out, `run` is dropped where it is — the daemon
/// with it, which puts back the local tags a push had added — and the error names the step it was in.
async fn run_bounded(config: &Config) -> Result<()> {
    let work = std::pin::pin!(run(config));
    tokio::select! {
        result = work => result,
        // Named while `run` is still where it stopped: its open steps are what it was doing.
        () = tokio::time::sleep(config.timeout) => Err(step::timed_out(config.timeout.as_secs())),
    }
}

/// What the process was asked to do, read once from its arguments (ripgrep's `ParseResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    /// `--version`: the cheapest possible run, how long the container takes to start (tools/bench).
    Version,
    /// `policy …`: print a policy, check one, or simulate a request; the words after `policy`.
    Policy(Vec<String>),
    /// No arguments: the action itself, configured by its `INPUT_*` variables.
    Run,
}

impl Mode {
    fn parse(mut args: Vec<String>) -> Mode {
        match args.first().map(String::as_str) {
            Some("--version") => Mode::Version,
            Some("policy") => Mode::Policy(args.split_off(1)),
            _ => Mode::Run,
        }
    }
}

/// The process entry point: read the inputs, run, and turn any failure into one `::error::` line.
/// `ecr-push-action policy …` prints the least-privilege policy instead.
pub fn main() -> std::process::ExitCode {
    match Mode::parse(std::env::args().skip(1).collect()) {
        Mode::Version => {
            github::info(concat!("ecr-push-action ", env!("CARGO_PKG_VERSION")));
            std::process::ExitCode::SUCCESS
        }
        Mode::Policy(args) => policy_main(&args),
        Mode::Run => run_main(),
    }
}

/// `policy …`: the document on stdout, warnings beside it; exit 1 when `--check` finds the policy
/// short, 2 when the input cannot be read.
fn policy_main(args: &[String]) -> std::process::ExitCode {
    let printed = inputs::environment()
        .map_err(anyhow::Error::from)
        .and_then(|vars| policy::cli::command(args, vars));
    match printed {
        Ok(printed) => {
            for warning in &printed.warnings {
                github::warning_beside_document(warning);
            }
            github::document(&printed.document);
            if printed.insufficient {
                std::process::ExitCode::FAILURE
            } else {
                std::process::ExitCode::SUCCESS
            }
        }
        Err(err) => {
            github::error(&diagnostic::codes(&err), &format!("{err:#}"));
            std::process::ExitCode::from(2)
        }
    }
}

/// The action: inputs, then the pipeline within `timeout`.
fn run_main() -> std::process::ExitCode {
    let outcome = inputs::from_env()
        .map_err(anyhow::Error::from)
        .and_then(|config| {
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(anyhow::Error::from)
                .and_then(|runtime| runtime.block_on(run_bounded(&config)))
        });
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            github::error(&diagnostic::codes(&err), &format!("{err:#}"));
            std::process::ExitCode::FAILURE
        }
    }
}

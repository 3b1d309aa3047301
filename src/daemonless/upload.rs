//! The push of an image on disk: in each destination, every blob the repository lacks uploaded (at
//! most [`AT_ONCE`] at a time, each streamed from its file in 1 MiB pieces and hashed as it is sent: a
//! blob that does not hash to its digest ends its upload before the registry could store it, and the
//! push there), then an index's manifests by digest, then the image under every tag. Nothing is
//! written under a tag before every blob is in the registry.

use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Result;
use bytes::Bytes;
use futures_util::StreamExt as _;
use http_body_util::BodyExt as _;
use sha2::Digest as _;
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};

use super::advice;
use super::image::{Blob, Image};
use crate::assemble::http::{PartFailure, RepositoryApi, Started, UploadBody};
use crate::assemble::index::digest_text;
use crate::aws::registry::Destination;
use crate::docker::{PushOutcome, PushedTag};
use crate::inputs::RepositoryName;
use crate::retry::Backoff;
use crate::{github, step};

/// Blobs uploaded at once per destination.
const AT_ONCE: usize = 4;
/// Tries of one part, and new uploads of one blob, after transient failures (a throttled part:
/// [`Backoff::THROTTLED`]).
const ATTEMPTS: u32 = 4;
const PARTS: Backoff = Backoff {
    attempts: ATTEMPTS,
    base: std::time::Duration::from_millis(500),
    max: std::time::Duration::from_secs(4),
};
/// A blob larger than this goes in parts of this size (`PATCH`) and its last part with the `PUT`,
/// so that a dropped connection costs one part, not the blob. 8 MiB lies between the part sizes
/// ECR documents for its layer-part API (at least 5 MiB but the last, at most 10 MiB:
/// <https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html>) — what its
/// registry requires of a `PATCH` is not documented.
const PART: u64 = 8 << 20;
const PIECE: usize = 1 << 20;

/// Pushes the image to each ready destination, at once; their outcomes, in order.
/// `mount_from`: repositories of each destination's registry to mount blobs from.
pub async fn write_all(
    ready: &[&Destination],
    image: &Image,
    mount_from: &[RepositoryName],
) -> Vec<PushOutcome> {
    let writes = ready
        .iter()
        .map(|destination| write(destination, image, mount_from));
    github::at_once_logged_as_done(writes).await
}

async fn write(
    destination: &Destination,
    image: &Image,
    mount_from: &[RepositoryName],
) -> PushOutcome {
    let uri = &destination.repository_uri;
    let _step = step::enter(&format!("Push {uri}"));
    let mut outcome = PushOutcome::default();
    let written = async {
        let api = RepositoryApi::new(&destination.login, &destination.name, &destination.arn)?;
        let sources = Sources::of(destination, mount_from)?;
        let counts = upload_blobs(&api, &sources, &image.blobs).await?;
        for child in &image.children {
            api.put_manifest(&child.digest, &child.media_type, &child.body)
                .await?;
        }
        Ok::<_, anyhow::Error>((api, counts))
    }
    .await;
    let (api, counts) = match written {
        Ok(written) => written,
        Err(err) => {
            for tag in &destination.plan.push {
                outcome.fail(tag, &err);
            }
            return outcome;
        }
    };
    for tag in &destination.plan.push {
        let top = &image.top;
        match api
            .put_manifest(tag.as_str(), &top.media_type, &top.body)
            .await
        {
            Ok(digest) if digest == top.digest => outcome.pushed.push(PushedTag {
                tag: tag.clone(),
                digest,
            }),
            Ok(digest) => outcome.fail(tag, &advice::stored_as(&digest, &top.digest)),
            Err(err) => outcome.fail(tag, &err),
        }
    }
    let (uploaded, present) = (counts.uploaded, counts.present);
    let top = &image.top.digest;
    github::info(&advice::pushed(
        uri,
        uploaded,
        &counts.mounted,
        present,
        top,
    ));
    outcome
}

/// How each blob got into the repository.
#[derive(Debug, Default)]
struct Counts {
    uploaded: usize,
    /// Mounted from a `mount-from` repository, by name.
    mounted: Vec<(String, usize)>,
    present: usize,
}

/// What became of one blob.
enum Way {
    Present,
    Uploaded,
    Mounted(usize),
}

/// The `mount-from` repositories of one destination's registry, and what was learnt of them: a
/// source that cannot be read, or a registry that does not mount, is told once and not asked again.
struct Sources {
    apis: Vec<RepositoryApi>,
    unreadable: Mutex<Vec<bool>>,
    /// The registry answered a mount with an upload: it does not mount (ECR's `BLOB_MOUNTING` off).
    not_mounting: Mutex<bool>,
}

impl Sources {
    fn of(destination: &Destination, names: &[RepositoryName]) -> Result<Sources> {
        let arn_base = destination
            .arn
            .rsplit_once(":repository/")
            .map_or(destination.arn.as_str(), |(base, _)| base);
        let apis = names.iter().map(|name| {
            let arn = format!("{arn_base}:repository/{}", name.as_str());
            RepositoryApi::new(&destination.login, name.as_str(), &arn)
        });
        let apis = apis.collect::<Result<Vec<_>>>()?;
        Ok(Sources {
            unreadable: Mutex::new(vec![false; apis.len()]),
            apis,
            not_mounting: Mutex::new(false),
        })
    }

    /// The first source that holds `digest`, if the registry may mount.
    async fn holding(&self, digest: &str) -> Option<usize> {
        if *locked(&self.not_mounting) {
            return None;
        }
        for (at, source) in self.apis.iter().enumerate() {
            if locked(&self.unreadable)[at] {
                continue;
            }
            match source.has_blob(digest).await {
                Ok(true) => return Some(at),
                Ok(false) => {}
                Err(why) => {
                    if !std::mem::replace(&mut locked(&self.unreadable)[at], true) {
                        github::warning(&advice::source_unreadable(source.path(), &why));
                    }
                }
            }
        }
        None
    }
}

/// Every blob the repository lacks, mounted from a source or uploaded. The first failure stops the
/// rest.
async fn upload_blobs(api: &RepositoryApi, sources: &Sources, blobs: &[Blob]) -> Result<Counts> {
    let each = futures_util::stream::iter(blobs.iter().map(|blob| async move {
        if api.has_blob(&blob.digest).await? {
            return Ok(Way::Present);
        }
        let Some(at) = sources.holding(&blob.digest).await else {
            return upload(api, blob, None).await.map(|()| Way::Uploaded);
        };
        let from = sources.apis[at].path();
        match api.start_upload(Some((&blob.digest, from))).await {
            Ok(Started::Mounted) => Ok(Way::Mounted(at)),
            Ok(Started::At(location)) => {
                if !std::mem::replace(&mut *locked(&sources.not_mounting), true) {
                    github::info(&advice::not_mounted(api.path(), from));
                }
                upload(api, blob, Some(location))
                    .await
                    .map(|()| Way::Uploaded)
            }
            Err(refused) => {
                if !std::mem::replace(&mut locked(&sources.unreadable)[at], true) {
                    github::warning(&advice::mount_refused(from, &refused));
                }
                upload(api, blob, None).await.map(|()| Way::Uploaded)
            }
        }
    }))
    .buffer_unordered(AT_ONCE);
    let done: Vec<Result<Way>> = each.collect().await;
    let mut counts = Counts {
        mounted: sources
            .apis
            .iter()
            .map(|s| (s.path().to_owned(), 0))
            .collect(),
        ..Counts::default()
    };
    for way in done {
        match way? {
            Way::Present => counts.present += 1,
            Way::Uploaded => counts.uploaded += 1,
            Way::Mounted(at) => counts.mounted[at].1 += 1,
        }
    }
    Ok(counts)
}

/// One blob: an upload, its parts each sent again after a transient failure; a new upload when its
/// start failed or the registry lost step with the parts sent. `started`: the location of an
/// upload the registry already began (a mount it did not make).
async fn upload(api: &RepositoryApi, blob: &Blob, mut started: Option<String>) -> Result<()> {
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let location = match started.take() {
            Some(location) => location,
            None => match api.start_upload(None).await? {
                Started::At(location) => location,
                Started::Mounted => return Ok(()),
            },
        };
        match send_parts(api, blob, location).await? {
            Ok(()) => return Ok(()),
            Err(why) if attempt < ATTEMPTS => {
                github::info(&advice::upload_again(&blob.digest, attempt, ATTEMPTS, &why));
                last = why;
                tokio::time::sleep(PARTS.wait(attempt - 1, None)).await;
            }
            Err(why) => last = why,
        }
    }
    Err(advice::upload_failed(&blob.digest, ATTEMPTS, &last))
}

/// The blob's parts, in order, to the upload at `location`: `Ok(Err(why))` when only a new upload
/// can go on.
async fn send_parts(
    api: &RepositoryApi,
    blob: &Blob,
    mut location: String,
) -> Result<Result<(), String>> {
    let hash = Arc::new(Mutex::new(sha2::Sha256::new()));
    let (mut first, mut again) = (0, 0);
    // The last part's `PUT` failed once: the registry may have kept some of its bytes, and then
    // refuses the same part again — a new upload mends that.
    let mut put_failed = false;
    loop {
        let part = (blob.at.size - first).min(PART);
        let last = first + part == blob.at.size;
        let before = locked(&hash).clone();
        let (why, schedule, asked) =
            match send_part(api, blob, &location, first, part, &hash).await? {
                Ok(Some(next)) => {
                    (location, first, again) = (next, first + part, 0);
                    continue;
                }
                Ok(None) => return Ok(Ok(())),
                Err(PartFailure::Refused(refused)) if put_failed => {
                    return Ok(Err(format!("{refused:#}")));
                }
                Err(PartFailure::Refused(refused)) => return Err(refused),
                Err(PartFailure::OutOfStep(why)) => return Ok(Err(why)),
                Err(PartFailure::Again(why)) => (why, PARTS, None),
                Err(PartFailure::Throttled(why, asked)) => (why, Backoff::THROTTLED, asked),
            };
        again += 1;
        if again >= schedule.attempts {
            return Ok(Err(why));
        }
        let (digest, through, of) = (
            &blob.digest,
            (first + part).saturating_sub(1),
            schedule.attempts,
        );
        github::info(&advice::part_again(digest, first, through, again, of, &why));
        *locked(&hash) = before;
        tokio::time::sleep(schedule.wait(again - 1, asked)).await;
        // The answer to the last part may be what was lost.
        if last && api.has_blob(&blob.digest).await? {
            return Ok(Ok(()));
        }
        put_failed |= last;
    }
}

/// `size` bytes of the blob from byte `first`, added to `hash` as they are read: with the digest
/// (the `PUT`) when they are its last. `Err` when the file is not what it says.
async fn send_part(
    api: &RepositoryApi,
    blob: &Blob,
    location: &str,
    first: u64,
    size: u64,
    hash: &Arc<Mutex<sha2::Sha256>>,
) -> Result<Result<Option<String>, PartFailure>> {
    let problem = Arc::new(Mutex::new(None));
    let read = Read {
        blob,
        first,
        size,
        hash: Arc::clone(hash),
        problem: Arc::clone(&problem),
    };
    let digest = (first + size == blob.at.size).then_some(blob.digest.as_str());
    let sent = api
        .send_part(location, first, size, streamed(read), digest)
        .await;
    match locked(&problem).take() {
        Some(why) => Err(advice::blob_corrupt(&blob.digest, &why)),
        None => Ok(sent),
    }
}

fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One part of a blob to send: `size` bytes from byte `first`, added to the blob's `hash` as they
/// are read; what is wrong with the file goes in `problem`.
struct Read<'a> {
    blob: &'a Blob,
    first: u64,
    size: u64,
    hash: Arc<Mutex<sha2::Sha256>>,
    problem: Arc<Mutex<Option<String>>>,
}

/// The part's bytes, read in pieces as they are sent and hashed. The blob's last piece is checked
/// before it is sent: with its length stated, the request ends with the last byte, and the registry
/// must never have the whole of a bad blob. A hash or size other than stated, or a file that cannot
/// be read, is an error of the body (the request fails) and is written into `problem` for the
/// caller to name.
fn streamed(read: Read<'_>) -> UploadBody {
    struct State {
        file: Option<tokio::fs::File>,
        /// Where the next piece starts in the file, and how many bytes of the part are left.
        at: u64,
        left: u64,
        done: bool,
    }
    let last_part = read.first + read.size == read.blob.at.size;
    let (path, digest) = (read.blob.at.path.clone(), read.blob.digest.clone());
    let (hash, problem) = (read.hash, read.problem);
    let start = State {
        file: None,
        at: read.blob.at.offset + read.first,
        left: read.size,
        done: false,
    };
    let stream = futures_util::stream::unfold(start, move |mut state| {
        let (path, digest) = (path.clone(), digest.clone());
        let (hash, problem) = (Arc::clone(&hash), Arc::clone(&problem));
        async move {
            if state.done {
                return None;
            }
            let piece = next_piece(&mut state.file, &path, state.at, state.left).await;
            let fault = match piece {
                Ok(bytes) if bytes.is_empty() && state.left > 0 => {
                    "ends before its stated size".to_owned()
                }
                Ok(bytes) => {
                    state.left -= bytes.len() as u64;
                    state.at += bytes.len() as u64;
                    locked(&hash).update(&bytes);
                    state.done = state.left == 0;
                    let whole = state.done && last_part;
                    let got = whole.then(|| digest_text(&locked(&hash).clone().finalize()));
                    match got {
                        Some(got) if got != digest => format!("hashes to {got}"),
                        // An empty blob's one piece, checked above.
                        _ if bytes.is_empty() => return None,
                        _ => return Some((Ok(bytes), state)),
                    }
                }
                Err(e) => format!("cannot be read ({e})"),
            };
            state.done = true;
            *locked(&problem) = Some(fault.clone());
            Some((Err(std::io::Error::other(fault)), state))
        }
    });
    let frames = stream.map(|piece| piece.map(hyper::body::Frame::data));
    http_body_util::StreamBody::new(frames).boxed_unsync()
}

/// The next piece of at most 1 MiB of the `left` bytes still to read from `at` (empty at the end).
async fn next_piece(
    file: &mut Option<tokio::fs::File>,
    path: &std::path::Path,
    at: u64,
    left: u64,
) -> std::io::Result<Bytes> {
    if file.is_none() {
        let mut opened = tokio::fs::File::open(path).await?;
        opened.seek(std::io::SeekFrom::Start(at)).await?;
        *file = Some(opened);
    }
    let Some(open) = file.as_mut() else {
        return Ok(Bytes::new());
    };
    let want = usize::try_from(left.min(PIECE as u64)).unwrap_or(PIECE);
    let mut buffer = vec![0; want];
    let n = open.read(&mut buffer).await?;
    buffer.truncate(n);
    Ok(Bytes::from(buffer))
}

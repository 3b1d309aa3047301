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
use crate::{github, step};

/// Blobs uploaded at once per destination.
const AT_ONCE: usize = 4;
/// Tries of one part, and new uploads of one blob, after transient failures.
pub(super) const ATTEMPTS: u32 = 4;
/// A blob larger than this goes in parts of this size (`PATCH`) and its last part with the `PUT`,
/// so that a dropped connection costs one part, not the blob. 8 MiB lies between the part sizes
/// ECR documents for its layer-part API (at least 5 MiB but the last, at most 10 MiB:
/// <https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html>) — what its
/// registry requires of a `PATCH` is not documented.
const PART: u64 = 8 << 20;
const PIECE: usize = 1 << 20;

/// Pushes the image to each ready destination, at once; the outcomes of the ready ones, in order.
pub async fn write_all(prepared: &[Result<Destination>], image: &Image) -> Vec<PushOutcome> {
    let writes = prepared
        .iter()
        .filter_map(|p| p.as_ref().ok())
        .map(|destination| write(destination, image));
    github::at_once_logged_as_done(writes).await
}

async fn write(destination: &Destination, image: &Image) -> PushOutcome {
    let uri = &destination.repository_uri;
    let _step = step::enter(&format!("Push {uri}"));
    let mut outcome = PushOutcome::default();
    let written = async {
        let api = RepositoryApi::new(&destination.login, &destination.name, &destination.arn)?;
        let (uploaded, present) = upload_blobs(&api, &image.blobs).await?;
        for child in &image.children {
            api.put_manifest(&child.digest, &child.media_type, &child.body)
                .await?;
        }
        Ok::<_, anyhow::Error>((api, uploaded, present))
    }
    .await;
    let (api, uploaded, present) = match written {
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
            Ok(digest) => outcome.fail(
                tag,
                &anyhow::anyhow!("stored as {digest}, not {}", top.digest),
            ),
            Err(err) => outcome.fail(tag, &err),
        }
    }
    github::info(&advice::pushed(uri, uploaded, present, &image.top.digest));
    outcome
}

/// Every blob the repository lacks, uploaded; (uploaded, already present). The first failure stops
/// the rest.
async fn upload_blobs(api: &RepositoryApi, blobs: &[Blob]) -> Result<(usize, usize)> {
    let each = futures_util::stream::iter(blobs.iter().map(|blob| async move {
        if api.has_blob(&blob.digest).await? {
            return Ok(false);
        }
        upload(api, blob).await.map(|()| true)
    }))
    .buffer_unordered(AT_ONCE);
    let done: Vec<Result<bool>> = each.collect().await;
    let mut uploaded = 0;
    for result in done {
        uploaded += usize::from(result?);
    }
    Ok((uploaded, blobs.len() - uploaded))
}

/// One blob: an upload, its parts each sent again after a transient failure; a new upload when its
/// start failed or the registry lost step with the parts sent.
async fn upload(api: &RepositoryApi, blob: &Blob) -> Result<()> {
    let size = blob.at.size;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let Started::At(mut location) = api.start_upload(None).await? else {
            return Ok(());
        };
        let hash = Arc::new(Mutex::new(sha2::Sha256::new()));
        let (mut first, mut again) = (0, 0);
        // The last part's `PUT` failed once: the registry may have kept some of its bytes, and then
        // refuses the same part again — a new upload mends that.
        let mut put_failed = false;
        let finished = loop {
            let left = size - first;
            let (part, digest) = if left > PART {
                (PART, None)
            } else {
                (left, Some(blob.digest.as_str()))
            };
            let before = locked(&hash).clone();
            let problem = Arc::new(Mutex::new(None));
            let read = Read {
                blob,
                first,
                size: part,
                hash: Arc::clone(&hash),
                problem: Arc::clone(&problem),
            };
            let sent = api
                .send_part(&location, first, part, streamed(read), digest)
                .await;
            if let Some(why) = locked(&problem).take() {
                return Err(advice::blob_corrupt(&blob.digest, &why));
            }
            match sent {
                Ok(Some(next)) => {
                    location = next;
                    first += part;
                    again = 0;
                }
                Ok(None) => break Ok(()),
                Err(PartFailure::Refused(refused)) if put_failed => {
                    break Err(format!("{refused:#}"));
                }
                Err(PartFailure::Refused(refused)) => return Err(refused),
                Err(PartFailure::OutOfStep(why)) => break Err(why),
                Err(PartFailure::Again(why)) => {
                    again += 1;
                    if again >= ATTEMPTS {
                        break Err(why);
                    }
                    let end = first + part;
                    github::info(&advice::part_again(&blob.digest, first, end, again, &why));
                    *locked(&hash) = before;
                    pause(again).await;
                    if digest.is_some() {
                        // Its answer may be what was lost.
                        if api.has_blob(&blob.digest).await? {
                            break Ok(());
                        }
                        put_failed = true;
                    }
                }
            }
        };
        match finished {
            Ok(()) => return Ok(()),
            Err(why) if attempt < ATTEMPTS => {
                github::info(&advice::upload_again(&blob.digest, attempt, &why));
                last = why;
                pause(attempt).await;
            }
            Err(why) => last = why,
        }
    }
    Err(advice::upload_failed(&blob.digest, ATTEMPTS, &last))
}

async fn pause(attempt: u32) {
    tokio::time::sleep(std::time::Duration::from_millis(500 * u64::from(attempt))).await;
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
    let blob_end = read.blob.at.size;
    let last_part = read.first + read.size == blob_end;
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
                Ok(bytes) if !bytes.is_empty() => {
                    state.left -= bytes.len() as u64;
                    state.at += bytes.len() as u64;
                    locked(&hash).update(&bytes);
                    if state.left > 0 || !last_part {
                        state.done = state.left == 0;
                        return Some((Ok(bytes), state));
                    }
                    let got = digest_text(&locked(&hash).clone().finalize());
                    if got == digest {
                        state.done = true;
                        return Some((Ok(bytes), state));
                    }
                    format!("hashes to {got}")
                }
                Ok(_) if state.left > 0 => "ends before its stated size".to_owned(),
                Ok(_) => {
                    // An empty blob: its one check is here.
                    let got = digest_text(&locked(&hash).clone().finalize());
                    if got == digest || !last_part {
                        return None;
                    }
                    format!("hashes to {got}")
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

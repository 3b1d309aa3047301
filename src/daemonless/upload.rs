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
use super::image::{At, Blob, Image};
use crate::assemble::http::{RepositoryApi, UploadBody};
use crate::assemble::index::digest_text;
use crate::aws::registry::Destination;
use crate::docker::{PushOutcome, PushedTag};
use crate::{github, step};

/// Blobs uploaded at once per destination.
const AT_ONCE: usize = 4;
/// Attempts per blob (a dropped connection, a 5xx or 429 start the upload again).
const ATTEMPTS: u32 = 4;
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

/// One blob, started again from its first byte after a transient failure.
async fn upload(api: &RepositoryApi, blob: &Blob) -> Result<()> {
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let corrupt = Arc::new(Mutex::new(None));
        let body = streamed(blob, Arc::clone(&corrupt));
        let result = api.upload_blob(&blob.digest, blob.at.size, body).await;
        if let Some(why) = corrupt
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            return Err(advice::blob_corrupt(&blob.digest, &why));
        }
        match result {
            Ok(()) => return Ok(()),
            Err(Err(refused)) => return Err(refused),
            Err(Ok(transient)) => {
                last = transient;
                tokio::time::sleep(std::time::Duration::from_millis(500 * u64::from(attempt)))
                    .await;
            }
        }
    }
    Err(advice::upload_failed(&blob.digest, ATTEMPTS, &last))
}

/// The blob's bytes, read in pieces as they are sent and hashed; at the end a hash or size other
/// than stated is an error of the body (the request fails, the registry stores nothing) and is
/// written into `corrupt` for the caller to name.
fn streamed(blob: &Blob, corrupt: Arc<Mutex<Option<String>>>) -> UploadBody {
    struct State {
        file: Option<tokio::fs::File>,
        left: u64,
        hash: sha2::Sha256,
        done: bool,
    }
    let (at, digest) = (blob.at.clone(), blob.digest.clone());
    let start = State {
        file: None,
        left: at.size,
        hash: sha2::Sha256::new(),
        done: false,
    };
    let stream = futures_util::stream::unfold(start, move |mut state| {
        let (at, digest, corrupt) = (at.clone(), digest.clone(), Arc::clone(&corrupt));
        async move {
            if state.done {
                return None;
            }
            let piece = next_piece(&mut state.file, &at, state.left).await;
            // The last piece is checked before it is sent: with its length stated, the request
            // ends with the last byte, and the registry must never have the whole of a bad blob.
            let problem = match piece {
                Ok(bytes) if !bytes.is_empty() => {
                    state.left -= bytes.len() as u64;
                    state.hash.update(&bytes);
                    if state.left > 0 {
                        return Some((Ok(bytes), state));
                    }
                    let got = digest_text(&std::mem::take(&mut state.hash).finalize());
                    if got == digest {
                        state.done = true;
                        return Some((Ok(bytes), state));
                    }
                    format!("hashes to {got}")
                }
                Ok(_) if state.left > 0 => "ends before its stated size".to_owned(),
                Ok(_) => {
                    // An empty blob: its one check is here.
                    let got = digest_text(&std::mem::take(&mut state.hash).finalize());
                    if got == digest {
                        return None;
                    }
                    format!("hashes to {got}")
                }
                Err(e) => format!("cannot be read ({e})"),
            };
            state.done = true;
            *corrupt.lock().unwrap_or_else(PoisonError::into_inner) = Some(problem.clone());
            Some((Err(std::io::Error::other(problem)), state))
        }
    });
    let frames = stream.map(|piece| piece.map(hyper::body::Frame::data));
    http_body_util::StreamBody::new(frames).boxed_unsync()
}

/// The next piece of at most 1 MiB of the `left` bytes still to read (empty at the end).
async fn next_piece(
    file: &mut Option<tokio::fs::File>,
    at: &At,
    left: u64,
) -> std::io::Result<Bytes> {
    if file.is_none() {
        let mut opened = tokio::fs::File::open(&at.path).await?;
        opened.seek(std::io::SeekFrom::Start(at.offset)).await?;
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

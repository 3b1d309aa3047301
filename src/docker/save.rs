//! The daemon's copy of an image, written to a file (`GET /images/{name}/get`, what `docker save`
//! writes), for the classic image store's push to several destinations: that store's daemon pushes
//! one destination at a time and compresses every layer again for each, so the action uploads the
//! image itself (daemonless/compress.rs, daemonless/upload.rs). Also whether the engine is that one.

use anyhow::Result;
use futures_util::StreamExt as _;
use tokio::io::AsyncWriteExt as _;

use super::{Daemon, LocalImage, advice};

/// How long the export may go without a byte before it is given up.
const STALL: std::time::Duration = std::time::Duration::from_mins(1);
/// What the archive may add to the image's own size: a header per file and the documents.
const SLACK: u64 = 64 << 20;

impl Daemon {
    /// Whether this is Docker's classic image store (not its containerd store, not Podman): the
    /// engine whose pushes of one image to several registries do not overlap.
    pub async fn is_classic_docker(&self, image: &LocalImage) -> bool {
        if image.identity.config.is_none() {
            return false;
        }
        let (containerd, version) =
            tokio::join!(self.uses_containerd_store(), self.docker.version());
        let podman = version.is_ok_and(|v| {
            (v.components.unwrap_or_default().iter()).any(|c| c.name.contains("Podman"))
        });
        !containerd && !podman
    }

    /// Writes the image's archive to `path` (a new file); at most the image's size plus [`SLACK`]
    /// bytes, each piece within [`STALL`]. Returns the bytes written.
    pub async fn save(&self, image: &LocalImage, path: &std::path::Path) -> Result<u64> {
        let size = self
            .inspect(&image.id)
            .await
            .ok()
            .flatten()
            .and_then(|i| i.size)
            .and_then(|s| u64::try_from(s).ok());
        let cap = size.map_or(u64::MAX, |s| s.saturating_add(s / 16).saturating_add(SLACK));
        let failed = |why: &dyn std::fmt::Display| advice::save_failed(&image.reference, why);
        let mut file = tokio::fs::File::create_new(path)
            .await
            .map_err(|e| failed(&e))?;
        let mut stream = self.docker.export_image(&image.id);
        let mut written = 0u64;
        loop {
            let next = tokio::time::timeout(STALL, stream.next())
                .await
                .map_err(|_| failed(&format!("no data for {} s", STALL.as_secs())))?;
            let Some(piece) = next else { break };
            let piece = piece.map_err(|e| failed(&e))?;
            written += piece.len() as u64;
            if written > cap {
                return Err(failed(&format!(
                    "the archive grew past {cap} bytes (the image is {} bytes)",
                    size.unwrap_or_default()
                )));
            }
            file.write_all(&piece).await.map_err(|e| failed(&e))?;
        }
        file.flush().await.map_err(|e| failed(&e))?;
        Ok(written)
    }
}

//! Export once, compress once: the classic image store's image saved from the daemon into a private
//! work directory, read as an image on disk (mod.rs, which checks every document), and its layers
//! compressed once (compress.rs) — then uploaded to every destination at once by upload.rs, where the
//! daemon would push one destination after another, compressing every layer again for each.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::compress::gzip_layers;
use super::image::{Compressed, Image};
use crate::assemble::http::RepositoryApi;
use crate::aws::registry::Destination;
use crate::docker::{Daemon, LocalImage};
use crate::inputs::{ArchiveKind, OnDisk};

/// The image ready for the upload, and the directory its files are in (removed when dropped).
pub struct Saved {
    pub image: Image,
    pub archive_bytes: u64,
    pub compressed: Compressed,
    _dir: WorkDir,
}

/// Whether saving pays: at least two destinations that push tags lack the image (its configuration,
/// which a push by either path stores under the image's ID). Where the image is already, the daemon
/// knows its own compressed layers and only checks them, which costs less than saving and
/// compressing; a registry that cannot be asked counts as lacking it.
pub async fn pays(image: &LocalImage, ready: &[&Destination]) -> bool {
    let Some(config) = image.identity.config.as_deref() else {
        return false;
    };
    let lacking = ready
        .iter()
        .filter(|d| !d.plan.push.is_empty())
        .map(|d| async move {
            let api = RepositoryApi::new(&d.login, &d.name, &d.arn).ok()?;
            api.has_blob(config).await.ok()
        });
    let held = futures_util::future::join_all(lacking).await;
    held.iter().filter(|h| **h != Some(true)).count() >= 2
}

/// Saves `image` from the daemon, reads it back and compresses its layers.
pub async fn save(daemon: &Daemon, image: &LocalImage) -> Result<Saved> {
    let dir = WorkDir::new()?;
    let archive = dir.path.join("image.tar");
    let archive_bytes = daemon.save(image, &archive).await?;
    let at = dir.path.clone();
    let read = tokio::task::spawn_blocking(move || {
        let source = OnDisk {
            kind: ArchiveKind::DockerArchive,
            path: archive,
            selector: None,
        };
        gzip_layers(&super::read(&source)?, &at)
    });
    let (image, compressed) = read.await??;
    Ok(Saved {
        image,
        archive_bytes,
        compressed,
        _dir: dir,
    })
}

/// A directory only this process can read (the runner's `RUNNER_TEMP` when set), removed with what is
/// in it when dropped.
struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    fn new() -> Result<WorkDir> {
        let base = std::env::var_os("RUNNER_TEMP")
            .map(PathBuf::from)
            .filter(|p| p.is_dir())
            .unwrap_or_else(std::env::temp_dir);
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let name = random
            .iter()
            .fold(String::from("ecr-push-action-"), |s, b| {
                s + &format!("{b:02x}")
            });
        let path = base.join(name);
        create_private(&path)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", path.display()))?;
        Ok(WorkDir { path })
    }
}

fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    std::fs::DirBuilder::new().mode(0o700).create(path)
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

//! Compress once: an image whose layers are uncompressed tars (what `docker save` writes) made into
//! the same image with gzip layers, each written to a file of `dir` — so that every destination
//! receives the same blobs and the manifest digest is the same everywhere. Each layer is hashed as it
//! is read (it must be what its descriptor says) and as it is written (its new digest); layers are
//! compressed in parallel, one per core.

use std::io::{Read as _, Seek as _, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::Value;
use sha2::Digest as _;

use super::advice;
use super::files::{At, json};
use super::image::{Blob, Compressed, Document, Image};
use crate::assemble::index::{digest_of, digest_text};

/// Uncompressed layer types, and what each is called compressed with gzip.
const GZIPPED: [(&str, &str); 2] = [
    (
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
    ),
    (
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
    ),
];
/// gzip's fastest level: what the upload waits for is time, and most of a layer's saving comes with
/// the first level.
const LEVEL: u32 = 1;

/// `image` (one image manifest) with its uncompressed layers gzip-compressed into files of `dir`.
pub fn gzip_layers(image: &Image, dir: &Path) -> Result<(Image, Compressed)> {
    if !image.children.is_empty() {
        return Err(advice::malformed(
            &image.top.digest,
            "an index, not one image",
        ));
    }
    let mut manifest = json(&image.top.body, &image.top.digest)?;
    let layers = manifest["layers"].as_array().cloned().unwrap_or_default();
    let wanted: Vec<(usize, &Blob, &str)> = layers
        .iter()
        .enumerate()
        .filter_map(|(i, layer)| {
            let kind = layer["mediaType"].as_str()?;
            let (_, gzipped) = GZIPPED.iter().find(|(plain, _)| *plain == kind)?;
            let digest = layer["digest"].as_str()?;
            let blob = image.blobs.iter().find(|b| b.digest == digest)?;
            Some((i, blob, *gzipped))
        })
        .collect();
    let done = in_parallel(&wanted, |(_, blob, _)| gzip(blob, dir))?;
    let mut blobs: Vec<Blob> = Vec::new();
    let mut counted = Compressed::default();
    for ((i, blob, gzipped), new) in wanted.iter().zip(done) {
        let layer = &mut manifest["layers"][*i];
        layer["mediaType"] = Value::from(*gzipped);
        layer["digest"] = Value::from(new.digest.as_str());
        layer["size"] = Value::from(new.at.size);
        counted.layers += 1;
        counted.before += blob.at.size;
        counted.after += new.at.size;
        blobs.push(new);
    }
    let replaced = |b: &&Blob| !wanted.iter().any(|(_, w, _)| w.digest == b.digest);
    blobs.extend(image.blobs.iter().filter(replaced).cloned());
    let body = manifest.to_string().into_bytes();
    let digest = digest_of(&body);
    let platforms = (image.platforms.iter())
        .map(|(p, _)| (p.clone(), digest.clone()))
        .collect();
    let top = Document {
        media_type: image.top.media_type.clone(),
        digest,
        body,
    };
    let compressed = Image {
        top,
        children: Vec::new(),
        blobs,
        platforms,
    };
    Ok((compressed, counted))
}

/// `work` on each item, at most one per core at a time; the results in order, or the first error.
fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(&T) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<Result<R>>> = (0..items.len()).map(|_| None).collect();
    let slots = std::sync::Mutex::new(&mut results);
    std::thread::scope(|scope| {
        for _ in 0..threads.min(items.len()) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let result = work(item);
                    let mut slots = slots
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    slots[i] = Some(result);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(anyhow::anyhow!("a layer was not compressed"))))
        .collect()
}

/// One layer read from where it is (checked against its digest) and written gzip-compressed to a
/// file named after its new digest.
fn gzip(blob: &Blob, dir: &Path) -> Result<Blob> {
    let broken = |e: std::io::Error| advice::unreadable(&blob.at.path, &e);
    let mut source = std::fs::File::open(&blob.at.path).map_err(broken)?;
    source
        .seek(std::io::SeekFrom::Start(blob.at.offset))
        .map_err(broken)?;
    let mut source = source.take(blob.at.size);
    let partial = dir.join(format!("{}.gz.partial", &blob.digest["sha256:".len()..]));
    let unwritable = |e: std::io::Error| advice::unreadable(&partial, &e);
    let file = std::fs::File::create_new(&partial).map_err(unwritable)?;
    let mut out = flate2::write::GzEncoder::new(
        Hashed::new(std::io::BufWriter::new(file)),
        flate2::Compression::new(LEVEL),
    );
    let (mut read, mut plain) = (0u64, sha2::Sha256::new());
    let mut piece = vec![0; 1 << 20];
    loop {
        let n = source.read(&mut piece).map_err(broken)?;
        if n == 0 {
            break;
        }
        read += n as u64;
        plain.update(&piece[..n]);
        out.write_all(&piece[..n]).map_err(unwritable)?;
    }
    let got = digest_text(&plain.finalize());
    if read != blob.at.size || got != blob.digest {
        let why = format!("{read} bytes hashing to {got}");
        return Err(advice::blob_corrupt(&blob.digest, &why));
    }
    let hashed = out.finish().map_err(unwritable)?;
    let (size, digest) = (hashed.written, digest_text(&hashed.hasher.finalize()));
    hashed
        .inner
        .into_inner()
        .map_err(|e| unwritable(e.into_error()))?;
    let path: PathBuf = dir.join(format!("{}.gz", &digest["sha256:".len()..]));
    std::fs::rename(&partial, &path).map_err(unwritable)?;
    Ok(Blob {
        digest,
        at: At {
            path,
            offset: 0,
            size,
        },
    })
}

/// A writer that hashes and counts what passes through it.
struct Hashed<W> {
    inner: W,
    hasher: sha2::Sha256,
    written: u64,
}

impl<W> Hashed<W> {
    fn new(inner: W) -> Self {
        Hashed {
            inner,
            hasher: sha2::Sha256::new(),
            written: 0,
        }
    }
}

impl<W: Write> Write for Hashed<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assemble::index::OCI_MANIFEST;
    use crate::inputs::Platform;

    /// A work directory of its own per test, removed at the end.
    struct Dir(PathBuf);
    impl Dir {
        fn new(name: &str) -> Dir {
            let path = std::env::temp_dir().join(format!("compress-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).expect("a work directory");
            Dir(path)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// An image of one uncompressed layer (`layer` bytes, stored after 100 bytes of something else in
    /// the same file, as a tar entry is) whose descriptor states `stated` as its digest.
    fn image(dir: &Path, layer: &[u8], stated: &str) -> Image {
        let file = dir.join("archive");
        std::fs::write(&file, [&[7u8; 100][..], layer].concat()).expect("the archive");
        let config = br#"{"architecture":"amd64","os":"linux"}"#;
        std::fs::write(dir.join("config"), config).expect("the configuration");
        let config_digest = digest_of(config);
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": [{"mediaType": GZIPPED[0].0, "digest": stated, "size": layer.len()}],
        });
        let body = manifest.to_string().into_bytes();
        let digest = digest_of(&body);
        let at = |path: PathBuf, offset, size| At { path, offset, size };
        Image {
            top: Document {
                media_type: OCI_MANIFEST.to_owned(),
                digest: digest.clone(),
                body,
            },
            children: Vec::new(),
            blobs: vec![
                Blob {
                    digest: config_digest,
                    at: at(dir.join("config"), 0, config.len() as u64),
                },
                Blob {
                    digest: stated.to_owned(),
                    at: at(file, 100, layer.len() as u64),
                },
            ],
            platforms: vec![(Platform::parse("linux/amd64").expect("a platform"), digest)],
        }
    }

    #[test]
    fn layers_are_compressed_once_and_the_manifest_names_them() {
        let dir = Dir::new("ok");
        let layer: Vec<u8> = (0..300_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let original = image(&dir.0, &layer, &digest_of(&layer));
        let (compressed, counted) = gzip_layers(&original, &dir.0).expect("compressed");
        let manifest: Value = serde_json::from_slice(&compressed.top.body).expect("JSON");
        let descriptor = &manifest["layers"][0];
        assert_eq!(descriptor["mediaType"], GZIPPED[0].1);
        let blob = compressed
            .blobs
            .iter()
            .find(|b| b.digest == descriptor["digest"])
            .expect("the new layer is a blob of the image");
        let written = std::fs::read(&blob.at.path).expect("the new layer");
        assert_eq!(
            digest_of(&written),
            blob.digest,
            "named by what it hashes to"
        );
        assert_eq!(descriptor["size"], written.len());
        let mut unpacked = Vec::new();
        flate2::read::GzDecoder::new(&written[..])
            .read_to_end(&mut unpacked)
            .expect("gzip");
        assert_eq!(unpacked, layer);
        assert_eq!((counted.layers, counted.before), (1, layer.len() as u64));
        assert!(counted.after < counted.before / 4, "{counted:?}");
        // The configuration is the same blob; the manifest's digest is what its bytes hash to, and the
        // platform points at it.
        assert_eq!(
            manifest["config"],
            serde_json::from_slice::<Value>(&original.top.body).expect("JSON")["config"]
        );
        assert!(
            compressed
                .blobs
                .iter()
                .any(|b| b.digest == original.blobs[0].digest && b.at == original.blobs[0].at)
        );
        assert_eq!(compressed.blobs.len(), 2);
        assert_eq!(compressed.top.digest, digest_of(&compressed.top.body));
        assert_eq!(compressed.platforms[0].1, compressed.top.digest);
    }

    #[test]
    fn a_layer_that_is_not_what_its_digest_says_is_refused() {
        let dir = Dir::new("corrupt");
        let stated = digest_of(b"something else");
        let err = gzip_layers(&image(&dir.0, b"the layer", &stated), &dir.0).expect_err("refused");
        assert_eq!(crate::diagnostic::codes(&err), ["E-ONDISK-DIGEST"]);
        assert!(format!("{err:#}").contains(&stated), "{err:#}");
    }

    #[test]
    fn compressed_layers_are_left_as_they_are() {
        let dir = Dir::new("kept");
        let mut original = image(&dir.0, b"gzip already", &digest_of(b"gzip already"));
        let mut manifest: Value = serde_json::from_slice(&original.top.body).expect("JSON");
        manifest["layers"][0]["mediaType"] = Value::from(GZIPPED[0].1);
        original.top.body = manifest.to_string().into_bytes();
        let (compressed, counted) = gzip_layers(&original, &dir.0).expect("compressed");
        assert_eq!(counted.layers, 0);
        assert_eq!(compressed.top.body, original.top.body);
    }
}

//! What an image on disk is, once read: its documents (checked against their digests) and where each
//! blob's bytes are. Shared by the reading (mod.rs, legacy.rs) and the upload (upload.rs).

use crate::inputs::Platform;

pub use super::files::At;

/// A manifest or index of the image, checked against its digest.
#[derive(Debug, Clone)]
pub struct Document {
    pub media_type: String,
    pub digest: String,
    pub body: Vec<u8>,
}

/// A configuration or layer: where its bytes are, and what they must hash to.
#[derive(Debug, Clone)]
pub struct Blob {
    pub digest: String,
    pub at: At,
}

/// The image read from disk.
#[derive(Debug, Clone)]
pub struct Image {
    /// What the tags will name: an index, or an image manifest.
    pub top: Document,
    /// An index's manifests (images and attestations), written by digest before the index.
    pub children: Vec<Document>,
    /// Every blob of every manifest, once each.
    pub blobs: Vec<Blob>,
    /// The platforms an index lists, each with its manifest digest; a single image's own.
    pub platforms: Vec<(Platform, String)>,
}

/// What compressing an image's layers did (compress.rs): the layers, and their bytes before and after.
#[derive(Debug, Clone, Copy, Default)]
pub struct Compressed {
    pub layers: usize,
    pub before: u64,
    pub after: u64,
}

//! Where each file of an image on disk is: a file of a directory, or a stretch of a tar read in place
//! (a tar entry's content is stored whole at an offset, so a blob is read by seeking, never unpacked).
//! Small documents are read whole under a cap; blobs are streamed by the upload.

use std::collections::BTreeMap;
use std::io::{Read as _, Seek as _};
use std::path::{Component, Path, PathBuf};

use anyhow::Result;

use super::advice;

/// A file's bytes: `size` bytes at `offset` of `path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    pub path: PathBuf,
    pub offset: u64,
    pub size: u64,
}

/// The files of a directory, or of a tar by name.
pub enum Files {
    Dir(PathBuf),
    Tar(BTreeMap<String, At>),
}

impl Files {
    pub fn dir(path: &Path) -> Result<Files> {
        if !path.is_dir() {
            return Err(advice::not_a_directory(path));
        }
        Ok(Files::Dir(path.to_owned()))
    }

    /// Every regular file of the tar, by its normalized name (`./` and leading `/` dropped).
    pub fn tar(path: &Path) -> Result<Files> {
        let file = std::fs::File::open(path).map_err(|e| advice::unreadable(path, &e))?;
        let mut archive = tar::Archive::new(file);
        let mut entries = BTreeMap::new();
        let broken = |e: std::io::Error| advice::not_a_tar(path, &e);
        for entry in archive.entries().map_err(broken)? {
            let entry = entry.map_err(broken)?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let name = entry.path().map_err(broken)?;
            let name = normalized(&name);
            let at = At {
                path: path.to_owned(),
                offset: entry.raw_file_position(),
                size: entry.size(),
            };
            entries.insert(name, at);
        }
        Ok(Files::Tar(entries))
    }

    /// Where `name` (a path inside the layout, `/`-separated) is; `None` when it is not there. A name
    /// that climbs out of the directory is never there.
    pub fn find(&self, name: &str) -> Option<At> {
        let relative = Path::new(name);
        let escapes = relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir));
        if escapes {
            return None;
        }
        match self {
            Files::Dir(root) => {
                let path = root.join(relative);
                let size = std::fs::metadata(&path)
                    .ok()
                    .filter(std::fs::Metadata::is_file)?
                    .len();
                Some(At {
                    path,
                    offset: 0,
                    size,
                })
            }
            Files::Tar(entries) => entries.get(&normalized(relative)).cloned(),
        }
    }

    /// The whole of `name`, at most `cap` bytes.
    pub fn read(&self, name: &str, cap: u64) -> Result<Vec<u8>> {
        let at = self.find(name).ok_or_else(|| advice::missing(name))?;
        read(&at, name, cap)
    }
}

/// The bytes `at` points to, at most `cap` of them.
pub fn read(at: &At, name: &str, cap: u64) -> Result<Vec<u8>> {
    if at.size > cap {
        return Err(advice::too_large(name, at.size, cap));
    }
    let mut file = std::fs::File::open(&at.path).map_err(|e| advice::unreadable(&at.path, &e))?;
    file.seek(std::io::SeekFrom::Start(at.offset))
        .map_err(|e| advice::unreadable(&at.path, &e))?;
    let mut bytes = Vec::with_capacity(usize::try_from(at.size).unwrap_or_default());
    file.take(at.size)
        .read_to_end(&mut bytes)
        .map_err(|e| advice::unreadable(&at.path, &e))?;
    if bytes.len() as u64 != at.size {
        return Err(advice::truncated(name));
    }
    Ok(bytes)
}

/// A JSON document of the image, named in errors as `name`.
pub fn json(bytes: &[u8], name: &str) -> Result<serde_json::Value> {
    serde_json::from_slice(bytes).map_err(|e| advice::malformed(name, &e.to_string()))
}

fn normalized(name: &Path) -> String {
    let parts: Vec<String> = name
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_climbing_out_of_the_layout_are_not_there() {
        let files = Files::Tar(BTreeMap::from([(
            "blobs/sha256/ab".to_owned(),
            At {
                path: PathBuf::from("x.tar"),
                offset: 512,
                size: 3,
            },
        )]));
        assert!(files.find("./blobs/sha256/ab").is_some());
        assert!(files.find("../etc/passwd").is_none());
        assert!(files.find("/etc/passwd").is_none());
    }
}

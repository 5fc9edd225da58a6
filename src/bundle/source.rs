//! Where a bundle's files come from: a zip, a folder on disk (CLI), or the files a browser's
//! folder picker hands over. All three are read the same way, one file at a time, so an import
//! never holds the whole bundle in memory; every path is checked before anything is read.

use crate::api::{ApiError, ApiResult};
use std::collections::BTreeMap;
use std::io::Read;

/// Caps on what a bundle may unpack to, checked before anything is read: sized for a browser tab.
pub const MAX_TOTAL_BYTES: u64 = 512 * 1024 * 1024;
/// An entry compressed more than this (and over 1 MiB unpacked) is treated as a zip bomb.
pub const MAX_RATIO: u64 = 200;

fn bad(message: String) -> ApiError {
    ApiError::invalid(message)
}

/// A bundle path made safe: `/`-separated, relative, with no `..`, `.` or empty segments.
fn checked_path(name: &str) -> ApiResult<String> {
    let unified = name.replace('\\', "/");
    let escapes = unified.starts_with('/')
        || unified.split('/').any(|s| s == "..")
        || unified.contains('\0')
        || unified.as_bytes().get(1) == Some(&b':');
    if escapes {
        return Err(bad(format!(
            "bundle entry '{name}' points outside the bundle"
        )));
    }
    Ok(unified
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect::<Vec<_>>()
        .join("/"))
}

enum Kind<'a> {
    Zip(Box<zip::ZipArchive<std::io::Cursor<&'a [u8]>>>),
    Memory(BTreeMap<String, Vec<u8>>),
    #[cfg(not(target_arch = "wasm32"))]
    Folder(std::path::PathBuf),
}

/// A bundle's files: each path (checked) with its unpacked size, and a way to read one.
pub struct Source<'a> {
    kind: Kind<'a>,
    /// Path → (index in the zip, or 0; unpacked size).
    files: BTreeMap<String, (usize, u64)>,
}

impl<'a> Source<'a> {
    /// A zip: refused when it is not a zip, when an entry escapes, or when it unpacks past the caps.
    pub fn zip(bytes: &'a [u8]) -> ApiResult<Source<'a>> {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
            .map_err(|e| bad(format!("not a readable zip file: {e}")))?;
        let mut files = BTreeMap::new();
        let mut total = 0u64;
        for i in 0..zip.len() {
            let entry = zip
                .by_index_raw(i)
                .map_err(|e| bad(format!("zip entry #{i} is unreadable: {e}")))?;
            let name = entry
                .name()
                .map_err(|e| bad(format!("zip entry #{i} has an unreadable name: {e}")))?
                .to_string();
            if entry.enclosed_name().is_none() {
                return Err(bad(format!(
                    "bundle entry '{name}' points outside the bundle"
                )));
            }
            let path = checked_path(&name)?;
            if entry.is_dir() || path.is_empty() {
                continue;
            }
            total = total.saturating_add(entry.size());
            if total > MAX_TOTAL_BYTES {
                return Err(bad(format!(
                    "the bundle unpacks to more than {MAX_TOTAL_BYTES} bytes (at entry '{name}')"
                )));
            }
            if entry.size() > 1024 * 1024
                && entry.size() / entry.compressed_size().max(1) > MAX_RATIO
            {
                return Err(bad(format!(
                    "zip entry '{name}' is compressed more than {MAX_RATIO}:1; refusing a zip bomb"
                )));
            }
            if files.insert(path, (i, entry.size())).is_some() {
                return Err(bad(format!("the bundle holds '{name}' twice")));
            }
        }
        Ok(Source {
            kind: Kind::Zip(Box::new(zip)),
            files,
        })
    }

    /// Files handed over one by one (a browser folder picker), with their relative paths.
    pub fn files(entries: Vec<(String, Vec<u8>)>) -> ApiResult<Source<'static>> {
        let mut files = BTreeMap::new();
        let mut contents = BTreeMap::new();
        let mut total = 0u64;
        for (name, content) in entries {
            let path = checked_path(&name)?;
            total = total.saturating_add(content.len() as u64);
            if total > MAX_TOTAL_BYTES {
                return Err(bad(format!(
                    "the folder holds more than {MAX_TOTAL_BYTES} bytes (at '{name}')"
                )));
            }
            if files
                .insert(path.clone(), (0, content.len() as u64))
                .is_some()
            {
                return Err(bad(format!("the folder holds '{name}' twice")));
            }
            contents.insert(path, content);
        }
        Ok(Source {
            kind: Kind::Memory(contents),
            files,
        })
    }

    /// A folder on disk. Symbolic links are refused: a bundle may not name files outside itself.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn folder(root: &std::path::Path) -> ApiResult<Source<'static>> {
        let mut files = BTreeMap::new();
        let mut total = 0u64;
        let mut pending = vec![root.to_path_buf()];
        while let Some(dir) = pending.pop() {
            let entries = std::fs::read_dir(&dir)
                .map_err(|e| bad(format!("cannot read folder {}: {e}", dir.display())))?;
            for entry in entries {
                let entry =
                    entry.map_err(|e| bad(format!("cannot read folder {}: {e}", dir.display())))?;
                let path = entry.path();
                let relative = path
                    .strip_prefix(root)
                    .map(|p| p.to_string_lossy().replace('\\', "/"))
                    .unwrap_or_default();
                let meta = std::fs::symlink_metadata(&path)
                    .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
                if meta.file_type().is_symlink() {
                    return Err(bad(format!(
                        "bundle entry '{relative}' is a symbolic link; links are not followed"
                    )));
                }
                if meta.is_dir() {
                    pending.push(path);
                    continue;
                }
                total = total.saturating_add(meta.len());
                if total > MAX_TOTAL_BYTES {
                    return Err(bad(format!(
                        "the folder holds more than {MAX_TOTAL_BYTES} bytes (at '{relative}')"
                    )));
                }
                files.insert(checked_path(&relative)?, (0, meta.len()));
            }
        }
        Ok(Source {
            kind: Kind::Folder(root.to_path_buf()),
            files,
        })
    }

    /// Every file's path, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    pub fn contains(&self, path: &str) -> bool {
        self.files.contains_key(path)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The files under `dir/` (recursively), as paths relative to it.
    pub fn under<'s>(&'s self, dir: &str) -> impl Iterator<Item = (&'s str, &'s str)> + 's {
        let prefix = format!("{dir}/");
        let skip = prefix.len();
        self.files
            .range(prefix.clone()..)
            .take_while(move |(p, _)| p.starts_with(&prefix))
            .map(move |(p, _)| (p.as_str(), &p[skip..]))
    }

    /// One file's bytes; a corrupt or truncated entry is an error naming it.
    pub fn read(&mut self, path: &str) -> ApiResult<Vec<u8>> {
        let &(index, size) = self
            .files
            .get(path)
            .ok_or_else(|| bad(format!("the bundle has no '{path}'")))?;
        match &mut self.kind {
            Kind::Zip(zip) => {
                let mut entry = zip
                    .by_index(index)
                    .map_err(|e| bad(format!("zip entry '{path}' is unreadable: {e}")))?;
                let mut content = Vec::with_capacity(size.min(MAX_TOTAL_BYTES) as usize);
                // Never more than the size the entry declared: a lying header cannot inflate it.
                std::io::Read::by_ref(&mut entry)
                    .take(size)
                    .read_to_end(&mut content)
                    .map_err(|e| bad(format!("zip entry '{path}' is truncated or corrupt: {e}")))?;
                if content.len() as u64 != size {
                    return Err(bad(format!("zip entry '{path}' is truncated")));
                }
                Ok(content)
            }
            Kind::Memory(contents) => Ok(contents.get(path).cloned().unwrap_or_default()),
            #[cfg(not(target_arch = "wasm32"))]
            Kind::Folder(root) => std::fs::read(root.join(path))
                .map_err(|e| bad(format!("cannot read '{path}': {e}"))),
        }
    }

    /// One file as UTF-8 text, or an error naming it.
    pub fn read_text(&mut self, path: &str) -> ApiResult<String> {
        String::from_utf8(self.read(path)?).map_err(|_| bad(format!("'{path}' is not UTF-8 text")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_escape_are_refused_and_others_are_normalised() {
        for name in ["../x", "a/../../x", "/etc/passwd", "C:/x", "a\\..\\x"] {
            let e = checked_path(name).unwrap_err();
            assert!(e.message.contains("points outside the bundle"), "{name}");
        }
        assert_eq!(checked_path("./a//b/c").unwrap(), "a/b/c");
        let source = Source::files(vec![
            ("mlruns/0/meta.yaml".into(), b"x".to_vec()),
            ("mlruns/0/r/params/a".into(), b"1".to_vec()),
            ("mlruns/1/meta.yaml".into(), b"y".to_vec()),
        ])
        .unwrap();
        let under: Vec<_> = source.under("mlruns/0").map(|(_, r)| r).collect();
        assert_eq!(under, ["meta.yaml", "r/params/a"]);
    }
}

//! Local import sources: `file:///absolute/path` under one of the directories the operator
//! lists in `[sources.local] roots`. The file is opened relative to its root with
//! `openat2(RESOLVE_BENEATH)`, so neither `..` nor a symbolic link (even one swapped in after
//! the request was checked) reaches a file outside the root.

use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

use bytes::BytesMut;
use futures::stream::StreamExt;
use rustix::fs::{Mode, OFlags, ResolveFlags};

use super::{SourceError, SourceObject};

/// Bytes per read of a local source.
const READ_CHUNK: usize = 1 << 20;

/// The directories local sources may come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LocalRoots {
    /// Absolute, without `.`/`..` components or a trailing slash.
    roots: Vec<PathBuf>,
}

impl LocalRoots {
    /// The configured roots; each must be an absolute path to a directory.
    pub fn new(roots: &[PathBuf]) -> Result<Self, SourceError> {
        let mut out = Vec::new();
        for root in roots {
            let normal = normal_absolute(root).ok_or_else(|| {
                SourceError::Setup(format!(
                    "sources.local.roots: {} is not an absolute path without . or .. parts",
                    root.display()
                ))
            })?;
            if !normal.is_dir() {
                return Err(SourceError::Setup(format!(
                    "sources.local.roots: {} is not a directory",
                    root.display()
                )));
            }
            out.push(normal);
        }
        Ok(Self { roots: out })
    }

    /// The root a `file://` URI's path lies under, and the path: `None` when it lies under
    /// none (or is not an absolute `file:///` path without `.`/`..` parts).
    pub fn locate<'a>(&'a self, uri: &str) -> Option<(&'a Path, PathBuf)> {
        let path = normal_absolute(Path::new(file_path(uri)?))?;
        let root = self
            .roots
            .iter()
            .filter(|root| path.starts_with(root) && path != **root)
            .max_by_key(|root| root.components().count())?;
        Some((root.as_path(), path))
    }

    /// Opens `file:///path` for streaming.
    pub async fn open(&self, uri: &str) -> Result<SourceObject, SourceError> {
        let bad = || SourceError::BadUri(uri.to_owned());
        let raw = file_path(uri).ok_or_else(bad)?;
        if normal_absolute(Path::new(raw)).is_none() {
            return Err(SourceError::Failed {
                uri: uri.to_owned(),
                reason: "a local source is an absolute path without '.' or '..' parts".into(),
            });
        }
        let (root, path) = self
            .locate(uri)
            .ok_or_else(|| SourceError::NotUnderRoots(raw.to_owned()))?;
        let relative = path
            .strip_prefix(root)
            .map_err(|_| SourceError::NotUnderRoots(raw.to_owned()))?
            .to_path_buf();
        let (root, uri_owned) = (root.to_path_buf(), uri.to_owned());
        let file = tokio::task::spawn_blocking(move || open_beneath(&root, &relative))
            .await
            .map_err(|e| SourceError::Failed {
                uri: uri_owned.clone(),
                reason: e.to_string(),
            })?
            .map_err(|e| local_error(&uri_owned, raw, e))?;
        let size = file.metadata().map_err(|e| local_error(uri, raw, e))?.len();
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Each chunk is read on a blocking thread: a local disk (or NFS) read may wait. A
        // file that grows or shrinks while it is read is an error, as a replaced S3 object is.
        let changed = uri.to_owned();
        let stream = futures::stream::unfold(Some((file, 0u64)), move |state| {
            let changed = changed.clone();
            async move {
                let (file, done) = state?;
                let read = tokio::task::spawn_blocking(move || {
                    let mut file = file;
                    let mut buffer = BytesMut::zeroed(READ_CHUNK);
                    let n = std::io::Read::read(&mut file, &mut buffer)?;
                    buffer.truncate(n);
                    Ok::<_, std::io::Error>((file, buffer.freeze()))
                })
                .await
                .map_err(std::io::Error::other)
                .and_then(|r| r);
                match read {
                    Ok((_, chunk)) if chunk.is_empty() && done == size => None,
                    Ok((file, chunk)) if done + chunk.len() as u64 <= size && !chunk.is_empty() => {
                        let done = done + chunk.len() as u64;
                        Some((Ok(chunk), Some((file, done))))
                    }
                    Ok(_) => Some((Err(SourceError::Changed(changed)), None)),
                    Err(e) => Some((
                        Err(SourceError::Failed {
                            uri: changed,
                            reason: e.to_string(),
                        }),
                        None,
                    )),
                }
            }
        })
        .boxed();
        Ok(SourceObject {
            size,
            file_name,
            stream,
        })
    }
}

/// The path of a `file:///…` URI (`file://` then an absolute path).
pub fn file_path(uri: &str) -> Option<&str> {
    uri.strip_prefix("file://").filter(|p| p.starts_with('/'))
}

/// `path` when it is absolute with no `.`/`..` parts, without a trailing slash.
fn normal_absolute(path: &Path) -> Option<PathBuf> {
    if !path.is_absolute() || path.as_os_str().as_encoded_bytes().contains(&0) {
        return None;
    }
    let mut out = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::RootDir => {}
            Component::Normal(part) => out.push(part),
            Component::CurDir | Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    // `Path::components` drops `.` in the middle silently: compare with the text.
    let text = path.to_string_lossy();
    if text.split('/').any(|part| part == "." || part == "..") {
        return None;
    }
    Some(out)
}

/// Opens `relative` beneath `root` read-only: the kernel refuses any resolution (`..`,
/// absolute or escaping symbolic links) that would leave `root`, and `open` refuses what is
/// not a regular file.
fn open_beneath(root: &Path, relative: &Path) -> std::io::Result<std::fs::File> {
    let dir: OwnedFd = rustix::fs::open(
        root,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let fd = rustix::fs::openat2(
        &dir,
        relative,
        OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOCTTY | OFlags::NONBLOCK,
        Mode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
    )?;
    let file = std::fs::File::from(fd);
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok(file)
}

fn local_error(uri: &str, path: &str, e: std::io::Error) -> SourceError {
    match e.raw_os_error() {
        Some(code) if code == rustix::io::Errno::NOENT.raw_os_error() => {
            SourceError::FileNotFound(path.to_owned())
        }
        Some(code) if code == rustix::io::Errno::XDEV.raw_os_error() => {
            SourceError::NotUnderRoots(path.to_owned())
        }
        Some(code) if code == rustix::io::Errno::ACCESS.raw_os_error() => SourceError::Denied {
            action: "reading",
            uri: uri.to_owned(),
            code: None,
        },
        _ => SourceError::Failed {
            uri: uri.to_owned(),
            reason: e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_located_under_their_deepest_root_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (a, ab) = (dir.path().join("a"), dir.path().join("a/b"));
        std::fs::create_dir_all(&ab).unwrap();
        let roots = LocalRoots::new(&[a.clone(), ab.clone()]).unwrap();
        let uri = |p: &Path| format!("file://{}", p.display());
        assert_eq!(roots.locate(&uri(&a.join("x.fa"))).unwrap().0, a.as_path());
        assert_eq!(
            roots.locate(&uri(&ab.join("x.fa"))).unwrap().0,
            ab.as_path()
        );
        for bad in [
            uri(&dir.path().join("x.fa")),
            uri(&a),
            format!("{}/../x.fa", uri(&ab)),
            format!("{}/./x.fa", uri(&a)),
            "file://relative/x.fa".into(),
            format!("s3://{}", a.display()),
            uri(&dir.path().join("ab/x.fa")),
        ] {
            assert!(roots.locate(&bad).is_none(), "{bad}");
        }
        assert!(LocalRoots::new(&[PathBuf::from("relative")]).is_err());
        assert!(LocalRoots::new(&[dir.path().join("missing")]).is_err());
    }

    #[tokio::test]
    async fn files_open_beneath_their_root_and_links_out_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("runs");
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/r1.fq"), b"@r\nACGT\n+\nIIII\n").unwrap();
        std::fs::write(dir.path().join("secret"), b"no").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), root.join("out")).unwrap();
        std::os::unix::fs::symlink("sub/r1.fq", root.join("in")).unwrap();
        let roots = LocalRoots::new(std::slice::from_ref(&root)).unwrap();
        let read = |name: &str| {
            let uri = format!("file://{}/{name}", root.display());
            let roots = roots.clone();
            async move {
                let mut object = roots.open(&uri).await?;
                let mut bytes = Vec::new();
                while let Some(chunk) = object.stream.next().await {
                    bytes.extend_from_slice(&chunk?);
                }
                assert_eq!(object.size, bytes.len() as u64);
                Ok::<_, SourceError>((object.file_name, bytes))
            }
        };
        let (name, bytes) = read("sub/r1.fq").await.unwrap();
        assert_eq!(
            (name.as_str(), bytes.as_slice()),
            ("r1.fq", &b"@r\nACGT\n+\nIIII\n"[..])
        );
        assert_eq!(read("in").await.unwrap().1, b"@r\nACGT\n+\nIIII\n");
        assert!(matches!(
            read("out").await,
            Err(SourceError::NotUnderRoots(_))
        ));
        assert!(matches!(
            read("sub/none").await,
            Err(SourceError::FileNotFound(_))
        ));
        assert!(read("sub").await.is_err(), "a directory is not a source");
    }
}

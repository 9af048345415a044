//! `update-model`: copies the omics model files from the installed botocore into `model/botocore`.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

const SERVICE: &str = "omics";

/// Copies `service-2.json.gz`, `paginators-1.json` and `waiters-2.json` after checking that the
/// installed botocore is the version pinned in `model/botocore/VERSION`.
pub fn run(root: &Path) -> Result<()> {
    let pinned_path = root.join("model/botocore/VERSION");
    let pinned = std::fs::read_to_string(&pinned_path)
        .with_context(|| format!("reading {}", pinned_path.display()))?
        .trim()
        .to_owned();
    let (installed, package_dir) = installed_botocore()?;
    if installed != pinned {
        bail!(
            "installed botocore is {installed} but {} pins {pinned}; install botocore=={pinned} \
             or change VERSION deliberately",
            pinned_path.display()
        );
    }
    let service_dir = latest_api_dir(&package_dir.join("data").join(SERVICE))?;
    let dest = root.join("model/botocore");
    copy_gzipped(
        &service_dir,
        "service-2.json",
        &dest.join("service-2.json.gz"),
    )?;
    for name in ["paginators-1.json", "waiters-2.json"] {
        copy_plain(&service_dir, name, &dest.join(name))?;
    }
    println!(
        "copied the {SERVICE} model of botocore {installed} from {}",
        service_dir.display()
    );
    Ok(())
}

/// `(botocore.__version__, package directory)` of the botocore `python3` imports.
fn installed_botocore() -> Result<(String, PathBuf)> {
    let out = Command::new("python3")
        .args(["-c", "import botocore,os;print(botocore.__version__);print(os.path.dirname(botocore.__file__))"])
        .output()
        .context("running python3")?;
    if !out.status.success() {
        bail!(
            "cannot import botocore: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8(out.stdout).context("python3 printed invalid UTF-8")?;
    let mut lines = text.lines();
    match (lines.next(), lines.next()) {
        (Some(v), Some(dir)) => Ok((v.trim().to_owned(), PathBuf::from(dir.trim()))),
        _ => bail!("unexpected output from python3: {text:?}"),
    }
}

/// The newest `YYYY-MM-DD` API directory of the service.
fn latest_api_dir(service: &Path) -> Result<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(service)
        .with_context(|| format!("listing {}", service.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.pop()
        .with_context(|| format!("no API version directory under {}", service.display()))
}

/// Copies `<dir>/<name>.gz` as is, or gzips `<dir>/<name>` when only the plain file exists.
fn copy_gzipped(dir: &Path, name: &str, dest: &Path) -> Result<()> {
    let gz = dir.join(format!("{name}.gz"));
    if gz.exists() {
        std::fs::copy(&gz, dest).with_context(|| format!("copying {}", gz.display()))?;
        return Ok(());
    }
    let plain = std::fs::read(dir.join(name))
        .with_context(|| format!("reading {name} in {}", dir.display()))?;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut enc, &plain)?;
    std::fs::write(dest, enc.finish()?).with_context(|| format!("writing {}", dest.display()))
}

/// Copies `<dir>/<name>`, decompressing `<dir>/<name>.gz` when only that exists.
fn copy_plain(dir: &Path, name: &str, dest: &Path) -> Result<()> {
    let plain = dir.join(name);
    if plain.exists() {
        std::fs::copy(&plain, dest).with_context(|| format!("copying {}", plain.display()))?;
        return Ok(());
    }
    let gz = dir.join(format!("{name}.gz"));
    let file = std::fs::File::open(&gz).with_context(|| format!("opening {}", gz.display()))?;
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(file).read_to_end(&mut text)?;
    std::fs::write(dest, text).with_context(|| format!("writing {}", dest.display()))
}

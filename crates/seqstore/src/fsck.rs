//! `seqstore fsck`: the catalog checked against the blob store, orphans found (and with
//! `--repair` removed), damaged read sets marked so that they are not served.

use crate::config::Config;
use seqstore_core::fsck::{CheckOptions, Reading, Report};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant, SystemTime};

/// What the command was asked to do.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Recompute HealthOmics ETags too.
    pub verify: bool,
    /// Remove orphans, mark damaged read sets.
    pub repair: bool,
    /// Print the report as JSON.
    pub json: bool,
    /// Objects younger than this are not judged (they may belong to work in flight).
    pub min_age: Duration,
}

/// Runs the check; the exit status says whether it was clean (0) or found problems (1).
pub async fn run(config: &Config, options: Options) -> anyhow::Result<std::process::ExitCode> {
    let catalog = crate::data_dir::open_catalog(config).await?;
    let data_dir = config.data_dir.canonicalize()?;
    let service = crate::serve::service(config, &data_dir, catalog)?;
    let check = CheckOptions {
        reading: if options.verify {
            Reading::Etags
        } else {
            Reading::Md5
        },
        repair: options.repair,
        cutoff: SystemTime::now() - options.min_age,
    };
    let bar = ProgressBar::new(std::io::stderr().is_terminal() && !options.json);
    let report = service
        .check(check, Some(&|done, total| bar.show(done, total)))
        .await?;
    bar.finish();
    if options.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    Ok(if report.clean {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::from(1)
    })
}

fn print_text(report: &Report) {
    let c = &report.checked;
    for p in &report.problems {
        let repaired = p
            .repaired
            .as_deref()
            .map(|r| format!(" [repaired: {r}]"))
            .unwrap_or_default();
        println!("{:?}\t{}\t{}{repaired}", p.kind, p.key, p.detail);
    }
    println!(
        "checked {} read sets, {} references, {} files ({} bytes read), {} objects; \
         {} left unjudged as written during the check; {}",
        c.read_sets,
        c.references,
        c.files,
        c.bytes_read,
        c.objects,
        report.skipped_recent,
        match report.problems.len() {
            0 => "clean".to_owned(),
            n => format!("{n} problems"),
        }
    );
    if report.skipped_recent > 0 {
        println!(
            "{} objects younger than --min-age were not judged: with the server stopped, run \
             again with --min-age 0 to judge everything",
            report.skipped_recent
        );
    }
}

/// A one-line progress bar on a terminal, redrawn at most ten times a second.
struct ProgressBar {
    on: bool,
    started: Instant,
    last: std::sync::Mutex<Option<Instant>>,
}

impl ProgressBar {
    fn new(on: bool) -> Self {
        Self {
            on,
            started: Instant::now(),
            last: std::sync::Mutex::new(None),
        }
    }

    fn show(&self, done: u64, total: u64) {
        if !self.on {
            return;
        }
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| t.elapsed() < Duration::from_millis(100)) && done < total {
            return;
        }
        *last = Some(Instant::now());
        const WIDTH: u64 = 30;
        let filled = (done.saturating_mul(WIDTH) / total.max(1)).min(WIDTH) as usize;
        let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-3) / 1048576.0;
        eprint!(
            "\r[{}{}] {:.1}/{:.1} MiB {rate:.0} MiB/s ",
            "#".repeat(filled),
            " ".repeat(WIDTH as usize - filled),
            done as f64 / 1048576.0,
            total as f64 / 1048576.0,
        );
        let _ = std::io::stderr().flush();
    }

    fn finish(&self) {
        if self.on && self.last.lock().map(|l| l.is_some()).unwrap_or(false) {
            eprintln!();
        }
    }
}

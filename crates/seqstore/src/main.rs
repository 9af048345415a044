//! `seqstore`: the self-hosted AWS HealthOmics storage service and its admin commands.

mod admin;
mod archive;
mod cli;
mod client;
mod config;
mod credentials;
mod data_dir;
mod etag;
mod fsck;
mod keys;
mod serve;
mod tokens;
mod usage;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("seqstore: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli.run()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("seqstore: {e:#}");
            // 1 is `fsck`'s "found problems"
            std::process::ExitCode::from(2)
        }
    }
}

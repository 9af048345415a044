//! `seqstore`: the self-hosted AWS HealthOmics storage service and its admin commands.

mod cli;
mod config;
mod credentials;
mod data_dir;
mod etag;
mod keys;
mod serve;

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
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("seqstore: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

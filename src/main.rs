//! The `caresoft-bridge` binary: parse the command line, set up logging and settings, run the command.

use std::process::ExitCode;

use caresoft_bridge::cli::{Cli, ExitStatus};
use caresoft_bridge::config::{LogFormat, Settings};
use caresoft_bridge::telemetry;
use clap::Parser;

/// glibc's malloc spent a quarter of the server's CPU under load (its arena locks and consolidation);
/// mimalloc's thread-local free lists suit a server that allocates per request on every core.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(err) => {
            telemetry::init(LogFormat::Pretty);
            eprintln!("configuration error: {err}");
            return ExitStatus::Config.into();
        }
    };
    telemetry::init(settings.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start the async runtime: {err}");
            return ExitStatus::Failure.into();
        }
    };
    runtime.block_on(cli.run(settings)).into()
}

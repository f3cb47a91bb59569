//! The log format: time, level, message; every message names its bot. The default level is
//! info and `RUST_LOG` overrides it. The HTTP library's own chatter stays at warn unless
//! `RUST_LOG` names it (`RUST_LOG=debug,ureq=debug`), so a debug log stays about the flock.

use log::LevelFilter;
use std::io::Write;

pub fn init() {
    let mut builder = env_logger::Builder::new();
    builder
        .filter_level(LevelFilter::Info)
        .filter_module("ureq", LevelFilter::Warn)
        .filter_module("ureq_proto", LevelFilter::Warn)
        .filter_module("rustls", LevelFilter::Warn)
        .parse_env(env_logger::Env::default())
        .format(|out, record| {
            writeln!(
                out,
                "{} {:<5} {}",
                out.timestamp_seconds(),
                record.level(),
                record.args()
            )
        })
        .init();
}

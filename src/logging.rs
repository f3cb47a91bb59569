//! The log format: time, level, message; every message names its bot. `RUST_LOG` overrides the
//! default level, info.

use std::io::Write;

pub fn init() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
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

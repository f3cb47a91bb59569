use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = botflock::cli::Cli::parse();
    botflock::logging::init();
    botflock::exit_code(botflock::run(cli))
}

/// Runs before Rust's runtime starts, so that its threads start without signal stacks of
/// their own (see `fault.rs`).
#[cfg(target_os = "linux")]
extern "C" fn before_main() {
    botflock::fault::install();
}

// The C runtime calls the functions listed in `.init_array` before `main`; Rust's runtime
// starts in `main`.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array")]
static BEFORE_MAIN: extern "C" fn() = before_main;

#[cfg(all(test, target_os = "linux"))]
mod tests {
    /// The handler is in place, so Rust's runtime gave the threads it starts no signal stack.
    #[test]
    fn threads_start_without_a_signal_stack() {
        let has_signal_stack = std::thread::spawn(|| {
            // SAFETY: sigaltstack only fills in the zeroed struct it is given.
            #[allow(unsafe_code)]
            unsafe {
                let mut stack: libc::stack_t = std::mem::zeroed();
                assert_eq!(libc::sigaltstack(std::ptr::null(), &mut stack), 0);
                stack.ss_flags & libc::SS_DISABLE == 0
            }
        })
        .join()
        .unwrap();
        assert!(!has_signal_stack);
    }
}

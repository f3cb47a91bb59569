//! Memory faults, handled without a signal stack in every thread.
//!
//! When a Rust program starts and SIGSEGV and SIGBUS have no handler yet, Rust's runtime
//! installs its own (it prints "thread '…' has overflowed its stack") and gives every thread
//! it starts an alternate signal stack to run it on: an `mmap`, an `mprotect` and two
//! `sigaltstack` calls as the thread starts, a `sigaltstack` and a `munmap` as it ends (counted
//! with `strace`). For 10,000 Sheep that is 60,000 more system calls, and each unmap makes the
//! kernel flush the other core's view of the memory map while every thread waits on its lock:
//! of 10,000 bare threads, starting took 0.53–0.61 s with those stacks and 0.38–0.49 s
//! without, stopping 0.70–0.93 s and 0.40–0.51 s (BENCHMARKS.md, step 17).
//!
//! So the binary calls [`install`] before Rust's runtime starts (from `.init_array`, see
//! `main.rs`). Its handler prints one line and gives the signal back its default action; the
//! fault then happens again and ends the process with SIGSEGV or SIGBUS, as with no handler.
//! What is lost is the name of a thread that overflows its stack: with no stack left to run a
//! handler on, the kernel ends the process at once. A Sheep uses 8 KiB of its 512.

/// Installs the handler for SIGSEGV and SIGBUS. Called before `main`, so it allocates nothing
/// and cannot panic; it leaves a handler someone else installed in place.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
pub fn install() {
    for signal in [libc::SIGSEGV, libc::SIGBUS] {
        // SAFETY: sigaction is given a zeroed (valid) struct to fill and one it reads; the
        // handler is an `extern "C"` function of the signature SA_SIGINFO expects.
        unsafe {
            let mut current: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, std::ptr::null(), &mut current) != 0
                || current.sa_sigaction != libc::SIG_DFL
            {
                continue;
            }
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_fault as *const () as libc::sighandler_t;
            // Reset to the default action as the handler is entered: the fault repeats on
            // return, and then ends the process.
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESETHAND;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub fn install() {}

/// Says what happened with the one call that is safe in a signal handler, and returns.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
extern "C" fn on_fault(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    const MESSAGE: &[u8] = b"botflock: memory fault (a bug in botflock or a library); stopping\n";
    // SAFETY: write(2) is async-signal-safe and reads MESSAGE, a static byte string.
    unsafe { libc::write(libc::STDERR_FILENO, MESSAGE.as_ptr().cast(), MESSAGE.len()) };
}

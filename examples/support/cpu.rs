//! CPU time from /proc, shared by the benchmarks (Linux only).

use std::path::Path;

/// User and system CPU a process has used, from its `stat` file (`/proc/PID/stat`), which
/// counts whole clock ticks of 1/100 s.
pub fn process_seconds(stat: &Path) -> f64 {
    let stat = std::fs::read_to_string(stat).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// A thread's name and exact CPU time in seconds, from its `sched` file
/// (`/proc/PID/task/TID/sched`, `/proc/thread-self/sched`): its first line is
/// "NAME (TID, #threads: N)", and `se.sum_exec_runtime` is in milliseconds.
pub fn thread_seconds(sched: &Path) -> (String, f64) {
    let sched = std::fs::read_to_string(sched).unwrap_or_default();
    let name = sched
        .lines()
        .next()
        .and_then(|first| first.rsplit_once(" ("))
        .map_or_else(String::new, |(name, _)| name.trim().to_string());
    let ms = sched
        .lines()
        .find_map(|line| line.strip_prefix("se.sum_exec_runtime"))
        .and_then(|rest| {
            rest.trim_start_matches([' ', ':'])
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(0.0);
    (name, ms / 1000.0)
}

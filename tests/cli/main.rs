//! botflock's integration tests: each runs the real binary against loopback servers.

mod run;
mod support;

//! botflock's integration tests: each runs the real binary against loopback servers.

mod daily;
mod length;
mod resilience;
mod run;
mod sandbox;
mod support;

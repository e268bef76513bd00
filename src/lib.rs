//! entrywatch: a daemon for US importers' customs post-entry work.
//!
//! The pipeline (see ../shared/design.md):
//!
//! ```text
//! inbox folders ─► source (settle, claim, fingerprint) ─► parse (sniff ► x12 | abi | csv)
//!   ─► interpret (domain facts) ─► store (one sled transaction per file, flush, archive)
//!   ─► rules (severity, variance, deadlines ─► alerts) ─► outbox ─► mailer
//!   query side: CLI, reports, dashboard (read-only views of the store); while the daemon
//!   holds the store, the CLI's data commands run in it over a local socket (`ipc`)
//! ```
//!
//! Module map: [`grammar`] loads the data grammars; [`parse`] reads bytes into messages and
//! diagnostics; [`config`] and [`clock`] are the injected context; [`cli`] is the command line.

#![forbid(unsafe_code)]

pub mod ace;
pub mod ack;
pub mod alert;
pub mod calendar;
pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod deadline;
pub mod diag;
pub mod domain;
pub mod entry_number;
pub mod grammar;
pub mod health;
pub mod ingest;
pub mod interpret;
pub mod ipc;
pub mod links;
pub mod logging;
pub mod money;
pub mod parse;
pub mod query;
pub mod recovery;
pub mod report;
pub mod source;
pub mod store;
pub mod variance;
pub mod view;
pub mod web;

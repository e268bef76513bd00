//! entrywatch: a daemon for US importers' customs post-entry work.
//!
//! The pipeline (docs/development.md has the source layout, README.md the user's view):
//!
//! ```text
//! inbox folders ─► source (settle, claim, fingerprint) ─► parse (sniff ► x12 | abi | csv)
//!   ─► interpret (domain facts) ─► store (one sled transaction per file: facts, indexes,
//!      alerts, acks; flush; archive) ─► outbox ─► mailer; scheduler ─► deadline reminders
//!   query side: one view per entry and the indexes (query), rendered by the CLI, reports,
//!   the dashboard and the calendar feed; while the daemon holds the store, the CLI's data
//!   commands run in it over a local socket (ipc)
//! ```
//!
//! Module map:
//! - context: [`config`] (the TOML file), [`clock`] (injected time), [`logging`], [`cli`] (the
//!   command line), [`daemon`] (the supervisor), [`health`] (what `/healthz` reports);
//! - reading: [`grammar`] (grammars as data), [`parse`], [`diag`] (the registry of diagnostic codes) (bytes to messages and diagnostics),
//!   [`interpret`] (messages to facts), [`entry_number`], [`money`];
//! - state: [`domain`] (facts and the state derived from them), [`store`] (the only sled
//!   importer), [`ingest`] (one transaction per file, archive, rebuild), [`source`] (watched
//!   inboxes);
//! - rules: [`alert`] (severity, routes, outbox, mail), [`variance`] (filed against approved),
//!   [`calendar`] and [`deadline`] (working days, deadlines, reminders), [`ack`] (997/999/TA1),
//!   [`links`] (affected entries), [`ace`] (ACE's own record), [`recovery`] (duty recovery);
//! - query side: [`query`] (one entry's view, indexes), [`view`] (the read model), [`report`],
//!   [`web`] (the dashboard), [`ipc`] (the daemon's command socket).

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

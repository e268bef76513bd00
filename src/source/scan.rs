//! One inbox's view of its folder: what files are there, since when unchanged, which is ready next (pure logic, no I/O of its own).
//!
//! The async watcher ([`super::watch`]) feeds it directory listings and per-file
//! observations; it answers "which file is ready now, if any" and "when should I look
//! again". Stat and completeness are passed in as closures so the rules can be tested
//! with a fake clock and fake files.

use super::complete::Completeness;
use super::is_temporary_name;
use crate::config::Inbox;
use std::collections::{BTreeSet, HashMap};
use std::ffi::OsString;
use std::ops::Bound;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

/// How long an open write (seen through inotify, never closed) may keep a file that has
/// stopped changing from being picked up: a lost close event must not hold it forever.
pub const WRITING_STALE: Duration = Duration::from_secs(60);

/// How long to wait before handing a file back to the handler after it asked for a retry.
pub const RETRY_AFTER: Duration = Duration::from_secs(30);

/// Size and modification time: what "unchanged" compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub size: u64,
    pub mtime: SystemTime,
}

impl Stamp {
    pub fn of(meta: &std::fs::Metadata) -> Stamp {
        Stamp { size: meta.len(), mtime: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH) }
    }
}

/// What the watcher learned about a file from an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// Data was written: a writer has the file open (inotify only).
    Written,
    /// A writer closed the file.
    Closed,
    /// Anything else (created, renamed, attributes): look again.
    Changed,
}

#[derive(Debug, Clone)]
struct FileObs {
    stamp: Stamp,
    /// When the stamp was last seen to change (or first seen).
    changed_at: Instant,
    /// A write was seen and no close yet.
    writing: bool,
    /// Completeness of this stamp, once checked.
    checked: Option<Completeness>,
    /// When it was first found settled but incomplete.
    incomplete_since: Option<Instant>,
    /// Handed to the handler and still there with this stamp: do not hand it again.
    handled: bool,
    retry_at: Option<Instant>,
}

/// A file the inbox should hand to the handler now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    pub name: OsString,
    /// The envelope was still incomplete when the grace ran out.
    pub truncated: bool,
}

/// The state of one inbox.
#[derive(Debug)]
pub struct InboxState {
    pub inbox: Inbox,
    files: HashMap<OsString, FileObs>,
    /// The files not yet handled, oldest first: (mtime, name).
    order: BTreeSet<(SystemTime, OsString)>,
    in_flight: Option<OsString>,
}

impl InboxState {
    pub fn new(inbox: Inbox) -> InboxState {
        InboxState { inbox, files: HashMap::new(), order: BTreeSet::new(), in_flight: None }
    }

    pub fn settle(&self) -> Duration {
        Duration::from_secs(self.inbox.settle_secs)
    }

    fn grace(&self) -> Duration {
        Duration::from_secs(self.inbox.truncated_grace_secs)
    }

    /// Files known (waiting, or handled but left in place).
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn in_flight(&self) -> Option<&OsString> {
        self.in_flight.as_ref()
    }

    /// Whether a name is one this inbox would ever pick up. A name that is not UTF-8 is
    /// judged on its readable form (and processed under it), never ignored.
    pub fn wants(name: &std::ffi::OsStr) -> bool {
        !is_temporary_name(&name.to_string_lossy())
    }

    /// Record what a stat said about `name` (`None`: it is gone or not a regular file).
    pub fn observe(&mut self, name: &OsString, stamp: Option<Stamp>, now: Instant) {
        match stamp {
            None => {
                if let Some(o) = self.files.remove(name) {
                    self.order.remove(&(o.stamp.mtime, name.clone()));
                }
            }
            Some(stamp) => match self.files.get_mut(name) {
                Some(o) if o.stamp == stamp => {}
                Some(o) => {
                    self.order.remove(&(o.stamp.mtime, name.clone()));
                    self.order.insert((stamp.mtime, name.clone()));
                    o.stamp = stamp;
                    o.changed_at = now;
                    o.checked = None;
                    o.incomplete_since = None;
                    o.handled = false;
                    o.retry_at = None;
                }
                None => {
                    if Self::wants(name) {
                        self.order.insert((stamp.mtime, name.clone()));
                        self.files.insert(
                            name.clone(),
                            FileObs {
                                stamp,
                                changed_at: now,
                                writing: false,
                                checked: None,
                                incomplete_since: None,
                                handled: false,
                                retry_at: None,
                            },
                        );
                    }
                }
            },
        }
    }

    /// Record an event hint for a file already observed.
    pub fn hint(&mut self, name: &OsString, hint: Hint, now: Instant) {
        if let Some(o) = self.files.get_mut(name) {
            match hint {
                Hint::Written => {
                    o.writing = true;
                    o.changed_at = now;
                    o.checked = None;
                    o.incomplete_since = None;
                }
                Hint::Closed => o.writing = false,
                Hint::Changed => {}
            }
        }
    }

    /// A full listing of the folder: adds what is new, forgets what is gone. When events
    /// may have been lost (`events_lost`), open-write flags are dropped: only size and
    /// mtime are trusted until new events arrive.
    pub fn apply_listing(&mut self, listing: Vec<(OsString, Stamp)>, events_lost: bool, now: Instant) {
        let present: std::collections::HashSet<OsString> = listing.iter().map(|(n, _)| n.clone()).collect();
        let in_flight = self.in_flight.clone();
        let order = &mut self.order;
        self.files.retain(|n, o| {
            let keep = present.contains(n) || in_flight.as_ref() == Some(n);
            if !keep {
                order.remove(&(o.stamp.mtime, n.clone()));
            }
            keep
        });
        for (name, stamp) in listing {
            self.observe(&name, Some(stamp), now);
        }
        if events_lost {
            for o in self.files.values_mut() {
                o.writing = false;
            }
        }
    }

    /// The next ready file, oldest first (mtime, then name), if no file of this inbox is in
    /// hand; and the instant at which something may become ready. `stat` re-reads a file's
    /// stamp (a changed stamp restarts its settle time); `complete` checks its envelope.
    pub fn next_ready(
        &mut self,
        now: Instant,
        mut stat: impl FnMut(&OsString) -> Option<Stamp>,
        mut complete: impl FnMut(&OsString) -> Completeness,
    ) -> (Option<Ready>, Option<Instant>) {
        if self.in_flight.is_some() {
            return (None, None);
        }
        let settle = self.settle();
        let grace = self.grace();
        let mut wake: Option<Instant> = None;
        let mut soonest = |t: Instant| {
            wake = Some(wake.map_or(t, |w: Instant| w.min(t)));
        };
        // Walk the order index; it may change under us (a re-stat moves a file), so each
        // step asks for the next key after the last one visited.
        let mut cursor: Option<(SystemTime, OsString)> = None;
        loop {
            let next = match &cursor {
                None => self.order.iter().next().cloned(),
                Some(c) => self.order.range((Bound::Excluded(c.clone()), Bound::Unbounded)).next().cloned(),
            };
            let Some(key) = next else { break };
            cursor = Some(key.clone());
            let name = key.1;
            let Some(o) = self.files.get(&name) else { continue };
            if o.handled {
                continue;
            }
            if let Some(r) = o.retry_at {
                if now < r {
                    soonest(r);
                    continue;
                }
            }
            let mut due = o.changed_at + settle;
            if o.writing {
                due = o.changed_at + settle.max(WRITING_STALE);
            }
            if now < due {
                soonest(due);
                continue;
            }
            // Settled by our records: confirm on disk.
            let fresh = stat(&name);
            if fresh != Some(o.stamp) {
                self.observe(&name, fresh, now);
                if fresh.is_some() {
                    soonest(now + settle);
                }
                continue;
            }
            let Some(o) = self.files.get_mut(&name) else { continue };
            let verdict = match o.checked {
                Some(v) => v,
                None => {
                    let v = complete(&name);
                    o.checked = Some(v);
                    v
                }
            };
            match verdict {
                Completeness::Complete => return (Some(Ready { name, truncated: false }), wake),
                Completeness::Incomplete => {
                    let since = *o.incomplete_since.get_or_insert(now);
                    if now >= since + grace {
                        return (Some(Ready { name, truncated: true }), wake);
                    }
                    // It may still be resumed: watch for changes until the grace runs out.
                    soonest((since + grace).min(now + settle.max(Duration::from_secs(1))));
                }
            }
        }
        (None, wake)
    }

    /// Mark a file as in the handler's hands.
    pub fn start(&mut self, name: &OsString) {
        self.in_flight = Some(name.clone());
    }

    /// The handler returned. `after` is the file's stamp now (None: it left the inbox).
    /// A file left in place unchanged is not handed over again until it changes, except
    /// after `retry`, when it is handed over again after [`RETRY_AFTER`].
    pub fn finish(&mut self, name: &OsString, after: Option<Stamp>, retry: bool, now: Instant) {
        if self.in_flight.as_ref() == Some(name) {
            self.in_flight = None;
        }
        self.observe(name, after, now);
        if let Some(o) = self.files.get_mut(name) {
            if retry {
                o.retry_at = Some(now + RETRY_AFTER);
            } else if after == Some(o.stamp) {
                o.handled = true;
                self.order.remove(&(o.stamp.mtime, name.clone()));
            }
        }
    }
}

/// List an inbox folder: regular files and symbolic links (never followed: the pipeline
/// quarantines a link without reading what it points to) with names that are not temporary;
/// subfolders are ignored.
pub fn list_dir(dir: &Path) -> std::io::Result<Vec<(OsString, Stamp)>> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let Ok(e) = e else { continue };
        let name = e.file_name();
        if !InboxState::wants(&name) {
            continue;
        }
        if let Some(stamp) = stat_file(&e.path()) {
            out.push((name, stamp));
        }
    }
    Ok(out)
}

/// Stat one entry of an inbox without following a link: `None` when it is gone or is neither
/// a regular file nor a symbolic link.
pub fn stat_file(path: &Path) -> Option<Stamp> {
    std::fs::symlink_metadata(path).ok().filter(|m| m.is_file() || m.file_type().is_symlink()).map(|m| Stamp::of(&m))
}

/// Whether a path is a symbolic link (not followed).
pub fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Role;
    use std::cell::RefCell;

    fn inbox(settle: u64, grace: u64) -> Inbox {
        Inbox {
            name: "t".into(),
            path: "/nonexistent".into(),
            role: Role::Broker,
            settle_secs: settle,
            ack_dir: None,
            ack_kind: Default::default(),
            poll: false,
            truncated_grace_secs: grace,
            max_file_bytes: crate::config::DEFAULT_MAX_FILE_BYTES,
        }
    }

    fn stamp(size: u64, secs: u64) -> Stamp {
        Stamp { size, mtime: SystemTime::UNIX_EPOCH + Duration::from_secs(secs) }
    }

    fn n(s: &str) -> OsString {
        OsString::from(s)
    }

    /// A fake folder: name -> (stamp, completeness).
    struct Fake(RefCell<HashMap<OsString, (Stamp, Completeness)>>);
    impl Fake {
        fn new() -> Fake {
            Fake(RefCell::new(HashMap::new()))
        }
        fn put(&self, name: &str, s: Stamp, c: Completeness) {
            self.0.borrow_mut().insert(n(name), (s, c));
        }
        fn listing(&self) -> Vec<(OsString, Stamp)> {
            self.0.borrow().iter().map(|(k, v)| (k.clone(), v.0)).collect()
        }
        fn next(&self, st: &mut InboxState, now: Instant) -> (Option<Ready>, Option<Instant>) {
            st.next_ready(
                now,
                |name| self.0.borrow().get(name).map(|v| v.0),
                |name| self.0.borrow().get(name).map_or(Completeness::Complete, |v| v.1),
            )
        }
    }

    #[test]
    fn waits_for_settle_then_oldest_first() {
        let t0 = Instant::now();
        let fake = Fake::new();
        fake.put("b", stamp(10, 100), Completeness::Complete);
        fake.put("a", stamp(10, 200), Completeness::Complete);
        fake.put("c", stamp(10, 100), Completeness::Complete);
        let mut st = InboxState::new(inbox(2, 300));
        st.apply_listing(fake.listing(), false, t0);
        let (r, wake) = fake.next(&mut st, t0 + Duration::from_secs(1));
        assert_eq!(r, None);
        assert_eq!(wake, Some(t0 + Duration::from_secs(2)));
        let t = t0 + Duration::from_secs(2);
        let mut order = Vec::new();
        for _ in 0..3 {
            let (r, _) = fake.next(&mut st, t);
            let r = r.expect("ready");
            assert!(!r.truncated);
            // Nothing else while one is in hand.
            st.start(&r.name);
            assert_eq!(fake.next(&mut st, t).0, None);
            fake.0.borrow_mut().remove(&r.name);
            st.finish(&r.name, None, false, t);
            order.push(r.name.into_string().unwrap());
        }
        assert_eq!(order, ["b", "c", "a"]);
        assert!(st.is_empty());
    }

    #[test]
    fn a_change_restarts_the_settle_time() {
        let t0 = Instant::now();
        let fake = Fake::new();
        fake.put("x", stamp(10, 100), Completeness::Complete);
        let mut st = InboxState::new(inbox(2, 300));
        st.apply_listing(fake.listing(), false, t0);
        // Grows on disk before we look again: not ready, restarts.
        fake.put("x", stamp(20, 101), Completeness::Complete);
        let t = t0 + Duration::from_secs(3);
        assert_eq!(fake.next(&mut st, t).0, None);
        assert_eq!(fake.next(&mut st, t + Duration::from_secs(1)).0, None);
        assert!(fake.next(&mut st, t + Duration::from_secs(2)).0.is_some());
    }

    #[test]
    fn open_write_holds_until_closed_or_stale() {
        let t0 = Instant::now();
        let fake = Fake::new();
        fake.put("x", stamp(10, 100), Completeness::Complete);
        let mut st = InboxState::new(inbox(1, 300));
        st.observe(&n("x"), Some(stamp(10, 100)), t0);
        st.hint(&n("x"), Hint::Written, t0);
        assert_eq!(fake.next(&mut st, t0 + Duration::from_secs(5)).0, None);
        st.hint(&n("x"), Hint::Closed, t0 + Duration::from_secs(5));
        assert!(fake.next(&mut st, t0 + Duration::from_secs(5)).0.is_some());
        // A lost close: the flag goes stale.
        let mut st = InboxState::new(inbox(1, 300));
        st.observe(&n("x"), Some(stamp(10, 100)), t0);
        st.hint(&n("x"), Hint::Written, t0);
        assert_eq!(fake.next(&mut st, t0 + WRITING_STALE - Duration::from_secs(1)).0, None);
        assert!(fake.next(&mut st, t0 + WRITING_STALE).0.is_some());
        // A rescan after lost events drops the flag.
        let mut st = InboxState::new(inbox(1, 300));
        st.observe(&n("x"), Some(stamp(10, 100)), t0);
        st.hint(&n("x"), Hint::Written, t0);
        st.apply_listing(fake.listing(), true, t0);
        assert!(fake.next(&mut st, t0 + Duration::from_secs(1)).0.is_some());
    }

    #[test]
    fn incomplete_waits_for_grace_unless_resumed() {
        let t0 = Instant::now();
        let fake = Fake::new();
        fake.put("cut", stamp(10, 100), Completeness::Incomplete);
        fake.put("later", stamp(10, 200), Completeness::Complete);
        let mut st = InboxState::new(inbox(0, 10));
        st.apply_listing(fake.listing(), false, t0);
        // The incomplete older file does not block the complete younger one.
        let (r, _) = fake.next(&mut st, t0);
        assert_eq!(r, Some(Ready { name: n("later"), truncated: false }));
        st.start(&n("later"));
        fake.0.borrow_mut().remove(&n("later"));
        st.finish(&n("later"), None, false, t0);
        assert_eq!(fake.next(&mut st, t0 + Duration::from_secs(9)).0, None);
        // Resumed and completed within the grace: handed over whole.
        fake.put("cut", stamp(20, 101), Completeness::Complete);
        // (settle 0: the change is seen, and with nothing more to wait for it is ready.)
        let (r, _) = fake.next(&mut st, t0 + Duration::from_secs(9));
        assert_eq!(r, Some(Ready { name: n("cut"), truncated: false }));
        // Never completed: handed over flagged truncated once the grace ran out.
        let mut st = InboxState::new(inbox(0, 10));
        fake.put("cut", stamp(10, 100), Completeness::Incomplete);
        st.apply_listing(fake.listing(), false, t0);
        assert_eq!(fake.next(&mut st, t0).0, None);
        let (r, _) = fake.next(&mut st, t0 + Duration::from_secs(10));
        assert_eq!(r, Some(Ready { name: n("cut"), truncated: true }));
    }

    #[test]
    fn left_in_place_is_not_handed_twice_and_retry_waits() {
        let t0 = Instant::now();
        let fake = Fake::new();
        fake.put("x", stamp(10, 100), Completeness::Complete);
        let mut st = InboxState::new(inbox(0, 10));
        st.apply_listing(fake.listing(), false, t0);
        let r = fake.next(&mut st, t0).0.unwrap();
        st.start(&r.name);
        st.finish(&r.name, Some(stamp(10, 100)), false, t0);
        assert_eq!(fake.next(&mut st, t0 + Duration::from_secs(100)).0, None);
        st.apply_listing(fake.listing(), true, t0 + Duration::from_secs(100));
        assert_eq!(fake.next(&mut st, t0 + Duration::from_secs(100)).0, None);
        // Rewritten: handed over again.
        fake.put("x", stamp(11, 300), Completeness::Complete);
        st.apply_listing(fake.listing(), false, t0 + Duration::from_secs(101));
        assert!(fake.next(&mut st, t0 + Duration::from_secs(101)).0.is_some());
        // Retry: not before RETRY_AFTER.
        st.start(&n("x"));
        st.finish(&n("x"), Some(stamp(11, 300)), true, t0 + Duration::from_secs(101));
        assert_eq!(fake.next(&mut st, t0 + Duration::from_secs(102)).0, None);
        assert!(fake.next(&mut st, t0 + Duration::from_secs(101) + RETRY_AFTER).0.is_some());
    }

    #[test]
    fn listing_skips_temporary_names_and_subfolders() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["a.txt", ".hidden", "b.part", "c.tmp", "d.filepart", "e.partial"] {
            std::fs::write(dir.path().join(f), "x").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/inner.txt"), "x").unwrap();
        let l = list_dir(dir.path()).unwrap();
        let names: Vec<_> = l.iter().map(|(n, _)| n.to_str().unwrap().to_string()).collect();
        assert_eq!(names, ["a.txt"]);
        let mut st = InboxState::new(inbox(0, 0));
        st.observe(&n("b.part"), Some(stamp(1, 1)), Instant::now());
        assert!(st.is_empty(), "temporary names are never tracked");
    }
}

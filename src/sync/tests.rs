//! Whole sessions against a real store, with a simulated server: the property
//! test of the plan, the ledger and the session's bookkeeping together.
//!
//! The server repeats UIDs, renumbers them (a mailbox that moved), loses
//! UIDL, gives UIDs Pipit cannot use, holds messages whose header blocks and
//! sizes are the same but whose bodies differ, and holds the same message
//! twice. Sessions meet -ERRs, crashes and lost QUITs; the user deletes
//! messages here; others delete them elsewhere. At every DELE, and after
//! every session, the promises are checked:
//! - a DELE goes only to a message whose bytes are stored whole (or one the
//!   user deleted here, shown to be it by its headers and size);
//! - no message is stored twice;
//! - once sessions run without faults, nothing the policy deletes is left
//!   on the server;
//! - with a rule before download (on the subject), a message it holds back
//!   is never downloaded, and a DELE that is not of a message stored whole
//!   (or the user's) goes only to a message the rule, armed and deleting,
//!   matches by its own content.
//!
//! CI runs 1,000 cases; `PROPTEST_CASES=100000 cargo test sessions_` runs more.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;

use super::FetchSummary;
use super::plan::{self, Action, Evidence, Listed};
use super::session::{insert_new, record_listing, record_rules, resolve};
use super::writer::Durable;
use crate::config::Policy;
use crate::mime;
use crate::rules::{Rule, RuleAction, RuleFields, Rules};
use crate::store::{Download, Left, MessageState, Store};

const ACCOUNT: &str = "home";
const DAY: i64 = 86_400;

/// A message's content, from a small set so that identical messages are
/// common. With `collide`, header blocks come from a smaller set than bodies,
/// and bodies have two lengths: messages that differ only in their body's
/// letters (the same header block and size) are common too. Pipit's
/// evidence of identity is the header block and the size (see `plan`), so
/// those are judged by that standard; the others byte for byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Content {
    header: u8,
    long: bool,
    letter: u8,
    collide: bool,
}

impl Content {
    fn raw(self) -> Vec<u8> {
        let body = if self.collide {
            String::new()
        } else {
            format!("X-Body: {}{}\r\n", self.letter, self.long)
        };
        let mut raw = format!(
            "From: sender{h}@example.org\r\nSubject: note {h}\r\nMessage-ID: <{h}@example.org>\r\n{body}\r\n",
            h = self.header
        )
        .into_bytes();
        let len = if self.long { 900 } else { 40 };
        raw.extend(std::iter::repeat_n(b'a' + self.letter, len));
        raw.extend_from_slice(b"\r\n");
        raw
    }
}

fn content() -> impl Strategy<Value = Content> {
    (0u8..4, any::<bool>(), 0u8..3).prop_map(|(header, long, letter)| Content {
        header,
        long,
        letter,
        collide: false,
    })
}

/// One message in the server's mailbox.
#[derive(Clone, Debug)]
struct Held {
    content: Content,
    uid: u32,
    /// Its UID is one Pipit cannot use.
    odd: bool,
}

#[derive(Clone, Debug, Default)]
struct Server {
    mailbox: Vec<Held>,
    /// Bumped when the mailbox moves: every UID changes.
    epoch: u32,
    no_uidl: bool,
    next_uid: u32,
}

impl Server {
    fn listing(&self) -> Vec<Listed> {
        self.mailbox
            .iter()
            .enumerate()
            .map(|(i, h)| Listed {
                number: i as u32 + 1,
                size: h.content.raw().len() as u64,
                uid: (!self.no_uidl && !h.odd).then(|| format!("{}-{}", self.epoch, h.uid)),
            })
            .collect()
    }

    fn raw(&self, number: u32) -> Vec<u8> {
        self.mailbox[number as usize - 1].content.raw()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quit {
    Confirmed,
    /// The server deleted, but its +OK never arrived.
    LostAfterDeleting,
    /// The connection broke before the server acted on QUIT.
    LostBeforeDeleting,
}

#[derive(Clone, Debug)]
struct Faults {
    top_errors: Vec<u32>,
    retr_errors: Vec<u32>,
    /// The program dies after this many downloads are committed.
    crash_after: Option<usize>,
    quit: Quit,
}

impl Faults {
    fn none() -> Faults {
        Faults {
            top_errors: Vec::new(),
            retr_errors: Vec::new(),
            crash_after: None,
            quit: Quit::Confirmed,
        }
    }
}

#[derive(Clone, Debug)]
enum Event {
    Deliver(Content),
    /// Delivered under the UID of a message already there.
    DeliverUnderUsedUid(Content, usize),
    Session(Faults),
    UserDeletes(usize),
    EmptyTrash,
    DeletedElsewhere(usize),
    MailboxMoves,
    UidlOff(bool),
    OddUid(usize),
    DaysPass(u8),
}

fn faults() -> impl Strategy<Value = Faults> {
    let numbers = proptest::collection::vec(1u32..12, 0..3);
    let quit = prop_oneof![
        6 => Just(Quit::Confirmed),
        1 => Just(Quit::LostAfterDeleting),
        1 => Just(Quit::LostBeforeDeleting),
    ];
    (
        numbers.clone(),
        numbers,
        proptest::option::weighted(0.2, 0usize..6),
        quit,
    )
        .prop_map(|(top_errors, retr_errors, crash_after, quit)| Faults {
            top_errors,
            retr_errors,
            crash_after,
            quit,
        })
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        6 => content().prop_map(Event::Deliver),
        2 => (content(), 0usize..20).prop_map(|(c, i)| Event::DeliverUnderUsedUid(c, i)),
        5 => faults().prop_map(Event::Session),
        1 => (0usize..20).prop_map(Event::UserDeletes),
        1 => Just(Event::EmptyTrash),
        1 => (0usize..20).prop_map(Event::DeletedElsewhere),
        1 => Just(Event::MailboxMoves),
        1 => any::<bool>().prop_map(Event::UidlOff),
        1 => (0usize..20).prop_map(Event::OddUid),
        1 => (0u8..4).prop_map(Event::DaysPass),
    ]
}

fn policy() -> impl Strategy<Value = Policy> {
    prop_oneof![
        Just(Policy::Keep),
        Just(Policy::Delete),
        Just(Policy::KeepDays(0)),
        Just(Policy::KeepDays(2)),
    ]
}

/// The test's view of the store: which content each message row was made
/// from, to judge each DELE by.
struct World {
    store: Store,
    db: rusqlite::Connection,
    server: Server,
    policy: Policy,
    limit: u64,
    now: i64,
    origin: HashMap<i64, Content>,
    /// A rule before download, on the header of this content, and whether
    /// it is armed.
    rule: Option<RuleGiven>,
}

#[derive(Clone, Copy, Debug)]
struct RuleGiven {
    header: u8,
    action: RuleAction,
    armed: bool,
}

impl RuleGiven {
    fn rules(self) -> Rules {
        let rule = Rule::try_from(RuleFields {
            name: "r".parse().unwrap(),
            from: None,
            to: None,
            subject: Some(format!("note {}", self.header).parse().unwrap()),
            header: None,
            larger_than: None,
            smaller_than: None,
            action: self.action,
        })
        .unwrap();
        Rules::new(vec![rule]).unwrap()
    }

    /// Whether the rule holds this content back (judged by the test, not by
    /// the rules' code).
    fn holds(self, c: &Content) -> bool {
        c.header == self.header && self.action != RuleAction::Download
    }
}

fn rule_given() -> impl Strategy<Value = Option<RuleGiven>> {
    proptest::option::of(
        (
            0u8..4,
            prop::sample::select(vec![
                RuleAction::HeadersOnly,
                RuleAction::LeaveOnServer,
                RuleAction::Delete,
                RuleAction::Download,
            ]),
            any::<bool>(),
        )
            .prop_map(|(header, action, armed)| RuleGiven {
                header,
                action,
                armed,
            }),
    )
}

impl World {
    fn stored_whole(&self, raw: &[u8]) -> bool {
        self.db
            .query_row(
                "SELECT count(*) FROM messages m JOIN message_bytes b ON b.message_id = m.id
                 WHERE m.state = 'full' AND pipit_bytes(b.raw, b.packed) = ?1",
                [raw],
                |r| r.get::<_, i64>(0),
            )
            .unwrap()
            > 0
    }

    /// Stored whole, or (where header blocks collide) a message with the same
    /// header block and size is: Pipit's standard of identity.
    fn stored_as_far_as_can_be_told(&self, raw: &[u8], collide: bool) -> bool {
        let like: i64 = self
            .db
            .query_row(
                "SELECT count(*) FROM messages WHERE state = 'full' AND header_digest = ?1 AND size = ?2",
                rusqlite::params![mime::header_digest(raw).as_slice(), raw.len() as i64],
                |r| r.get(0),
            )
            .unwrap();
        self.stored_whole(raw) || (collide && like > 0)
    }

    fn stored_twice(&self) -> Option<String> {
        self.db
            .query_row(
                "SELECT count(*) - count(DISTINCT pipit_bytes(b.raw, b.packed)) FROM messages m
                 JOIN message_bytes b ON b.message_id = m.id WHERE m.state = 'full'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .ok()
            .filter(|&twice| twice > 0)
            .map(|twice| format!("{twice} message(s) stored twice"))
    }

    /// One session, as `session::Pass::transact` runs it, with the server's
    /// replies simulated. Returns what broke a promise, if anything did.
    fn session(&mut self, faults: &Faults) -> Result<(), String> {
        let listing = self.server.listing();
        let ledger = self.store.ledger(ACCOUNT).unwrap();
        let needed = plan::headers_needed(&listing, &ledger, self.now);
        let known: HashSet<mime::HeaderDigest> = ledger
            .messages
            .values()
            .filter_map(|m| m.digest)
            .chain(ledger.copies.iter().filter_map(|c| c.digest))
            .collect();
        let mut digests = HashMap::new();
        let mut blocks = HashMap::new();
        for &n in needed.iter().filter(|n| !faults.top_errors.contains(n)) {
            let raw = self.server.raw(n);
            let digest = mime::header_digest(&raw);
            if !known.contains(&digest) {
                blocks.insert(n, mime::header_block(&raw).to_vec());
            }
            digests.insert(n, digest);
        }
        let sizes = plan::Sizes {
            limit: self.limit,
            largest: u64::MAX,
        };
        let mut plan = plan::plan(&listing, &ledger, &digests, self.policy, sizes, self.now);
        // Rules before download, as `Pass::judge` applies them.
        let mut judged = HashMap::new();
        let rules = self.rule.map(RuleGiven::rules).unwrap_or_default();
        if rules.hold_anything() {
            let armed_flag = self.rule.is_some_and(|r| r.armed);
            let armed = |_: &Rule| armed_flag;
            let stored = self
                .store
                .header_blocks(&plan::rules_stored_blocks(&plan, &ledger))
                .unwrap();
            let (j, to_read) = plan::prejudge(&plan, &ledger, &rules, &armed, &stored, &blocks);
            judged = j;
            let mut unjudged = HashSet::new();
            for (n, new) in to_read {
                if faults.top_errors.contains(&n) {
                    unjudged.insert(n);
                    continue;
                }
                let raw = self.server.raw(n);
                let block = mime::header_block(&raw).to_vec();
                judged.insert(
                    n,
                    plan::judge_read(&rules, &armed, &block, raw.len() as u64),
                );
                if new {
                    blocks.entry(n).or_insert(block);
                }
            }
            plan::hold(&mut plan, &judged, &unjudged);
        }
        let mut copies =
            record_listing(&mut self.store, ACCOUNT, &plan, &blocks, true, self.now).unwrap();
        for e in &plan.entries {
            let n = e.listed.number;
            match e.action {
                Action::New if blocks.contains_key(&n) => {
                    self.origin
                        .insert(copies[&n].0, self.server.mailbox[n as usize - 1].content);
                }
                Action::New => {
                    let header = if faults.top_errors.contains(&n) {
                        Vec::new()
                    } else {
                        mime::header_block(&self.server.raw(n)).to_vec()
                    };
                    let batch = self.store.batch().unwrap();
                    let ids = insert_new(&batch, ACCOUNT, e, &header, "", self.now).unwrap();
                    batch.commit().unwrap();
                    self.origin
                        .insert(ids.0, self.server.mailbox[n as usize - 1].content);
                    copies.insert(n, ids);
                }
                _ => {}
            }
        }
        let mut durable = Vec::new();
        for e in plan.entries.iter().filter(|e| e.retr) {
            let n = e.listed.number;
            if faults.retr_errors.contains(&n) {
                continue;
            }
            let content = self.server.mailbox[n as usize - 1].content;
            if let Some(rule) = self.rule
                && rule.holds(&content)
                && e.action == Action::New
            {
                return Err(format!(
                    "RETR {n} of a new message the rule holds back ({content:?}, {rule:?})"
                ));
            }
            if faults.crash_after == Some(durable.len()) {
                return self.check_after();
            }
            let raw = self.server.raw(n);
            let (message, copy) = copies[&n];
            let batch = self.store.batch().unwrap();
            let stored = batch
                .store_download(
                    Download { copy, message },
                    &raw,
                    &mime::parse(&raw),
                    &mime::header_digest(&raw),
                    self.now,
                )
                .unwrap();
            batch.commit().unwrap();
            // The message that now holds these bytes holds exactly them
            // (identical, completed or new): its content is this one. (Not
            // kept from before: SQLite gives the id of a deleted last row,
            // such as a headers-only twin, to the next new message.)
            self.origin
                .insert(stored, self.server.mailbox[n as usize - 1].content);
            durable.push(Durable {
                number: n,
                message: stored,
            });
        }
        if faults.crash_after.is_some_and(|k| k >= durable.len()) {
            return self.check_after();
        }

        let by_rule: HashSet<u32> = plan::rule_deletions(&plan, &ledger, &judged)
            .iter()
            .map(|e| e.listed.number)
            .collect();
        record_rules(
            &mut self.store,
            ACCOUNT,
            &judged,
            &by_rule,
            &copies,
            self.now,
            &mut FetchSummary::default(),
        )
        .unwrap();
        let resolved = resolve(&plan, &copies, &durable, &ledger, self.now);
        let kept = self.store.left_on_server_by_rule(ACCOUNT).unwrap();
        let due = plan::spare(plan::deletions(&resolved, self.policy, self.now), &kept);
        let mut dele = due.now;
        let mut liars = Vec::new();
        for r in due.after_headers {
            if faults.top_errors.contains(&r.number) {
                continue;
            }
            if plan::header_confirms(r, &mime::header_digest(&self.server.raw(r.number))) {
                dele.push(r);
            } else {
                liars.extend(listing[r.number as usize - 1].uid.clone());
            }
        }
        let batch = self.store.batch().unwrap();
        batch.add_suspect_uids(ACCOUNT, &liars).unwrap();
        batch.commit().unwrap();
        let due_already: HashSet<u32> = dele.iter().map(|r| r.number).collect();
        let mut deleted_by_rule = HashSet::new();
        for r in &resolved {
            if by_rule.contains(&r.number) && !due_already.contains(&r.number) {
                deleted_by_rule.insert(r.number);
                dele.push(r);
            }
        }
        for r in &dele {
            let raw = self.server.raw(r.number);
            let content = self.server.mailbox[r.number as usize - 1].content;
            if deleted_by_rule.contains(&r.number) {
                // The rule's own: it must match this very message, and be
                // armed and deleting.
                match self.rule {
                    Some(rule)
                        if rule.armed
                            && rule.action == RuleAction::Delete
                            && content.header == rule.header =>
                    {
                        continue;
                    }
                    _ => {
                        return Err(format!(
                            "DELE {} by a rule of a message it does not delete ({content:?}, {:?})",
                            r.number, self.rule
                        ));
                    }
                }
            }
            let collide = content.collide;
            if self.stored_as_far_as_can_be_told(&raw, collide) {
                continue;
            }
            // Not stored: only the user's wish, for this very message, allows
            // it: the message the user deleted is this one, or (where header
            // blocks collide) looks like it and the store never held another
            // message that looks the same.
            let theirs = self.origin.get(&r.message).copied();
            let alike = |c: &Content| {
                let t = c.raw();
                mime::header_digest(&t) == mime::header_digest(&raw) && t.len() == raw.len()
            };
            let this_one = theirs.is_some_and(|c| c.raw() == raw);
            // Where header blocks collide, the standard is the store's own
            // knowledge when it planned: the one message it held that looks so.
            let d = mime::header_digest(&raw);
            let size = raw.len() as u64;
            let fits = |m: &crate::store::Stored| {
                m.listed_size == Some(size) || (m.state == MessageState::Full && m.size == size)
            };
            let known_alike = ledger
                .messages
                .values()
                .filter(|m| fits(m) && (m.digest == Some(d) || m.digest.is_none()))
                .count();
            let only_look_alike = collide && theirs.is_some_and(|c| alike(&c)) && known_alike <= 1;
            if !(r.delete_on_server
                && (this_one || only_look_alike)
                && r.evidence != Evidence::Weak)
            {
                return Err(format!(
                    "DELE {} of a message not stored whole ({:?}, evidence {:?}, user's wish {})",
                    r.number,
                    self.server.mailbox[r.number as usize - 1],
                    r.evidence,
                    r.delete_on_server
                ));
            }
        }
        let numbers: HashSet<u32> = dele.iter().map(|r| r.number).collect();
        let copies_deleted: Vec<i64> = dele.iter().map(|r| r.copy).collect();
        if faults.quit != Quit::LostBeforeDeleting {
            let mut n = 0;
            self.server.mailbox.retain(|_| {
                n += 1;
                !numbers.contains(&n)
            });
        }
        if faults.quit == Quit::Confirmed {
            let batch = self.store.batch().unwrap();
            batch
                .forget_copies(&copies_deleted, Left::Deleted, self.now)
                .unwrap();
            batch.commit().unwrap();
        }
        self.check_after()
    }

    fn check_after(&self) -> Result<(), String> {
        match self.stored_twice() {
            Some(problem) => Err(problem),
            None => Ok(()),
        }
    }

    fn stored_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .store
            .ledger(ACCOUNT)
            .unwrap()
            .messages
            .values()
            .filter(|m| m.state != MessageState::Purged)
            .map(|m| m.id)
            .collect();
        ids.sort();
        ids
    }

    fn apply(&mut self, event: &Event) -> Result<(), String> {
        let len = self.server.mailbox.len();
        match event {
            Event::Deliver(c) => {
                self.server.next_uid += 1;
                let uid = self.server.next_uid;
                self.server.mailbox.push(Held {
                    content: *c,
                    uid,
                    odd: false,
                });
            }
            Event::DeliverUnderUsedUid(c, i) => {
                let uid = match len {
                    0 => {
                        self.server.next_uid += 1;
                        self.server.next_uid
                    }
                    _ => self.server.mailbox[i % len].uid,
                };
                self.server.mailbox.push(Held {
                    content: *c,
                    uid,
                    odd: false,
                });
            }
            Event::Session(faults) => return self.session(faults),
            Event::UserDeletes(i) => {
                let ids = self.stored_ids();
                if !ids.is_empty() {
                    self.store.trash(ids[i % ids.len()], self.now).unwrap();
                }
            }
            Event::EmptyTrash => {
                self.store.empty_trash().unwrap();
            }
            Event::DeletedElsewhere(i) if len > 0 => {
                self.server.mailbox.remove(i % len);
            }
            Event::MailboxMoves => self.server.epoch += 1,
            Event::UidlOff(off) => self.server.no_uidl = *off,
            Event::OddUid(i) if len > 0 => self.server.mailbox[i % len].odd = true,
            Event::DaysPass(days) => self.now += i64::from(*days) * DAY,
            Event::DeletedElsewhere(_) | Event::OddUid(_) => {}
        }
        Ok(())
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn sessions_never_delete_what_is_not_stored_never_store_twice_and_finish_the_job(
        events in proptest::collection::vec(event(), 1..40),
        policy in policy(),
        limit in prop_oneof![Just(u64::MAX), Just(500u64)],
        collide in any::<bool>(),
        rule in rule_given(),
    ) {
        let events: Vec<Event> = events
            .into_iter()
            .map(|e| match e {
                Event::Deliver(c) => Event::Deliver(Content { collide, ..c }),
                Event::DeliverUnderUsedUid(c, i) => {
                    Event::DeliverUnderUsedUid(Content { collide, ..c }, i)
                }
                other => other,
            })
            .collect();
        let dir = tempfile::tempdir_in("/dev/shm").or_else(|_| tempfile::tempdir()).unwrap();
        let path = dir.path().join("pipit.db");
        let store = Store::open(&path).unwrap();
        let db = rusqlite::Connection::open(&path).unwrap();
        crate::store::register_bytes_function(&db).unwrap();
        let mut world = World {
            store,
            db,
            server: Server::default(),
            policy,
            limit,
            now: 1_700_000_000,
            origin: HashMap::new(),
            rule,
        };
        for event in &events {
            if let Err(broken) = world.apply(event) {
                prop_assert!(false, "{broken}\nafter {event:?}");
            }
        }
        // Then the user stops deleting, the server stops misbehaving, and
        // time passes: a few clean sessions finish what the policy asks.
        world.server.no_uidl = false;
        world.now += 3 * DAY;
        for _ in 0..3 {
            if let Err(broken) = world.session(&Faults::none()) {
                prop_assert!(false, "{broken}\nin a clean session at the end");
            }
        }
        if policy != Policy::Keep && policy != Policy::KeepDays(2) {
            for held in &world.server.mailbox {
                let raw = held.content.raw();
                // Larger than the limit and its bytes not stored whole (but
                // perhaps in Trash, read to prove which of two look-alikes
                // the user deleted).
                let stored_outside_trash: i64 = world
                    .db
                    .query_row(
                        "SELECT count(*) FROM messages m JOIN message_bytes b ON b.message_id = m.id
                         WHERE m.state = 'full' AND m.trashed_at IS NULL AND pipit_bytes(b.raw, b.packed) = ?1",
                        [&raw],
                        |r| r.get(0),
                    )
                    .unwrap();
                // Or larger than the limit and looking like another message on
                // the server (the same header block and size): which one its
                // stored bytes belong to is not known without reading both.
                let look_alikes = world
                    .server
                    .mailbox
                    .iter()
                    .filter(|h| {
                        let other = h.content.raw();
                        other.len() == raw.len()
                            && mime::header_digest(&other) == mime::header_digest(&raw)
                    })
                    .count();
                // Or the user deleted it here before its header block was
                // ever read: nothing shows the listed message is that one.
                let uid = format!("{}-{}", world.server.epoch, held.uid);
                let deleted_unseen: i64 = world
                    .db
                    .query_row(
                        "SELECT count(*) FROM ledger l JOIN messages m ON m.id = l.message
                         WHERE l.uid = ?1 AND m.header_digest IS NULL AND m.delete_on_server = 1",
                        [&uid],
                        |r| r.get(0),
                    )
                    .unwrap();
                // Or the store has held another message that looks like it
                // (one header block, one size, another body): then headers
                // are no evidence, and a message deleted here that looks like
                // it is not known to be it.
                let stored_look_alike = world.origin.values().any(|c| {
                    let other = c.raw();
                    other != raw
                        && other.len() == raw.len()
                        && mime::header_digest(&other) == mime::header_digest(&raw)
                });
                // Or the store holds more than one message with its header
                // block and size (perhaps all the same message, kept as
                // headers, in Trash and whole): it cannot tell which this is.
                let alike_rows: i64 = world
                    .db
                    .query_row(
                        "SELECT count(*) FROM messages
                         WHERE header_digest = ?1 AND (size = ?2 OR listed_size = ?2)",
                        rusqlite::params![mime::header_digest(&raw).as_slice(), raw.len() as i64],
                        |r| r.get(0),
                    )
                    .unwrap();
                // Or a rule holds it back (not downloaded, so the policy
                // does not delete it; a deleting rule deletes it only on the
                // evidence it needs).
                let held_by_rule = rule.is_some_and(|r| r.holds(&held.content));
                // Or it is listed under the UID (and size) of a stored
                // message the rule holds: holding trusts a UID as the store
                // does for a message stored whole (not downloaded again on
                // it); only a DELE needs the header block read again.
                let uid_of_held = format!("{}-{}", world.server.epoch, held.uid);
                let under_a_held_uid = !held.odd
                    && rule.is_some_and(|r| {
                        let mut stmt = world
                            .db
                            .prepare("SELECT message FROM ledger WHERE uid = ?1")
                            .unwrap();
                        let ids: Vec<i64> = stmt
                            .query_map([&uid_of_held], |row| row.get(0))
                            .unwrap()
                            .collect::<Result<_, _>>()
                            .unwrap();
                        ids.iter()
                            .any(|id| world.origin.get(id).is_some_and(|c| r.holds(c)))
                    });
                let left_for_a_reason = held_by_rule
                    || under_a_held_uid
                    || deleted_unseen > 0
                    || stored_look_alike
                    || alike_rows > 1
                    || (raw.len() as u64 > limit && (stored_outside_trash == 0 || look_alikes > 1));
                prop_assert!(
                    left_for_a_reason,
                    "{held:?} is still on the server under policy {policy}, stored whole: {}",
                    world.stored_whole(&raw)
                );
            }
        }
    }
}

//! One POP3 session of a fetch, carrying out a plan: the listing, the header
//! blocks that tell messages apart, then one pipelined flight of TOPs (for
//! the list to fill at once) and RETRs, the durable commit, the DELEs, and
//! the QUIT whose +OK makes them count.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicBool;

use crate::config::Account;
use crate::failpoint;
use crate::mime::{self, HeaderDigest};
use crate::net::{NetError, Session};
use crate::pop3::listing::{parse_list, parse_uidl};
use crate::pop3::{Capabilities, Command, ProtocolError, Reply};
use crate::secrets::Password;
use crate::store::RememberedCapabilities;
use crate::store::{
    Batch, Download, Ledger, Left, MessageState, NewCopy, NewMessage, RuleMark, Store,
};
use crate::units::human_bytes;

use super::flight::{FLIGHT_BYTES, Flight, HEADER_BYTES, PIPELINE_WINDOW, pipeline, pipeline_then};
use super::login::{Ahead, connect_and_authenticate, server_key};
use super::plan::{self, Action, Evidence, Listed, Plan, Planned, Resolved, Sizes};
use super::writer::{Durable, StoreWriter};
use super::{FetchError, FetchSummary, Progress, note};
use crate::dates::unix_now;

/// A session that showed about this many messages, all of them new, may be a
/// server that shows its mailbox piecemeal (Gmail: about 250 a session); only
/// then is another session worth its round trips.
const CAPPED_SESSION: std::ops::RangeInclusive<usize> = 200..=300;
/// Header blocks stored (and committed, so the window shows them) per group…
const HEADER_GROUP: usize = 512;
/// …or once they weigh this much (header blocks may be a MiB each).
const HEADER_GROUP_BYTES: usize = 16 * 1024 * 1024;
/// Header blocks read to tell messages apart are kept, up to this many bytes
/// in all, for new messages to be stored from without asking again.
const KEPT_HEADERS: usize = 16 * 1024 * 1024;
/// Problems with single listing lines reported one by one; more are counted.
const LISTING_PROBLEMS_SHOWN: usize = 20;

pub(super) struct Pass<'a> {
    pub account: &'a Account,
    pub password: &'a Password,
    pub cancel: &'a AtomicBool,
    /// Whether to pipeline when the server offers it.
    pub pipelining: bool,
    /// The capabilities this server listed last time, before and after the
    /// login, if Pipit remembers them.
    pub remembered: Option<(Capabilities, Capabilities)>,
    pub summary: &'a mut FetchSummary,
}

/// What one session's transaction did.
struct Transacted {
    /// Another session may find more.
    again: bool,
    /// Copies DELE'd, to forget once QUIT is answered.
    deleted: Vec<i64>,
    /// QUIT already went out behind the last command.
    quit_sent: bool,
    /// Of `deleted`, the copies a rule deleted.
    by_rule: HashSet<i64>,
}

impl Pass<'_> {
    /// One session. Returns whether another session may find more (the server
    /// showed only new messages, as servers that cap a session do).
    pub(super) fn run(
        mut self,
        store: &mut Store,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<bool, FetchError> {
        let account = self.account;
        let name = account.name.clone();
        let pipelining = self.pipelining;
        // Commands in flight that went unanswered, or a login that went on
        // when commands were pipelined behind it: pipelining is broken.
        let broken = |e: FetchError| match e {
            FetchError::Net(NetError::Unanswered { .. } | NetError::PipelinedLogin(_))
                if pipelining =>
            {
                FetchError::PipeliningBroken
            }
            other => other,
        };
        // During the login itself, silence is pipelining's fault only when
        // commands did go ahead of a reply (more than one in flight: a login
        // step alone is one): anything else is an ordinary timeout, not a
        // reason to log in a second time at once.
        let broken_login = |e: FetchError| match e {
            FetchError::Net(NetError::PipelinedLogin(_)) if pipelining => {
                FetchError::PipeliningBroken
            }
            FetchError::Net(NetError::Unanswered { in_flight, .. })
                if pipelining && in_flight > 1 =>
            {
                FetchError::PipeliningBroken
            }
            other => other,
        };
        // CAPA again after the login (some servers, Gmail among them, show
        // more then), UIDL and LIST: behind the login, in the same flight,
        // to a server that pipelines.
        let ahead = Ahead {
            known: self.remembered.as_ref().map(|(before, _)| before.clone()),
            pipeline: pipelining,
            after_login: vec![Command::Capa, Command::Uidl(None), Command::List(None)],
            limits: None,
        };
        let mut session = connect_and_authenticate(account, self.password, progress, ahead)
            .map_err(broken_login)?;
        self.summary.sessions += 1;
        let listing_sent = session.after_login_sent();
        if listing_sent {
            let capa = session.read_reply().map_err(|e| broken(e.into()))?;
            session.apply_capabilities(capa);
        } else {
            session.refresh_capabilities()?;
        }
        let caps = session.caps();
        store.record_login(&name, unix_now(), caps.login_delay.unwrap_or(0) as i64)?;
        self.remember(store, &session, &caps)?;
        let window = if caps.pipelining && self.pipelining {
            PIPELINE_WINDOW
        } else {
            1
        };
        // A server that does not know CAPA may still know TOP: try it.
        let top = Top {
            try_it: caps.top || session.capabilities().is_none(),
            advertised: caps.top,
        };
        let result = match self.transact(&mut session, store, progress, window, top, listing_sent) {
            Err(FetchError::Net(NetError::Unanswered { .. })) if window > 1 || listing_sent => {
                Err(FetchError::PipeliningBroken)
            }
            other => other,
        };
        let bytes = session.bytes_received();
        self.summary.bytes += bytes;
        let done = result?;
        if done.deleted.is_empty() && !done.again {
            // Nothing for QUIT's +OK to confirm, and no session right
            // after (a server may hold the maildrop until it has handled
            // QUIT): say goodbye and go.
            session.quit_without_waiting(done.quit_sent);
            return Ok(false);
        }
        // Deletions count only once the server has said +OK to QUIT.
        let quit = if done.quit_sent {
            session.read_reply()?
        } else {
            session.command(&Command::Quit)?
        };
        if !quit.is_ok() {
            return Err(FetchError::CommandFailed {
                command: "QUIT".into(),
                text: quit.text,
            });
        }
        self.summary.bytes += session.bytes_received() - bytes;
        if !done.deleted.is_empty() {
            let batch = store.batch()?;
            batch.forget_copies(&done.deleted, Left::Deleted, unix_now())?;
            batch.commit()?;
            self.summary.deleted_on_server += done.deleted.len();
            self.summary.deleted_by_rule += done
                .deleted
                .iter()
                .filter(|c| done.by_rule.contains(c))
                .count();
        }
        Ok(done.again && caps.login_delay.unwrap_or(0) == 0)
    }

    /// Remembers what the server listed, for the next session to log in
    /// without asking: after a CAPA before the login, what it listed then
    /// and now. A login that went by what was remembered keeps it, unless
    /// the server now lists other capabilities after the login than last
    /// time: then it is forgotten, and the next session asks again (as
    /// after a CAPA before the login that was refused).
    fn remember(
        &self,
        store: &Store,
        session: &Session,
        after: &Capabilities,
    ) -> Result<(), FetchError> {
        let name = &self.account.name;
        if let Some(before) = session.capabilities_before_login() {
            let mut before = before.clone();
            if self.account.security == crate::net::Security::Starttls {
                // Listed over TLS, where STLS is not offered again; but it
                // was, before, or this session would not be.
                before.stls = true;
            }
            store.remember_capabilities(
                name,
                Some(&RememberedCapabilities {
                    server: server_key(self.account),
                    before: before.lines(),
                    after: after.lines(),
                }),
            )?;
        } else if !session.capa_skipped()
            || self
                .remembered
                .as_ref()
                .is_some_and(|(_, then)| then != after)
        {
            // No CAPA answered before the login, or other capabilities now.
            store.remember_capabilities(name, None)?;
        }
        Ok(())
    }

    /// The TRANSACTION state: list, tell apart, plan, fetch, delete.
    #[allow(clippy::too_many_arguments)] // one pass's context; a struct would only rename it
    fn transact(
        &mut self,
        session: &mut Session,
        store: &mut Store,
        progress: &mut dyn FnMut(Progress),
        window: usize,
        top: Top,
        listing_sent: bool,
    ) -> Result<Transacted, FetchError> {
        let account = self.account;
        let name = account.name.as_str();
        let now = unix_now();
        let (listing, refused) = read_listing(session, window, listing_sent, self.summary)?;
        if refused {
            // Remembered, like a server that drops what is pipelined.
            store.record_pipelining_broken(name, now)?;
        }
        let window = if refused { 1 } else { window };
        let ledger = store.ledger(name)?;
        let bounds = session.limits();
        let sizes = Sizes {
            limit: account.max_size.unwrap_or(u64::MAX),
            largest: bounds.message as u64,
        };

        // Header blocks that tell messages apart, read before anything is decided.
        let needed = plan::headers_needed(&listing, &ledger, now);
        let mut top = top;
        let mut read = read_headers(session, &needed, &listing, &ledger, window, &mut top, self)?;
        let mut plan = plan::plan(&listing, &ledger, &read.digests, account.policy, sizes, now);
        // Rules before download: judged on header blocks read now, before
        // any body; what they hold back is not downloaded.
        let judged = self.judge(session, store, &mut plan, &ledger, &mut read, window, top)?;
        for e in &plan.entries {
            if e.action == Action::Skip {
                self.summary.errors.push(format!(
                    "message {} was left on the server: its header block could not be read, so it cannot be told apart from others",
                    e.listed.number
                ));
            }
        }
        for e in &plan.entries {
            if let Action::Known { message, .. } = e.action
                && ledger
                    .messages
                    .get(&message)
                    .is_some_and(|m| m.set_aside && !e.retr)
            {
                self.summary.errors.push(format!(
                    "message {} ({}) is set aside: an earlier fetch found it larger than the {} Pipit reads, so it stays on the server (Download asks for it again)",
                    e.listed.number,
                    human_bytes(e.listed.size),
                    human_bytes(sizes.largest)
                ));
            }
        }
        let new = plan.new_count();
        self.summary.new += new;
        self.summary.linked += plan.linked_count();
        for e in plan.entries.iter().filter(|e| e.action == Action::New) {
            if judged
                .get(&e.listed.number)
                .is_some_and(|j| !j.verdict.downloads())
            {
                self.summary.held_by_rule += 1;
            } else if e.listed.size > sizes.limit.min(sizes.largest) {
                self.summary.headers_only += 1;
            }
            if e.listed.size > sizes.largest {
                self.summary.errors.push(format!(
                    "message {} ({}) was left on the server: {}",
                    e.listed.number,
                    human_bytes(e.listed.size),
                    too_large(sizes.largest)
                ));
            }
        }
        progress(Progress::Listed {
            account: name.to_string(),
            total: listing.len(),
            new,
        });

        // What the listing taught goes in before anything is downloaded.
        let mut copies = record_listing(store, name, &plan, &read.blocks, top.try_it, now)?;

        // Keeping everything and nothing to delete: QUIT can follow the last
        // command at once (only to a server that pipelines).
        let by_rule = plan::rule_deletions(&plan, &ledger, &judged);
        let quit_early =
            !plan.may_delete(&ledger, account.policy) && by_rule.is_empty() && window > 1;
        let steps: Vec<Step<'_>> = plan
            .entries
            .iter()
            .filter(|e| {
                top.try_it && e.action == Action::New && !copies.contains_key(&e.listed.number)
            })
            .map(Step::Top)
            .chain(plan.entries.iter().filter(|e| e.retr).map(Step::Retr))
            .collect();
        let tops = steps.iter().filter(|s| matches!(s, Step::Top(_))).count();
        let to_download = steps.len() - tops;
        let writer = StoreWriter::spawn(store.path(), now)?;
        let mut headers: Vec<(&Planned, Reply)> = Vec::new();
        let (mut headers_done, mut downloaded, mut have_top) = (0, 0, top.try_it);
        let mut header_bytes = 0;
        let mut set_aside: Vec<&Planned> = Vec::new();
        let summary = &mut *self.summary;
        let fetched = pipeline_then(
            session,
            &steps,
            Flight::new(window, FLIGHT_BYTES),
            self.cancel,
            quit_early.then_some(Command::Quit),
            |step| match step {
                Step::Top(e) => Command::Top {
                    message: e.listed.number,
                    lines: 0,
                },
                Step::Retr(e) => Command::Retr(e.listed.number),
            },
            |step| match step {
                Step::Top(_) => HEADER_BYTES,
                Step::Retr(e) => e.listed.size,
            },
            |step, reply, bytes| {
                let reply = match reply {
                    Ok(reply) => reply,
                    Err(e) => {
                        // A reply past every bound breaks the session: this
                        // message is set aside, so the next fetch gets the others.
                        if matches!(
                            e,
                            FetchError::Net(NetError::Protocol(
                                ProtocolError::ReplyTooLarge { .. }
                            ))
                        ) {
                            let e = match step {
                                Step::Top(e) | Step::Retr(e) => e,
                            };
                            set_aside.push(e);
                        }
                        return Err(e);
                    }
                };
                match step {
                    Step::Top(e) => {
                        header_bytes += reply.body.as_ref().map_or(0, Vec::len);
                        headers.push((e, reply));
                        if headers.len() == HEADER_GROUP
                            || header_bytes >= HEADER_GROUP_BYTES
                            || headers_done + headers.len() == tops
                        {
                            header_bytes = 0;
                            // Stored in groups, each committed so the window shows them.
                            let batch = store.batch()?;
                            for (e, reply) in headers.drain(..) {
                                let mut problems = Vec::new();
                                if e.listed.size > sizes.largest {
                                    problems.push(too_large(sizes.largest));
                                }
                                let header = if let Some(size) = reply.oversized {
                                    // One message's problem, not the session's.
                                    summary.errors.push(format!(
                                        "message {} ({}): its header block ({}) is larger than the {} Pipit reads; {}",
                                        e.listed.number,
                                        human_bytes(e.listed.size),
                                        human_bytes(size as u64),
                                        human_bytes(bounds.header_block as u64),
                                        if e.retr {
                                            "it is downloaded whole instead"
                                        } else {
                                            "only its size is known"
                                        }
                                    ));
                                    problems.push(format!(
                                        "its header block is larger than the {} Pipit reads",
                                        human_bytes(bounds.header_block as u64)
                                    ));
                                    Vec::new()
                                } else if reply.is_ok() {
                                    reply.body.unwrap_or_default()
                                } else {
                                    if have_top && headers_done == 0 && !top.advertised {
                                        // The first TOP failed: this server has no TOP.
                                        have_top = false;
                                        note(
                                            summary,
                                            "the server has no TOP: headers come with the whole message",
                                        );
                                    } else if have_top {
                                        summary.errors.push(format!(
                                            "TOP {} failed: {}",
                                            e.listed.number, reply.text
                                        ));
                                    }
                                    Vec::new()
                                };
                                let ids = insert_new(
                                    &batch,
                                    name,
                                    e,
                                    &header,
                                    &problems.join("; "),
                                    now,
                                )?;
                                copies.insert(e.listed.number, ids);
                                headers_done += 1;
                            }
                            batch.commit()?;
                            progress(Progress::Headers {
                                account: name.to_string(),
                                done: headers_done,
                                of: tops,
                            });
                        }
                    }
                    Step::Retr(e) => {
                        let number = e.listed.number;
                        if failpoint::armed("lost-row") {
                            copies.clear();
                        }
                        let Some(&(message, copy)) = copies.get(&number) else {
                            return Err(FetchError::Internal(format!(
                                "the store has no row for message {number}, made earlier in this session"
                            )));
                        };
                        if !reply.is_ok() {
                            summary
                                .errors
                                .push(format!("RETR {number} failed: {}", reply.text));
                            return Ok(());
                        }
                        let body = reply.body.unwrap_or_default();
                        if !writer.send(number, Download { copy, message }, body) {
                            return Err(FetchError::WriterStopped);
                        }
                        downloaded += 1;
                        progress(Progress::Downloaded {
                            account: name.to_string(),
                            done: downloaded,
                            of: to_download,
                            bytes,
                        });
                    }
                }
                Ok(())
            },
        );
        // Durable from here on: only these may the server delete on the
        // strength of their bytes. A store failure says more than the stop
        // it caused in the download.
        let durable = writer.finish()?;
        if !set_aside.is_empty() {
            set_aside_too_large(store, name, &set_aside, &copies, sizes.largest, now)?;
        }
        fetched?;
        self.summary.downloaded += durable.len();
        // What the rules did, in the store before any DELE of theirs.
        let mut by_rule: HashSet<u32> = by_rule.iter().map(|e| e.listed.number).collect();
        let asked = record_rules(store, name, &judged, &by_rule, &copies, now, self.summary)?;
        by_rule.retain(|n| !asked.contains(n));
        let mut by_rule_copies = HashSet::new();

        let mut deleted = Vec::new();
        if !quit_early {
            let resolved = resolve(&plan, &copies, &durable, &ledger, now);
            let kept = store.left_on_server_by_rule(name)?;
            let mut due = plan::spare(plan::deletions(&resolved, account.policy, now), &kept);
            leave_damaged(store, &mut due, &durable, self.summary)?;
            let mut dele = due.now;
            dele.extend(confirm_by_headers(
                session,
                store,
                &due.after_headers,
                &plan,
                window,
                top.try_it,
                self,
            )?);
            // A rule's deletions, each on its own match (see `plan::rule_deletions`).
            let due_already: HashSet<u32> = dele.iter().map(|r| r.number).collect();
            for r in &resolved {
                if by_rule.contains(&r.number) && !due_already.contains(&r.number) {
                    by_rule_copies.insert(r.copy);
                    dele.push(r);
                }
            }
            // Last first: a broken server that renumbers after each DELE
            // still deletes the right ones.
            dele.sort_by_key(|r| std::cmp::Reverse(r.number));
            if !dele.is_empty() {
                progress(Progress::Deleting {
                    account: name.to_string(),
                    count: dele.len(),
                });
                let summary = &mut *self.summary;
                pipeline(
                    session,
                    &dele,
                    window,
                    self.cancel,
                    |r| Command::Dele(r.number),
                    |r, reply, _| {
                        if reply.is_ok() {
                            deleted.push(r.copy);
                        } else {
                            summary
                                .errors
                                .push(format!("DELE {} failed: {}", r.number, reply.text));
                        }
                        Ok(())
                    },
                )?;
            }
        }
        Ok(Transacted {
            again: CAPPED_SESSION.contains(&new) && new == listing.len(),
            deleted,
            quit_sent: quit_early,
            by_rule: by_rule_copies,
        })
    }
}

/// Takes out of `due` the policy's deletions of messages stored before
/// this session whose stored bytes are damaged (a packed row that no
/// longer unpacks: not one byte of it can be given back): the server's copy
/// may be the only sound one left. The user's own deletions stay, and so do
/// messages stored in this session (checked as they were stored).
fn leave_damaged(
    store: &Store,
    due: &mut plan::Deletions<'_>,
    durable: &[Durable],
    summary: &mut FetchSummary,
) -> Result<(), FetchError> {
    let stored_now: HashSet<i64> = durable.iter().map(|d| d.message).collect();
    let mut damaged = HashSet::new();
    for r in due.now.iter().chain(&due.after_headers) {
        if !r.delete_on_server
            && r.state == MessageState::Full
            && !stored_now.contains(&r.message)
            && !store.bytes_sound(r.message)?
        {
            damaged.insert(r.number);
            summary.errors.push(format!(
                "message {} is left on the server: its stored bytes (message {} here) are damaged",
                r.number, r.message
            ));
        }
    }
    due.now.retain(|r| !damaged.contains(&r.number));
    due.after_headers.retain(|r| !damaged.contains(&r.number));
    Ok(())
}

impl Pass<'_> {
    /// Judges the listed messages the rules apply to, on their header
    /// blocks read now (`TOP n 0`); those a rule holds back, or that could
    /// not be judged, are not downloaded. New messages' header blocks are
    /// kept in `read` to be stored without asking again.
    #[allow(clippy::too_many_arguments)] // one pass's context; a struct would only rename it
    fn judge(
        &mut self,
        session: &mut Session,
        store: &Store,
        plan: &mut Plan,
        ledger: &Ledger,
        read: &mut HeadersRead,
        window: usize,
        top: Top,
    ) -> Result<HashMap<u32, plan::Judged>, FetchError> {
        let rules = &self.account.rules;
        if !rules.hold_anything() {
            store.release_held_by_rules(&self.account.name)?;
            return Ok(HashMap::new());
        }
        if !top.try_it {
            note(
                self.summary,
                "the server has no TOP, so rules before download cannot see headers before a download: they do not apply",
            );
            return Ok(HashMap::new());
        }
        let armed = store.armed_rules(&self.account.name)?;
        let is_armed = |r: &crate::rules::Rule| {
            armed.get(r.name.as_str()) == Some(&self.account.arming_fingerprint(r))
        };
        let stored = store.header_blocks(&plan::rules_stored_blocks(plan, ledger))?;
        let (mut judged, to_read) =
            plan::prejudge(plan, ledger, rules, &is_armed, &stored, &read.blocks);
        let sizes: HashMap<u32, u64> = plan
            .entries
            .iter()
            .map(|e| (e.listed.number, e.listed.size))
            .collect();
        let to_read: Vec<(u32, u64, bool)> = to_read
            .into_iter()
            .map(|(n, new)| (n, sizes[&n], new))
            .collect();
        let mut kept: usize = read.blocks.values().map(Vec::len).sum();
        let mut unjudged: HashMap<u32, String> = HashMap::new();
        pipeline_then(
            session,
            &to_read,
            Flight::new(window, FLIGHT_BYTES),
            self.cancel,
            None,
            |&(n, _, _)| Command::Top {
                message: n,
                lines: 0,
            },
            |_| HEADER_BYTES,
            |&(n, size, new), reply, _| {
                let reply = reply?;
                if !reply.is_ok() || reply.oversized.is_some() {
                    unjudged.insert(n, reply.text);
                    return Ok(());
                }
                let body = reply.body.unwrap_or_default();
                let block = mime::header_block(&body);
                if new && !read.blocks.contains_key(&n) && kept + block.len() <= KEPT_HEADERS {
                    kept += block.len();
                    read.blocks.insert(n, block.to_vec());
                }
                judged.insert(n, plan::judge_read(rules, &is_armed, block, size));
                Ok(())
            },
        )?;
        if !top.advertised && !to_read.is_empty() && unjudged.len() == to_read.len() {
            // Every TOP refused, by a server that never said it has TOP:
            // it has none, and rules cannot see headers before a download.
            note(
                self.summary,
                "the server has no TOP, so rules before download cannot see headers before a download: they do not apply",
            );
            unjudged.clear();
        }
        let mut failed: Vec<(&u32, &String)> = unjudged.iter().collect();
        failed.sort();
        for (n, text) in failed {
            self.summary.errors.push(format!(
                "message {n} stays on the server undownloaded: its header block could not be read for the rules to judge it ({text})"
            ));
        }
        let unjudged: HashSet<u32> = unjudged.into_keys().collect();
        plan::hold(plan, &judged, &unjudged);
        Ok(judged)
    }
}

/// Records in the store what the rules did to each message they judged
/// (before any DELE of theirs), sweeps the header blocks of messages rules
/// deleted long ago, and tells the summary. Returns the messages of
/// `by_rule` the user asked for whole while the session ran: no rule
/// deletes those.
pub(super) fn record_rules(
    store: &mut Store,
    account: &str,
    judged: &HashMap<u32, plan::Judged>,
    by_rule: &HashSet<u32>,
    copies: &HashMap<u32, (i64, i64)>,
    now: i64,
    summary: &mut FetchSummary,
) -> Result<HashSet<u32>, FetchError> {
    use crate::rules::{RuleAction, Verdict};
    let mut asked = HashSet::new();
    if judged.is_empty() && !store.deleted_by_rule_to_sweep(account, now)? {
        // Nothing to write: no transaction.
        return Ok(asked);
    }
    let batch = store.batch()?;
    let mut numbers: Vec<&u32> = judged.keys().collect();
    numbers.sort();
    for n in numbers {
        let j = &judged[n];
        let Some(&(message, _)) = copies.get(n) else {
            continue;
        };
        match &j.verdict {
            Verdict::Download => batch.unmark_rule(message)?,
            Verdict::Hold {
                rule,
                action,
                unarmed,
            } => {
                let mark = match action {
                    _ if *unarmed => RuleMark::Unarmed,
                    RuleAction::LeaveOnServer => RuleMark::LeaveOnServer,
                    _ => RuleMark::HeadersOnly,
                };
                batch.mark_rule(message, rule.as_str(), mark, now)?;
                if *unarmed {
                    summary.rule_would_delete(rule.as_str());
                }
            }
            Verdict::Delete { .. } if by_rule.contains(n) && batch.asked_for(message)? => {
                // Shown as headers since its block was stored, and asked
                // for whole while the session ran: the user's, not the rule's.
                batch.unmark_rule(message)?;
                asked.insert(*n);
            }
            Verdict::Delete { rule } if by_rule.contains(n) => {
                batch.mark_rule(message, rule.as_str(), RuleMark::Delete, now)?;
            }
            Verdict::Delete { rule } => {
                // Held back, as headers only: not the policy's to spare.
                batch.mark_rule(message, rule.as_str(), RuleMark::HeadersOnly, now)?;
                let why = j.distrust.unwrap_or(
                    "it cannot be told apart from other messages by its UID and header block",
                );
                summary.errors.push(format!(
                    "message {n} matched rule {rule:?} but was not deleted: {why}, so it stays on the server"
                ));
            }
        }
    }
    batch.sweep_deleted_by_rule(account, now)?;
    batch.commit()?;
    Ok(asked)
}

/// Whether to ask for header blocks with TOP.
#[derive(Clone, Copy, Debug)]
struct Top {
    /// Try TOP (the server advertised it, or does not know CAPA).
    try_it: bool,
    /// The server said it has TOP: a failure is that message's, not a sign
    /// the server lacks TOP.
    advertised: bool,
}

/// One command of the fetch flight.
enum Step<'a> {
    /// The header block of a new message.
    Top(&'a Planned),
    /// A whole message.
    Retr(&'a Planned),
}

/// Header blocks read to tell messages apart.
struct HeadersRead {
    digests: HashMap<u32, HeaderDigest>,
    /// Header blocks of messages the store has nothing like: new ones most
    /// likely, to be stored without asking again.
    blocks: HashMap<u32, Vec<u8>>,
}

/// Reads the header block of each message in `needed` (`TOP n 0`; on a
/// server without TOP the whole message, of which the header block is kept).
fn read_headers(
    session: &mut Session,
    needed: &[u32],
    listing: &[Listed],
    ledger: &Ledger,
    window: usize,
    top: &mut Top,
    pass: &mut Pass<'_>,
) -> Result<HeadersRead, FetchError> {
    let known: std::collections::HashSet<HeaderDigest> = ledger
        .messages
        .values()
        .filter_map(|m| m.digest)
        .chain(ledger.copies.iter().filter_map(|c| c.digest))
        .collect();
    let sizes: HashMap<u32, u64> = listing.iter().map(|l| (l.number, l.size)).collect();
    loop {
        let mut read = HeadersRead {
            digests: HashMap::new(),
            blocks: HashMap::new(),
        };
        let (mut kept, mut failures) = (0usize, Vec::new());
        let use_top = top.try_it;
        let flight = Flight::new(window, FLIGHT_BYTES);
        pipeline_then(
            session,
            needed,
            flight,
            pass.cancel,
            None,
            |&n| {
                if use_top {
                    Command::Top {
                        message: n,
                        lines: 0,
                    }
                } else {
                    Command::Retr(n)
                }
            },
            |n| if use_top { HEADER_BYTES } else { sizes[n] },
            |&n, reply, _| {
                let reply = reply?;
                if let Some(size) = reply.oversized {
                    failures.push((
                        n,
                        format!("its header block ({size} bytes) is larger than Pipit reads"),
                    ));
                    return Ok(());
                }
                if !reply.is_ok() {
                    failures.push((n, reply.text));
                    return Ok(());
                }
                let body = reply.body.unwrap_or_default();
                let digest = mime::header_digest(&body);
                if !known.contains(&digest) && kept + body.len() <= KEPT_HEADERS {
                    let block = mime::header_block(&body).to_vec();
                    kept += block.len();
                    read.blocks.insert(n, block);
                }
                read.digests.insert(n, digest);
                Ok(())
            },
        )?;
        // Every TOP refused, by a server that never said it has TOP: it has
        // none. Read the messages whole instead.
        if use_top && !top.advertised && !needed.is_empty() && read.digests.is_empty() {
            top.try_it = false;
            note(
                pass.summary,
                "the server has no TOP: headers come with the whole message",
            );
            continue;
        }
        for (n, text) in failures {
            let command = if use_top { "TOP" } else { "RETR" };
            pass.summary
                .errors
                .push(format!("{command} {n} failed: {text}"));
        }
        return Ok(read);
    }
}

/// Reads the header block of each message matched by UID whose deletion is
/// due (`TOP n 0`, or the whole message from a server without TOP); returns
/// those whose header block is the stored message's. One that is not has a
/// UID that lies: it is remembered as such, and the message stays.
#[allow(clippy::too_many_arguments)] // one pass's context; a struct would only rename it
fn confirm_by_headers<'r>(
    session: &mut Session,
    store: &mut Store,
    due: &[&'r Resolved],
    plan: &Plan,
    window: usize,
    have_top: bool,
    pass: &mut Pass<'_>,
) -> Result<Vec<&'r Resolved>, FetchError> {
    let mut confirmed = Vec::new();
    let mut liars = Vec::new();
    let uids: HashMap<u32, &str> = plan
        .entries
        .iter()
        .filter_map(|e| Some((e.listed.number, e.listed.uid.as_deref()?)))
        .collect();
    let summary = &mut *pass.summary;
    pipeline(
        session,
        due,
        window,
        pass.cancel,
        |r| {
            if have_top {
                Command::Top {
                    message: r.number,
                    lines: 0,
                }
            } else {
                Command::Retr(r.number)
            }
        },
        |&r, reply, _| {
            if !reply.is_ok() || reply.oversized.is_some() {
                summary.errors.push(format!(
                    "message {} was not deleted: its header block could not be read to check it is the one stored ({})",
                    r.number, reply.text
                ));
                return Ok(());
            }
            let digest = mime::header_digest(reply.body.as_deref().unwrap_or_default());
            if plan::header_confirms(r, &digest) {
                confirmed.push(r);
            } else {
                summary.errors.push(format!(
                    "message {} was not deleted: the server lists it under the UID of a stored message, but its header block is another's",
                    r.number
                ));
                liars.extend(uids.get(&r.number).map(|u| u.to_string()));
            }
            Ok(())
        },
    )?;
    if !liars.is_empty() {
        let batch = store.batch()?;
        batch.add_suspect_uids(&pass.account.name, &liars)?;
        batch.commit()?;
    }
    Ok(confirmed)
}

/// Marks messages whose reply ran past every bound (an endless message, or
/// one far larger than LIST said): they are left on the server, named, and
/// not asked for again unless the user does, so the next fetch gets the rest.
fn set_aside_too_large(
    store: &mut Store,
    account: &str,
    entries: &[&Planned],
    copies: &HashMap<u32, (i64, i64)>,
    largest: u64,
    now: i64,
) -> Result<(), FetchError> {
    let why = format!(
        "the server sent more of it than the {} Pipit reads, so it stays on the server",
        human_bytes(largest)
    );
    let batch = store.batch()?;
    for e in entries {
        let message = match copies.get(&e.listed.number) {
            Some(&(message, _)) => message,
            None => insert_new(&batch, account, e, &[], &why, now)?.0,
        };
        batch.set_aside(message, &why)?;
    }
    batch.commit()?;
    Ok(())
}

/// Records what the listing taught (copies gone, suspect UIDs, links, sizes
/// and digests learnt) and stores the new messages whose header blocks are
/// at hand; returns each listed message's (message, copy) so far.
pub(super) fn record_listing(
    store: &mut Store,
    account: &str,
    plan: &Plan,
    blocks: &HashMap<u32, Vec<u8>>,
    have_top: bool,
    now: i64,
) -> Result<HashMap<u32, (i64, i64)>, FetchError> {
    let mut copies = HashMap::new();
    let batch = store.batch()?;
    batch.forget_copies(&plan.vanished, Left::Vanished, now)?;
    batch.add_suspect_uids(account, &plan.suspects)?;
    for (copy, size, digest) in &plan.updates {
        batch.update_copy(*copy, *size, digest.as_ref())?;
    }
    for e in &plan.entries {
        let number = e.listed.number;
        match e.action {
            Action::Known { copy, message } => {
                copies.insert(number, (message, copy));
            }
            Action::Link { message } => {
                let copy = batch.add_copy(&new_copy(account, e, now), message)?;
                copies.insert(number, (message, copy));
            }
            // Its header block is here, or will come only with the message.
            Action::New if blocks.contains_key(&number) || !have_top => {
                let header = blocks.get(&number).map_or(&[][..], Vec::as_slice);
                copies.insert(number, insert_new(&batch, account, e, header, "", now)?);
            }
            Action::New | Action::Skip => {}
        }
    }
    batch.sweep_tombstones(account, now)?;
    batch.commit()?;
    Ok(copies)
}

fn new_copy<'a>(account: &'a str, e: &'a Planned, now: i64) -> NewCopy<'a> {
    NewCopy {
        account,
        uid: e.listed.uid.as_deref(),
        size: e.listed.size,
        digest: e.digest.as_ref(),
        first_seen: now,
    }
}

/// Stores a new message as its header block (perhaps empty: then the whole
/// message brings it); returns (message, copy).
pub(super) fn insert_new(
    batch: &Batch<'_>,
    account: &str,
    e: &Planned,
    header: &[u8],
    problem: &str,
    now: i64,
) -> Result<(i64, i64), FetchError> {
    let digest = (!header.is_empty()).then(|| mime::header_digest(header));
    Ok(batch.insert(&NewMessage {
        copy: NewCopy {
            digest: digest.as_ref().or(e.digest.as_ref()),
            ..new_copy(account, e, now)
        },
        raw: header,
        state: MessageState::Headers,
        parsed: &mime::parse(header),
        problem,
    })?)
}

fn too_large(largest: u64) -> String {
    format!(
        "it is larger than the {} Pipit downloads, so only its headers are kept",
        human_bytes(largest)
    )
}

/// Each listed message that has a copy, after the downloads: which message
/// it is now, in what state, on what evidence.
pub(super) fn resolve(
    plan: &Plan,
    copies: &HashMap<u32, (i64, i64)>,
    durable: &[Durable],
    ledger: &Ledger,
    now: i64,
) -> Vec<Resolved> {
    let durable: HashMap<u32, i64> = durable.iter().map(|d| (d.number, d.message)).collect();
    let copy_digests: HashMap<i64, HeaderDigest> = ledger
        .copies
        .iter()
        .filter_map(|c| Some((c.id, c.digest?)))
        .collect();
    plan.entries
        .iter()
        .filter_map(|e| {
            let number = e.listed.number;
            let &(message, copy) = copies.get(&number)?;
            let stored = durable.get(&number).copied();
            let message = stored.unwrap_or(message);
            let known = ledger.messages.get(&message);
            let expected = copy_digests
                .get(&copy)
                .copied()
                .or_else(|| known.and_then(|m| m.digest));
            Some(Resolved {
                number,
                copy,
                message,
                state: if stored.is_some() {
                    MessageState::Full
                } else {
                    known.map_or(MessageState::Headers, |m| m.state)
                },
                first_seen: known.map_or(now, |m| m.first_seen),
                delete_on_server: known.is_some_and(|m| m.delete_on_server),
                evidence: if stored.is_some() {
                    Evidence::Retrieved
                } else {
                    e.evidence
                },
                expected,
            })
        })
        .collect()
}

/// Queues UIDL and LIST, the two halves of a listing.
fn send_listing(session: &mut Session) -> Result<(), FetchError> {
    session.send(&Command::Uidl(None))?;
    session.send(&Command::List(None))?;
    Ok(())
}

/// UIDL and LIST (already queued when `already_sent`), read liberally: a
/// line that breaks the rules costs its message (reported in `summary`),
/// not the listing; a message without a usable UID is told apart by its
/// header block. Also says whether the server refused them queued behind
/// the login and took them one at a time.
pub(super) fn read_listing(
    session: &mut Session,
    window: usize,
    already_sent: bool,
    summary: &mut FetchSummary,
) -> Result<(Vec<Listed>, bool), FetchError> {
    let mut refused = false;
    let (uidl, list) = if already_sent {
        let (uidl, list) = (session.read_reply()?, session.read_reply()?);
        if list.is_ok() && uidl.is_ok() {
            (uidl, list)
        } else if list.is_ok() {
            // UIDL refused behind the login, LIST taken: ask UIDL again on
            // its own before taking the server for one without UIDL.
            (session.command(&Command::Uidl(None))?, list)
        } else {
            // Refused when pipelined behind the login (a server may not
            // take commands it got before its +OK): ask again, one at a time.
            note(
                summary,
                "the server refused the listing sent with the login: asked again one command at a time",
            );
            refused = true;
            let uidl = session.command(&Command::Uidl(None))?;
            (uidl, session.command(&Command::List(None))?)
        }
    } else if window > 1 {
        send_listing(session)?;
        (session.read_reply()?, session.read_reply()?)
    } else {
        let uidl = session.command(&Command::Uidl(None))?;
        (uidl, session.command(&Command::List(None))?)
    };
    let list = expect_body(list, "LIST")?;
    let (sizes, mut problems) = parse_list(&list);
    let mut bad_uids = 0;
    let uids: HashMap<u32, String> = if uidl.is_ok() {
        let (uids, uid_problems) = parse_uidl(uidl.body.as_deref().unwrap_or_default());
        bad_uids = uid_problems.len();
        problems.extend(uid_problems);
        uids.into_iter().collect()
    } else {
        note(
            summary,
            "the server has no UIDL: messages are told apart by a digest of their headers",
        );
        HashMap::new()
    };
    let listing: Vec<Listed> = sizes
        .iter()
        .map(|l| Listed {
            number: l.number,
            size: l.size,
            uid: uids.get(&l.number).cloned(),
        })
        .collect();
    if uidl.is_ok() {
        let unnamed = listing.iter().filter(|l| l.uid.is_none()).count();
        if unnamed > bad_uids {
            note(
                summary,
                "some messages in LIST are missing from UIDL: they are told apart by a digest of their headers",
            );
        }
        if bad_uids > 0 {
            note(
                summary,
                "some UIDs break RFC 1939's rules: those messages are told apart by a digest of their headers",
            );
        }
    }
    let listed: std::collections::HashSet<u32> = listing.iter().map(|l| l.number).collect();
    for p in problems.kept.iter().take(LISTING_PROBLEMS_SHOWN) {
        let what = match p.number {
            Some(n) if !listed.contains(&n) => {
                format!("{}; message {n} was left on the server", p.text)
            }
            _ => p.text.clone(),
        };
        summary.errors.push(format!("the server sent {what}"));
    }
    if problems.len() > LISTING_PROBLEMS_SHOWN {
        summary.errors.push(format!(
            "…and {} more listing lines like those",
            problems.len() - LISTING_PROBLEMS_SHOWN
        ));
    }
    Ok((listing, refused))
}

pub(super) fn expect_body(reply: Reply, command: &str) -> Result<Vec<u8>, FetchError> {
    if reply.is_ok() {
        Ok(reply.body.unwrap_or_default())
    } else {
        Err(FetchError::CommandFailed {
            command: command.into(),
            text: reply.text,
        })
    }
}

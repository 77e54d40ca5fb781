//! What to do with each message the server lists, decided without IO: a pure
//! function of the listing, what the store knows (its ledger), the account's
//! policy, the size limit and the clock. The session carries the decisions
//! out; nothing here touches a socket or the store.
//!
//! A UID is a hint, not an identity: UIDs repeat, change when a mailbox
//! moves, and break. So a listed message is matched to what the store holds
//! by evidence:
//! - **By UID** when its UID is unique in this listing and was never given to
//!   another message on this account: the copy under that UID, if its listed
//!   size is the same. This is the common case, and costs no extra command.
//! - **By headers** otherwise (no UIDL, a UID that repeats now or did before,
//!   a UID whose size changed, or a new UID the size of a message that left
//!   the server lately and may be back under another UID): its header block
//!   is read first (`TOP n 0`), and it matches a copy with the same UID (or
//!   none), listed size and header digest.
//!
//! A message matched to nothing is new, unless its header digest and size
//! are those of a message already stored for the account: then it is *linked*
//! to that message (a moved mailbox, renumbered UIDs) and not downloaded
//! again. Where several listed messages share a header digest and a size,
//! none of them is linked on that evidence alone: they are downloaded, and
//! the store joins bytes that are identical.
//!
//! A DELE needs evidence, read in the same session, that the message at
//! that position is the one stored whole (or the one the user deleted): its
//! bytes, read and committed; or its header block, whose digest and listed
//! size are the stored message's, with no other listed message it could be
//! mistaken for. A UID alone is never enough: a message matched by UID whose
//! deletion is due has its header block read first (one `TOP n 0` in the
//! session's last flight). Where several listed messages share a header
//! block and a size, only their bytes will do.

use std::collections::{HashMap, HashSet};

use crate::config::Policy;
use crate::mime::HeaderDigest;
use crate::store::{Ledger, MessageState, Stored, TOMBSTONE_SECS};

/// A stored message whose last copy left the server this recently may be
/// back under another UID: a new UID of its size has its headers read before
/// anything is downloaded. (Later, a download finds it by its bytes.)
pub const RELINK_SECS: i64 = TOMBSTONE_SECS;

/// Which messages are downloaded whole, by size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// The account's limit: larger messages are kept as headers only until
    /// the user asks for them.
    pub limit: u64,
    /// The largest message Pipit reads at all (`pop3::Limits::message`):
    /// larger ones stay on the server whatever is asked, and are named.
    pub largest: u64,
}

impl Sizes {
    /// No account limit.
    pub fn unlimited(largest: u64) -> Sizes {
        Sizes {
            limit: u64::MAX,
            largest,
        }
    }

    fn downloads(self, size: u64) -> bool {
        size <= self.limit && size <= self.largest
    }
}

/// One message in this session's listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub number: u32,
    pub size: u64,
    /// Its UIDL; `None` when the server has none, or gave one Pipit cannot use.
    pub uid: Option<String>,
}

/// How sure Pipit is that a listed message is the stored one it was matched to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// Matched by a UID unique here and never repeated, with the same listed
    /// size: enough to know what it is, not to delete it unseen. Its header
    /// block is read before a DELE.
    Uid,
    /// Its header block was read in this session, and it and the listed size
    /// are the stored message's, with no other listed message that looks the
    /// same: enough to delete it.
    Headers,
    /// Matched, but another listed message (or another copy) looks the same,
    /// or nothing was matched: only its bytes would prove what it is.
    Weak,
    /// Its bytes were read in this session and are durably stored.
    Retrieved,
}

/// What a listed message is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// A copy the store knows, of a stored message.
    Known { copy: i64, message: i64 },
    /// A copy the store does not know of a message it holds: record the copy.
    Link { message: i64 },
    /// A message the store does not hold: store its header block (TOP).
    New,
    /// Its header block could not be read, so it cannot be told apart: left
    /// alone this session.
    Skip,
}

/// The decision for one listed message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub listed: Listed,
    /// Its header digest, when read in this session.
    pub digest: Option<HeaderDigest>,
    pub action: Action,
    pub evidence: Evidence,
    /// Download it whole.
    pub retr: bool,
}

/// What one session is to do, before anything is downloaded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// One per listed message, in listing order.
    pub entries: Vec<Planned>,
    /// Copies the server no longer lists.
    pub vanished: Vec<i64>,
    /// UIDs seen on more than one message for the first time.
    pub suspects: Vec<String>,
    /// Known copies whose listed size or header digest this session learnt.
    pub updates: Vec<(i64, u64, Option<HeaderDigest>)>,
}

impl Plan {
    pub fn new_count(&self) -> usize {
        self.count(|a| matches!(a, Action::New))
    }

    pub fn linked_count(&self) -> usize {
        self.count(|a| matches!(a, Action::Link { .. }))
    }

    fn count(&self, what: impl Fn(&Action) -> bool) -> usize {
        self.entries.iter().filter(|e| what(&e.action)).count()
    }

    /// Whether any listed message could be deleted in this session, whatever
    /// the downloads bring: if not, QUIT may follow the last command at once.
    pub fn may_delete(&self, ledger: &Ledger, policy: Policy) -> bool {
        policy != Policy::Keep
            || self.entries.iter().any(|e| match e.action {
                Action::Known { message, .. } | Action::Link { message } => ledger
                    .messages
                    .get(&message)
                    .is_some_and(|m| m.delete_on_server),
                Action::New | Action::Skip => false,
            })
    }
}

/// How a listed message is told apart, before any header block is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Id {
    /// By its UID: the copy at this index of the ledger.
    ByUid(usize),
    /// A UID never seen, of a size no message that left lately had.
    NewUid,
    /// By its header digest (see the module's notes).
    ByHeaders,
}

struct Identification {
    ids: Vec<Id>,
    suspects: Vec<String>,
}

fn identify(listing: &[Listed], ledger: &Ledger, now: i64) -> Identification {
    let mut uid_count: HashMap<&str, usize> = HashMap::new();
    for l in listing {
        if let Some(u) = &l.uid {
            *uid_count.entry(u).or_default() += 1;
        }
    }
    let mut copies_by_uid: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, c) in ledger.copies.iter().enumerate() {
        if let Some(u) = &c.uid {
            copies_by_uid.entry(u).or_default().push(i);
        }
    }
    let mut suspects: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut suspect = |u: &str, suspects: &mut Vec<String>| {
        if !ledger.suspect_uids.contains(u) && seen.insert(u.to_string()) {
            suspects.push(u.to_string());
        }
    };
    let mut ids: Vec<Id> = listing
        .iter()
        .map(|l| {
            let Some(u) = l.uid.as_deref() else {
                return Id::ByHeaders;
            };
            if uid_count[u] > 1 {
                suspect(u, &mut suspects);
                return Id::ByHeaders;
            }
            if ledger.suspect_uids.contains(u) {
                return Id::ByHeaders;
            }
            match copies_by_uid.get(u).map(Vec::as_slice) {
                None | Some([]) => Id::NewUid,
                Some(&[c]) if ledger.copies[c].size == Some(l.size) => Id::ByUid(c),
                // A copy from before the ledger knew listed sizes: the size
                // of what is stored stands in; else its headers must show it.
                Some(&[c]) if ledger.copies[c].size.is_none() => {
                    let stored = ledger.messages.get(&ledger.copies[c].message);
                    if stored.is_some_and(|m| m.state == MessageState::Full && m.size == l.size) {
                        Id::ByUid(c)
                    } else {
                        Id::ByHeaders
                    }
                }
                // The UID now names a message of another size, or named
                // several: it is not to be trusted alone any more.
                Some(_) => {
                    suspect(u, &mut suspects);
                    Id::ByHeaders
                }
            }
        })
        .collect();

    // Messages that may be back under another UID: none of their copies was
    // found by UID, and they are leaving now or left lately.
    let held: HashSet<i64> = ids
        .iter()
        .filter_map(|id| match id {
            Id::ByUid(c) => Some(ledger.copies[*c].message),
            _ => None,
        })
        .collect();
    let with_copies: HashSet<i64> = ledger.copies.iter().map(|c| c.message).collect();
    let mut orphan_sizes: HashSet<u64> = HashSet::new();
    for m in ledger.messages.values() {
        let leaving = with_copies.contains(&m.id) && !held.contains(&m.id);
        let left_lately = m.vanished_at.is_some_and(|at| now - at <= RELINK_SECS);
        if leaving || (left_lately && !held.contains(&m.id)) {
            orphan_sizes.extend(m.listed_size);
            if m.state == MessageState::Full {
                orphan_sizes.insert(m.size);
            }
        }
    }
    for (id, l) in ids.iter_mut().zip(listing) {
        if *id == Id::NewUid && orphan_sizes.contains(&l.size) {
            *id = Id::ByHeaders;
        }
    }
    Identification { ids, suspects }
}

/// The listed messages whose header block must be read (`TOP n 0`) before
/// the session can be planned: those told apart by their headers.
pub fn headers_needed(listing: &[Listed], ledger: &Ledger, now: i64) -> Vec<u32> {
    let identification = identify(listing, ledger, now);
    listing
        .iter()
        .zip(&identification.ids)
        .filter(|(_, id)| **id == Id::ByHeaders)
        .map(|(l, _)| l.number)
        .collect()
}

/// Whether a stored message of this size could be the listed one of `size`.
fn same_size(m: &Stored, size: u64) -> bool {
    m.listed_size == Some(size) || (m.state == MessageState::Full && m.size == size)
}

/// Whether `policy` deletes a message stored whole and first seen at `first_seen`.
pub fn policy_deletes(policy: Policy, first_seen: i64, now: i64) -> bool {
    match policy {
        Policy::Keep => false,
        Policy::Delete => true,
        Policy::KeepDays(days) => now - first_seen >= i64::from(days) * 86_400,
    }
}

/// When Pipit will delete a copy on the server, as things stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "when", rename_all = "snake_case")]
pub enum Deletion {
    /// At the next fetch: the policy says so, or the user deleted it here.
    NextFetch,
    /// At the first fetch after this time (keep-days).
    After { at: i64 },
    /// Once it is downloaded whole (the policy deletes only what is
    /// stored); under keep-days, not before `not_before`, while that is to
    /// come (the days count from when it was first seen, downloaded or not).
    OnceDownloaded {
        #[serde(skip_serializing_if = "Option::is_none")]
        not_before: Option<i64>,
    },
    /// Not by the policy (keep): only if the user deletes it here.
    Never,
}

/// When a copy of a message in `state`, first seen at `first_seen`, will be
/// deleted on the server under `policy` (always on the evidence the plan
/// asks for at that fetch).
pub fn deletion(
    policy: Policy,
    state: MessageState,
    first_seen: i64,
    delete_on_server: bool,
    now: i64,
) -> Deletion {
    if delete_on_server {
        return Deletion::NextFetch;
    }
    match (policy, state) {
        (Policy::Keep, _) => Deletion::Never,
        (Policy::KeepDays(days), MessageState::Headers | MessageState::Purged) => {
            let at = first_seen + i64::from(days) * 86_400;
            Deletion::OnceDownloaded {
                not_before: (at > now).then_some(at),
            }
        }
        (_, MessageState::Headers | MessageState::Purged) => {
            Deletion::OnceDownloaded { not_before: None }
        }
        (Policy::Delete, MessageState::Full) => Deletion::NextFetch,
        (Policy::KeepDays(days), MessageState::Full) => {
            let at = first_seen + i64::from(days) * 86_400;
            if at <= now {
                Deletion::NextFetch
            } else {
                Deletion::After { at }
            }
        }
    }
}

/// Plans one session. `headers` holds the header digests read for the
/// messages [`headers_needed`] named; one missing there could not be read.
pub fn plan(
    listing: &[Listed],
    ledger: &Ledger,
    headers: &HashMap<u32, HeaderDigest>,
    policy: Policy,
    sizes: Sizes,
    now: i64,
) -> Plan {
    let Identification { ids, mut suspects } = identify(listing, ledger, now);
    let copy_at: HashMap<i64, usize> = ledger
        .copies
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i))
        .collect();
    let mut copies_like: HashMap<(Option<&str>, Option<HeaderDigest>), Vec<usize>> = HashMap::new();
    for (i, c) in ledger.copies.iter().enumerate() {
        copies_like
            .entry((c.uid.as_deref(), c.digest))
            .or_default()
            .push(i);
    }
    // Stored messages by header digest. Two stored messages with one header
    // block and one size are look-alikes the store itself cannot tell
    // apart: headers are no evidence for either of them.
    let mut by_content: HashMap<HeaderDigest, Vec<&Stored>> = HashMap::new();
    for m in ledger.messages.values() {
        if let Some(d) = m.digest {
            by_content.entry(d).or_default().push(m);
        }
    }
    for ms in by_content.values_mut() {
        ms.sort_by_key(|m| m.id);
    }
    let stored_alike = |d: &HeaderDigest, size: u64| {
        by_content
            .get(d)
            .map_or(0, |ms| ms.iter().filter(|m| same_size(m, size)).count())
    };
    // Stored messages whose header block was never read might look like
    // anything of their size.
    let mut unread_stored: HashMap<u64, Vec<i64>> = HashMap::new();
    for m in ledger.messages.values().filter(|m| m.digest.is_none()) {
        let mut sizes = vec![];
        sizes.extend(m.listed_size);
        if m.state == MessageState::Full {
            sizes.push(m.size);
        }
        sizes.dedup();
        for size in sizes {
            unread_stored.entry(size).or_default().push(m.id);
        }
    }
    // Whether a stored message other than `message`, of `size`, was never read.
    let unread_elsewhere = |message: i64, size: u64| {
        unread_stored
            .get(&size)
            .is_some_and(|ms| ms.iter().any(|&m| m != message))
    };

    let mut actions: Vec<Option<(Action, Evidence)>> = vec![None; listing.len()];
    let mut claimed: HashSet<usize> = HashSet::new();

    for (i, id) in ids.iter().enumerate() {
        if let Id::ByUid(c) = *id {
            let copy = &ledger.copies[c];
            claimed.insert(c);
            // Its headers, read before a DELE, are evidence only if the
            // store holds no look-alike of them.
            let size = listing[i].size;
            let evidence = match copy.digest {
                Some(d) if stored_alike(&d, size) > 1 || unread_elsewhere(copy.message, size) => {
                    Evidence::Weak
                }
                _ => Evidence::Uid,
            };
            actions[i] = Some((
                Action::Known {
                    copy: copy.id,
                    message: copy.message,
                },
                evidence,
            ));
        }
    }

    // By headers: group the listed messages by (UID, size, digest); each
    // group takes the unclaimed copies that look the same. Where a group has
    // more members than copies, or its copies are of several messages, which
    // is which cannot be told: the copies whose messages are not stored whole
    // are matched first (so what may be missing is downloaded), and none is
    // deleted unread.
    type Class<'a> = (Option<&'a str>, u64, HeaderDigest);
    let mut classes: HashMap<Class<'_>, Vec<usize>> = HashMap::new();
    let mut order: Vec<Class<'_>> = Vec::new();
    for (i, (l, id)) in listing.iter().zip(&ids).enumerate() {
        if *id != Id::ByHeaders {
            continue;
        }
        match headers.get(&l.number) {
            Some(d) => {
                let key = (l.uid.as_deref(), l.size, *d);
                let members = classes.entry(key).or_default();
                if members.is_empty() {
                    order.push(key);
                }
                members.push(i);
            }
            None => actions[i] = Some((Action::Skip, Evidence::Weak)),
        }
    }
    let whole = |message: i64| {
        ledger
            .messages
            .get(&message)
            .is_some_and(|m| m.state == MessageState::Full)
    };
    for key in &order {
        let (uid, size, digest) = *key;
        let members = &classes[key];
        let like = |d: Option<HeaderDigest>| copies_like.get(&(uid, d)).into_iter().flatten();
        let mut copies: Vec<usize> = like(Some(digest))
            .chain(like(None))
            .copied()
            .filter(|c| !claimed.contains(c))
            .filter(|&c| ledger.copies[c].size.is_none_or(|s| s == size))
            .collect();
        // Copies whose digest matched before those that had none to compare,
        // and those not stored whole first.
        copies.sort_by_key(|&c| {
            let copy = &ledger.copies[c];
            (copy.digest.is_none(), whole(copy.message), copy.id)
        });
        // Sure only when every listed message of the group has a copy, and
        // all those copies are of one message (identical bytes the store
        // joined): then which is which does not matter.
        let one_message = copies
            .iter()
            .all(|&c| ledger.copies[c].message == ledger.copies[copies[0]].message);
        let sure = copies.first().is_some_and(|&first| {
            members.len() <= copies.len()
                && one_message
                && stored_alike(&digest, size) <= 1
                && !unread_elsewhere(ledger.copies[first].message, size)
                && copies[..members.len()]
                    .iter()
                    .all(|&c| ledger.copies[c].digest.is_some() && ledger.copies[c].size.is_some())
        });
        for (&i, &c) in members.iter().zip(&copies) {
            claimed.insert(c);
            let copy = &ledger.copies[c];
            actions[i] = Some((
                Action::Known {
                    copy: copy.id,
                    message: copy.message,
                },
                if sure {
                    Evidence::Headers
                } else {
                    Evidence::Weak
                },
            ));
        }
    }

    // Content seen more than once in this listing (the same header digest
    // and size, under any UID): never linked on that evidence alone. A listed
    // message whose header block is not known yet might look the same too,
    // if it has the size.
    let mut content_count: HashMap<(u64, HeaderDigest), usize> = HashMap::new();
    let mut unread_of_size: HashMap<u64, usize> = HashMap::new();
    for (i, l) in listing.iter().enumerate() {
        let digest = headers
            .get(&l.number)
            .copied()
            .or_else(|| match actions[i] {
                Some((Action::Known { copy, .. }, _)) => ledger.copies[copy_at[&copy]].digest,
                _ => None,
            });
        match digest {
            Some(d) => *content_count.entry((l.size, d)).or_default() += 1,
            None => *unread_of_size.entry(l.size).or_default() += 1,
        }
    }
    let mut linked: HashSet<i64> = HashSet::new();
    for (i, l) in listing.iter().enumerate() {
        if actions[i].is_some() {
            continue;
        }
        // Linked only to the one stored message that looks like it, and only
        // if nothing else listed looks the same.
        let action: (Action, Evidence) = match headers.get(&l.number) {
            Some(d)
                if content_count.get(&(l.size, *d)).copied().unwrap_or(0) <= 1
                    && !unread_of_size.contains_key(&l.size)
                    && !unread_stored.contains_key(&l.size)
                    && stored_alike(d, l.size) == 1 =>
            {
                by_content
                    .get(d)
                    .and_then(|ms| {
                        ms.iter()
                            .find(|m| same_size(m, l.size) && !linked.contains(&m.id))
                    })
                    .map_or((Action::New, Evidence::Weak), |m| {
                        linked.insert(m.id);
                        (Action::Link { message: m.id }, Evidence::Headers)
                    })
            }
            _ => (Action::New, Evidence::Weak),
        };
        actions[i] = Some(action);
    }

    // Copies not listed any more. While some listed message could not be
    // told apart, a copy it might be stays (it is looked at next time).
    let skipped: HashSet<Option<&str>> = listing
        .iter()
        .zip(&actions)
        .filter(|(_, a)| matches!(a, Some((Action::Skip, _))))
        .map(|(l, _)| l.uid.as_deref())
        .collect();
    let vanished = ledger
        .copies
        .iter()
        .enumerate()
        .filter(|(c, _)| !claimed.contains(c))
        .filter(|(_, copy)| {
            skipped.is_empty() || !(copy.uid.is_none() || skipped.contains(&copy.uid.as_deref()))
        })
        .map(|(_, copy)| copy.id)
        .collect();

    let mut updates = Vec::new();
    let entries: Vec<Planned> = listing
        .iter()
        .zip(actions)
        .map(|(l, a)| {
            let (action, evidence) = a.expect("every listed message has an action");
            let digest = headers.get(&l.number).copied();
            let wants = |message: i64| {
                wants_bytes(
                    ledger.messages.get(&message),
                    l.size,
                    sizes,
                    evidence,
                    policy,
                    now,
                )
            };
            let retr = match action {
                Action::Known { copy, message } => {
                    // A copy learns only from a match that is sure of it.
                    let c = &ledger.copies[copy_at[&copy]];
                    if evidence != Evidence::Weak
                        && (c.size != Some(l.size) || (digest.is_some() && c.digest != digest))
                    {
                        updates.push((copy, l.size, digest));
                    }
                    wants(message)
                }
                Action::Link { message } => wants(message),
                Action::New => sizes.downloads(l.size),
                Action::Skip => false,
            };
            Planned {
                listed: l.clone(),
                digest,
                action,
                evidence,
                retr,
            }
        })
        .collect();
    suspects.sort();
    Plan {
        entries,
        vanished,
        suspects,
        updates,
    }
}

/// Whether to download a listed message matched to `message`: a headers-only
/// one within the limit or asked for, and one that is to be deleted but
/// cannot be on any evidence short of its bytes.
fn wants_bytes(
    message: Option<&Stored>,
    size: u64,
    sizes: Sizes,
    evidence: Evidence,
    policy: Policy,
    now: i64,
) -> bool {
    let Some(m) = message else {
        return false;
    };
    if size > sizes.largest {
        return false;
    }
    let only_bytes_prove_it = evidence == Evidence::Weak;
    match m.state {
        MessageState::Headers if m.set_aside => m.download_requested,
        MessageState::Headers => {
            sizes.downloads(size)
                || m.download_requested
                || (only_bytes_prove_it && m.delete_on_server)
        }
        MessageState::Full => {
            only_bytes_prove_it && (m.delete_on_server || policy_deletes(policy, m.first_seen, now))
        }
        // Thrown away by the user: never brought back, unless only its bytes
        // can show that a copy to delete is it (they are then kept, if no
        // stored message has them: a look-alike is not thrown away unseen).
        MessageState::Purged => {
            only_bytes_prove_it && (m.delete_on_server || policy_deletes(policy, m.first_seen, now))
        }
    }
}

/// A listed message after the downloads: which message it is now, and on
/// what evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub number: u32,
    pub copy: i64,
    pub message: i64,
    /// The message's state after this session's commits.
    pub state: MessageState,
    pub first_seen: i64,
    pub delete_on_server: bool,
    pub evidence: Evidence,
    /// The header digest of the message it was matched to, to check a
    /// header block read before a DELE against.
    pub expected: Option<HeaderDigest>,
}

/// The listed messages whose deletion is due: those the policy deletes once
/// stored whole, and those the user deleted here.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Deletions<'a> {
    /// On the evidence at hand.
    pub now: Vec<&'a Resolved>,
    /// Matched by UID: once their header blocks are read and found to be
    /// what is expected (see [`header_confirms`]).
    pub after_headers: Vec<&'a Resolved>,
}

pub fn deletions(resolved: &[Resolved], policy: Policy, now: i64) -> Deletions<'_> {
    let mut due = Deletions::default();
    for r in resolved {
        let wanted = r.delete_on_server
            || (r.state == MessageState::Full && policy_deletes(policy, r.first_seen, now));
        if !wanted {
            continue;
        }
        match r.evidence {
            Evidence::Retrieved | Evidence::Headers => due.now.push(r),
            Evidence::Uid if r.expected.is_some() => due.after_headers.push(r),
            // The user deleted the message known by this UID, and Pipit never
            // had its header block to compare (a store from before header
            // digests, or a block that could not be read): the UID is all
            // there is, as it was all the user saw it by.
            Evidence::Uid if r.delete_on_server && r.state != MessageState::Full => {
                due.now.push(r);
            }
            Evidence::Uid | Evidence::Weak => {}
        }
    }
    due
}

/// Whether a header block read just before a DELE shows the listed message
/// is the one it was matched to by UID.
pub fn header_confirms(r: &Resolved, read: &HeaderDigest) -> bool {
    r.evidence == Evidence::Uid && r.expected.as_ref() == Some(read)
}

/// A listed message the rules judged, from its header block as read (with
/// `TOP n 0`) in this session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judged {
    /// The digest of the header block the rules looked at.
    pub digest: HeaderDigest,
    pub verdict: crate::rules::Verdict,
    /// Why no rule may delete the message on what the server gave, if so:
    /// no header block at all (nothing tells it apart; only a size rule
    /// would match), or a listed size smaller than its header block (its
    /// line ends counted as one byte each: a made-up size, which a size
    /// rule would match).
    pub distrust: Option<&'static str>,
}

/// Whether rules before download may look at a listed message at all: one
/// the store holds no bytes of (new, or headers only), that the user has
/// not made a choice about (asked for it whole, or deleted it here), and
/// that was told apart from the others.
pub fn rules_apply(e: &Planned, ledger: &Ledger) -> bool {
    match e.action {
        Action::New => true,
        Action::Skip => false,
        Action::Known { message, .. } | Action::Link { message } => {
            ledger.messages.get(&message).is_some_and(|m| {
                m.state == MessageState::Headers && !m.download_requested && !m.delete_on_server
            })
        }
    }
}

/// The stored messages whose header blocks the rules look at: those the
/// rules apply to that the store knows (see [`prejudge`]).
pub fn rules_stored_blocks(plan: &Plan, ledger: &Ledger) -> Vec<i64> {
    plan.entries
        .iter()
        .filter(|e| rules_apply(e, ledger))
        .filter_map(|e| match e.action {
            Action::Known { message, .. } | Action::Link { message } => Some(message),
            Action::New | Action::Skip => None,
        })
        .collect()
}

/// Rules before download, on the header blocks at hand: a message the
/// store holds as headers is judged on the block stored (`stored`, by
/// message), a new one on the block read in this session to tell it apart
/// (`read_now`, by number). Returns the verdicts, and the listed messages
/// whose header block must be read now (`TOP n 0`; with whether each is
/// new): new ones not read yet, and stored ones a deleting rule would
/// delete (a DELE needs the header block read in this session).
pub fn prejudge(
    plan: &Plan,
    ledger: &Ledger,
    rules: &crate::rules::Rules,
    armed: &impl Fn(&crate::rules::Rule) -> bool,
    stored: &HashMap<i64, Vec<u8>>,
    read_now: &HashMap<u32, Vec<u8>>,
) -> (HashMap<u32, Judged>, Vec<(u32, bool)>) {
    let mut judged = HashMap::new();
    let mut to_read = Vec::new();
    for e in plan.entries.iter().filter(|e| rules_apply(e, ledger)) {
        let n = e.listed.number;
        let new = e.action == Action::New;
        let block = match e.action {
            Action::Known { message, .. } | Action::Link { message } => stored.get(&message),
            Action::New => read_now.get(&n),
            Action::Skip => None,
        };
        let Some(block) = block else {
            to_read.push((n, new));
            continue;
        };
        let j = judge_read(rules, armed, block, e.listed.size);
        if matches!(j.verdict, crate::rules::Verdict::Delete { .. }) && !new {
            to_read.push((n, false));
        } else {
            judged.insert(n, j);
        }
    }
    (judged, to_read)
}

/// Judges one listed message on a header block (and its listed size).
pub fn judge_read(
    rules: &crate::rules::Rules,
    armed: &impl Fn(&crate::rules::Rule) -> bool,
    block: &[u8],
    size: u64,
) -> Judged {
    let block = crate::mime::header_block(block);
    let message = crate::rules::Message::from_header_block(block, size);
    let without_cr = block.len() - block.iter().filter(|&&b| b == b'\r').count();
    Judged {
        digest: crate::mime::header_digest(block),
        verdict: crate::rules::judge(rules, &message, armed),
        distrust: if header_fields_in(block) {
            (without_cr as u64 > size).then_some(
                "the server lists it as smaller than its header block, so its size is made up",
            )
        } else {
            Some("the server gave no header block for it")
        },
    }
}

/// Whether a header block holds any header field.
fn header_fields_in(block: &[u8]) -> bool {
    !crate::rules::header_fields(block).is_empty()
}

/// What the rules hold back is not downloaded, nor is a message they apply
/// to whose header block could not be read (`unjudged`).
pub fn hold(plan: &mut Plan, judged: &HashMap<u32, Judged>, unjudged: &HashSet<u32>) {
    for e in &mut plan.entries {
        let n = e.listed.number;
        if unjudged.contains(&n) || judged.get(&n).is_some_and(|j| !j.verdict.downloads()) {
            e.retr = false;
        }
    }
}

/// The listed messages an armed deleting rule deletes in this session. A
/// rule's DELE needs the same evidence of identity as any other, and more:
/// - the rule matched *this* message's own header block, read in this
///   session (`judged`), and nothing asks for its bytes;
/// - it is listed under a UID no other listed message has, that the server
///   never gave to two messages;
/// - that header block has a field, and the server does not list the
///   message as smaller than it (a size rule would match a made-up size);
/// - no other listed message gave that header block in this session (a
///   server that answers TOP with another message's header block, or two
///   look-alikes: the policy trusts no such block either);
/// - the rules apply to it (the store has no bytes of it, and the user made
///   no choice about it: [`rules_apply`]);
/// - if it was matched to a stored message, by UID or by headers (not on
///   weak evidence), the header block read is that message's.
///
/// A message the rule did not match is never here, whatever the policy
/// says of it; the policy's own deletions ([`deletions`]) are untouched.
pub fn rule_deletions<'p>(
    plan: &'p Plan,
    ledger: &Ledger,
    judged: &HashMap<u32, Judged>,
) -> Vec<&'p Planned> {
    let mut uid_count: HashMap<&str, usize> = HashMap::new();
    // The listed messages that gave each header block read in this session.
    let mut gave: HashMap<HeaderDigest, HashSet<u32>> = HashMap::new();
    for e in &plan.entries {
        if let Some(u) = &e.listed.uid {
            *uid_count.entry(u).or_default() += 1;
        }
        let n = e.listed.number;
        for d in e.digest.iter().chain(judged.get(&n).map(|j| &j.digest)) {
            gave.entry(*d).or_default().insert(n);
        }
    }
    plan.entries
        .iter()
        .filter(|e| {
            let Some(j) = judged.get(&e.listed.number) else {
                return false;
            };
            let Some(uid) = e.listed.uid.as_deref() else {
                return false;
            };
            let identified = match e.action {
                Action::New => true,
                Action::Skip => false,
                Action::Known { message, .. } | Action::Link { message } => {
                    e.evidence != Evidence::Weak
                        && ledger
                            .messages
                            .get(&message)
                            .is_some_and(|m| m.digest == Some(j.digest))
                }
            };
            matches!(j.verdict, crate::rules::Verdict::Delete { .. })
                && j.distrust.is_none()
                && !e.retr
                && e.digest.is_none_or(|d| d == j.digest)
                && uid_count.get(uid) == Some(&1)
                && gave.get(&j.digest).is_some_and(|n| n.len() == 1)
                && !ledger.suspect_uids.contains(uid)
                && !plan.suspects.iter().any(|s| s == uid)
                && rules_apply(e, ledger)
                && identified
        })
        .collect()
}

/// The policy's deletions less those of messages a rule leaves on the
/// server (`kept`), unless the user deleted them here.
pub fn spare<'a>(due: Deletions<'a>, kept: &HashSet<i64>) -> Deletions<'a> {
    let keep = |r: &&Resolved| r.delete_on_server || !kept.contains(&r.message);
    Deletions {
        now: due.now.into_iter().filter(keep).collect(),
        after_headers: due.after_headers.into_iter().filter(keep).collect(),
    }
}

#[cfg(test)]
mod tests;

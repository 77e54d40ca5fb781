//! The inventory: every copy each server held at the last session, with what
//! the store holds of it and what the account's policy will do to it there.
//! `pipit server list` and the window's *On server* view both read it from
//! here, so the two never disagree on a message's fate.

use serde::Serialize;

use super::plan::{self, Deletion};
use crate::config::{Config, Policy};
use crate::store::{MessageState, OnServer, Store, StoreError};

/// What the store holds of a message the server lists, in the few kinds a
/// person filters by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The whole message is stored.
    Stored,
    /// Only its header block, by the account's size limit: it waits for
    /// the user's Download.
    HeadersOnly,
    /// Only its header block, though it is within the size limit: its
    /// download failed or was cut short, and the next fetch tries again.
    ToDownload,
    /// Only its header block, and Pipit will not download it by itself:
    /// larger than Pipit reads, or it broke a session (its `problem` says).
    Failed,
    /// Deleted here (in Trash, or removed for good, leaving only a note):
    /// it goes from the server at the next fetch.
    DeletedHere,
}

impl Kind {
    /// Every kind, in the order they are shown.
    pub const ALL: [Kind; 5] = [
        Kind::Stored,
        Kind::HeadersOnly,
        Kind::ToDownload,
        Kind::Failed,
        Kind::DeletedHere,
    ];

    /// Its name, as a filter and a list show it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Stored => "Stored",
            Kind::HeadersOnly => "Headers only",
            Kind::ToDownload => "Not downloaded yet",
            Kind::Failed => "Failed",
            Kind::DeletedHere => "Deleted here",
        }
    }
}

/// One line of the inventory: a copy on the server and its fate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Line {
    #[serde(flatten)]
    pub copy: OnServer,
    /// Days since the message was first seen on the server.
    pub days_on_server: i64,
    /// When the account's policy deletes it on the server.
    pub deletion: Deletion,
    /// What the store holds of it.
    pub kind: Kind,
    /// The rule before download that holds it back, if one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_by_rule: Option<String>,
}

/// The inventory of one account's server, or of all, as of the last
/// session, oldest first; `config` gives each account's policy and size
/// limit (an account no longer set up keeps its mail: nothing deletes it).
pub fn lines(
    store: &Store,
    config: &Config,
    account: Option<&str>,
    now: i64,
) -> Result<Vec<Line>, StoreError> {
    let held = store.held_by_rules(account)?;
    Ok(store
        .inventory(account)?
        .into_iter()
        .map(|copy| {
            let settings = config.account(&copy.account).ok();
            let policy = settings.map_or(Policy::Keep, |a| a.policy);
            let limit = settings.and_then(|a| a.max_size).unwrap_or(u64::MAX);
            let rule = held.get(&copy.message);
            let mut kind = kind(&copy, limit);
            if rule.is_some() && kind == Kind::ToDownload {
                // Not waiting for a download: a rule keeps it as headers.
                kind = Kind::HeadersOnly;
            }
            let mut deletion = plan::deletion(
                policy,
                copy.state,
                copy.first_seen,
                copy.delete_on_server,
                now,
            );
            if rule.is_some_and(|(_, mark)| *mark == crate::store::RuleMark::LeaveOnServer)
                && !copy.delete_on_server
            {
                // The policy spares what a leave-on-server rule holds.
                deletion = Deletion::Never;
            }
            Line {
                days_on_server: (now - copy.first_seen).max(0) / 86_400,
                deletion,
                kind,
                held_by_rule: rule.map(|(name, _)| name.clone()),
                copy,
            }
        })
        .collect())
}

/// What the store holds of `copy`, under an account whose size limit is `limit`.
fn kind(copy: &OnServer, limit: u64) -> Kind {
    if copy.delete_on_server || copy.state == MessageState::Purged {
        return Kind::DeletedHere;
    }
    match copy.state {
        MessageState::Full => Kind::Stored,
        _ if !copy.problem.is_empty() => Kind::Failed,
        _ if copy.size.is_some_and(|s| s <= limit) => Kind::ToDownload,
        _ => Kind::HeadersOnly,
    }
}

/// A deletion in words, for the message's server: `next` names the next
/// fetch ("the next fetch", "the next Get Mail"), `date` writes a time.
pub fn deletion_words(deletion: Deletion, next: &str, date: &dyn Fn(i64) -> String) -> String {
    match deletion {
        Deletion::NextFetch => format!("deleted there at {next}"),
        Deletion::After { at } => format!("deleted there after {}", date(at)),
        Deletion::OnceDownloaded { not_before: None } => "deleted there once downloaded".into(),
        Deletion::OnceDownloaded {
            not_before: Some(at),
        } => format!("deleted there once downloaded, not before {}", date(at)),
        Deletion::Never => "kept there".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(state: MessageState, size: u64, problem: &str, deleted: bool) -> OnServer {
        OnServer {
            account: "lab".into(),
            uid: Some("u1".into()),
            size: Some(size),
            listed_since: 0,
            message: 1,
            state,
            first_seen: 0,
            from: String::new(),
            subject: String::new(),
            delete_on_server: deleted,
            problem: problem.into(),
        }
    }

    #[test]
    fn each_copy_is_of_one_kind() {
        use MessageState::*;
        assert_eq!(kind(&copy(Full, 10, "", false), 100), Kind::Stored);
        assert_eq!(kind(&copy(Headers, 500, "", false), 100), Kind::HeadersOnly);
        assert_eq!(kind(&copy(Headers, 50, "", false), 100), Kind::ToDownload);
        assert_eq!(
            kind(&copy(Headers, 50, "too large", false), 100),
            Kind::Failed
        );
        assert_eq!(kind(&copy(Full, 10, "", true), 100), Kind::DeletedHere);
        assert_eq!(kind(&copy(Headers, 500, "", true), 100), Kind::DeletedHere);
        assert_eq!(kind(&copy(Purged, 10, "", true), 100), Kind::DeletedHere);
    }
}

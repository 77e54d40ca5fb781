//! The plan's rules, one scenario each. The property test of whole sessions
//! against a real store is in `sync/tests.rs`.

use super::*;
use crate::store::{Copy, Stored};

const NOW: i64 = 1_000_000_000;
const SIZES: Sizes = Sizes {
    limit: 1000,
    largest: 100_000,
};

fn digest(n: u8) -> HeaderDigest {
    [n; 32]
}

fn listed(number: u32, size: u64, uid: Option<&str>) -> Listed {
    Listed {
        number,
        size,
        uid: uid.map(str::to_string),
    }
}

/// A ledger built by hand: messages (id, state, size, digest) and copies
/// (id, uid, size, digest, message).
#[derive(Default)]
struct Given(Ledger);

impl Given {
    fn message(mut self, id: i64, state: MessageState, size: u64, d: u8) -> Given {
        self.0.messages.insert(
            id,
            Stored {
                id,
                state,
                size,
                listed_size: Some(size),
                digest: Some(digest(d)),
                first_seen: NOW - 86_400,
                delete_on_server: false,
                download_requested: false,
                vanished_at: None,
                set_aside: false,
            },
        );
        self
    }

    fn copy(mut self, id: i64, uid: Option<&str>, size: u64, d: u8, message: i64) -> Given {
        self.0.copies.push(Copy {
            id,
            uid: uid.map(str::to_string),
            size: Some(size),
            digest: Some(digest(d)),
            message,
        });
        self
    }

    fn suspect(mut self, uid: &str) -> Given {
        self.0.suspect_uids.insert(uid.to_string());
        self
    }
}

fn actions(plan: &Plan) -> Vec<(Action, Evidence, bool)> {
    plan.entries
        .iter()
        .map(|e| (e.action, e.evidence, e.retr))
        .collect()
}

#[test]
fn unique_uids_cost_no_header_read_and_match_by_uid_and_size() {
    let ledger = Given::default()
        .message(1, MessageState::Full, 100, 1)
        .copy(10, Some("a"), 100, 1, 1)
        .0;
    let listing = [listed(1, 100, Some("a")), listed(2, 500, Some("b"))];
    assert!(headers_needed(&listing, &ledger, NOW).is_empty());
    let plan = super::plan(
        &listing,
        &ledger,
        &HashMap::new(),
        Policy::Delete,
        SIZES,
        NOW,
    );
    assert_eq!(
        actions(&plan),
        vec![
            (
                Action::Known {
                    copy: 10,
                    message: 1
                },
                Evidence::Uid,
                false
            ),
            (Action::New, Evidence::Weak, true),
        ]
    );
    assert!(plan.vanished.is_empty() && plan.suspects.is_empty());
}

#[test]
fn a_uid_repeated_in_the_listing_is_told_apart_by_headers_and_remembered() {
    // Session 1 of the data-loss report: a small and a large message share a UID.
    let ledger = Ledger::default();
    let listing = [listed(1, 100, Some("x")), listed(2, 9_000, Some("x"))];
    assert_eq!(headers_needed(&listing, &ledger, NOW), vec![1, 2]);
    let headers = HashMap::from([(1, digest(1)), (2, digest(2))]);
    let plan = super::plan(&listing, &ledger, &headers, Policy::Delete, SIZES, NOW);
    assert_eq!(plan.suspects, vec!["x".to_string()]);
    assert_eq!(
        actions(&plan),
        vec![
            (Action::New, Evidence::Weak, true),
            (Action::New, Evidence::Weak, false),
        ]
    );
}

#[test]
fn the_large_copy_is_never_taken_for_the_small_one_deleted_before() {
    // Session 2 of the report: the small one is gone (deleted, confirmed),
    // the large one is now the only message under "x". Its headers show it
    // is the headers-only one, so nothing is deleted.
    let ledger = Given::default()
        .message(2, MessageState::Headers, 9_000, 2)
        .copy(20, Some("x"), 9_000, 2, 2)
        .suspect("x")
        .0;
    let listing = [listed(1, 9_000, Some("x"))];
    assert_eq!(headers_needed(&listing, &ledger, NOW), vec![1]);
    let plan = super::plan(
        &listing,
        &ledger,
        &HashMap::from([(1, digest(2))]),
        Policy::Delete,
        SIZES,
        NOW,
    );
    assert_eq!(
        actions(&plan),
        vec![(
            Action::Known {
                copy: 20,
                message: 2
            },
            Evidence::Headers,
            false
        )]
    );
    let resolved = [Resolved {
        number: 1,
        copy: 20,
        message: 2,
        state: MessageState::Headers,
        first_seen: 0,
        delete_on_server: false,
        evidence: Evidence::Headers,
        expected: Some(digest(2)),
    }];
    assert_eq!(
        deletions(&resolved, Policy::Delete, NOW),
        Deletions::default()
    );

    // Had the small one's DELE not been confirmed, its copy would still be
    // in the ledger: the large one's headers do not match it.
    let ledger = Given::default()
        .message(1, MessageState::Full, 100, 1)
        .copy(10, Some("x"), 100, 1, 1)
        .message(2, MessageState::Headers, 9_000, 2)
        .copy(20, Some("x"), 9_000, 2, 2)
        .suspect("x")
        .0;
    let plan = super::plan(
        &listing,
        &ledger,
        &HashMap::from([(1, digest(2))]),
        Policy::Delete,
        SIZES,
        NOW,
    );
    assert_eq!(
        plan.entries[0].action,
        Action::Known {
            copy: 20,
            message: 2
        }
    );
    assert_eq!(plan.vanished, vec![10]);
}

#[test]
fn a_uid_whose_size_changed_is_no_longer_trusted() {
    let ledger = Given::default()
        .message(1, MessageState::Full, 100, 1)
        .copy(10, Some("a"), 100, 1, 1)
        .0;
    let listing = [listed(1, 120, Some("a"))];
    assert_eq!(headers_needed(&listing, &ledger, NOW), vec![1]);
    let plan = super::plan(
        &listing,
        &ledger,
        &HashMap::from([(1, digest(7))]),
        Policy::Delete,
        SIZES,
        NOW,
    );
    assert_eq!(plan.suspects, vec!["a".to_string()]);
    assert_eq!(actions(&plan), vec![(Action::New, Evidence::Weak, true)]);
    assert_eq!(plan.vanished, vec![10]);
}

#[test]
fn without_uidl_identical_headers_of_other_sizes_are_two_messages() {
    let ledger = Given::default()
        .message(1, MessageState::Full, 100, 1)
        .copy(10, None, 100, 1, 1)
        .message(2, MessageState::Headers, 9_000, 1)
        .copy(20, None, 9_000, 1, 2)
        .0;
    let listing = [listed(1, 9_000, None)];
    let plan = super::plan(
        &listing,
        &ledger,
        &HashMap::from([(1, digest(1))]),
        Policy::Delete,
        SIZES,
        NOW,
    );
    assert_eq!(
        plan.entries[0].action,
        Action::Known {
            copy: 20,
            message: 2
        }
    );
    assert_eq!(plan.vanished, vec![10]);
}

#[test]
fn identical_headers_and_sizes_are_deleted_only_once_read() {
    // Two listed messages that look the same, and two copies: one stored
    // whole, one not. Which is which cannot be told.
    let ledger = Given::default()
        .message(1, MessageState::Full, 100, 1)
        .copy(10, None, 100, 1, 1)
        .message(2, MessageState::Headers, 100, 1)
        .copy(20, None, 100, 1, 2)
        .0;
    let listing = [listed(1, 100, None), listed(2, 100, None)];
    let headers = HashMap::from([(1, digest(1)), (2, digest(1))]);
    let plan = super::plan(&listing, &ledger, &headers, Policy::Delete, SIZES, NOW);
    assert!(plan.entries.iter().all(|e| e.evidence == Evidence::Weak));
    assert!(
        plan.entries.iter().all(|e| e.retr),
        "both are read: one to be stored, one to prove it is stored"
    );
    // The one not stored whole is matched first.
    assert_eq!(
        plan.entries[0].action,
        Action::Known {
            copy: 20,
            message: 2
        }
    );
    let weak = Resolved {
        number: 1,
        copy: 20,
        message: 1,
        state: MessageState::Full,
        first_seen: 0,
        delete_on_server: false,
        evidence: Evidence::Weak,
        expected: Some(digest(1)),
    };
    assert_eq!(
        deletions(std::slice::from_ref(&weak), Policy::Delete, NOW),
        Deletions::default()
    );
    let read = Resolved {
        evidence: Evidence::Retrieved,
        ..weak
    };
    assert_eq!(
        deletions(std::slice::from_ref(&read), Policy::Delete, NOW).now,
        vec![&read]
    );
}

#[test]
fn a_mailbox_under_new_uids_is_linked_not_downloaded() {
    let ledger = Given::default()
        .message(1, MessageState::Full, 100, 1)
        .copy(10, Some("old-1"), 100, 1, 1)
        .message(2, MessageState::Full, 200, 2)
        .copy(20, Some("old-2"), 200, 2, 2)
        .message(3, MessageState::Headers, 9_000, 3)
        .copy(30, Some("old-3"), 9_000, 3, 3)
        .0;
    let listing = [
        listed(1, 100, Some("new-1")),
        listed(2, 200, Some("new-2")),
        listed(3, 9_000, Some("new-3")),
        listed(4, 300, Some("new-4")),
    ];
    assert_eq!(
        headers_needed(&listing, &ledger, NOW),
        vec![1, 2, 3],
        "new UIDs of the sizes that left; not the one of a size never stored"
    );
    let headers = HashMap::from([(1, digest(1)), (2, digest(2)), (3, digest(3))]);
    let plan = super::plan(&listing, &ledger, &headers, Policy::Keep, SIZES, NOW);
    assert_eq!(
        actions(&plan),
        vec![
            (Action::Link { message: 1 }, Evidence::Headers, false),
            (Action::Link { message: 2 }, Evidence::Headers, false),
            (Action::Link { message: 3 }, Evidence::Headers, false),
            (Action::New, Evidence::Weak, true),
        ]
    );
    let mut vanished = plan.vanished.clone();
    vanished.sort();
    assert_eq!(vanished, vec![10, 20, 30]);
    assert_eq!(plan.linked_count(), 3);
    assert_eq!(plan.new_count(), 1);
}

#[test]
fn a_message_that_left_long_ago_is_not_looked_for() {
    let mut ledger = Given::default().message(1, MessageState::Full, 100, 1).0;
    ledger.messages.get_mut(&1).unwrap().vanished_at = Some(NOW - RELINK_SECS - 1);
    let listing = [listed(1, 100, Some("b"))];
    assert!(headers_needed(&listing, &ledger, NOW).is_empty());
    ledger.messages.get_mut(&1).unwrap().vanished_at = Some(NOW - 60);
    assert_eq!(headers_needed(&listing, &ledger, NOW), vec![1]);
}

#[test]
fn the_same_content_listed_twice_is_never_linked() {
    let ledger = Given::default().message(1, MessageState::Full, 100, 1).0;
    let listing = [listed(1, 100, Some("p")), listed(2, 100, Some("q"))];
    let headers = HashMap::from([(1, digest(1)), (2, digest(1))]);
    let plan = super::plan(&listing, &ledger, &headers, Policy::Delete, SIZES, NOW);
    assert_eq!(
        actions(&plan),
        vec![
            (Action::New, Evidence::Weak, true),
            (Action::New, Evidence::Weak, true),
        ],
        "both are read; the store joins identical bytes"
    );
}

#[test]
fn a_header_block_that_cannot_be_read_leaves_the_message_and_its_copy_alone() {
    let ledger = Given::default()
        .message(1, MessageState::Full, 100, 1)
        .copy(10, None, 100, 1, 1)
        .0;
    let listing = [listed(1, 100, None)];
    let plan = super::plan(
        &listing,
        &ledger,
        &HashMap::new(),
        Policy::Delete,
        SIZES,
        NOW,
    );
    assert_eq!(actions(&plan), vec![(Action::Skip, Evidence::Weak, false)]);
    assert!(plan.vanished.is_empty());
}

#[test]
fn a_copy_from_before_the_ledger_is_found_by_uid_at_its_stored_size_and_learns_it() {
    let mut ledger = Given::default()
        .message(1, MessageState::Full, 100, 1)
        .copy(10, Some("a"), 100, 1, 1)
        .0;
    ledger.copies[0].size = None;
    let at_stored_size = [listed(1, 100, Some("a"))];
    let plan = super::plan(
        &at_stored_size,
        &ledger,
        &HashMap::new(),
        Policy::Delete,
        SIZES,
        NOW,
    );
    assert_eq!(
        actions(&plan),
        vec![(
            Action::Known {
                copy: 10,
                message: 1
            },
            Evidence::Uid,
            false
        )]
    );
    assert_eq!(plan.updates, vec![(10, 100, None)]);

    // Listed at another size, the UID alone is not trusted: headers first.
    let other_size = [listed(1, 120, Some("a"))];
    assert_eq!(headers_needed(&other_size, &ledger, NOW), vec![1]);
    let plan = super::plan(
        &other_size,
        &ledger,
        &HashMap::from([(1, digest(1))]),
        Policy::Delete,
        SIZES,
        NOW,
    );
    assert_eq!(
        actions(&plan),
        vec![(
            Action::Known {
                copy: 10,
                message: 1
            },
            Evidence::Weak,
            true
        )],
        "its headers match, but the size is not known to be its: read whole before a DELE"
    );
    assert!(plan.suspects.is_empty(), "not a UID that lies");
}

#[test]
fn a_stored_look_alike_is_never_linked_nor_evidence() {
    // Two stored messages with one header block and one size: the store
    // itself cannot tell them apart.
    let ledger = Given::default()
        .message(1, MessageState::Full, 9_000, 1)
        .message(2, MessageState::Headers, 9_000, 1)
        .copy(20, Some("old-b"), 9_000, 1, 2)
        .0;
    let listing = [listed(1, 9_000, Some("new-b"))];
    assert_eq!(headers_needed(&listing, &ledger, NOW), vec![1]);
    let plan = super::plan(
        &listing,
        &ledger,
        &HashMap::from([(1, digest(1))]),
        Policy::Delete,
        SIZES,
        NOW,
    );
    assert_eq!(actions(&plan), vec![(Action::New, Evidence::Weak, false)]);

    // And a copy matched by its headers is no evidence while a look-alike is stored.
    let ledger = Given::default()
        .message(1, MessageState::Full, 9_000, 1)
        .message(2, MessageState::Full, 9_000, 1)
        .copy(20, None, 9_000, 1, 2)
        .0;
    let plan = super::plan(
        &[listed(1, 9_000, None)],
        &ledger,
        &HashMap::from([(1, digest(1))]),
        Policy::Delete,
        SIZES,
        NOW,
    );
    assert_eq!(
        actions(&plan),
        vec![(
            Action::Known {
                copy: 20,
                message: 2
            },
            Evidence::Weak,
            true
        )],
        "read whole to be deleted"
    );
}

#[test]
fn a_message_the_user_deleted_before_its_headers_were_ever_read_goes_by_its_uid() {
    let r = Resolved {
        number: 1,
        copy: 50,
        message: 5,
        state: MessageState::Purged,
        first_seen: NOW,
        delete_on_server: true,
        evidence: Evidence::Uid,
        expected: None,
    };
    assert_eq!(
        deletions(std::slice::from_ref(&r), Policy::Keep, NOW).now,
        vec![&r]
    );
    // But a full message's deletion by policy needs its header block.
    let full = Resolved {
        state: MessageState::Full,
        delete_on_server: false,
        ..r
    };
    assert_eq!(
        deletions(std::slice::from_ref(&full), Policy::Delete, NOW),
        Deletions::default()
    );
}

#[test]
fn a_uid_alone_never_deletes_a_message_its_header_block_must_agree() {
    let base = Resolved {
        number: 1,
        copy: 10,
        message: 1,
        state: MessageState::Full,
        first_seen: NOW - 2 * 86_400,
        delete_on_server: false,
        evidence: Evidence::Uid,
        expected: Some(digest(1)),
    };
    let due = deletions(std::slice::from_ref(&base), Policy::Delete, NOW);
    assert!(due.now.is_empty());
    assert_eq!(due.after_headers, vec![&base]);
    assert!(header_confirms(&base, &digest(1)));
    assert!(!header_confirms(&base, &digest(2)));
    let nothing_to_compare = Resolved {
        expected: None,
        ..base.clone()
    };
    assert_eq!(
        deletions(
            std::slice::from_ref(&nothing_to_compare),
            Policy::Delete,
            NOW
        ),
        Deletions::default()
    );
}

#[test]
fn deletions_follow_the_policy_and_the_users_wishes() {
    let base = Resolved {
        number: 1,
        copy: 10,
        message: 1,
        state: MessageState::Full,
        first_seen: NOW - 2 * 86_400,
        delete_on_server: false,
        evidence: Evidence::Headers,
        expected: Some(digest(1)),
    };
    let count = |r: &Resolved, policy| deletions(std::slice::from_ref(r), policy, NOW).now.len();
    assert_eq!(count(&base, Policy::Keep), 0);
    assert_eq!(count(&base, Policy::Delete), 1);
    assert_eq!(count(&base, Policy::KeepDays(1)), 1);
    assert_eq!(count(&base, Policy::KeepDays(3)), 0);
    let headers_only = Resolved {
        state: MessageState::Headers,
        ..base.clone()
    };
    assert_eq!(count(&headers_only, Policy::Delete), 0, "not stored whole");
    let trashed = Resolved {
        delete_on_server: true,
        ..headers_only
    };
    assert_eq!(count(&trashed, Policy::Keep), 1, "the user deleted it here");
    let unsure = Resolved {
        evidence: Evidence::Weak,
        ..trashed
    };
    assert_eq!(count(&unsure, Policy::Keep), 0, "but not on weak evidence");
}

#[test]
fn a_message_larger_than_pipit_reads_is_never_downloaded_even_when_asked() {
    let mut ledger = Given::default()
        .message(1, MessageState::Headers, 200_000, 1)
        .copy(10, Some("a"), 200_000, 1, 1)
        .0;
    ledger.messages.get_mut(&1).unwrap().download_requested = true;
    let listing = [listed(1, 200_000, Some("a")), listed(2, 150_000, Some("b"))];
    let plan = super::plan(
        &listing,
        &ledger,
        &HashMap::new(),
        Policy::Delete,
        SIZES,
        NOW,
    );
    assert!(plan.entries.iter().all(|e| !e.retr), "{plan:?}");
    let small = Sizes::unlimited(100_000);
    let plan = super::plan(
        &[listed(2, 99_000, Some("b"))],
        &ledger,
        &HashMap::new(),
        Policy::Delete,
        small,
        NOW,
    );
    assert!(plan.entries[0].retr);
}

#[test]
fn when_the_policy_deletes_a_copy_on_the_server() {
    let day = 86_400;
    use Deletion::*;
    assert_eq!(
        deletion(Policy::Keep, MessageState::Full, 0, false, NOW),
        Never
    );
    assert_eq!(
        deletion(Policy::Keep, MessageState::Full, 0, true, NOW),
        NextFetch
    );
    assert_eq!(
        deletion(Policy::Delete, MessageState::Full, NOW, false, NOW),
        NextFetch
    );
    assert_eq!(
        deletion(Policy::Delete, MessageState::Headers, NOW, false, NOW),
        OnceDownloaded { not_before: None }
    );
    // Keep-days: once downloaded, and not before its days are up.
    assert_eq!(
        deletion(
            Policy::KeepDays(7),
            MessageState::Headers,
            NOW - day,
            false,
            NOW
        ),
        OnceDownloaded {
            not_before: Some(NOW + 6 * day)
        }
    );
    assert_eq!(
        deletion(
            Policy::KeepDays(7),
            MessageState::Headers,
            NOW - 8 * day,
            false,
            NOW
        ),
        OnceDownloaded { not_before: None }
    );
    assert_eq!(
        deletion(
            Policy::KeepDays(7),
            MessageState::Full,
            NOW - day,
            false,
            NOW
        ),
        After { at: NOW + 6 * day }
    );
    assert_eq!(
        deletion(
            Policy::KeepDays(7),
            MessageState::Full,
            NOW - 8 * day,
            false,
            NOW
        ),
        NextFetch
    );
}

fn judged(entries: &[(u32, u8, bool)]) -> HashMap<u32, Judged> {
    use crate::rules::{RuleAction, Verdict};
    entries
        .iter()
        .map(|&(n, d, delete)| {
            let rule = "spam".parse().unwrap();
            let verdict = if delete {
                Verdict::Delete { rule }
            } else {
                Verdict::Hold {
                    rule,
                    action: RuleAction::HeadersOnly,
                    unarmed: false,
                }
            };
            (
                n,
                Judged {
                    digest: digest(d),
                    verdict,
                    distrust: None,
                },
            )
        })
        .collect()
}

fn rule_deleted(plan: &Plan, ledger: &Ledger, j: &HashMap<u32, Judged>) -> Vec<u32> {
    rule_deletions(plan, ledger, j)
        .iter()
        .map(|e| e.listed.number)
        .collect()
}

/// The plan as the session leaves it: what a rule holds is not downloaded.
fn held(mut plan: Plan, j: &HashMap<u32, Judged>) -> Plan {
    for e in &mut plan.entries {
        if j.get(&e.listed.number)
            .is_some_and(|j| !j.verdict.downloads())
        {
            e.retr = false;
        }
    }
    plan
}

#[test]
fn a_rule_deletes_only_what_it_matched_under_a_unique_uid() {
    let ledger = Ledger::default();
    let listing = [
        listed(1, 100, Some("a")),
        listed(2, 100, Some("b")),
        listed(3, 100, None),
        listed(4, 100, Some("d")),
        listed(5, 100, Some("d")),
    ];
    let j = judged(&[
        (1, 1, true),
        (2, 2, false),
        (3, 3, true),
        (4, 4, true),
        (5, 4, true),
    ]);
    let headers: HashMap<u32, HeaderDigest> =
        [(3, digest(3)), (4, digest(4)), (5, digest(4))].into();
    let plan = held(
        plan(&listing, &ledger, &headers, Policy::Keep, SIZES, NOW),
        &j,
    );
    // 2 matched a rule that holds; 3 has no UID; 4 and 5 share one.
    assert_eq!(rule_deleted(&plan, &ledger, &j), vec![1]);
    // Not judged, or asked for whole: never.
    assert!(rule_deleted(&plan, &ledger, &HashMap::new()).is_empty());
    let unheld = super::plan(&listing, &ledger, &headers, Policy::Keep, SIZES, NOW);
    assert!(
        rule_deleted(&unheld, &ledger, &j).is_empty(),
        "one that is downloaded is not deleted by a rule"
    );
}

#[test]
fn a_rule_deletes_a_known_message_only_when_its_headers_are_the_stored_ones() {
    let ledger = Given::default()
        .message(1, MessageState::Headers, 2000, 1)
        .copy(10, Some("a"), 2000, 1, 1)
        .message(2, MessageState::Headers, 2000, 2)
        .copy(20, Some("b"), 2000, 2, 2)
        .message(3, MessageState::Full, 100, 3)
        .copy(30, Some("c"), 100, 3, 3)
        .0;
    let listing = [
        listed(1, 2000, Some("a")),
        listed(2, 2000, Some("b")),
        listed(3, 100, Some("c")),
    ];
    // Message 2's UID now names a message with other headers (a lying UID);
    // message 3 is stored whole: the policy decides about it, not rules.
    let j = judged(&[(1, 1, true), (2, 9, true), (3, 3, true)]);
    let plan = held(
        plan(&listing, &ledger, &HashMap::new(), Policy::Keep, SIZES, NOW),
        &j,
    );
    assert_eq!(rule_deleted(&plan, &ledger, &j), vec![1]);

    // The user asked for message 1 whole, or deleted it here: rules leave it.
    for choice in [true, false] {
        let mut ledger = ledger.clone();
        let m = ledger.messages.get_mut(&1).unwrap();
        if choice {
            m.download_requested = true;
        } else {
            m.delete_on_server = true;
        }
        assert!(!rules_apply(&plan.entries[0], &ledger));
        assert!(rule_deleted(&plan, &ledger, &j).is_empty());
    }
}

#[test]
fn a_message_a_rule_leaves_on_the_server_is_spared_by_the_policy_not_by_the_user() {
    let base = Resolved {
        number: 1,
        copy: 10,
        message: 1,
        state: MessageState::Full,
        first_seen: NOW - 86_400,
        delete_on_server: false,
        evidence: Evidence::Retrieved,
        expected: Some(digest(1)),
    };
    let users = Resolved {
        number: 2,
        copy: 20,
        message: 2,
        delete_on_server: true,
        ..base.clone()
    };
    let resolved = [base, users];
    let kept: HashSet<i64> = [1, 2].into();
    let due = spare(deletions(&resolved, Policy::Delete, NOW), &kept);
    assert_eq!(
        due.now.iter().map(|r| r.number).collect::<Vec<_>>(),
        vec![2]
    );
    let due = spare(deletions(&resolved, Policy::Delete, NOW), &HashSet::new());
    assert_eq!(due.now.len(), 2);
}

#[test]
fn rules_judge_stored_headers_without_reading_them_again_unless_to_delete() {
    let rules = crate::rules::Rules::new(vec![
        toml::from_str("name = \"spam\"\nsubject = \"spam\"\naction = \"delete\"").unwrap(),
        toml::from_str("name = \"big\"\nlarger_than = 1500\naction = \"headers-only\"").unwrap(),
    ])
    .unwrap();
    let ledger = Given::default()
        .message(1, MessageState::Headers, 2000, 1)
        .copy(10, Some("a"), 2000, 1, 1)
        .message(2, MessageState::Headers, 2000, 2)
        .copy(20, Some("b"), 2000, 2, 2)
        .message(3, MessageState::Full, 100, 3)
        .copy(30, Some("c"), 100, 3, 3)
        .0;
    let listing = [
        listed(1, 2000, Some("a")),
        listed(2, 2000, Some("b")),
        listed(3, 100, Some("c")),
        listed(4, 100, Some("d")),
        listed(5, 100, Some("e")),
    ];
    let mut plan = plan(&listing, &ledger, &HashMap::new(), Policy::Keep, SIZES, NOW);
    assert_eq!(rules_stored_blocks(&plan, &ledger), vec![1, 2]);
    let stored: HashMap<i64, Vec<u8>> = [
        (1, b"Subject: spam\r\n\r\n".to_vec()),
        (2, b"Subject: hello\r\n\r\n".to_vec()),
    ]
    .into();
    let read_now: HashMap<u32, Vec<u8>> = [(4, b"Subject: spam\r\n\r\n".to_vec())].into();
    let (judged, to_read) = prejudge(&plan, &ledger, &rules, &|_| true, &stored, &read_now);
    // 1 would be deleted: read again first. 5 is new and unread. 3 is whole.
    assert_eq!(to_read, vec![(1, false), (5, true)]);
    assert!(matches!(
        judged[&2].verdict,
        crate::rules::Verdict::Hold { .. }
    ));
    assert!(matches!(
        judged[&4].verdict,
        crate::rules::Verdict::Delete { .. }
    ));
    assert!(!judged.contains_key(&3));
    // Held, and unread ones, are not downloaded.
    plan.entries[4].retr = true;
    hold(&mut plan, &judged, &HashSet::from([5]));
    assert!(!plan.entries[1].retr && !plan.entries[3].retr && !plan.entries[4].retr);
}

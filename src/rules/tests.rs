use proptest::prelude::*;

use super::*;

fn rule(toml_text: &str) -> Result<Rule, String> {
    toml::from_str::<Rule>(toml_text).map_err(|e| e.to_string())
}

fn spam() -> Rule {
    rule("name = \"spam\"\nheader = \"X-Spam-Flag: YES\"\naction = \"delete\"").unwrap()
}

const SPAM: &[u8] = b"From: Bulk <bulk@ads.example>\r\nTo: alice@example.org\r\nSubject: Cheap\r\nX-Spam-Flag: YES\r\n\r\nbody";
const HAM: &[u8] = b"From: Bob <bob@example.org>\r\nTo: alice@example.org\r\nCc: Carol <carol@example.net>\r\nSubject: Lunch on =?utf-8?q?Fr=C3=BCday?=\r\nX-Spam-Flag: NO\r\nX-Long: one\r\n two\r\n\r\nbody";

#[test]
fn conditions_match_headers_and_sizes() {
    let ham = Message::from_header_block(HAM, 5000);
    let spam_m = Message::from_header_block(SPAM, 200);
    assert!(spam().matches(&spam_m));
    assert!(!spam().matches(&ham), "X-Spam-Flag: NO is not YES");
    let by = |t: &str| rule(&format!("name = \"r\"\naction = \"headers-only\"\n{t}")).unwrap();
    assert!(
        by("from = \"BOB@example\"").matches(&ham),
        "case is ignored"
    );
    assert!(by("to = \"carol\"").matches(&ham), "to looks in Cc too");
    assert!(by("subject = \"frü\"").matches(&ham), "decoded subject");
    assert!(by("header = \"x-long: one two\"").matches(&ham), "unfolded");
    assert!(by("larger_than = 4999").matches(&ham));
    assert!(!by("larger_than = 5000").matches(&ham));
    assert!(by("smaller_than = 5001").matches(&ham));
    assert!(!by("smaller_than = 5000").matches(&ham));
    // All conditions must hold.
    assert!(!by("from = \"bob\"\nsmaller_than = 100").matches(&ham));
    // A header block with nothing in it matches no text condition.
    let empty = Message::from_header_block(b"", 10);
    assert!(!by("from = \"a\"").matches(&empty));
}

#[test]
fn the_first_matching_rule_decides_and_delete_needs_arming() {
    let rules = Rules::new(vec![
        rule("name = \"friends\"\nfrom = \"bob\"\naction = \"download\"").unwrap(),
        spam(),
        rule("name = \"big\"\nlarger_than = 100\naction = \"leave-on-server\"").unwrap(),
    ])
    .unwrap();
    let spam_m = Message::from_header_block(SPAM, 200);
    assert_eq!(
        judge(&rules, &spam_m, |_| true),
        Verdict::Delete {
            rule: "spam".parse().unwrap()
        }
    );
    assert_eq!(
        judge(&rules, &spam_m, |_| false),
        Verdict::Hold {
            rule: "spam".parse().unwrap(),
            action: RuleAction::Delete,
            unarmed: true
        },
        "an unarmed deleting rule leaves the message on the server"
    );
    // Bob's mail is downloaded even when large: the first rule decides.
    let ham = Message::from_header_block(HAM, 5000);
    assert_eq!(judge(&rules, &ham, |_| true), Verdict::Download);
    let other = Message::from_header_block(b"From: x@y\r\n\r\n", 5000);
    let v = judge(&rules, &other, |_| true);
    assert!(v.keeps_on_server() && !v.downloads());
}

#[test]
fn editing_a_rule_changes_its_fingerprint() {
    let of = |r: &Rule| Rules::new(vec![r.clone()]).unwrap().fingerprint_of(r);
    let a = spam();
    let mut b = spam();
    assert_eq!(of(&a), of(&b));
    b.header = Some("X-Spam-Flag: Y".parse().unwrap());
    assert_ne!(of(&a), of(&b));
    let mut c = spam();
    c.larger_than = Some(1);
    assert_ne!(of(&a), of(&c));
}

/// What a deleting rule's dry run showed depends on the rules before it
/// (the first that matches decides): removing, editing or moving one of
/// them lets the rule delete mail the dry run never showed it matching, so
/// its arming must not survive that. A rule after it changes nothing.
#[test]
fn a_rule_before_a_deleting_rule_is_part_of_its_arming() {
    let boss = rule("name = \"boss\"\nfrom = \"boss@\"\naction = \"download\"").unwrap();
    let offers = rule("name = \"offers\"\nsubject = \"offer\"\naction = \"delete\"").unwrap();
    let late = rule("name = \"late\"\nlarger_than = 9\naction = \"headers-only\"").unwrap();
    let armed_as = Rules::new(vec![boss.clone(), offers.clone()])
        .unwrap()
        .fingerprint_of(&offers);
    let with_late = Rules::new(vec![boss.clone(), offers.clone(), late.clone()]).unwrap();
    assert_eq!(
        with_late.fingerprint_of(&offers),
        armed_as,
        "a rule after it"
    );
    for (what, rules) in [
        ("boss removed", vec![offers.clone()]),
        ("moved first", vec![offers.clone(), boss.clone()]),
        (
            "a rule put before",
            vec![late.clone(), boss.clone(), offers.clone()],
        ),
    ] {
        let rules = Rules::new(rules).unwrap();
        assert_ne!(rules.fingerprint_of(&offers), armed_as, "{what}");
    }
    // What it would now delete that the dry run did not show: the boss's offer.
    let mail =
        Message::from_header_block(b"From: boss@work.example\r\nSubject: An offer\r\n\r\n", 9);
    let now = Rules::new(vec![offers.clone()]).unwrap();
    let verdict = judge(&now, &mail, |r| now.fingerprint_of(r) == armed_as);
    assert!(!matches!(verdict, Verdict::Delete { .. }), "{verdict:?}");
}

#[test]
fn a_rule_edited_in_place_or_moved_keeps_the_order_and_says_what_it_disarmed() {
    let hold = rule("name = \"hold\"\nfrom = \"news@\"\naction = \"headers-only\"").unwrap();
    let big = rule("name = \"big\"\nlarger_than = 1000\naction = \"delete\"").unwrap();
    let before = Rules::new(vec![hold.clone(), spam(), big.clone()]).unwrap();
    let names = |r: &Rules| r.iter().map(|r| r.name.to_string()).collect::<Vec<_>>();

    // The same rule again changes nothing, and disarms nothing.
    let mut same = before.clone();
    assert_eq!(same.replace("spam", spam()).unwrap(), Some(spam()));
    assert_eq!(same, before);
    assert!(same.disarmed_since(&before).is_empty());

    // An edit stays at its place; it and the deleting rules after it are disarmed.
    let mut edited = before.clone();
    let mut looser = spam();
    looser.header = Some("X-Spam-Flag: Y".parse().unwrap());
    edited.replace("spam", looser.clone()).unwrap();
    assert_eq!(names(&edited), ["hold", "spam", "big"]);
    assert_eq!(edited.get("spam"), Some(&looser));
    let disarmed: Vec<&str> = edited
        .disarmed_since(&before)
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(disarmed, ["spam", "big"]);
    // Editing the last rule disarms only it.
    let mut last = before.clone();
    let mut bigger = big.clone();
    bigger.larger_than = Some(2000);
    last.replace("big", bigger).unwrap();
    assert_eq!(last.disarmed_since(&before).len(), 1);

    // A renamed rule may not take another's name; nothing changes.
    let mut clash = before.clone();
    let mut renamed = spam();
    renamed.name = "hold".parse().unwrap();
    let e = clash.replace("spam", renamed).unwrap_err();
    assert_eq!(e.field, "name");
    assert_eq!(clash, before);
    assert_eq!(clash.replace("nope", spam()).unwrap(), None);

    // Moving: within bounds, and every deleting rule it passes is disarmed.
    let mut moved = before.clone();
    assert_eq!(moved.move_rule("hold", true), Some(false));
    assert_eq!(moved.move_rule("big", false), Some(false));
    assert_eq!(moved, before);
    assert_eq!(moved.move_rule("big", true), Some(true));
    assert_eq!(names(&moved), ["hold", "big", "spam"]);
    let disarmed: Vec<&str> = moved
        .disarmed_since(&before)
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert_eq!(disarmed, ["big", "spam"]);
    assert_eq!(moved.move_rule("hold", false), Some(true));
    assert_eq!(names(&moved), ["big", "hold", "spam"]);
    assert_eq!(moved.move_rule("nope", true), None);
}

#[test]
fn bad_rules_are_refused_naming_the_field() {
    let bad = [
        (
            "name = \"r\"\naction = \"destroy\"\nfrom = \"a\"",
            "unknown action",
        ),
        ("name = \"r\"\naction = \"delete\"", "no condition"),
        ("name = \"r\"\naction = \"delete\"\nfrom = \"\"", "empty"),
        (
            "name = \"r\"\naction = \"delete\"\nheader = \"X-Spam-Flag\"",
            "no ':'",
        ),
        (
            "name = \"r\"\naction = \"delete\"\nheader = \"X Spam: YES\"",
            "header's name",
        ),
        (
            "name = \"r\"\naction = \"delete\"\nlarger_than = 10\nsmaller_than = 5",
            "never match",
        ),
        (
            "name = \"r\"\naction = \"delete\"\nsmaller_than = 0",
            "0 bytes",
        ),
        (
            "name = \"\"\naction = \"delete\"\nfrom = \"a\"",
            "name is empty",
        ),
        (
            "name = \"r\"\naction = \"delete\"\nsender = \"a\"",
            "unknown field",
        ),
        ("name = \"r\"\naction = \"delete\"\nlarger_than = -1", ""),
    ];
    for (text, why) in bad {
        let e = rule(text).expect_err(text);
        assert!(e.contains(why), "{text}: {e}");
    }
    let e = Rules::new(vec![spam(), spam()]).unwrap_err();
    assert_eq!(e.field, "name");
}

#[test]
fn a_rule_written_and_read_is_the_same() {
    let r = rule(
        "name = \"x\"\nfrom = \"a\"\nto = \"b\"\nsubject = \"c\"\nheader = \"X-A: d\"\nlarger_than = 1\nsmaller_than = 9\naction = \"leave-on-server\"",
    )
    .unwrap();
    let text = toml::to_string(&r).unwrap();
    assert_eq!(toml::from_str::<Rule>(&text).unwrap(), r);
}

fn arb_message() -> impl Strategy<Value = Message<'static>> {
    let word = prop::sample::select(vec!["bob", "sale", "YES", "NO", "x", "Ünï"]);
    (word.clone(), word.clone(), word.clone(), word, 0u64..2000).prop_map(|(f, t, s, h, size)| {
        let raw = format!("From: {f}@a\r\nTo: {t}@b\r\nSubject: {s}\r\nX-Flag: {h}\r\n\r\n");
        Message::from_header_block(raw.as_bytes(), size)
    })
}

fn arb_rule(i: usize) -> impl Strategy<Value = Option<Rule>> {
    let word = prop::sample::select(vec!["bob", "sale", "YES", "NO", "x", "ünï"]);
    (
        prop::option::of(word.clone()),
        prop::option::of(word.clone()),
        prop::option::of(word),
        prop::option::of(0u64..2000),
        prop::sample::select(RuleAction::ALL.to_vec()),
    )
        .prop_map(move |(from, subject, header, larger, action)| {
            Rule::try_from(RuleFields {
                name: format!("r{i}").parse().unwrap(),
                from: from.map(|w| w.parse().unwrap()),
                to: None,
                subject: subject.map(|w| w.parse().unwrap()),
                header: header.map(|w| format!("X-Flag: {w}").parse().unwrap()),
                larger_than: larger,
                smaller_than: None,
                action,
            })
            .ok()
        })
}

proptest! {
    /// A message is deleted only by an armed deleting rule that matches it,
    /// and no rule before it matched; held only by a matching rule.
    #[test]
    fn only_an_armed_matching_rule_deletes(
        rules in (arb_rule(0), arb_rule(1), arb_rule(2)),
        armed in (any::<bool>(), any::<bool>(), any::<bool>()),
        m in arb_message(),
    ) {
        let list: Vec<Rule> = [rules.0, rules.1, rules.2].into_iter().flatten().collect();
        let rules = Rules::new(list).unwrap();
        let armed_of = |r: &Rule| match r.name.as_str() {
            "r0" => armed.0,
            "r1" => armed.1,
            _ => armed.2,
        };
        match judge(&rules, &m, armed_of) {
            Verdict::Delete { rule } => {
                let r = rules.get(rule.as_str()).unwrap();
                prop_assert!(r.matches(&m) && armed_of(r) && r.action == RuleAction::Delete);
                prop_assert!(rules.iter().take_while(|o| o.name != r.name).all(|o| !o.matches(&m)));
            }
            Verdict::Hold { rule, action, unarmed } => {
                let r = rules.get(rule.as_str()).unwrap();
                prop_assert!(r.matches(&m) && r.action == action);
                prop_assert_eq!(unarmed, action == RuleAction::Delete);
            }
            Verdict::Download => {
                prop_assert!(rules.first_match(&m).is_none_or(|r| r.action == RuleAction::Download));
            }
        }
    }
}

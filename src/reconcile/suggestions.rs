//! Suggested owners for seats nobody owns (DESIGN.md part 2, "Suggestions"): never linked without an
//! admin's `linkAgent`, only listed, ranked, with the reasons a person can check.
//!
//! The score (0..1) is a token-set similarity of the folded full name against the agent's username in
//! which the given name (the last word of a Vietnamese full name) weighs [`GIVEN_WEIGHT`] words: two
//! people who share only `Nguyễn Văn` share what millions share, so without the given name the name
//! counts for nothing, and with the given name alone it scores at most [`GIVEN_ONLY`], below the line. Smaller signals add to it: the email's local part against the name, the last 7
//! digits of a phone that did not match, the department against the group. Only scores of at least
//! [`THRESHOLD`] are listed. Everything is computed for a whole page at once: one read of the page's
//! candidates ([`crate::store::employees::suggestion_candidates`]), then hash lookups here.

use std::collections::HashSet;

use entity::search::{fold, words};
use entity::{agent, employee};

/// The weight of the given name among the name's words.
pub const GIVEN_WEIGHT: f64 = 3.0;
/// The lowest score listed.
pub const THRESHOLD: f64 = 0.5;
/// What the email's local part adds when it spells the name (initials, or the names run together).
const EMAIL_SIGNAL: f64 = 0.3;
/// What the phone's last 7 digits add.
const PHONE_SIGNAL: f64 = 0.3;
/// What a department named like the agent's group adds.
const DEPARTMENT_SIGNAL: f64 = 0.1;
/// The most a name sharing only its given name scores: a given name is shared by thousands too (and may be
/// the middle name of the seat's holder: `Nguyễn Mỹ My` against `Đặng Mỹ Vy`), so it needs another signal.
pub const GIVEN_ONLY: f64 = 0.4;

/// One suggested owner.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub employee: employee::Model,
    pub score: f64,
    pub reasons: Vec<String>,
}

/// What the candidates of a page of agents are read by: the folded words of their usernames and email
/// local parts (any may be a given name), and the last 7 digits of their phones.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Lookup {
    pub given_names: Vec<String>,
    pub phone_tails: Vec<String>,
}

impl Lookup {
    /// The lookup of `agents`.
    pub fn of(agents: &[agent::Model]) -> Lookup {
        let mut names = HashSet::new();
        let mut tails = HashSet::new();
        for agent in agents {
            names.extend(agent.username.as_deref().map(words).unwrap_or_default());
            names.extend(agent.email.as_deref().map(local_words).unwrap_or_default());
            tails.extend(agent.phone_no.as_deref().and_then(phone_tail));
        }
        let mut given_names: Vec<String> = names.into_iter().collect();
        let mut phone_tails: Vec<String> = tails.into_iter().collect();
        given_names.sort();
        phone_tails.sort();
        Lookup {
            given_names,
            phone_tails,
        }
    }
}

/// The words of an email's local part (`thao.dpt@…` → `thao`, `dpt`).
fn local_words(email: &str) -> Vec<String> {
    email.split('@').next().map(words).unwrap_or_default()
}

/// The last 7 digits of a phone, when it ends with at least 7 (separators ignored; a masked phone such as
/// `08***8` has none to offer).
fn phone_tail(phone: &str) -> Option<String> {
    let mut digits: Vec<char> = Vec::new();
    for c in phone.chars().rev() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '.' | '-' | '(' | ')' => {}
            _ => break,
        }
        if digits.len() == 7 {
            return Some(digits.iter().rev().collect());
        }
    }
    None
}

/// The phone's last 7 digits, anywhere in the text (an employee's stored phone).
fn digits_tail(phone: &str) -> Option<String> {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= 7).then(|| digits[digits.len() - 7..].iter().collect())
}

/// The suggestions for `agent` among `candidates`, best first (ties by employee code), at most `first`.
pub fn suggest(
    agent: &agent::Model,
    candidates: &[employee::Model],
    first: usize,
) -> Vec<Suggestion> {
    let username: Vec<String> = agent.username.as_deref().map(words).unwrap_or_default();
    let local = agent
        .email
        .as_deref()
        .and_then(|e| e.split('@').next())
        .map(fold)
        .unwrap_or_default();
    let tail = agent.phone_no.as_deref().and_then(phone_tail);
    let group = agent.group_name.as_deref().map(fold);
    let mut found: Vec<Suggestion> = candidates
        .iter()
        .filter_map(|employee| {
            let name = employee.full_name.as_deref().map(words).unwrap_or_default();
            let (mut score, mut reasons) = name_score(&username, &name);
            if let Some(reason) = email_spells_name(&local, &name) {
                score += EMAIL_SIGNAL;
                reasons.push(reason.to_string());
            }
            if tail.is_some() && tail == employee.phone.as_deref().and_then(digits_tail) {
                score += PHONE_SIGNAL;
                reasons.push("last 7 digits of the phone match".to_string());
            }
            if let (Some(group), Some(department)) = (&group, employee.department.as_deref())
                && !group.is_empty()
                && fold(department) == *group
            {
                score += DEPARTMENT_SIGNAL;
                reasons.push("department matches the group".to_string());
            }
            let score = (score.min(1.0) * 1000.0).round() / 1000.0;
            (score >= THRESHOLD).then(|| Suggestion {
                employee: employee.clone(),
                score,
                reasons,
            })
        })
        .collect();
    found.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.employee.employee_code.cmp(&b.employee.employee_code))
    });
    found.truncate(first);
    found
}

/// The name's part of the score and its reason: 0 unless the agent's username holds the given name.
fn name_score(username: &[String], name: &[String]) -> (f64, Vec<String>) {
    let Some(given) = name.last() else {
        return (0.0, Vec::new());
    };
    if !username.contains(given) {
        return (0.0, Vec::new());
    }
    let weight = |word: &String| if word == given { GIVEN_WEIGHT } else { 1.0 };
    let agent: HashSet<&String> = username.iter().collect();
    let person: HashSet<&String> = name.iter().collect();
    let shared: f64 = agent.intersection(&person).map(|w| weight(w)).sum();
    let all: f64 = agent.union(&person).map(|w| weight(w)).sum();
    let mut score = shared / all;
    if agent.intersection(&person).count() == 1 {
        score = score.min(GIVEN_ONLY);
    }
    let reason = if agent == person {
        if username == name {
            "same name".to_string()
        } else {
            "same name, word order differs".to_string()
        }
    } else {
        let others = person.len() - 1;
        match agent.intersection(&person).count() - 1 {
            0 => "same given name".to_string(),
            shared => format!("same given name and {shared} of {others} other names"),
        }
    };
    (score, vec![reason])
}

/// How an email's folded local part spells the name, if it does: the given name with the initials of the
/// other names (`thao.dpt`, `dpt.thao`, `thaodpt`), or the names run together (`dangthao`, `thaodang`,
/// `dangphuongthuthao`); digits at its end are ignored (`thao.dpt2`).
fn email_spells_name(local: &str, name: &[String]) -> Option<&'static str> {
    let (given, others) = name.split_last()?;
    if others.is_empty() || local.is_empty() {
        return None;
    }
    let letters: String = local.chars().filter(|c| c.is_alphanumeric()).collect();
    let letters = letters.trim_end_matches(|c: char| c.is_ascii_digit());
    let initials: String = others.iter().filter_map(|w| w.chars().next()).collect();
    let family = &others[0];
    if [format!("{given}{initials}"), format!("{initials}{given}")].contains(&letters.to_string()) {
        return Some("email local part matches the name's initials");
    }
    let run_together = [
        format!("{family}{given}"),
        format!("{given}{family}"),
        name.concat(),
    ];
    run_together
        .contains(&letters.to_string())
        .then_some("email local part spells the name")
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use entity::vocabulary::{ChannelStatus, EmployeeStatus};

    use super::*;

    fn agent(username: &str, email: Option<&str>, phone: Option<&str>) -> agent::Model {
        let now = Utc::now();
        agent::Model {
            id: 1,
            domain: "acme".into(),
            username: Some(username.into()),
            email: email.map(Into::into),
            phone_no: phone.map(Into::into),
            extension: None,
            group_id: Some(1),
            group_name: Some("Chăm sóc khách hàng".into()),
            role_id: None,
            created_at: None,
            updated_at: None,
            login_status_raw: None,
            call_status_raw: None,
            chat_status_raw: None,
            ticket_status_raw: None,
            call_status: ChannelStatus::Unknown,
            chat_status: ChannelStatus::Unknown,
            ticket_status: ChannelStatus::Unknown,
            email_key: None,
            phone_key: None,
            first_seen_at: now,
            last_changed_at: now,
            last_seen_at: now,
            removed_at: None,
            fingerprint: None,
            search_text: String::new(),
            caresoft_id: 1,
        }
    }

    fn employee(code: &str, name: &str, phone: Option<&str>, department: &str) -> employee::Model {
        let now = Utc::now();
        employee::Model {
            id: code.len() as i64,
            employee_code: code.into(),
            full_name: Some(name.into()),
            email: None,
            phone: phone.map(Into::into),
            department: Some(department.into()),
            status: EmployeeStatus::Active,
            email_key: None,
            phone_key: None,
            removed_at: None,
            created_at: now,
            updated_at: now,
            fingerprint: None,
            search_text: String::new(),
            given_name: entity::search::given_name(name),
        }
    }

    fn codes(found: &[Suggestion]) -> Vec<&str> {
        found
            .iter()
            .map(|s| s.employee.employee_code.as_str())
            .collect()
    }

    #[test]
    fn reordered_names_score_below_an_exact_match_and_above_a_stranger() {
        let staff = [
            employee("NV1", "Đặng Phương Thu Thảo", None, "Kinh doanh"),
            employee("NV2", "Thảo Đặng Phương", None, "Kinh doanh"),
            employee("NV3", "Trần Thị Thảo", None, "Kinh doanh"),
        ];
        let found = suggest(&agent("Thảo Đặng Phương", None, None), &staff, 10);
        assert_eq!(codes(&found), ["NV2", "NV1"], "{found:?}");
        assert_eq!(found[0].score, 1.0);
        assert_eq!(found[0].reasons, ["same name"]);
        assert!(
            found[1].score < 1.0 && found[1].score >= THRESHOLD,
            "{found:?}"
        );
        assert_eq!(found[1].reasons, ["same given name and 2 of 3 other names"]);
        let reordered = suggest(&agent("Phương Đặng Thảo", None, None), &staff[1..2], 1);
        assert_eq!(reordered[0].reasons, ["same name, word order differs"]);
    }

    #[test]
    fn missing_diacritics_still_match() {
        let staff = [employee("NV1", "Nguyễn Thị Ánh Tuyết", None, "Kỹ thuật")];
        let found = suggest(&agent("nguyen thi anh tuyet", None, None), &staff, 3);
        assert_eq!(codes(&found), ["NV1"]);
        assert_eq!(found[0].score, 1.0);
    }

    #[test]
    fn a_given_name_that_is_the_seats_middle_name_is_no_suggestion() {
        let staff = [employee("NV1", "Nguyễn Mỹ My", None, "Kỹ thuật")];
        assert!(suggest(&agent("Đặng Mỹ Vy", None, None), &staff, 3).is_empty());
    }

    #[test]
    fn sharing_only_family_and_middle_names_is_no_suggestion() {
        let staff = [employee("NV1", "Nguyễn Văn An", None, "Kỹ thuật")];
        assert!(suggest(&agent("Nguyễn Văn Bình", None, None), &staff, 3).is_empty());
    }

    #[test]
    fn an_email_of_initials_lifts_a_given_name_over_the_line() {
        let staff = [employee("NV1", "Đặng Phương Thu Thảo", None, "Kinh doanh")];
        let bare = agent("Thảo CSKH", None, None);
        assert!(suggest(&bare, &staff, 3).is_empty(), "the given name alone");
        let found = suggest(
            &agent("Thảo CSKH", Some("thao.dpt@acme.vn"), None),
            &staff,
            3,
        );
        assert_eq!(codes(&found), ["NV1"], "{found:?}");
        assert!(
            found[0]
                .reasons
                .contains(&"email local part matches the name's initials".to_string())
        );
    }

    #[test]
    fn two_namesakes_are_both_listed_and_neither_above_the_other() {
        let staff = [
            employee("NV7", "Lê Minh Khoa", None, "Kinh doanh"),
            employee("NV3", "Lê Minh Khoa", None, "Kinh doanh"),
        ];
        let found = suggest(&agent("Lê Minh Khoa", None, None), &staff, 3);
        assert_eq!(codes(&found), ["NV3", "NV7"]);
        assert_eq!(found[0].score, found[1].score);
    }

    #[test]
    fn a_stranger_is_not_listed_and_a_phone_tail_and_department_are_signals() {
        let staff = [
            employee(
                "NV1",
                "Phạm Quốc Bảo",
                Some("0912 345 678"),
                "Chăm sóc khách hàng",
            ),
            employee("NV2", "Hoàng Thị Mai", Some("0987 000 111"), "Kinh doanh"),
        ];
        assert!(suggest(&agent("Vũ Đức Long", None, None), &staff, 3).is_empty());
        let found = suggest(&agent("Bảo", None, Some("+84 912.345.678")), &staff, 3);
        assert_eq!(codes(&found), ["NV1"], "{found:?}");
        assert!(
            found[0]
                .reasons
                .contains(&"last 7 digits of the phone match".to_string())
        );
        assert!(
            found[0]
                .reasons
                .contains(&"department matches the group".to_string())
        );
        let spelled = suggest(&agent("Mai", Some("hoangmai@acme.vn"), None), &staff, 3);
        assert_eq!(
            spelled[0].reasons[1], "email local part spells the name",
            "{spelled:?}"
        );
    }

    #[test]
    fn the_lookup_reads_names_emails_and_phone_tails() {
        let lookup = Lookup::of(&[
            agent("CSKH - Thảo", Some("thao.dpt@acme.vn"), Some("08***8")),
            agent("Bảo", None, Some("0912 345 678")),
        ]);
        assert_eq!(lookup.given_names, ["bao", "cskh", "dpt", "thao"]);
        assert_eq!(lookup.phone_tails, ["2345678"]);
    }
}

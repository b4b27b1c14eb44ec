//! The benchmark's data set: CareSoft agents (the wire JSON the stand-in serves) and an HR employee CSV,
//! generated from a seed, so every run and every machine sees the same rows.
//!
//! The shape follows BENCHMARKS.md's data set and the project's matching rules: agents spread over many groups of
//! skewed sizes with mixed channel statuses (and a few unknown ones, and some older-format agents that only
//! carry `login_status`), about 70% matching an employee by email (written with other cases and stray
//! spaces), 15% by phone only (written as `+84 …`, `84…`, `0084…`, dotted, or in the old 11-digit `01xx…`
//! form), 2% ambiguous (two employees share an email or a phone), 1.5% conflicting (email says one person,
//! phone another), the rest orphans (partner or masked addresses); and employees without seats, some
//! terminated, some without email, their phones written the ways spreadsheets write them.

use std::collections::HashMap;

use anyhow::{Context as _, bail};
use caresoft_bridge::reconcile::keys::old_form;
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

/// How big the data set is and which seed draws it.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub agents: usize,
    pub employees: usize,
    pub seed: u64,
}

/// The links the first sync must produce: the generator's own check that the shape is what it claims.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Expected {
    pub matched_by_email: usize,
    pub matched_by_phone: usize,
    pub ambiguous: usize,
    pub conflict: usize,
    pub unmatched: usize,
    /// ACTIVE employees with no MATCHED agent (`unmatchedEmployees.totalCount`).
    pub employees_without_seat: usize,
    /// Employees `employees(search: "nguyen")` finds: the Nguyễn family, and emails with `nguyen`.
    pub nguyen: usize,
}

/// Everything the benchmark feeds the bridge.
#[derive(Debug)]
pub struct Dataset {
    /// The agent list of the first sync (and of the no-change resync).
    pub agents: Vec<Value>,
    /// The same list with `changed` agents changed (statuses, groups, a few emails).
    pub changed_agents: Vec<Value>,
    pub changed: usize,
    /// The HR export, with a header row.
    pub employees_csv: Vec<u8>,
    pub expected: Expected,
    pub groups: usize,
    /// The largest groups by agent count: the `group` filters the load queries rotate through.
    pub load_groups: Vec<String>,
}

const FAMILY: [(&str, &str); 16] = [
    ("Nguyễn", "nguyen"),
    ("Trần", "tran"),
    ("Lê", "le"),
    ("Phạm", "pham"),
    ("Hoàng", "hoang"),
    ("Huỳnh", "huynh"),
    ("Phan", "phan"),
    ("Vũ", "vu"),
    ("Võ", "vo"),
    ("Đặng", "dang"),
    ("Bùi", "bui"),
    ("Đỗ", "do"),
    ("Hồ", "ho"),
    ("Ngô", "ngo"),
    ("Dương", "duong"),
    ("Lý", "ly"),
];
const MIDDLE: [&str; 10] = [
    "Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc", "Thu", "Hoài",
];
const GIVEN: [(&str, &str); 32] = [
    ("An", "an"),
    ("Bình", "binh"),
    ("Châu", "chau"),
    ("Dung", "dung"),
    ("Giang", "giang"),
    ("Hà", "ha"),
    ("Hải", "hai"),
    ("Hạnh", "hanh"),
    ("Hiếu", "hieu"),
    ("Hòa", "hoa"),
    ("Hùng", "hung"),
    ("Hương", "huong"),
    ("Khánh", "khanh"),
    ("Lan", "lan"),
    ("Linh", "linh"),
    ("Long", "long"),
    ("Mai", "mai"),
    ("Nam", "nam"),
    ("Ngân", "ngan"),
    ("Nhung", "nhung"),
    ("Phúc", "phuc"),
    ("Phương", "phuong"),
    ("Quân", "quan"),
    ("Quỳnh", "quynh"),
    ("Sơn", "son"),
    ("Tâm", "tam"),
    ("Thảo", "thao"),
    ("Thắng", "thang"),
    ("Trang", "trang"),
    ("Tuấn", "tuan"),
    ("Vân", "van"),
    ("Yến", "yen"),
];
const DEPARTMENTS: [&str; 12] = [
    "Chăm sóc khách hàng",
    "Kinh doanh",
    "Kỹ thuật",
    "Kế toán",
    "Nhân sự",
    "Marketing",
    "Vận hành",
    "Pháp chế",
    "Công nghệ thông tin",
    "Thu hồi nợ",
    "Bảo hành",
    "Đào tạo",
];
const TEAMS: [&str; 10] = [
    "Tổng đài 1900",
    "Chăm sóc khách hàng",
    "Bán hàng qua điện thoại",
    "Hỗ trợ kỹ thuật",
    "Khiếu nại",
    "Thu hồi nợ",
    "Khách hàng doanh nghiệp",
    "Chat & mạng xã hội",
    "Bảo hành",
    "Đặt lịch",
];
const CITIES: [&str; 8] = [
    "Hà Nội",
    "TP.HCM",
    "Đà Nẵng",
    "Cần Thơ",
    "Hải Phòng",
    "Nha Trang",
    "Huế",
    "Vinh",
];
/// Today's mobile prefixes the employees' phones use; `086` is kept out so orphans can use it.
const MOBILE_PREFIXES: [&str; 26] = [
    "090", "091", "093", "094", "096", "097", "098", "032", "033", "034", "035", "036", "037",
    "038", "039", "070", "076", "077", "078", "079", "081", "082", "083", "084", "085", "056",
];
const UNKNOWN_STATUSES: [&str; 3] = ["BUSY", "ON HOLD", "AWAY"];

struct Employee {
    code: String,
    full_name: String,
    /// Lowercase ASCII, as HR stores it.
    email: Option<String>,
    /// National form, 10 digits.
    phone: String,
    department: &'static str,
    terminated: bool,
}

/// Which rule an agent is built to hit, and with whose data.
#[derive(Clone, Copy)]
enum Kind {
    Email(usize),
    Phone(usize),
    /// Email of the first employee, phone of the second.
    Conflict(usize, usize),
    /// Two employees sharing an email (`true`) or a phone (`false`).
    Ambiguous(usize, bool),
    Orphan,
}

struct Group {
    id: i64,
    name: String,
}

/// Draws the data set.
pub fn generate(shape: Shape) -> anyhow::Result<Dataset> {
    let mut rng = StdRng::seed_from_u64(shape.seed);
    let n = shape.agents;
    let n_email = n * 70 / 100;
    let n_phone = n * 15 / 100;
    let n_ambiguous = n * 2 / 100;
    let n_conflict = n * 15 / 1000;
    let n_orphan = n - n_email - n_phone - n_ambiguous - n_conflict;
    let needed = n_email + n_phone + 2 * n_conflict + 2 * n_ambiguous;
    if shape.employees < needed {
        bail!(
            "{} agents need at least {needed} employees for the matching shape (got {})",
            n,
            shape.employees
        );
    }

    let mut employees: Vec<Employee> = (0..shape.employees)
        .map(|i| {
            let (family, family_ascii) = *FAMILY.choose(&mut rng).unwrap_or(&FAMILY[0]);
            let middle = *MIDDLE.choose(&mut rng).unwrap_or(&MIDDLE[0]);
            let (given, given_ascii) = *GIVEN.choose(&mut rng).unwrap_or(&GIVEN[0]);
            Employee {
                code: format!("NV{:06}", i + 1),
                full_name: format!("{family} {middle} {given}"),
                email: Some(format!("{given_ascii}.{family_ascii}.{:06}@acme.vn", i + 1)),
                phone: employee_phone(i),
                department: DEPARTMENTS
                    .choose(&mut rng)
                    .copied()
                    .unwrap_or("Kinh doanh"),
                terminated: rng.random_bool(0.08),
            }
        })
        .collect();

    // Employees are handed out from a shuffled pool so that seated staff are spread over codes.
    let mut pool: Vec<usize> = (0..shape.employees).collect();
    pool.shuffle(&mut rng);
    let mut next = pool.into_iter();
    let mut take = || next.next().context("employee pool exhausted");
    let mut kinds = Vec::with_capacity(n);
    let mut seated = vec![false; shape.employees];
    for _ in 0..n_email {
        let e = take()?;
        seated[e] = true;
        kinds.push(Kind::Email(e));
    }
    for _ in 0..n_phone {
        let e = take()?;
        seated[e] = true;
        kinds.push(Kind::Phone(e));
    }
    for _ in 0..n_conflict {
        kinds.push(Kind::Conflict(take()?, take()?));
    }
    for k in 0..n_ambiguous {
        let (first, second) = (take()?, take()?);
        let shared_email = k % 2 == 0;
        if shared_email {
            // A team mailbox entered for two people.
            let mailbox = format!("cskh.chung.{k:05}@acme.vn");
            employees[first].email = Some(mailbox.clone());
            employees[second].email = Some(mailbox);
        } else {
            // A desk phone entered for two people.
            employees[second].phone = employees[first].phone.clone();
        }
        kinds.push(Kind::Ambiguous(first, shared_email));
    }
    // Some staff without a seat have no email in HR at all.
    let unseated: Vec<usize> = next.collect();
    for &e in unseated.iter().filter(|_| rng.random_bool(0.03)) {
        employees[e].email = None;
    }
    kinds.extend(std::iter::repeat_n(Kind::Orphan, n_orphan));
    kinds.shuffle(&mut rng);

    let group_count = (n / 250).clamp(4, 200);
    let groups: Vec<Group> = (0..group_count)
        .map(|g| {
            let team = TEAMS[g % TEAMS.len()];
            let city = CITIES[(g / TEAMS.len()) % CITIES.len()];
            let round = g / (TEAMS.len() * CITIES.len());
            Group {
                id: 15257 + g as i64,
                name: if round == 0 {
                    format!("{team} – {city}")
                } else {
                    format!("{team} – {city} {}", round + 1)
                },
            }
        })
        .collect();
    // Skewed sizes (a Zipf-like law): a few big teams, many small ones, as contact centres have.
    let weights: Vec<f64> = (0..group_count)
        .map(|g| 1.0 / ((g + 1) as f64).powf(0.6))
        .collect();
    let total_weight: f64 = weights.iter().sum();

    let mut agents = Vec::with_capacity(n);
    let mut group_sizes: HashMap<usize, usize> = HashMap::new();
    for (i, kind) in kinds.iter().enumerate() {
        let id = 1_000_000 + i as i64;
        let mut pick = rng.random::<f64>() * total_weight;
        let mut group = group_count - 1;
        for (g, w) in weights.iter().enumerate() {
            if pick < *w {
                group = g;
                break;
            }
            pick -= w;
        }
        *group_sizes.entry(group).or_default() += 1;
        let (username, email, phone) = identity(*kind, id, &employees, &mut rng);
        agents.push(agent_json(
            id,
            username,
            email,
            phone,
            &groups[group],
            &mut rng,
        ));
    }

    let changed = (n / 100).max(1).min(n);
    let mut changed_agents = agents.clone();
    for index in rand::seq::index::sample(&mut rng, n, changed) {
        change(&mut changed_agents[index], &groups, &mut rng);
    }

    let mut by_size: Vec<(usize, usize)> = group_sizes.into_iter().collect();
    by_size.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let load_groups = by_size
        .iter()
        .take(8)
        .map(|(g, _)| groups[*g].name.clone())
        .collect();

    let employees_without_seat = employees
        .iter()
        .zip(&seated)
        .filter(|(e, seated)| !e.terminated && !**seated)
        .count();
    let nguyen = employees
        .iter()
        .filter(|e| {
            e.full_name.starts_with("Nguyễn")
                || e.email.as_deref().is_some_and(|m| m.contains("nguyen"))
        })
        .count();
    Ok(Dataset {
        agents,
        changed_agents,
        changed,
        employees_csv: employees_csv(&employees, &mut rng)?,
        expected: Expected {
            matched_by_email: n_email,
            matched_by_phone: n_phone,
            ambiguous: n_ambiguous,
            conflict: n_conflict,
            unmatched: n_orphan,
            employees_without_seat,
            nguyen,
        },
        groups: group_count,
        load_groups,
    })
}

/// A unique national mobile number per employee index: the multiplier is coprime with 10⁷, so the
/// subscriber parts of distinct indexes differ.
fn employee_phone(i: usize) -> String {
    let prefix = MOBILE_PREFIXES[i % MOBILE_PREFIXES.len()];
    format!("{prefix}{:07}", (i as u64 * 7919 + 1_234_567) % 10_000_000)
}

/// `0912 345 678`
fn spaced(national: &str) -> String {
    format!("{} {} {}", &national[..4], &national[4..7], &national[7..])
}

/// `+84 912 345 678`
fn international(national: &str) -> String {
    format!(
        "+84 {} {} {}",
        &national[1..4],
        &national[4..7],
        &national[7..]
    )
}

/// Another way of writing the same number than HR does: old form when there is one, else a country code.
fn other_form(national: &str, rng: &mut StdRng) -> String {
    if let Some(old) = old_form(national)
        && rng.random_bool(0.5)
    {
        return old;
    }
    match rng.random_range(0..4) {
        0 => international(national),
        1 => format!("84{}", &national[1..]),
        2 => format!("0084{}", &national[1..]),
        _ => format!("{}.{}.{}", &national[..4], &national[4..7], &national[7..]),
    }
}

/// The same address as HR's, typed by someone else.
fn retyped_email(email: &str, rng: &mut StdRng) -> String {
    match rng.random_range(0..10) {
        0..6 => email.to_string(),
        6..9 => {
            let mut chars = email.chars();
            let first: String = chars
                .next()
                .map(|c| c.to_uppercase().collect())
                .unwrap_or_default();
            format!("{first}{}", chars.as_str()).replace("@acme.vn", "@ACME.vn")
        }
        _ => format!(" {email} "),
    }
}

fn personal_email(id: i64, rng: &mut StdRng) -> Option<String> {
    match rng.random_range(0..10) {
        0..4 => None,
        4..7 => Some(format!("cs.agent.{id}@gmail.com")),
        _ => Some("thut***@gmail.com".to_string()),
    }
}

/// Username, email and phone of an agent of this kind.
fn identity(
    kind: Kind,
    id: i64,
    employees: &[Employee],
    rng: &mut StdRng,
) -> (String, Option<String>, Option<String>) {
    match kind {
        Kind::Email(e) => {
            let person = &employees[e];
            let email = person.email.as_deref().map(|m| retyped_email(m, rng));
            // Half the seats also carry the person's phone, written CareSoft's way: still the same person.
            let phone = rng.random_bool(0.5).then(|| other_form(&person.phone, rng));
            (person.full_name.clone(), email, phone)
        }
        Kind::Phone(e) => {
            let person = &employees[e];
            (
                person.full_name.clone(),
                personal_email(id, rng),
                Some(other_form(&person.phone, rng)),
            )
        }
        Kind::Conflict(a, b) => (
            employees[a].full_name.clone(),
            employees[a].email.clone(),
            Some(spaced(&employees[b].phone)),
        ),
        Kind::Ambiguous(e, true) => (
            employees[e].full_name.clone(),
            employees[e].email.clone(),
            None,
        ),
        Kind::Ambiguous(e, false) => (
            employees[e].full_name.clone(),
            personal_email(id, rng).filter(|m| !m.contains('*')),
            Some(international(&employees[e].phone)),
        ),
        Kind::Orphan => {
            let email = match rng.random_range(0..10) {
                0..4 => Some(format!("ctv.{id}@bpo-partner.vn")),
                4..6 => None,
                6..8 => Some("ctv***@gmail.com".to_string()),
                _ => Some(format!("tongdai.{id}@gmail.com")),
            };
            let phone = match rng.random_range(0..4) {
                0 | 1 => Some(format!("086{:07}", id % 10_000_000)),
                2 => None,
                _ => Some("08***8".to_string()),
            };
            (format!("Cộng tác viên {id}"), email, phone)
        }
    }
}

fn channel_status(rng: &mut StdRng) -> &'static str {
    let r: f64 = rng.random();
    if r < 0.40 {
        "AVAILABLE"
    } else if r < 0.60 {
        "NOT AVAILABLE"
    } else if r < 0.98 {
        "LOGOUT"
    } else {
        UNKNOWN_STATUSES.choose(rng).copied().unwrap_or("BUSY")
    }
}

fn timestamp(rng: &mut StdRng, from_year: i32) -> String {
    format!(
        "{}-{:02}-{:02} {:02}:{:02}:{:02}",
        rng.random_range(from_year..=2025),
        rng.random_range(1..=12),
        rng.random_range(1..=28),
        rng.random_range(0..24),
        rng.random_range(0..60),
        rng.random_range(0..60)
    )
}

fn agent_json(
    id: i64,
    username: String,
    email: Option<String>,
    phone: Option<String>,
    group: &Group,
    rng: &mut StdRng,
) -> Value {
    let mut agent = json!({
        "id": id,
        "username": username,
        "email": email,
        "phone_no": phone,
        "agent_id": format!("{}", 10_000 + id % 1_000_000),
        "created_at": timestamp(rng, 2019),
        "updated_at": timestamp(rng, 2024),
        "group_id": group.id,
        "group_name": group.name,
        "role_id": rng.random_range(1..=4),
        "call_status": channel_status(rng),
    });
    if let Some(fields) = agent.as_object_mut() {
        // One seat in ten still comes in the older format, where login_status stands for the ticket channel.
        if rng.random_bool(0.1) {
            fields.insert("login_status".into(), channel_status(rng).into());
        } else {
            fields.insert("ticket_status".into(), channel_status(rng).into());
            fields.insert("chat_status".into(), channel_status(rng).into());
        }
    }
    agent
}

/// One agent of the 1% that change between two syncs: a status, a move to another group, or a new email.
fn change(agent: &mut Value, groups: &[Group], rng: &mut StdRng) {
    let Some(fields) = agent.as_object_mut() else {
        return;
    };
    let call = fields
        .get("call_status")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let other = ["AVAILABLE", "NOT AVAILABLE", "LOGOUT"]
        .into_iter()
        .find(|s| *s != call)
        .unwrap_or("LOGOUT");
    fields.insert("call_status".into(), other.into());
    match rng.random_range(0..10) {
        0 | 1 => {
            let current = fields.get("group_id").and_then(Value::as_i64);
            if let Some(group) = groups.iter().find(|g| Some(g.id) != current) {
                fields.insert("group_id".into(), group.id.into());
                fields.insert("group_name".into(), group.name.clone().into());
            }
        }
        2 => {
            let id = fields.get("id").and_then(Value::as_i64).unwrap_or_default();
            fields.insert("email".into(), format!("moved.{id}@bpo-partner.vn").into());
        }
        _ => {}
    }
}

/// The HR export: phones written as spreadsheets write them, with a header row.
fn employees_csv(employees: &[Employee], rng: &mut StdRng) -> anyhow::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::with_capacity(employees.len() * 100));
    out.write_record([
        "employee_code",
        "full_name",
        "email",
        "phone",
        "department",
        "status",
    ])?;
    for e in employees {
        let phone = match rng.random_range(0..20) {
            0..14 => spaced(&e.phone),
            14..17 => e.phone.clone(),
            17..19 => international(&e.phone),
            // A spreadsheet that stored the number as an integer dropped its leading zero.
            _ => e.phone[1..].to_string(),
        };
        out.write_record([
            e.code.as_str(),
            e.full_name.as_str(),
            e.email.as_deref().unwrap_or(""),
            phone.as_str(),
            e.department,
            if e.terminated { "terminated" } else { "active" },
        ])?;
    }
    out.into_inner()
        .map_err(|err| anyhow::anyhow!("cannot finish the employee CSV: {err}"))
}

//! The demo's sample data: about 300 CareSoft agents in CareSoft's own wire format and the 320 HR employees
//! they reconcile with.
//!
//! The data is generated from a fixed seed, so every run (and every machine with this `Cargo.lock`) sees the
//! same people. It is *designed*, not just random: each case of DESIGN.md "Matching rules" is present in a
//! known number, so the demo shows every match status and every report has something in it:
//!
//! | case | count | how |
//! | --- | --- | --- |
//! | MATCHED by EMAIL | 212 | work email on both sides, sometimes in another case or padded with spaces |
//! | MATCHED by PHONE | 45 | agent email personal, missing, masked or on the old domain; phone in another spelling |
//! | AMBIGUOUS | 6 | a desk landline or a copy-pasted mobile shared by two HR rows (4), a shared email (2) |
//! | CONFLICT | 5 | the agent's email is one employee's, its phone a colleague's |
//! | UNMATCHED | 32 | contractors, service and test seats, fully masked seats, seats with no contact |
//!
//! On the HR side, 15 terminated employees still hold a matched seat, 42 more left long ago, and 21 active
//! employees have no matched seat (10 with no seat at all, the others only behind an AMBIGUOUS or CONFLICT
//! seat). The test at the bottom recomputes these numbers with the real match keys, so the sample cannot drift
//! silently. The two agents of CareSoft's documentation page (`seed/000_…txt`) are included verbatim.

use std::collections::HashSet;
use std::sync::LazyLock;

use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use crate::domain::EmployeeStatus;
use crate::hr::csv_parse::EmployeeRow;
use crate::reconcile::keys::{OLD_MOBILE_PREFIXES, old_form};

/// One agent in CareSoft's wire format (a `serde_json::Value` object exactly like the API sends), sorted by id.
pub fn sample_agents() -> Vec<Value> {
    DATASET.agents.clone()
}

/// The group of the hotline domain's agents, and a group its list names that has no agent yet.
pub const HOTLINE_GROUPS: [(i64, &str); 2] = [(20_001, "Tổng đài Hà Nội"), (20_002, "Trực đêm")];

/// The agents of a second, smaller domain (a hotline run from Hà Nội): staff who already hold a seat in the
/// main domain, with seats of their own there (other CareSoft ids and extensions, one group), so that the
/// same employees are MATCHED in both domains.
pub fn hotline_agents() -> Vec<Value> {
    let (group_id, group_name) = HOTLINE_GROUPS[0];
    DATASET
        .agents
        .iter()
        .filter(|agent| {
            agent
                .get("email")
                .and_then(Value::as_str)
                .is_some_and(|email| email.ends_with(WORK_DOMAIN) && !email.contains('*'))
        })
        .take(15)
        .enumerate()
        .map(|(index, agent)| {
            let mut seat = agent.clone();
            let id = seat.get("id").and_then(Value::as_i64).unwrap_or_default();
            seat["id"] = json!(id + 40_000_000);
            seat["agent_id"] = json!(format!("{}", 7001 + index));
            seat["group_id"] = json!(group_id);
            seat["group_name"] = json!(group_name);
            seat
        })
        .collect()
}

/// CareSoft's group list of the hotline domain: its agents' group and one with no agent.
pub fn hotline_groups() -> Vec<Value> {
    HOTLINE_GROUPS
        .iter()
        .map(|(id, name)| json!({"group_id": id, "group_name": name, "created_at": "2024-03-01 08:00:00"}))
        .collect()
}

/// The HR staff matching the sample agents, as validated rows, sorted by employee code, with the `line` each
/// has in [`sample_employees_csv`].
pub fn sample_employees() -> Vec<EmployeeRow> {
    DATASET.employees.clone()
}

/// The same staff as an HR CSV file (UTF-8 with a BOM and CRLF line ends, as Excel's "CSV UTF-8" writes it),
/// for people who want to try `import-employees`.
pub fn sample_employees_csv() -> String {
    let mut out = String::from("\u{FEFF}employee_code,full_name,email,phone,department,status\r\n");
    for row in &DATASET.employees {
        let cells = [
            Some(row.employee_code.as_str()),
            row.full_name.as_deref(),
            row.email.as_deref(),
            row.phone.as_deref(),
            row.department.as_deref(),
            Some(row.status.as_str()),
        ];
        let cells: Vec<String> = cells
            .iter()
            .map(|cell| csv_cell(cell.unwrap_or_default()))
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// RFC 4180 quoting, only where a cell needs it.
fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// Generated once: the agents and the employees must come from the same run of the generator to match.
static DATASET: LazyLock<Dataset> = LazyLock::new(build);

/// Changing the seed changes every person in the demo; the counts in the module doc stay the same.
const SEED: u64 = 0x0C4E_50F7_2025_1015;

// The designed mix (see the module doc); the test recomputes it from the keys.
const EMAIL_MATCHED: usize = 212;
const PHONE_MATCHED: usize = 45;
const TERMINATED_EMAIL_SEATS: usize = 12;
const TERMINATED_PHONE_SEATS: usize = 3;
const CONFLICTS: usize = 5;
const CONTRACTORS: usize = 20;
const MASKED_SEATS: usize = 4;
const NEW_HIRES: usize = 7;
const LONG_GONE: usize = 42;
const OLD_FORMAT_AGENTS: usize = 9;
const UNKNOWN_STATUSES: usize = 6;

const WORK_DOMAIN: &str = "acme.vn";
/// The company's domain before its rebrand: some agent profiles were never updated.
const OLD_WORK_DOMAIN: &str = "acme.com.vn";

/// A call-center team: its CareSoft group and the HR department that owns it.
#[derive(Debug)]
struct Team {
    group_id: i64,
    group_name: &'static str,
    department: &'static str,
    /// How users abbreviate the team in a display name ("Mai - CSKH").
    short: &'static str,
    weight: u32,
}

const TEAMS: [Team; 6] = [
    team(
        15301,
        "Chăm sóc khách hàng",
        "Phòng Chăm sóc khách hàng",
        "CSKH",
        30,
    ),
    team(15302, "Kinh doanh", "Phòng Kinh doanh", "KD", 20),
    team(15318, "Kỹ thuật", "Phòng Kỹ thuật", "KT", 14),
    team(16024, "Thu hồi nợ", "Phòng Thu hồi nợ", "THN", 14),
    team(
        16025,
        "Tổng đài 1900",
        "Trung tâm Tổng đài 1900",
        "1900",
        16,
    ),
    team(17102, "Giám sát", "Ban Giám sát chất lượng", "GS", 6),
];

const fn team(
    group_id: i64,
    group_name: &'static str,
    department: &'static str,
    short: &'static str,
    weight: u32,
) -> Team {
    Team {
        group_id,
        group_name,
        department,
        short,
        weight,
    }
}

/// CareSoft's default group (the "Sample" agent of the documentation sits in it) and the old group of the
/// documentation's second agent, whose name pleads "do not delete the old department": seats nobody moved.
const DEFAULT_GROUP: (i64, &str) = (12153, "Default Group");
const LEGACY_GROUP: (i64, &str) = (15257, "Không xóa bộ phận cũ đi nhé");

/// HR departments with no call-center seats: where some staff without a seat work.
const BACK_OFFICE: [&str; 3] = ["Phòng Hỗ trợ đối tác", "Phòng Nhân sự", "Phòng Kế toán"];

/// Family names weighted roughly as in Vietnam (Nguyễn about a third).
const SURNAMES: [(&str, u32); 20] = [
    ("Nguyễn", 31),
    ("Trần", 11),
    ("Lê", 9),
    ("Phạm", 7),
    ("Hoàng", 5),
    ("Huỳnh", 4),
    ("Phan", 4),
    ("Vũ", 4),
    ("Võ", 4),
    ("Đặng", 3),
    ("Bùi", 3),
    ("Đỗ", 3),
    ("Hồ", 2),
    ("Ngô", 2),
    ("Dương", 2),
    ("Đinh", 2),
    ("Trương", 2),
    ("Lý", 1),
    ("Mai", 1),
    ("Lưu", 1),
];
const MALE_MIDDLE: [&str; 13] = [
    "Văn", "Đức", "Minh", "Quang", "Hữu", "Thành", "Công", "Tuấn", "Xuân", "Hoàng", "Anh", "Gia",
    "Quốc",
];
const FEMALE_MIDDLE: [&str; 13] = [
    "Thị", "Ngọc", "Thu", "Thanh", "Phương", "Mỹ", "Hồng", "Kim", "Bảo", "Khánh", "Minh", "Diệu",
    "Thùy",
];
const MALE_GIVEN: [&str; 26] = [
    "Hùng", "Dũng", "Tuấn", "Minh", "Nam", "Long", "Hải", "Phong", "Quân", "Khoa", "Bảo", "Huy",
    "Đức", "Thắng", "Tùng", "Sơn", "Trung", "Hiếu", "Khánh", "Phúc", "Đạt", "Thịnh", "Vinh",
    "Cường", "Toàn", "Lâm",
];
const FEMALE_GIVEN: [&str; 28] = [
    "Mai", "Lan", "Hương", "Hà", "Linh", "Trang", "Thảo", "Ngọc", "Huyền", "Nhung", "Hạnh", "Yến",
    "Vy", "Anh", "Nga", "Phương", "Dung", "Thủy", "Quỳnh", "Oanh", "Chi", "Giang", "Hằng", "Nhi",
    "Tâm", "Loan", "Trâm", "My",
];

/// Mobile prefixes in use since the 2018 renumbering.
const MOBILE_PREFIXES: [&str; 33] = [
    "086", "096", "097", "098", "032", "033", "034", "035", "036", "037", "038", "039", "088",
    "091", "094", "081", "082", "083", "084", "085", "089", "090", "093", "070", "076", "077",
    "078", "079", "092", "056", "058", "099", "059",
];

const AVAILABLE: &str = "AVAILABLE";
const NOT_AVAILABLE: &str = "NOT AVAILABLE";
const LOGOUT: &str = "LOGOUT";
/// Values CareSoft may add that the bridge does not know: they must surface as UNKNOWN with the raw text kept.
const UNKNOWN_VALUES: [&str; 3] = ["BUSY", "AFTER CALL WORK", "ON HOLD"];

// Timestamps are Vietnam wall-clock time, as CareSoft sends them; formatted from these epoch offsets as if UTC.
/// 2019-03-01 00:00:00, when the tenant's first seats were created.
const CREATED_FROM: i64 = 1_551_398_400;
/// 2025-09-30 00:00:00.
const CREATED_TO: i64 = 1_759_190_400;
/// 2025-10-20 00:00:00, the "today" of the sample.
const UPDATED_TO: i64 = 1_760_918_400;
const DAY: i64 = 86_400;

#[derive(Debug)]
struct Dataset {
    agents: Vec<Value>,
    employees: Vec<EmployeeRow>,
}

/// A person: what both CareSoft and HR could know about them.
#[derive(Debug, Clone)]
struct Person {
    full_name: String,
    given: &'static str,
    surname: &'static str,
    middles: Vec<&'static str>,
    /// `local@acme.vn`, lowercase, unique.
    work_email: String,
    /// National 10-digit mobile, unique.
    phone: String,
    team: &'static Team,
}

/// How a field appears in an agent object.
#[derive(Debug)]
enum Field {
    Text(String),
    Null,
    Missing,
}

/// Everything that makes one agent object, except what the generator assigns (id, extension, times, statuses).
#[derive(Debug)]
struct Seat {
    username: String,
    email: Field,
    phone: Field,
    group: (i64, &'static str),
    role_id: i64,
    /// The seat of someone who left: logged out everywhere, mostly.
    idle: bool,
}

/// An employee row before codes and lines are assigned; `rank` orders hiring (codes grow with it).
#[derive(Debug)]
struct Staff {
    rank: u32,
    row: EmployeeRow,
}

/// The ways people write one phone number (`0336842288` in these examples).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PhoneForm {
    /// `0336842288`
    Plain,
    /// `0336 842 288`
    Spaced,
    /// `0336.842.288`
    Dotted,
    /// `+84 336 842 288`
    Intl,
    /// `+84336842288`
    IntlCompact,
    /// `84-336-842-288`
    CountryDash,
    /// `+84 (0) 336 842 288`, the email-signature habit.
    IntlZero,
    /// `336842288`: a spreadsheet stored the number as an integer.
    DroppedZero,
    /// `01663123456`: the pre-2018 11-digit number (falls back to `Plain` when the prefix was never renumbered).
    Old,
    /// `01663 123 456`
    OldSpaced,
}

/// How HR spreadsheets tend to write phones (weights in percent).
const HR_PHONE_FORMS: [(PhoneForm, u32); 6] = [
    (PhoneForm::Plain, 40),
    (PhoneForm::Spaced, 20),
    (PhoneForm::DroppedZero, 15),
    (PhoneForm::Dotted, 10),
    (PhoneForm::OldSpaced, 10),
    (PhoneForm::Intl, 5),
];

/// How agents type their phone into their CareSoft profile.
const AGENT_PHONE_FORMS: [(PhoneForm, u32); 7] = [
    (PhoneForm::Plain, 50),
    (PhoneForm::Intl, 12),
    (PhoneForm::CountryDash, 8),
    (PhoneForm::Spaced, 10),
    (PhoneForm::Old, 10),
    (PhoneForm::IntlZero, 5),
    (PhoneForm::IntlCompact, 5),
];

/// (HR spelling, agent spelling) of seats found by phone only: always two different spellings, so the demo
/// shows why phone keys are normalised.
const PHONE_ONLY_FORMS: [(PhoneForm, PhoneForm); 9] = [
    (PhoneForm::Old, PhoneForm::Plain),
    (PhoneForm::Plain, PhoneForm::Old),
    (PhoneForm::OldSpaced, PhoneForm::Intl),
    (PhoneForm::DroppedZero, PhoneForm::Plain),
    (PhoneForm::Plain, PhoneForm::Intl),
    (PhoneForm::Spaced, PhoneForm::CountryDash),
    (PhoneForm::DroppedZero, PhoneForm::IntlZero),
    (PhoneForm::Dotted, PhoneForm::IntlCompact),
    (PhoneForm::Spaced, PhoneForm::Old),
];

/// Builds the whole sample: one generator run, so agents and employees agree.
fn build() -> Dataset {
    let mut g = Generator::new(SEED);
    let mut agents = Vec::new();
    let mut staff = Vec::new();

    // The documentation's two agents, verbatim. "Sample" sits in no HR row (an orphan seat); the masked
    // Đặng Phương Thu Thảo has an HR row further down that no key can reach (an admin would `link` her).
    agents.push(json!({
        "id": 142928097,
        "username": "Sample",
        // Verbatim from the seed page, whose address was hidden by the site's email protection when it was
        // saved: kept as is, it is one more value that matches nobody.
        "email": "[email protected]",
        "phone_no": "0336842288",
        "agent_id": "50007",
        "created_at": "2022-07-08 09:48:41",
        "updated_at": "2022-08-08 17:42:08",
        "group_id": 12153,
        "group_name": "Default Group",
        "role_id": 1,
        "login_status": "AVAILABLE",
        "call_status": "AVAILABLE"
    }));
    agents.push(json!({
        "id": 63203703,
        "username": "Đặng Phương Thu Thảo",
        "email": "thut***@gmail.com",
        "phone_no": "08***8",
        "agent_id": "5045",
        "created_at": "2021-08-25 15:17:20",
        "updated_at": "2025-10-15 11:31:52",
        "group_id": 15257,
        "group_name": "Không xóa bộ phận cũ đi nhé",
        "role_id": 1,
        "call_status": "AVAILABLE",
        "ticket_status": "AVAILABLE",
        "chat_status": "AVAILABLE"
    }));
    g.reserve_seed_values();

    // Colleagues whose phone ends up on someone else's seat (CONFLICT) or whose HR row carries someone
    // else's number (AMBIGUOUS): they hold ordinary email-matched seats themselves.
    let leads: Vec<Person> = (0..CONFLICTS).map(|_| g.person(None)).collect();
    let pasted_over: Vec<Person> = (0..2).map(|_| g.person(None)).collect();
    let pasted_from: Vec<Person> = pasted_over.iter().map(|p| g.person(Some(p.team))).collect();
    let desk_sharers: Vec<Person> = (0..2).map(|_| g.person(None)).collect();
    let desks: Vec<String> = (0..2).map(|_| g.landline()).collect();

    // MATCHED by EMAIL (212).
    for lead in &leads {
        // The lead's number must be in HR, or the colleague's seat would not point at them.
        let phone = g.hr_phone(lead);
        let row = g.work_row(lead, Some(phone), active(true));
        staff.push(row);
        agents.push(g.email_seat(lead, false));
    }
    for (person, source) in pasted_over.iter().zip(&pasted_from) {
        // HR filled this row by copying the one above it, phone included.
        let phone = write_phone(&source.phone, PhoneForm::Plain);
        let row = g.work_row(person, Some(phone), active(true));
        staff.push(row);
        agents.push(g.email_seat(person, false));
    }
    for (person, desk) in desk_sharers.iter().zip(&desks) {
        let row = g.work_row(person, Some(desk.clone()), active(true));
        staff.push(row);
        agents.push(g.email_seat(person, false));
    }
    let designed = leads.len() + pasted_over.len() + desk_sharers.len();
    for i in 0..EMAIL_MATCHED - designed {
        let person = g.person(None);
        let departed = i < TERMINATED_EMAIL_SEATS;
        let phone = g.rng.random_bool(0.9).then(|| g.hr_phone(&person));
        let row = g.work_row(&person, phone, active(!departed));
        staff.push(row);
        agents.push(g.email_seat(&person, departed));
    }

    // MATCHED by PHONE (45): the first two are the seats of employees whose HR row carries a shared email
    // (see AMBIGUOUS below); their own seat has a personal email, so their phone finds them.
    let shared_email_owners = [g.person(None), g.person(Some(&TEAMS[4]))];
    let shared_emails = [
        shared_email_owners[0].work_email.clone(),
        g.unique_email("tongdai1900", WORK_DOMAIN),
    ];
    for i in 0..PHONE_MATCHED {
        let team = shared_email_owners.get(i).map(|owner| owner.team);
        let person = g.person_renumberable(team);
        let departed = i >= PHONE_MATCHED - TERMINATED_PHONE_SEATS;
        let (hr_form, agent_form) = PHONE_ONLY_FORMS[i % PHONE_ONLY_FORMS.len()];
        let hr_email = match shared_emails.get(i) {
            // HR pasted the colleague's address, or the team mailbox, into this row.
            Some(shared) => Some(shared.clone()),
            None if g.rng.random_bool(0.7) => Some(g.hr_email(&person)),
            None => None,
        };
        let hr_phone = write_phone(&person.phone, hr_form);
        let row = g.staff(&person, hr_email, Some(hr_phone), active(!departed));
        staff.push(row);
        let email = g.non_matching_email(&person);
        let phone = Field::Text(write_phone(&person.phone, agent_form));
        agents.push(g.seat(&person, email, phone, departed));
    }

    // AMBIGUOUS by email (2): the seat's email is in two HR rows.
    for (owner, shared) in shared_email_owners.iter().zip(&shared_emails) {
        let phone = g.hr_phone(owner);
        let row = g.staff(owner, Some(shared.clone()), Some(phone), active(true));
        staff.push(row);
        let email = Field::Text(g.agent_email_variant(shared));
        let phone = g.agent_phone(owner);
        agents.push(g.seat(owner, email, phone, false));
    }

    // AMBIGUOUS by phone (4): the seat has a personal email, so the phone decides, and it finds two rows:
    // this person's and the colleague's row HR pasted from it, or two rows with the team's desk landline.
    for person in &pasted_from {
        let phone = write_phone(&person.phone, PhoneForm::Plain);
        let row = g.work_row(person, Some(phone), active(true));
        staff.push(row);
        let email = g.personal_email_field(person);
        let phone = Field::Text(g.agent_phone_text(&person.phone));
        agents.push(g.seat(person, email, phone, false));
    }
    for (sharer, desk) in desk_sharers.iter().zip(&desks) {
        let person = g.person(Some(sharer.team));
        let row = g.work_row(&person, Some(desk.clone()), active(true));
        staff.push(row);
        let email = g.personal_email_field(&person);
        let phone = Field::Text(landline_intl(desk));
        agents.push(g.seat(&person, email, phone, false));
    }

    // CONFLICT (5): the seat's email is this person's, its phone their lead's.
    for lead in &leads {
        let person = g.person(Some(lead.team));
        let phone = g.hr_phone(&person);
        let row = g.work_row(&person, Some(phone), active(true));
        staff.push(row);
        let email = Field::Text(g.agent_email_variant(&person.work_email));
        let phone = Field::Text(g.agent_phone_text(&lead.phone));
        agents.push(g.seat(&person, email, phone, false));
    }

    // UNMATCHED (32, with the documentation's two): contractors of the outsourcing partner, absent from HR.
    for _ in 0..CONTRACTORS {
        let person = g.person(None);
        let email = if g.rng.random_bool(0.5) {
            let local = email_local(&person);
            Field::Text(g.unique_email(&local, "bpo-partner.vn"))
        } else {
            g.personal_email_field(&person)
        };
        let phone = Field::Text(g.agent_phone_text(&person.phone));
        let mut seat = g.seat_spec(&person, email, phone, false);
        if g.rng.random_bool(0.2) {
            seat.group = DEFAULT_GROUP;
        }
        agents.push(g.agent(seat));
    }
    // Seats of a tenant with privacy masking on: nothing usable. Two of these people are in HR.
    for i in 0..MASKED_SEATS {
        let person = g.person(None);
        if i < 2 {
            let phone = g.hr_phone(&person);
            staff.push(g.work_row(&person, Some(phone), active(true)));
        }
        let email = Field::Text(mask_email(&g.personal_email(&person)));
        let phone = Field::Text(mask_phone(&person.phone));
        agents.push(g.seat(&person, email, phone, false));
    }
    // Seats created without any contact details.
    for missing in [Field::Null, Field::Missing] {
        let person = g.person(None);
        let phone = match missing {
            Field::Null => Field::Text(String::new()),
            _ => Field::Missing,
        };
        agents.push(g.seat(&person, missing, phone, false));
    }
    // Service and test seats: what an admin marks with `ignore`.
    for (username, email, phone, group, role_id) in [
        (
            "Tổng đài tự động",
            Field::Text(format!("tongdai.auto@{WORK_DOMAIN}")),
            Field::Missing,
            (TEAMS[4].group_id, TEAMS[4].group_name),
            1,
        ),
        (
            "test.agent",
            Field::Text(format!("test.agent@{WORK_DOMAIN}")),
            Field::Text("0900000000".into()),
            DEFAULT_GROUP,
            1,
        ),
        (
            "Trực ca đêm",
            Field::Text(format!("trucdem@{WORK_DOMAIN}")),
            Field::Null,
            (TEAMS[0].group_id, TEAMS[0].group_name),
            1,
        ),
        (
            "CareSoft Support",
            Field::Text("support@caresoft.vn".into()),
            Field::Text("1900 1234 56".into()),
            DEFAULT_GROUP,
            3,
        ),
    ] {
        agents.push(g.agent(Seat {
            username: username.to_owned(),
            email,
            phone,
            group,
            role_id,
            idle: false,
        }));
    }

    // HR only. Đặng Phương Thu Thảo: her seat is the masked one of the documentation.
    let thao = g.person_named(
        ("Đặng", vec!["Phương", "Thu"], "Thảo"),
        "0886451238",
        &TEAMS[0],
    );
    let phone = write_phone(&thao.phone, PhoneForm::Spaced);
    staff.push(g.staff(
        &thao,
        Some(thao.work_email.clone()),
        Some(phone),
        EmployeeStatus::Active,
    ));
    // New hires waiting for a seat, some in departments that never get one.
    for i in 0..NEW_HIRES {
        let person = g.person(None);
        let phone = g.hr_phone(&person);
        let mut row = g.work_row(&person, Some(phone), EmployeeStatus::Active);
        if i % 2 == 0 {
            row.row.department = Some(BACK_OFFICE[i / 2 % BACK_OFFICE.len()].to_owned());
        }
        // Hired last: the highest codes.
        row.rank = g.rng.random_range(9_000..10_000);
        staff.push(row);
    }
    // Staff who left long ago, their seats already returned; their rows often still carry pre-2018 numbers.
    for _ in 0..LONG_GONE {
        let person = g.person(None);
        let phone = write_phone(
            &person.phone,
            if g.rng.random_bool(0.5) {
                PhoneForm::Old
            } else {
                PhoneForm::Plain
            },
        );
        let email = g.rng.random_bool(0.85).then(|| person.work_email.clone());
        let mut row = g.staff(&person, email, Some(phone), EmployeeStatus::Terminated);
        row.rank = g.rng.random_range(0..4_000);
        staff.push(row);
    }

    g.finish_agents(&mut agents);
    Dataset {
        agents,
        employees: number_staff(&mut g, staff),
    }
}

fn active(yes: bool) -> EmployeeStatus {
    if yes {
        EmployeeStatus::Active
    } else {
        EmployeeStatus::Terminated
    }
}

/// Assigns employee codes in hiring order and the CSV line of each row (header = line 1).
fn number_staff(g: &mut Generator, mut staff: Vec<Staff>) -> Vec<EmployeeRow> {
    staff.sort_by_key(|s| s.rank);
    let mut codes: Vec<u32> = Vec::with_capacity(staff.len());
    let mut next = 100;
    for _ in 0..staff.len() {
        // Gaps: codes of applicants who never started, or of rows HR deleted.
        next += g.rng.random_range(1..=4);
        codes.push(next);
    }
    staff
        .into_iter()
        .zip(codes)
        .enumerate()
        .map(|(i, (s, code))| EmployeeRow {
            line: i as u64 + 2,
            employee_code: format!("NV{code:05}"),
            ..s.row
        })
        .collect()
}

/// The seeded generator and the uniqueness it guarantees (ids, extensions, emails, phones).
#[derive(Debug)]
struct Generator {
    rng: StdRng,
    ids: HashSet<i64>,
    extensions: Vec<u32>,
    emails: HashSet<String>,
    phones: HashSet<String>,
}

impl Generator {
    fn new(seed: u64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut extensions: Vec<u32> = (5001..5999).filter(|e| *e != 5045).collect();
        extensions.shuffle(&mut rng);
        Generator {
            rng,
            ids: HashSet::new(),
            extensions,
            emails: HashSet::new(),
            phones: HashSet::new(),
        }
    }

    /// The documentation's values, so no generated agent collides with them.
    fn reserve_seed_values(&mut self) {
        self.ids.extend([142928097, 63203703]);
        self.phones.insert("0336842288".to_owned());
        self.phones.insert("0900000000".to_owned());
    }

    fn any_team(&mut self) -> &'static Team {
        let total: u32 = TEAMS.iter().map(|t| t.weight).sum();
        let mut pick = self.rng.random_range(0..total);
        for team in &TEAMS {
            if pick < team.weight {
                return team;
            }
            pick -= team.weight;
        }
        &TEAMS[0]
    }

    fn weighted<T: Copy>(&mut self, choices: &[(T, u32)]) -> T {
        let total: u32 = choices.iter().map(|(_, w)| w).sum();
        let mut pick = self.rng.random_range(0..total.max(1));
        for (value, weight) in choices {
            if pick < *weight {
                return *value;
            }
            pick -= weight;
        }
        choices[0].0
    }

    fn pick<T: Copy>(&mut self, choices: &[T]) -> T {
        *choices.choose(&mut self.rng).unwrap_or(&choices[0])
    }

    /// A new person with a unique work email and mobile, in `team` or a weighted random one.
    fn person(&mut self, team: Option<&'static Team>) -> Person {
        let team = team.unwrap_or_else(|| self.any_team());
        let female = self.rng.random_bool(0.62);
        let surname = self.weighted(&SURNAMES);
        let (middles, given): (&[&str], &[&str]) = if female {
            (&FEMALE_MIDDLE, &FEMALE_GIVEN)
        } else {
            (&MALE_MIDDLE, &MALE_GIVEN)
        };
        let mut chosen = vec![self.pick(middles)];
        if self.rng.random_bool(0.12) {
            let second = self.pick(middles);
            if second != chosen[0] {
                chosen.push(second);
            }
        }
        // Not "Nguyễn Minh Minh": the given name differs from the middle ones.
        let given = loop {
            let given = self.pick(given);
            if !chosen.contains(&given) {
                break given;
            }
        };
        let phone = self.mobile(false);
        self.finish_person(surname, chosen, given, phone, team)
    }

    /// A person whose mobile had an 11-digit number before 2018, so both spellings exist.
    fn person_renumberable(&mut self, team: Option<&'static Team>) -> Person {
        let mut person = self.person(team);
        self.phones.remove(&person.phone);
        person.phone = self.mobile(true);
        person
    }

    fn person_named(
        &mut self,
        (surname, middles, given): (&'static str, Vec<&'static str>, &'static str),
        phone: &str,
        team: &'static Team,
    ) -> Person {
        self.phones.insert(phone.to_owned());
        self.finish_person(surname, middles, given, phone.to_owned(), team)
    }

    fn finish_person(
        &mut self,
        surname: &'static str,
        middles: Vec<&'static str>,
        given: &'static str,
        phone: String,
        team: &'static Team,
    ) -> Person {
        let mut parts = vec![surname];
        parts.extend(&middles);
        parts.push(given);
        let mut person = Person {
            full_name: parts.join(" "),
            given,
            surname,
            middles,
            work_email: String::new(),
            phone,
            team,
        };
        let local = email_local(&person);
        // Vietnamese companies' usual fallback when `mai.nguyen` is taken: given name + initials (`maint`).
        let initials = format!("{}{}", fold_lower(person.given), initials(&person));
        person.work_email = if self.emails.contains(&format!("{local}@{WORK_DOMAIN}")) {
            self.unique_email(&initials, WORK_DOMAIN)
        } else {
            self.unique_email(&local, WORK_DOMAIN)
        };
        person
    }

    /// `local@domain`, with a number appended until it is unused.
    fn unique_email(&mut self, local: &str, domain: &str) -> String {
        let mut candidate = format!("{local}@{domain}");
        let mut n = 2;
        while !self.emails.insert(candidate.clone()) {
            candidate = format!("{local}{n}@{domain}");
            n += 1;
        }
        candidate
    }

    /// A unique mobile; `renumberable` keeps to prefixes that had an 11-digit form before 2018.
    fn mobile(&mut self, renumberable: bool) -> String {
        loop {
            let prefix = if renumberable {
                self.pick(&OLD_MOBILE_PREFIXES).1
            } else {
                self.pick(&MOBILE_PREFIXES)
            };
            let number = format!("{prefix}{:07}", self.rng.random_range(0..10_000_000));
            if self.phones.insert(number.clone()) {
                return number;
            }
        }
    }

    /// A desk landline in Hồ Chí Minh City, as HR writes it (`028 3822 1234`).
    fn landline(&mut self) -> String {
        loop {
            let digits = format!("0283{:07}", self.rng.random_range(0..10_000_000));
            if self.phones.insert(digits.clone()) {
                return format!("{} {} {}", &digits[..3], &digits[3..7], &digits[7..]);
            }
        }
    }

    /// A personal mailbox (`hungtran92@gmail.com`, `mai.nt95@gmail.com`, `nguyenmai1996@yahoo.com.vn`).
    fn personal_email(&mut self, person: &Person) -> String {
        let given = fold_lower(person.given);
        let surname = fold_lower(person.surname);
        let year = self.rng.random_range(1978..2004);
        let (local, domain) = match self.rng.random_range(0..4) {
            0 => (format!("{given}{surname}{:02}", year % 100), "gmail.com"),
            1 => (
                format!("{given}.{}{:02}", initials(person), year % 100),
                "gmail.com",
            ),
            2 => (format!("{surname}{given}{year}"), "yahoo.com.vn"),
            _ => (
                format!(
                    "{given}{}{surname}",
                    person
                        .middles
                        .iter()
                        .map(|m| fold_lower(m))
                        .collect::<String>()
                ),
                "gmail.com",
            ),
        };
        self.unique_email(&local, domain)
    }

    fn personal_email_field(&mut self, person: &Person) -> Field {
        if self.rng.random_bool(0.8) {
            Field::Text(self.personal_email(person))
        } else {
            Field::Null
        }
    }

    /// How HR writes a person's email: as given, or with capitals (`Mai.Nguyen@acme.vn`).
    fn hr_email(&mut self, person: &Person) -> String {
        if self.rng.random_bool(0.1) {
            capitalise_email(&person.work_email)
        } else {
            person.work_email.clone()
        }
    }

    /// How HR writes a person's phone.
    fn hr_phone(&mut self, person: &Person) -> String {
        let form = self.weighted(&HR_PHONE_FORMS);
        write_phone(&person.phone, form)
    }

    /// A seat's spelling of an email HR also has: mostly the same, sometimes capitalised or padded.
    fn agent_email_variant(&mut self, email: &str) -> String {
        let lower = email.to_lowercase();
        match self.rng.random_range(0..100) {
            0..70 => lower,
            70..84 => capitalise_email(&lower),
            84..92 => format!(" {lower} "),
            92..96 => format!("{lower} "),
            _ => lower.to_uppercase(),
        }
    }

    fn agent_phone_text(&mut self, canonical: &str) -> String {
        let form = self.weighted(&AGENT_PHONE_FORMS);
        write_phone(canonical, form)
    }

    /// A seat's phone when its email already matches: the same number, nothing, a masked number, or a
    /// second mobile HR does not know (which must not point at anyone).
    fn agent_phone(&mut self, person: &Person) -> Field {
        match self.rng.random_range(0..100) {
            0..60 => Field::Text(self.agent_phone_text(&person.phone)),
            60..68 => Field::Null,
            68..75 => Field::Missing,
            75..85 => Field::Text(mask_phone(&person.phone)),
            _ => {
                let second = self.mobile(false);
                Field::Text(self.agent_phone_text(&second))
            }
        }
    }

    /// A seat's email that reaches no employee, for seats found by phone.
    fn non_matching_email(&mut self, person: &Person) -> Field {
        match self.rng.random_range(0..100) {
            0..40 => Field::Text(self.personal_email(person)),
            40..55 => Field::Null,
            55..65 => Field::Missing,
            65..85 => Field::Text(mask_email(&self.personal_email(person))),
            _ => {
                let local = email_local(person);
                Field::Text(self.unique_email(&local, OLD_WORK_DOMAIN))
            }
        }
    }

    fn email_seat(&mut self, person: &Person, departed: bool) -> Value {
        let email = Field::Text(self.agent_email_variant(&person.work_email));
        let phone = self.agent_phone(person);
        self.seat(person, email, phone, departed)
    }

    fn seat(&mut self, person: &Person, email: Field, phone: Field, departed: bool) -> Value {
        let seat = self.seat_spec(person, email, phone, departed);
        self.agent(seat)
    }

    fn seat_spec(&mut self, person: &Person, email: Field, phone: Field, departed: bool) -> Seat {
        let team = person.team;
        let group = if self.rng.random_bool(0.03) {
            LEGACY_GROUP
        } else {
            (team.group_id, team.group_name)
        };
        let role_id = match self.rng.random_range(0..100) {
            _ if team.short == "GS" => 2,
            0 => 3,
            1..4 => 2,
            _ => 1,
        };
        let username = match self.rng.random_range(0..100) {
            // Typed without diacritics, as on a keyboard with no Vietnamese input method.
            0..7 => fold(&person.full_name),
            7..10 => format!("{} - {}", person.given, team.short),
            _ => person.full_name.clone(),
        };
        Seat {
            username,
            email,
            phone,
            group,
            role_id,
            idle: departed,
        }
    }

    /// Turns a seat into the wire object, assigning id, extension, times and statuses.
    fn agent(&mut self, seat: Seat) -> Value {
        let id = loop {
            let id = self.rng.random_range(10_000_000..200_000_000_i64);
            if self.ids.insert(id) {
                break id;
            }
        };
        let extension = if self.rng.random_bool(0.02) {
            Value::Null
        } else {
            self.extensions
                .pop()
                .map_or(Value::Null, |e| Value::String(e.to_string()))
        };
        let created_day = self.rng.random_range(0..(CREATED_TO - CREATED_FROM) / DAY);
        let created = CREATED_FROM + created_day * DAY + self.office_seconds();
        let updated_day = self
            .rng
            .random_range(created_day..(UPDATED_TO - CREATED_FROM) / DAY);
        let updated = (CREATED_FROM + updated_day * DAY + self.office_seconds()).max(created);

        let mut map = Map::new();
        map.insert("id".into(), json!(id));
        map.insert("username".into(), json!(seat.username));
        for (key, field) in [("email", seat.email), ("phone_no", seat.phone)] {
            match field {
                Field::Text(text) => {
                    map.insert(key.into(), Value::String(text));
                }
                Field::Null => {
                    map.insert(key.into(), Value::Null);
                }
                Field::Missing => {}
            }
        }
        map.insert("agent_id".into(), extension);
        map.insert("created_at".into(), json!(format_time(created)));
        map.insert("updated_at".into(), json!(format_time(updated)));
        map.insert("group_id".into(), json!(seat.group.0));
        map.insert("group_name".into(), json!(seat.group.1));
        map.insert("role_id".into(), json!(seat.role_id));
        let [call, ticket, chat] = self.statuses(seat.idle);
        map.insert("call_status".into(), json!(call));
        map.insert("ticket_status".into(), json!(ticket));
        map.insert("chat_status".into(), json!(chat));
        Value::Object(map)
    }

    /// 07:30–18:30, when seats get created and edited.
    fn office_seconds(&mut self) -> i64 {
        self.rng.random_range(27_000..66_600)
    }

    /// (call, ticket, chat) for a seat during office hours.
    fn statuses(&mut self, idle: bool) -> [&'static str; 3] {
        let logged_out = if idle { 0.85 } else { 0.3 };
        if self.rng.random_bool(logged_out) {
            return [LOGOUT; 3];
        }
        let mut online = |p: f64| {
            if self.rng.random_bool(p) {
                AVAILABLE
            } else {
                NOT_AVAILABLE
            }
        };
        let mut statuses = [online(0.55), online(0.6), online(0.5)];
        // Logged in on the phone app only: one channel stays logged out (the seed's last example).
        if self.rng.random_bool(0.1) {
            let channel = self.rng.random_range(0..3);
            statuses[channel] = LOGOUT;
        }
        statuses
    }

    /// Final touches over the whole list: older-format agents, unknown status values, id order.
    fn finish_agents(&mut self, agents: &mut [Value]) {
        // The two documentation agents stay verbatim.
        let generated: Vec<usize> = (2..agents.len()).collect();
        let chosen: Vec<usize> = generated
            .choose_multiple(&mut self.rng, OLD_FORMAT_AGENTS + UNKNOWN_STATUSES + 1)
            .copied()
            .collect();
        let (old_format, rest) = chosen.split_at(OLD_FORMAT_AGENTS);
        for &i in old_format {
            if let Some(map) = agents[i].as_object_mut() {
                // Older payloads: `login_status` (standing for the ticket channel) and `call_status` only.
                let ticket = map.remove("ticket_status").unwrap_or(Value::Null);
                map.remove("chat_status");
                map.insert("login_status".into(), ticket);
            }
        }
        let (unknown, no_chat) = rest.split_at(UNKNOWN_STATUSES);
        for (n, &i) in unknown.iter().enumerate() {
            if let Some(map) = agents[i].as_object_mut() {
                let channel = ["call_status", "chat_status", "ticket_status"][n % 3];
                map.insert(
                    channel.into(),
                    json!(UNKNOWN_VALUES[n % UNKNOWN_VALUES.len()]),
                );
            }
        }
        // One agent whose chat channel CareSoft does not report at all.
        for &i in no_chat {
            if let Some(map) = agents[i].as_object_mut() {
                map.remove("chat_status");
            }
        }
        agents.sort_by_key(|a| a.get("id").and_then(Value::as_i64).unwrap_or_default());
    }

    /// An HR row with the person's work email, as HR writes it.
    fn work_row(
        &mut self,
        person: &Person,
        phone: Option<String>,
        status: EmployeeStatus,
    ) -> Staff {
        let email = self.hr_email(person);
        self.staff(person, Some(email), phone, status)
    }

    fn staff(
        &mut self,
        person: &Person,
        email: Option<String>,
        phone: Option<String>,
        status: EmployeeStatus,
    ) -> Staff {
        // Some people moved department; CareSoft still has them in their old group.
        let department = if self.rng.random_bool(0.05) {
            self.any_team().department
        } else {
            person.team.department
        };
        Staff {
            rank: self.rng.random_range(2_000..9_000),
            row: EmployeeRow {
                line: 0,
                employee_code: String::new(),
                full_name: Some(person.full_name.clone()),
                email,
                phone,
                department: Some(department.to_owned()),
                status,
            },
        }
    }
}

/// `mai.nguyen` for Nguyễn Thị Mai.
fn email_local(person: &Person) -> String {
    format!(
        "{}.{}",
        fold_lower(person.given),
        fold_lower(person.surname)
    )
}

/// `nt` for Nguyễn Thị Mai: family and middle names' initials.
fn initials(person: &Person) -> String {
    std::iter::once(person.surname)
        .chain(person.middles.iter().copied())
        .filter_map(|part| fold_lower(part).chars().next())
        .collect()
}

/// `Mai.Nguyen@acme.vn`: each dot-separated part of the local part capitalised.
fn capitalise_email(email: &str) -> String {
    let (local, domain) = email.split_once('@').unwrap_or((email, ""));
    let local: Vec<String> = local
        .split('.')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect();
    format!("{}@{domain}", local.join("."))
}

/// CareSoft's privacy mask: `thut***@gmail.com`.
fn mask_email(email: &str) -> String {
    let (local, domain) = email.split_once('@').unwrap_or((email, ""));
    let keep: String = local.chars().take(4).collect();
    format!("{keep}***@{domain}")
}

/// CareSoft's privacy mask: `08***8`.
fn mask_phone(phone: &str) -> String {
    let head: String = phone.chars().take(2).collect();
    let tail: String = phone.chars().last().map(String::from).unwrap_or_default();
    format!("{head}***{tail}")
}

/// Spells a national 10-digit mobile in one of the ways people write it.
fn write_phone(canonical: &str, form: PhoneForm) -> String {
    let nsn = &canonical[1..];
    let (a, b, c) = (&nsn[..3], &nsn[3..6], &nsn[6..]);
    let old = old_form(canonical);
    match (form, old) {
        (PhoneForm::Plain, _) | (PhoneForm::Old, None) => canonical.to_owned(),
        (PhoneForm::Spaced, _) | (PhoneForm::OldSpaced, None) => format!("0{a} {b} {c}"),
        (PhoneForm::Dotted, _) => format!("0{a}.{b}.{c}"),
        (PhoneForm::Intl, _) => format!("+84 {a} {b} {c}"),
        (PhoneForm::IntlCompact, _) => format!("+84{nsn}"),
        (PhoneForm::CountryDash, _) => format!("84-{a}-{b}-{c}"),
        (PhoneForm::IntlZero, _) => format!("+84 (0) {a} {b} {c}"),
        (PhoneForm::DroppedZero, _) => nsn.to_owned(),
        (PhoneForm::Old, Some(old)) => old,
        (PhoneForm::OldSpaced, Some(old)) => format!("{} {} {}", &old[..5], &old[5..8], &old[8..]),
    }
}

/// `028 3822 1234` → `+84 28 3822 1234`.
fn landline_intl(written: &str) -> String {
    format!("+84 {}", written.trim_start_matches('0'))
}

/// `YYYY-MM-DD HH:MM:SS` of seconds since the epoch (wall-clock time, no zone).
fn format_time(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// ASCII-folds Vietnamese text: `Đặng Phương Thu Thảo` → `Dang Phuong Thu Thao`.
fn fold(text: &str) -> String {
    text.chars().map(fold_char).collect()
}

fn fold_lower(text: &str) -> String {
    fold(text).to_lowercase().replace(' ', "")
}

fn fold_char(c: char) -> char {
    const GROUPS: [(&str, char); 14] = [
        ("àáảãạăằắẳẵặâầấẩẫậ", 'a'),
        ("ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬ", 'A'),
        ("đ", 'd'),
        ("Đ", 'D'),
        ("èéẻẽẹêềếểễệ", 'e'),
        ("ÈÉẺẼẸÊỀẾỂỄỆ", 'E'),
        ("ìíỉĩị", 'i'),
        ("ÌÍỈĨỊ", 'I'),
        ("òóỏõọôồốổỗộơờớởỡợ", 'o'),
        ("ÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢ", 'O'),
        ("ùúủũụưừứửữự", 'u'),
        ("ÙÚỦŨỤƯỪỨỬỮỰ", 'U'),
        ("ỳýỷỹỵ", 'y'),
        ("ỲÝỶỸỴ", 'Y'),
    ];
    GROUPS
        .iter()
        .find(|(set, _)| set.contains(c))
        .map_or(c, |(_, base)| *base)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use super::*;
    use crate::hr::csv_parse::{ParsedCsv, parse_employees};
    use crate::reconcile::keys::{email_key, phone_key};

    /// What the matching rules of DESIGN.md would make of one agent (the same precedence as
    /// `reconcile::matching::decide`, without manual overrides).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    enum Outcome {
        Email(usize),
        Phone(usize),
        Ambiguous,
        Conflict,
        Unmatched,
    }

    fn text<'a>(agent: &'a Value, field: &str) -> Option<&'a str> {
        agent.get(field).and_then(Value::as_str)
    }

    fn outcomes(agents: &[Value], employees: &[EmployeeRow]) -> Vec<Outcome> {
        let mut by_email: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_phone: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, e) in employees.iter().enumerate() {
            if let Some(key) = e.email.as_deref().and_then(email_key) {
                by_email.entry(key).or_default().push(i);
            }
            if let Some(key) = e.phone.as_deref().and_then(phone_key) {
                by_phone.entry(key).or_default().push(i);
            }
        }
        let empty = Vec::new();
        agents
            .iter()
            .map(|agent| {
                let email = text(agent, "email").and_then(email_key);
                let phone = text(agent, "phone_no").and_then(phone_key);
                let hits_e = email.and_then(|k| by_email.get(&k)).unwrap_or(&empty);
                let hits_p = phone.and_then(|k| by_phone.get(&k)).unwrap_or(&empty);
                match (hits_e.as_slice(), hits_p.as_slice()) {
                    ([a], [b]) if a != b => Outcome::Conflict,
                    ([a], _) => Outcome::Email(*a),
                    ([], [b]) => Outcome::Phone(*b),
                    ([], []) => Outcome::Unmatched,
                    _ => Outcome::Ambiguous,
                }
            })
            .collect()
    }

    #[test]
    fn the_sample_shows_every_matching_case_in_its_designed_numbers() {
        // Arrange
        let agents = sample_agents();
        let employees = sample_employees();

        // Act
        let outcomes = outcomes(&agents, &employees);

        // Assert
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        let mut seated: HashSet<usize> = HashSet::new();
        let mut reached: HashSet<usize> = HashSet::new();
        for (agent, outcome) in agents.iter().zip(&outcomes) {
            let case = match outcome {
                Outcome::Email(_) => "matched by email",
                Outcome::Phone(_) => "matched by phone",
                Outcome::Ambiguous => "ambiguous",
                Outcome::Conflict => "conflict",
                Outcome::Unmatched => "unmatched",
            };
            *counts.entry(case).or_default() += 1;
            if let Outcome::Email(e) | Outcome::Phone(e) = outcome {
                assert!(seated.insert(*e), "employee {e} holds two seats");
            }
            // Every employee any key of this agent reaches, whatever the outcome.
            for (field, key) in [
                ("email", email_key as fn(&str) -> Option<String>),
                ("phone_no", phone_key),
            ] {
                let Some(k) = text(agent, field).and_then(key) else {
                    continue;
                };
                for (i, e) in employees.iter().enumerate() {
                    let theirs = if field == "email" {
                        e.email.as_deref()
                    } else {
                        e.phone.as_deref()
                    };
                    if theirs.and_then(key).as_deref() == Some(k.as_str()) {
                        reached.insert(i);
                    }
                }
            }
        }
        let terminated_with_seat = seated
            .iter()
            .filter(|&&e| employees[e].status == EmployeeStatus::Terminated)
            .count();
        let active = |e: &&EmployeeRow| e.status == EmployeeStatus::Active;
        let without_matched_seat = employees
            .iter()
            .enumerate()
            .filter(|(i, e)| active(e) && !seated.contains(i))
            .count();
        let without_any_seat = employees
            .iter()
            .enumerate()
            .filter(|(i, e)| active(e) && !reached.contains(i))
            .count();
        let terminated = employees.iter().filter(|e| !active(e)).count();
        let phone_spelled_differently = agents
            .iter()
            .zip(&outcomes)
            .filter(|(a, o)| matches!(o, Outcome::Phone(e) if text(a, "phone_no") != employees[*e].phone.as_deref()))
            .count();
        let email_spelled_differently = agents
            .iter()
            .zip(&outcomes)
            .filter(|(a, o)| matches!(o, Outcome::Email(e) if text(a, "email") != employees[*e].email.as_deref()))
            .count();

        let got = (
            agents.len(),
            employees.len(),
            counts,
            terminated_with_seat,
            terminated,
            without_matched_seat,
            without_any_seat,
            phone_spelled_differently,
        );
        let want = (
            300,
            320,
            BTreeMap::from([
                ("ambiguous", 6),
                ("conflict", 5),
                ("matched by email", 212),
                ("matched by phone", 45),
                ("unmatched", 32),
            ]),
            15,
            57,
            21,
            10,
            45,
        );
        assert_eq!(got, want);
        assert!(
            (30..100).contains(&email_spelled_differently),
            "email matches written differently on the two sides: {email_spelled_differently}"
        );
    }

    #[test]
    fn the_csv_parses_back_into_exactly_the_sample_employees() {
        // Arrange
        let csv = sample_employees_csv();

        // Act
        let parsed = parse_employees(csv.as_bytes()).expect("the sample CSV is a readable table");

        // Assert
        assert!(csv.starts_with('\u{FEFF}'), "Excel's BOM");
        assert_eq!(
            parsed,
            ParsedCsv {
                rows: sample_employees(),
                errors: vec![],
            }
        );
    }

    #[test]
    fn the_documentation_agents_are_included_verbatim() {
        let agents = sample_agents();
        let find = |id: i64| {
            agents
                .iter()
                .find(|a| a.get("id").and_then(Value::as_i64) == Some(id))
                .cloned()
        };
        assert_eq!(
            find(142928097),
            Some(json!({
                "id": 142928097, "username": "Sample", "email": "[email protected]",
                "phone_no": "0336842288", "agent_id": "50007", "created_at": "2022-07-08 09:48:41",
                "updated_at": "2022-08-08 17:42:08", "group_id": 12153, "group_name": "Default Group",
                "role_id": 1, "login_status": "AVAILABLE", "call_status": "AVAILABLE"
            }))
        );
        assert_eq!(
            find(63203703),
            Some(json!({
                "id": 63203703, "username": "Đặng Phương Thu Thảo", "email": "thut***@gmail.com",
                "phone_no": "08***8", "agent_id": "5045", "created_at": "2021-08-25 15:17:20",
                "updated_at": "2025-10-15 11:31:52", "group_id": 15257,
                "group_name": "Không xóa bộ phận cũ đi nhé", "role_id": 1, "call_status": "AVAILABLE",
                "ticket_status": "AVAILABLE", "chat_status": "AVAILABLE"
            }))
        );
    }

    #[test]
    fn agents_look_like_caresoft_sends_them() {
        let agents = sample_agents();
        let mut ids = HashSet::new();
        let mut extensions = HashSet::new();
        let mut groups: BTreeMap<i64, &str> = BTreeMap::new();
        let mut statuses: BTreeMap<&str, usize> = BTreeMap::new();
        let mut older_format = 0;
        for agent in &agents {
            let id = agent.get("id").and_then(Value::as_i64).expect("integer id");
            assert!(
                (10_000_000..1_000_000_000).contains(&id),
                "8 or 9 digits: {id}"
            );
            assert!(ids.insert(id), "duplicate id {id}");
            if let Some(extension) = text(agent, "agent_id") {
                assert!(extension.chars().all(|c| c.is_ascii_digit()), "{extension}");
                assert!(
                    extensions.insert(extension),
                    "duplicate extension {extension}"
                );
            }
            let created = text(agent, "created_at").expect("created_at");
            let updated = text(agent, "updated_at").expect("updated_at");
            for stamp in [created, updated] {
                chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S").expect(stamp);
            }
            assert!(created <= updated, "{created} after {updated}");
            let group_id = agent
                .get("group_id")
                .and_then(Value::as_i64)
                .expect("group_id");
            let group_name = text(agent, "group_name").expect("group_name");
            assert_eq!(
                *groups.entry(group_id).or_insert(group_name),
                group_name,
                "one name per group"
            );
            let role = agent
                .get("role_id")
                .and_then(Value::as_i64)
                .expect("role_id");
            assert!((1..=3).contains(&role));
            if agent.get("login_status").is_some() {
                older_format += 1;
                assert!(agent.get("chat_status").is_none() && agent.get("ticket_status").is_none());
            }
            for channel in [
                "call_status",
                "chat_status",
                "ticket_status",
                "login_status",
            ] {
                if let Some(status) = text(agent, channel) {
                    *statuses.entry(status).or_default() += 1;
                }
            }
        }
        assert!((6..=8).contains(&groups.len()), "{groups:?}");
        assert_eq!(
            older_format,
            OLD_FORMAT_AGENTS + 1,
            "with the documentation's Sample"
        );
        for known in [AVAILABLE, NOT_AVAILABLE, LOGOUT] {
            assert!(statuses[known] > 50, "{known}: {statuses:?}");
        }
        let unknown: usize = UNKNOWN_VALUES.iter().filter_map(|v| statuses.get(v)).sum();
        assert_eq!(unknown, UNKNOWN_STATUSES);
        let masked = agents
            .iter()
            .filter(|a| text(a, "email").is_some_and(|e| e.contains('*')))
            .count();
        assert!(masked >= 5, "masked emails: {masked}");
        for seat in ["Tổng đài tự động", "test.agent"] {
            assert!(
                agents.iter().any(|a| text(a, "username") == Some(seat)),
                "{seat}"
            );
        }
    }

    #[test]
    fn employee_rows_are_numbered_like_the_csv() {
        for (i, row) in sample_employees().iter().enumerate() {
            assert_eq!(row.line, i as u64 + 2);
            let digits = row.employee_code.strip_prefix("NV").expect("NV prefix");
            assert!(
                digits.len() == 5 && digits.chars().all(|c| c.is_ascii_digit()),
                "{}",
                row.employee_code
            );
            assert!(
                row.full_name
                    .as_deref()
                    .is_some_and(|n| n.split(' ').count() >= 3)
            );
        }
    }

    #[test]
    fn the_sample_is_the_same_on_every_run() {
        let (first, second) = (build(), build());
        assert_eq!(first.agents, second.agents);
        assert_eq!(first.employees, second.employees);
    }

    #[test]
    fn ascii_folding_drops_every_vietnamese_mark() {
        assert_eq!(fold("Đặng Phương Thu Thảo"), "Dang Phuong Thu Thao");
        assert_eq!(fold_lower("Nguyễn Thị Mai"), "nguyenthimai");
        let all = "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ";
        assert!(fold(all).is_ascii());
        assert!(fold(&all.to_uppercase()).is_ascii());
    }

    #[test]
    fn every_phone_spelling_has_the_key_of_the_number() {
        for number in ["0336842288", "0912345678", "0701234567", "0591234567"] {
            for form in [
                PhoneForm::Plain,
                PhoneForm::Spaced,
                PhoneForm::Dotted,
                PhoneForm::Intl,
                PhoneForm::IntlCompact,
                PhoneForm::CountryDash,
                PhoneForm::IntlZero,
                PhoneForm::DroppedZero,
                PhoneForm::Old,
                PhoneForm::OldSpaced,
            ] {
                let written = write_phone(number, form);
                assert_eq!(
                    phone_key(&written).as_deref(),
                    Some(number),
                    "{form:?}: {written}"
                );
            }
        }
        assert_eq!(
            write_phone("0336842288", PhoneForm::OldSpaced),
            "01636 842 288"
        );
        assert_eq!(
            phone_key(&landline_intl("028 3822 1234")).as_deref(),
            Some("02838221234")
        );
    }
}

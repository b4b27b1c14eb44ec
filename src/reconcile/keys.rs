//! Match keys: the normalised email and phone values that reconcile CareSoft agents with HR employees.
//!
//! Both sides type these by hand (agent profiles in CareSoft, a spreadsheet in HR), so the same person shows up
//! as `Thu.Thao@Corp.vn ` on one side and `thu.thao@corp.vn` on the other, or as `+84 336 842 288` and
//! `0336842288`. The functions here turn each raw value into one canonical key, or `None` when the value cannot
//! identify anyone (empty, too short, or masked with `*` by CareSoft's privacy settings). The rules are the
//! contract in DESIGN.md "Matching rules"; they are pure and never panic on any input.

/// Trims whitespace and the invisible characters that copy-paste leaves around values.
///
/// `char::is_whitespace` covers NBSP (U+00A0) and the ideographic space (U+3000), but not the zero-width
/// characters nor the byte-order mark, which arrive from Word, web pages and Excel exports and are just as
/// invisible to the person who typed the value.
pub fn trim_blank(raw: &str) -> &str {
    raw.trim_matches(is_blank)
}

/// True for whitespace and for the invisible characters a user never means as part of a value.
pub fn is_blank(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{200B}' // zero-width space
                | '\u{200C}' // zero-width non-joiner
                | '\u{200D}' // zero-width joiner
                | '\u{2060}' // word joiner
                | '\u{FEFF}' // byte-order mark / zero-width no-break space
        )
}

/// Email key: the address trimmed (Unicode-aware, see [`trim_blank`]) and lowercased.
///
/// `None` when nothing is left or when the value is masked (contains `*`): a masked address would otherwise
/// match every other address masked the same way.
pub fn email_key(raw: &str) -> Option<String> {
    let trimmed = trim_blank(raw);
    if trimmed.is_empty() || trimmed.contains('*') {
        return None;
    }
    Some(trimmed.to_lowercase())
}

/// The 2018 renumbering of 11-digit mobile numbers: old four-digit prefix (with its leading 0) → new
/// three-digit prefix. The subscriber part (the last 7 digits) is unchanged.
pub const OLD_MOBILE_PREFIXES: [(&str, &str); 21] = [
    ("0120", "070"),
    ("0121", "079"),
    ("0122", "077"),
    ("0126", "076"),
    ("0128", "078"),
    ("0123", "083"),
    ("0124", "084"),
    ("0125", "085"),
    ("0127", "081"),
    ("0129", "082"),
    ("0162", "032"),
    ("0163", "033"),
    ("0164", "034"),
    ("0165", "035"),
    ("0166", "036"),
    ("0167", "037"),
    ("0168", "038"),
    ("0169", "039"),
    ("0186", "056"),
    ("0188", "058"),
    ("0199", "059"),
];

/// The pre-2018 11-digit form of a 10-digit national mobile number whose prefix was renumbered (the table
/// above read backwards), for sample data and benchmarks that must write numbers as old records hold them.
pub fn old_form(national: &str) -> Option<String> {
    OLD_MOBILE_PREFIXES
        .iter()
        .find(|(_, new)| national.len() == 10 && national.starts_with(new))
        .map(|(old, _)| format!("{old}{}", &national[3..]))
}

/// Phone key: the number in Vietnamese national form (leading `0`, mobile numbers in their post-2018 10-digit
/// form), as digits only.
///
/// `None` when the value is masked (contains `*`) or has fewer than 9 digits.
///
/// The rules run in this order, and the order matters:
///
/// 1. **Masked** values are refused before cleaning, because cleaning would drop the `*` and leave a
///    plausible-looking fragment such as `088`.
/// 2. **Cleaning** keeps digits only; full-width digits `０`–`９` (typed with a Vietnamese or East-Asian IME)
///    count as their ASCII digits rather than being dropped, since dropping them would silently shorten the
///    number. Fewer than 9 digits left → `None`.
/// 3. **Country code** (`84`, `0084`, or `+84` which is `84` once `+` is gone) comes off first, so that every
///    later rule sees a national number whatever form it arrived in. It comes off only when what follows is
///    a national significant number (NSN, never starting with `0`): 9 digits (today's mobiles), or 10 digits
///    that are an old mobile without its `0` (`84 168 123 4567`) or a landline (area codes start with `2`:
///    `84 24 3826 1234`). The NSN then gets the national `0`. A `0` right after the country code is the
///    `+84 (0) 336 842 288` habit of email signatures: it is skipped when the rest is an NSN. Requiring an
///    NSN after the `84` is what keeps a domestic number that merely starts with `84` (a bare 9-digit
///    `084…` mobile whose `0` a spreadsheet dropped) from losing its first two digits.
/// 4. **Dropped leading zero** (spreadsheets store phone numbers as integers): a bare 9-digit number not
///    starting with `0` gets a `0`; so does a 10-digit number starting with an old mobile prefix without its
///    `0` (`168 123 4567`). This runs after step 3 so that `84` + 9 digits is not mistaken for anything else,
///    and before step 5 so the restored number is then renumbered.
/// 5. **2018 renumbering**: an 11-digit number starting with an old prefix of the table above gets its new
///    prefix. It runs last because steps 3 and 4 are what bring the other spellings of an old number to the
///    11-digit `01xx…` form.
///
/// Landline area codes are never rewritten (`024 3826 1234` stays `02438261234`, and a pre-2017 `04 3826 1234`
/// stays `0438261234`): the contract renumbers mobiles only. Digits that fit none of the rules (a cell holding
/// two numbers, an extension) are kept as they are: such a key simply matches nothing.
pub fn phone_key(raw: &str) -> Option<String> {
    if raw.contains('*') {
        return None;
    }
    let digits: String = raw.chars().filter_map(ascii_digit).collect();
    if digits.len() < 9 {
        return None;
    }
    let national = strip_country_code(&digits).unwrap_or(digits);
    let national = restore_dropped_zero(national);
    Some(renumber_old_mobile(national))
}

/// Maps ASCII and full-width digits to ASCII; everything else is noise to drop.
fn ascii_digit(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        // Full-width digits U+FF10..=U+FF19 sit in the same order as ASCII '0'..='9'.
        '\u{FF10}'..='\u{FF19}' => char::from_u32(u32::from(c) - 0xFF10 + u32::from('0')),
        _ => None,
    }
}

/// `84…` / `0084…` → `0` + NSN, when what follows the country code (after an optional `(0)`) is an NSN.
fn strip_country_code(digits: &str) -> Option<String> {
    let rest = digits
        .strip_prefix("0084")
        .or_else(|| digits.strip_prefix("84"))?;
    let nsn = if is_nsn(rest) {
        rest
    } else {
        rest.strip_prefix('0').filter(|r| is_nsn(r))?
    };
    Some(format!("0{nsn}"))
}

/// A national significant number: what follows `+84`, or the national `0`.
fn is_nsn(s: &str) -> bool {
    match s.len() {
        9 => !s.starts_with('0'),
        10 => s.starts_with('2') || starts_with_old_prefix_without_zero(s),
        _ => false,
    }
}

/// True when `s` begins with one of the old mobile prefixes minus its `0` (`120`…`129`, `162`…, `199`).
fn starts_with_old_prefix_without_zero(s: &str) -> bool {
    OLD_MOBILE_PREFIXES
        .iter()
        .any(|(old, _)| s.starts_with(&old[1..]))
}

/// Puts back the leading `0` that a spreadsheet dropped.
fn restore_dropped_zero(digits: String) -> String {
    let dropped = match digits.len() {
        // A 9-digit value that still starts with 0 lost something else, not its leading zero.
        9 => !digits.starts_with('0'),
        10 => starts_with_old_prefix_without_zero(&digits),
        _ => false,
    };
    if dropped {
        format!("0{digits}")
    } else {
        digits
    }
}

/// `01xx` + 7 digits → new 3-digit prefix + the same 7 digits.
fn renumber_old_mobile(digits: String) -> String {
    if digits.len() != 11 {
        return digits;
    }
    OLD_MOBILE_PREFIXES
        .iter()
        .find_map(|(old, new)| digits.strip_prefix(old).map(|rest| format!("{new}{rest}")))
        .unwrap_or(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_key_normalises_case_and_invisible_padding() {
        let cases: &[(&str, Option<&str>)] = &[
            ("thu.thao@corp.vn", Some("thu.thao@corp.vn")),
            ("Thu.Thao@Corp.VN", Some("thu.thao@corp.vn")),
            ("  thao@corp.vn\t\r\n", Some("thao@corp.vn")),
            ("\u{00A0}thao@corp.vn\u{00A0}", Some("thao@corp.vn")),
            ("\u{200B}thao@corp.vn\u{200B}", Some("thao@corp.vn")),
            ("\u{FEFF}thao@corp.vn", Some("thao@corp.vn")),
            ("\u{3000}thao@corp.vn\u{3000}", Some("thao@corp.vn")),
            ("ĐẶNG@corp.vn", Some("đặng@corp.vn")),
            ("th***@corp.vn", None),
            ("*", None),
            ("", None),
            ("   ", None),
            ("\u{00A0}\u{200B}\u{FEFF}", None),
        ];
        for (raw, want) in cases {
            assert_eq!(email_key(raw).as_deref(), *want, "email_key({raw:?})");
        }
    }

    #[test]
    fn phone_key_converts_every_old_prefix_in_its_zero_form() {
        let cases: &[(&str, &str)] = &[
            ("01201234567", "0701234567"),
            ("01211234567", "0791234567"),
            ("01221234567", "0771234567"),
            ("01261234567", "0761234567"),
            ("01281234567", "0781234567"),
            ("01231234567", "0831234567"),
            ("01241234567", "0841234567"),
            ("01251234567", "0851234567"),
            ("01271234567", "0811234567"),
            ("01291234567", "0821234567"),
            ("01621234567", "0321234567"),
            ("01631234567", "0331234567"),
            ("01641234567", "0341234567"),
            ("01651234567", "0351234567"),
            ("01661234567", "0361234567"),
            ("01671234567", "0371234567"),
            ("01681234567", "0381234567"),
            ("01691234567", "0391234567"),
            ("01861234567", "0561234567"),
            ("01881234567", "0581234567"),
            ("01991234567", "0591234567"),
        ];
        assert_eq!(
            cases.len(),
            OLD_MOBILE_PREFIXES.len(),
            "one case per prefix"
        );
        for (raw, want) in cases {
            assert_eq!(phone_key(raw).as_deref(), Some(*want), "phone_key({raw:?})");
        }
    }

    #[test]
    fn phone_key_normalises_the_other_spellings() {
        let cases: &[(&str, Option<&str>)] = &[
            // Already canonical, and punctuation around it.
            ("0336842288", Some("0336842288")),
            ("0336.842.288", Some("0336842288")),
            ("0336-842-288", Some("0336842288")),
            ("0336 842 288", Some("0336842288")),
            ("(0336) 842 288", Some("0336842288")),
            // Country code in its three spellings, with and without the "(0)" of signatures.
            ("84336842288", Some("0336842288")),
            ("+84336842288", Some("0336842288")),
            ("+84 336 842 288", Some("0336842288")),
            ("0084 336 842 288", Some("0336842288")),
            ("+84 (0) 336 842 288", Some("0336842288")),
            ("+84 (0)336842288", Some("0336842288")),
            ("0084 (0) 336 842 288", Some("0336842288")),
            ("84 0336 842 288", Some("0336842288")),
            // Old numbers with a country code: 84 + 10 national digits.
            ("0084 168 123 4567", Some("0381234567")),
            ("+84 168 123 4567", Some("0381234567")),
            ("84 1201234567", Some("0701234567")),
            ("+84 (0) 199 123 4567", Some("0591234567")),
            ("+84 186-123-4567", Some("0561234567")),
            // Leading zero dropped by a spreadsheet.
            ("336842288", Some("0336842288")),
            ("912345678", Some("0912345678")),
            ("841234567", Some("0841234567")),
            ("1681234567", Some("0381234567")),
            ("1291234567", Some("0821234567")),
            ("1881234567", Some("0581234567")),
            // 160 and 161 were never mobile prefixes: not renumbered, not given a zero.
            ("1601234567", Some("1601234567")),
            // Masked.
            ("08***8", None),
            ("0336***288", None),
            ("*", None),
            // Too short.
            ("12345", None),
            ("", None),
            ("   ", None),
            ("+84", None),
            ("33684228", None),
            ("0336-842-2", None),
            // A 9-digit value that kept its zero lost another digit: left alone.
            ("033684228", Some("033684228")),
            // Landlines: area codes are never rewritten; with a country code they get the national 0.
            ("024 3826 1234", Some("02438261234")),
            ("(024) 3826-1234", Some("02438261234")),
            ("028 3822 1234", Some("02838221234")),
            ("0236 382 1234", Some("02363821234")),
            ("+84 24 3826 1234", Some("02438261234")),
            ("+84 (0) 28 3822 1234", Some("02838221234")),
            ("04 3826 1234", Some("0438261234")),
            // Unicode noise and full-width digits.
            (
                "\u{00A0}0336\u{00A0}842\u{00A0}288\u{00A0}",
                Some("0336842288"),
            ),
            ("\u{200B}0336842288\u{FEFF}", Some("0336842288")),
            ("0336\u{3000}842\u{3000}288", Some("0336842288")),
            ("０３３６８４２２８８", Some("0336842288")),
            ("＋８４ ３３６ ８４２ ２８８", Some("0336842288")),
            ("０１６８ １２３ ４５６７", Some("0381234567")),
            // Other Unicode digits are not phone digits: dropped, which here leaves too few.
            ("٠٣٣٦٨٤٢٢٨٨", None),
        ];
        for (raw, want) in cases {
            assert_eq!(phone_key(raw).as_deref(), *want, "phone_key({raw:?})");
        }
    }

    #[test]
    fn trim_blank_removes_only_the_edges() {
        let cases: &[(&str, &str)] = &[
            ("\u{FEFF} a b \u{00A0}", "a b"),
            ("a\u{00A0}b", "a\u{00A0}b"),
            ("\u{200B}\u{200C}\u{200D}\u{2060}", ""),
        ];
        for (raw, want) in cases {
            assert_eq!(trim_blank(raw), *want, "trim_blank({raw:?})");
        }
    }
}

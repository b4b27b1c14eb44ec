//! Text search that fits Vietnamese: one folding function for the text stored per searchable row and for
//! every search term, so `nguyen`, `Nguyễn`, `NGUYỄN` and the NFD spelling of `Nguyễn` find the same rows
//! and `dang` finds `Đặng`, on every engine (no engine's `LOWER()` is relied on: SQLite's folds ASCII only).
//!
//! It lives below the entities because the migration that backfills the stored text folds with it too.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Folds `text` for search: NFC, lowercase, combining marks removed (tones and vowel marks: ễ → e,
/// ư → u, ơ → o, ă → a), đ → d, and every run of whitespace made one space, trimmed.
///
/// Done in one pass over the canonical decomposition (NFD), lowercasing each letter and dropping the marks
/// split from it: the same letters as NFC then lowercase then NFD, since both forms decompose alike, without
/// building two normalised copies. `đ` has no decomposition (it is a letter of its own, not d with a mark),
/// hence its rule. ASCII text (codes, emails, phones) skips the normalisation.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    let mut push = |c: char, out: &mut String| {
        if c.is_whitespace() {
            space = !out.is_empty();
            return;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    };
    if text.is_ascii() {
        for c in text.chars() {
            push(c.to_ascii_lowercase(), &mut out);
        }
        return out;
    }
    for c in text.nfd().filter(|c| !is_combining_mark(*c)) {
        for lower in c.to_lowercase() {
            // A lowercase mapping may itself carry a mark (İ → i + U+0307).
            if !is_combining_mark(lower) {
                push(if lower == 'đ' { 'd' } else { lower }, &mut out);
            }
        }
    }
    out
}

/// The folded words of `text`: split on anything that is not a letter or a digit, so `thao.dpt`,
/// `CSKH - Thảo` and `Đặng Phương  Thu Thảo` give their words.
pub fn words(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The given name of a Vietnamese full name, folded: its last word (`Đặng Phương Thu Thảo` → `thao`).
pub fn given_name(full_name: &str) -> Option<String> {
    words(full_name).pop()
}

/// The stored search text of a row: each present field folded, one per line. A term never holds a line
/// break (folding makes it one space), so a match never spans two fields.
pub fn search_text<'a>(fields: impl IntoIterator<Item = Option<&'a str>>) -> String {
    let folded: Vec<String> = fields
        .into_iter()
        .flatten()
        .map(fold)
        .filter(|f| !f.is_empty())
        .collect();
    folded.join("\n")
}

/// The stored search text of an agent: username, email, phone and extension.
pub fn agent_search_text(
    username: Option<&str>,
    email: Option<&str>,
    phone: Option<&str>,
    extension: Option<&str>,
) -> String {
    search_text([username, email, phone, extension])
}

/// The stored search text of an employee: code, full name, email, phone and department.
pub fn employee_search_text(
    code: &str,
    full_name: Option<&str>,
    email: Option<&str>,
    phone: Option<&str>,
    department: Option<&str>,
) -> String {
    search_text([Some(code), full_name, email, phone, department])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_folds_to_its_bare_letters() {
        let nguyen_nfd = "Nguye\u{0302}\u{0303}n";
        for (input, folded) in [
            ("Đặng", "dang"),
            ("ĐẶNG", "dang"),
            ("dang", "dang"),
            ("đặng mỹ vy", "dang my vy"),
            ("Nguyễn", "nguyen"),
            ("NGUYỄN", "nguyen"),
            (nguyen_nfd, "nguyen"),
            ("Trương Thị Ơn", "truong thi on"),
            ("Lưu Ngọc Hằng", "luu ngoc hang"),
            ("Phạm Thị Ân", "pham thi an"),
            ("Lê Thị Ê Đê", "le thi e de"),
            ("Hồ Thị Ốc", "ho thi oc"),
            ("Đỗ Khánh Thảo", "do khanh thao"),
            ("Đinh Gia Tùng", "dinh gia tung"),
            ("  Trần \t Văn\u{00a0}An  ", "tran van an"),
            ("THAO.DPT@ACME.VN", "thao.dpt@acme.vn"),
            ("+84 912 345 678", "+84 912 345 678"),
            ("", ""),
        ] {
            assert_eq!(fold(input), folded, "{input:?}");
        }
    }

    #[test]
    fn one_pass_folds_as_nfc_lowercase_nfd_would() {
        let reference = |text: &str| -> String {
            let lower: String = text.nfc().flat_map(char::to_lowercase).collect();
            let bare: String = lower
                .nfd()
                .filter(|c| !is_combining_mark(*c))
                .map(|c| if c == 'đ' { 'd' } else { c })
                .collect();
            bare.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        let alphabet = "AĂÂBCDĐEÊGHIKLMNOÔƠPQRSTUƯVXY aăâbcdđeêghiklmnoôơpqrstuưvxy";
        let tones = [
            "", "\u{0300}", "\u{0301}", "\u{0303}", "\u{0309}", "\u{0323}",
        ];
        for letter in alphabet.chars() {
            for tone in tones {
                let decomposed = format!("{letter}{tone}");
                let composed: String = decomposed.nfc().collect();
                for text in [decomposed.as_str(), composed.as_str()] {
                    assert_eq!(fold(text), reference(text), "{text:?}");
                }
            }
        }
        for text in [
            "ĐẶNG Mỹ VY",
            "Nguyễn  Thị\tÁnh",
            "İstanbul",
            "ǅemal",
            "ÀÉÎÕÜ ß",
        ] {
            assert_eq!(fold(text), reference(text), "{text:?}");
        }
    }

    #[test]
    fn nfc_and_nfd_spellings_fold_alike() {
        let nfc = "Nguyễn Thị Ánh Tuyết";
        let nfd: String = nfc.nfd().collect();
        assert_ne!(nfc, nfd);
        assert_eq!(fold(nfc), fold(&nfd));
    }

    #[test]
    fn words_and_the_given_name_come_folded() {
        assert_eq!(words("CSKH - Thảo"), ["cskh", "thao"]);
        assert_eq!(words("thao.dpt@acme.vn"), ["thao", "dpt", "acme", "vn"]);
        assert_eq!(
            given_name("Đặng Phương  Thu Thảo ").as_deref(),
            Some("thao")
        );
        assert_eq!(given_name("  "), None);
    }

    #[test]
    fn the_stored_text_keeps_fields_apart() {
        let text = employee_search_text("NV01", Some("Đặng Mỹ Vy"), None, Some("0912"), Some(""));
        assert_eq!(text, "nv01\ndang my vy\n0912");
        assert!(!text.contains(&fold("vy 0912")));
    }
}

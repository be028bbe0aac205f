//! Checksums and range rules that keep the numeric detectors precise.
//!
//! Every function takes the candidate as written and returns `false` for
//! anything that is not exactly the expected shape, never panicking.

/// Whether `digits` (ASCII digits only, at least two) passes the Luhn check
/// used by payment cards.
pub fn luhn(digits: &str) -> bool {
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// IBAN lengths by country code (SEPA countries and other common ones).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

/// The IBAN length for the two-letter country code `country`, if known.
pub fn iban_length(country: &str) -> Option<usize> {
    IBAN_LENGTHS.iter().find(|(code, _)| *code == country).map(|(_, len)| *len)
}

/// Whether `iban` (upper-case letters and digits, no spaces) has its
/// country's length and passes the ISO 13616 mod-97 check.
pub fn iban(iban: &str) -> bool {
    let bytes = iban.as_bytes();
    if bytes.len() < 5 || !bytes.iter().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) {
        return false;
    }
    if !bytes[0].is_ascii_uppercase() || !bytes[1].is_ascii_uppercase() {
        return false;
    }
    if !bytes[2].is_ascii_digit() || !bytes[3].is_ascii_digit() {
        return false;
    }
    if iban_length(&iban[..2]) != Some(bytes.len()) {
        return false;
    }
    let mut rem: u32 = 0;
    for &b in bytes[4..].iter().chain(&bytes[..4]) {
        if b.is_ascii_digit() {
            rem = (rem * 10 + u32::from(b - b'0')) % 97;
        } else {
            rem = (rem * 100 + u32::from(b - b'A') + 10) % 97;
        }
    }
    rem == 1
}

/// The digits of `s` if it is exactly `len` ASCII digits.
fn digits_of(s: &str, len: usize) -> Option<Vec<u32>> {
    if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().map(|b| u32::from(b - b'0')).collect())
}

/// The INN check digit over `digits` with `weights`.
fn inn_check(digits: &[u32], weights: &[u32]) -> u32 {
    digits.iter().zip(weights).map(|(d, w)| d * w).sum::<u32>() % 11 % 10
}

/// Whether `s` is a valid 10-digit (organisation) Russian INN: region code
/// not `00` and a matching check digit.
pub fn inn10(s: &str) -> bool {
    let Some(d) = digits_of(s, 10) else { return false };
    (d[0], d[1]) != (0, 0) && inn_check(&d[..9], &[2, 4, 10, 3, 5, 9, 4, 6, 8]) == d[9]
}

/// Whether `s` is a valid 12-digit (individual) Russian INN: region code
/// not `00` and both check digits matching.
pub fn inn12(s: &str) -> bool {
    let Some(d) = digits_of(s, 12) else { return false };
    (d[0], d[1]) != (0, 0)
        && inn_check(&d[..10], &[7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == d[10]
        && inn_check(&d[..11], &[3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == d[11]
}

/// Whether `s` (11 digits, separators removed) is a valid Russian SNILS.
///
/// Numbers up to `001-001-998` carry no checksum and are rejected, which
/// also rejects all-zero runs.
pub fn snils(s: &str) -> bool {
    let Some(d) = digits_of(s, 11) else { return false };
    let number = d[..9].iter().fold(0u32, |acc, x| acc * 10 + x);
    if number <= 1_001_998 {
        return false;
    }
    let sum: u32 = d[..9].iter().zip((1..=9).rev()).map(|(d, w)| d * w).sum();
    let check = match sum {
        0..=99 => sum,
        100 | 101 => 0,
        _ => match sum % 101 {
            100 => 0,
            r => r,
        },
    };
    check == d[9] * 10 + d[10]
}

/// Whether `area`, `group` and `serial` (3, 2 and 4 ASCII digits) form a
/// possible US SSN: area not 000, 666 or 900–999, group not 00, serial not
/// 0000.
pub fn us_ssn(area: &str, group: &str, serial: &str) -> bool {
    let (Some(a), Some(g), Some(s)) = (digits_of(area, 3), digits_of(group, 2), digits_of(serial, 4)) else {
        return false;
    };
    let area = a[0] * 100 + a[1] * 10 + a[2];
    area != 0 && area != 666 && area < 900 && g != [0, 0] && s != [0, 0, 0, 0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_cases() {
        for ok in [
            "4111111111111111",
            "5500000000000004",
            "378282246310005",
            "4012888888881881",
            "6011111111111117",
            "2200000000000004",
        ] {
            assert!(luhn(ok), "{ok}");
        }
        for bad in ["4111111111111112", "1234567812345678", "4242424242424242424", "", "7", "4111 1111", "41x1"] {
            assert!(!luhn(bad), "{bad}");
        }
    }

    #[test]
    fn iban_cases() {
        for ok in [
            "DE89370400440532013000",
            "GB82WEST12345698765432",
            "FR1420041010050500013M02606",
            "NL91ABNA0417164300",
            "CH9300762011623852957",
            "NO9386011117947",
            "BE68539007547034",
            "IT60X0542811101000000123456",
            "ES9121000418450200051332",
            "AT611904300234573201",
            "PL61109010140000071219812874",
        ] {
            assert!(iban(ok), "{ok}");
        }
        for bad in [
            "DE89370400440532013001",      // checksum
            "DE8937040044053201300",       // length
            "XX89370400440532013000",      // country
            "de89370400440532013000",      // lower case
            "DE89 3704 0044 0532 0130 00", // spaces are the caller's job
            "D",
            "",
        ] {
            assert!(!iban(bad), "{bad}");
        }
        assert_eq!(iban_length("GB"), Some(22));
        assert_eq!(iban_length("RU"), None);
        assert!(IBAN_LENGTHS.len() >= 40);
    }

    #[test]
    fn inn_cases() {
        assert!(inn10("7707083893"));
        assert!(inn10("7736207543"));
        assert!(!inn10("7707083894"));
        assert!(!inn10("1234567890"));
        assert!(!inn10("0000000000"));
        assert!(!inn10("770708389"));
        assert!(inn12("500100732259"));
        assert!(inn12("773370857141"));
        assert!(!inn12("500100732258"));
        assert!(!inn12("123456789012"));
        assert!(!inn12("000000000000"));
        assert!(!inn12("7707083893"));
    }

    #[test]
    fn snils_cases() {
        assert!(snils("11223344595"));
        assert!(snils("12345678964"));
        assert!(!snils("12345678901"));
        assert!(!snils("98765432101"));
        assert!(!snils("00000000000"));
        assert!(!snils("00100199800"));
        assert!(!snils("1122334459"));
    }

    #[test]
    fn ssn_cases() {
        assert!(us_ssn("123", "45", "6789"));
        assert!(us_ssn("899", "01", "0001"));
        assert!(!us_ssn("000", "45", "6789"));
        assert!(!us_ssn("666", "45", "6789"));
        assert!(!us_ssn("900", "45", "6789"));
        assert!(!us_ssn("123", "00", "6789"));
        assert!(!us_ssn("123", "45", "0000"));
        assert!(!us_ssn("12", "45", "6789"));
    }
}

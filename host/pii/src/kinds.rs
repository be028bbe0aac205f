//! The kinds of personal data the engine recognises.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A kind of personal data; its [`as_str`](PiiKind::as_str) name is the `KIND`
/// part of the tokens `[KIND_N]` that stand in for values of this kind.
///
/// Serialised as that name (`"EMAIL"`, `"CREDIT_CARD"`, …); any other name
/// deserialises to [`PiiKind::Custom`] upper-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PiiKind {
    /// An e-mail address.
    Email,
    /// A phone number, international or national.
    Phone,
    /// A payment card number (13–19 digits, Luhn-checked).
    CreditCard,
    /// An IBAN (country length and mod-97 checked).
    Iban,
    /// A US social security number.
    UsSsn,
    /// An IPv4 or IPv6 address.
    Ip,
    /// A Russian taxpayer number (10 or 12 digits, checksummed).
    RuInn,
    /// A Russian pension insurance number (checksummed).
    RuSnils,
    /// An API key, access token, password or similar credential.
    Secret,
    /// A person's name, known from the key it is stored under.
    Person,
    /// A postal address, known from the key it is stored under.
    Address,
    /// A kind from a custom recognizer; the name should be upper case
    /// (`[A-Z][A-Z0-9_]*`), as [`PiiKind::custom`] makes it.
    Custom(String),
}

impl PiiKind {
    /// Every built-in kind (all but [`PiiKind::Custom`]).
    pub const BUILTIN: [PiiKind; 11] = [
        PiiKind::Email,
        PiiKind::Phone,
        PiiKind::CreditCard,
        PiiKind::Iban,
        PiiKind::UsSsn,
        PiiKind::Ip,
        PiiKind::RuInn,
        PiiKind::RuSnils,
        PiiKind::Secret,
        PiiKind::Person,
        PiiKind::Address,
    ];

    /// A custom kind named `name`, upper-cased.
    pub fn custom(name: &str) -> PiiKind {
        PiiKind::Custom(name.to_uppercase())
    }

    /// The name used in tokens: `EMAIL`, `PHONE`, `CREDIT_CARD`, `IBAN`,
    /// `US_SSN`, `IP`, `RU_INN`, `RU_SNILS`, `SECRET`, `PERSON`, `ADDRESS`,
    /// or the custom name.
    pub fn as_str(&self) -> &str {
        match self {
            PiiKind::Email => "EMAIL",
            PiiKind::Phone => "PHONE",
            PiiKind::CreditCard => "CREDIT_CARD",
            PiiKind::Iban => "IBAN",
            PiiKind::UsSsn => "US_SSN",
            PiiKind::Ip => "IP",
            PiiKind::RuInn => "RU_INN",
            PiiKind::RuSnils => "RU_SNILS",
            PiiKind::Secret => "SECRET",
            PiiKind::Person => "PERSON",
            PiiKind::Address => "ADDRESS",
            PiiKind::Custom(name) => name,
        }
    }

    /// The position of a built-in kind in [`PiiKind::BUILTIN`].
    pub(crate) fn builtin_index(&self) -> Option<usize> {
        Some(match self {
            PiiKind::Email => 0,
            PiiKind::Phone => 1,
            PiiKind::CreditCard => 2,
            PiiKind::Iban => 3,
            PiiKind::UsSsn => 4,
            PiiKind::Ip => 5,
            PiiKind::RuInn => 6,
            PiiKind::RuSnils => 7,
            PiiKind::Secret => 8,
            PiiKind::Person => 9,
            PiiKind::Address => 10,
            PiiKind::Custom(_) => return None,
        })
    }

    /// The kind named `name` (case-insensitive): a built-in kind if the
    /// name is one, else a custom kind with the name upper-cased.
    pub fn from_name(name: &str) -> PiiKind {
        let upper = name.to_uppercase();
        PiiKind::BUILTIN.into_iter().find(|kind| kind.as_str() == upper).unwrap_or(PiiKind::Custom(upper))
    }
}

impl fmt::Display for PiiKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for PiiKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for PiiKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(PiiKind::from_name(&name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let names: Vec<&str> = PiiKind::BUILTIN.iter().map(PiiKind::as_str).collect();
        assert_eq!(
            names,
            [
                "EMAIL",
                "PHONE",
                "CREDIT_CARD",
                "IBAN",
                "US_SSN",
                "IP",
                "RU_INN",
                "RU_SNILS",
                "SECRET",
                "PERSON",
                "ADDRESS"
            ]
        );
        assert_eq!(PiiKind::custom("employee_id").as_str(), "EMPLOYEE_ID");
        assert_eq!(PiiKind::Phone.to_string(), "PHONE");
        for (i, kind) in PiiKind::BUILTIN.iter().enumerate() {
            assert_eq!(kind.builtin_index(), Some(i));
        }
        assert_eq!(PiiKind::custom("x").builtin_index(), None);
    }

    #[test]
    fn from_name_and_serde() {
        assert_eq!(PiiKind::from_name("credit_card"), PiiKind::CreditCard);
        assert_eq!(PiiKind::from_name("badge"), PiiKind::Custom("BADGE".into()));
        for kind in PiiKind::BUILTIN.into_iter().chain([PiiKind::custom("x_1")]) {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<PiiKind>(&json).unwrap(), kind);
        }
        assert_eq!(serde_json::from_str::<PiiKind>("\"ru_inn\"").unwrap(), PiiKind::RuInn);
        assert!(serde_json::from_str::<PiiKind>("5").is_err());
    }
}

//! Text → search terms: identifiers split into words (`listCustomers`,
//! `list_customers` and `list-customers` all give `list`, `custom`),
//! lowercased, common English words dropped, and stemmed (Snowball), so
//! that "invoices" finds `get_invoice`. Numbers are dropped: in a task
//! they are ids and amounts, not words of a tool.

use std::collections::HashMap;

use rust_stemmers::{Algorithm, Stemmer};

/// Words too common in tool descriptions and task statements to tell
/// tools apart; sorted, for binary search.
const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been", "by", "can", "could",
    "do", "does", "each", "for", "from", "get", "give", "has", "have", "how", "i", "if", "in", "into", "is", "it",
    "its", "just", "me", "my", "need", "of", "on", "one", "or", "our", "please", "should", "so", "some", "than",
    "that", "the", "their", "them", "then", "there", "these", "this", "those", "to", "us", "use", "used", "using",
    "want", "was", "we", "were", "what", "when", "which", "who", "will", "with", "would", "you", "your",
];

/// Splits text and identifiers into stemmed search terms.
pub struct Words {
    stemmer: Stemmer,
}

impl Default for Words {
    fn default() -> Self {
        Words { stemmer: Stemmer::create(Algorithm::English) }
    }
}

impl Words {
    /// The terms of `text`, in order, repeats kept.
    pub fn terms(&self, text: &str) -> Vec<String> {
        self.terms_stemmed_by(text, |word| self.stemmer.stem(&word).into_owned())
    }

    /// [`Words::terms`], stemming each distinct word once per `memo`: an
    /// index build meets the same few thousand words tens of thousands of
    /// times, and stemming is most of its work.
    pub fn terms_memo(&self, text: &str, memo: &mut StemMemo) -> Vec<String> {
        self.terms_stemmed_by(text, |word| {
            memo.stems.entry(word).or_insert_with_key(|word| self.stemmer.stem(word).into_owned()).clone()
        })
    }

    /// The terms of `text`, each kept word (lowercased) stemmed by `stem`.
    fn terms_stemmed_by(&self, text: &str, mut stem: impl FnMut(String) -> String) -> Vec<String> {
        let mut out = Vec::new();
        // Addresses and links name things, not what a tool does.
        let text: Vec<&str> =
            text.split_whitespace().filter(|chunk| !chunk.contains('@') && !chunk.contains("://")).collect();
        for word in split_words(&text.join(" ")) {
            let lower = word.to_lowercase();
            // Numbers are ids and amounts in a task, not words of a tool.
            let number = lower.chars().all(|c| c.is_ascii_digit());
            if lower.len() < 2 || number || STOP_WORDS.binary_search(&lower.as_str()).is_ok() {
                continue;
            }
            out.push(stem(lower));
        }
        out
    }
}

/// Stems already computed, word → stem; kept for one index build only,
/// so what queries bring in is never held.
#[derive(Default)]
pub struct StemMemo {
    stems: HashMap<String, String>,
}

/// Words of `text`: runs of letters and digits, with camelCase humps
/// (`listCustomers` → `list`, `Customers`; `HTTPServer` → `HTTP`,
/// `Server`) and letter/digit changes as boundaries.
pub(super) fn split_words(text: &str) -> Vec<&str> {
    let mut words = Vec::new();
    for run in text.split(|c: char| !c.is_alphanumeric()).filter(|run| !run.is_empty()) {
        let chars: Vec<(usize, char)> = run.char_indices().collect();
        let mut start = 0;
        for i in 1..chars.len() {
            let (prev, here) = (chars[i - 1].1, chars[i].1);
            let next = chars.get(i + 1).map(|&(_, c)| c);
            let hump = prev.is_lowercase() && here.is_uppercase();
            let acronym_end = prev.is_uppercase() && here.is_uppercase() && next.is_some_and(char::is_lowercase);
            let digits = prev.is_ascii_digit() != here.is_ascii_digit();
            if hump || acronym_end || digits {
                words.push(&run[start..chars[i].0]);
                start = chars[i].0;
            }
        }
        words.push(&run[start..]);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_split_into_words() {
        assert_eq!(split_words("listCustomers"), ["list", "Customers"]);
        assert_eq!(split_words("list_customers-v2"), ["list", "customers", "v", "2"]);
        assert_eq!(split_words("HTTPServer.getURL"), ["HTTP", "Server", "get", "URL"]);
        assert_eq!(split_words("créerFacture"), ["créer", "Facture"]);
    }

    #[test]
    fn terms_are_lowercased_stemmed_and_filtered() {
        let words = Words::default();
        assert_eq!(words.terms("Get the list of overdue invoices"), ["list", "overdu", "invoic"]);
        assert_eq!(words.terms("get_invoice"), ["invoic"]);
        assert_eq!(words.terms("sendEmail to 3 customers"), ["send", "email", "custom"]);
    }

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        assert!(STOP_WORDS.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn a_memo_gives_the_same_terms() {
        let words = Words::default();
        let mut memo = StemMemo::default();
        for text in ["listInvoices for customers", "the customers' invoices", "listInvoices for customers"] {
            assert_eq!(words.terms_memo(text, &mut memo), words.terms(text));
        }
    }
}

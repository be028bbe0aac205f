//! Okapi BM25 over weighted fields: a document is a bag of terms whose
//! counts are weighted by the field they came from (a word of the tool's
//! name counts more than a word of a parameter's description), as in
//! BM25F with one shared length normalisation.

use std::collections::HashMap;

/// Term-frequency saturation.
const K1: f64 = 1.2;
/// How much document length normalises scores.
const B: f64 = 0.75;

/// An inverted index of weighted documents.
#[derive(Default)]
pub struct Bm25 {
    /// term → (document, weighted count) postings.
    postings: HashMap<String, Vec<(u32, f64)>>,
    /// Weighted length of each document.
    lengths: Vec<f64>,
    average_length: f64,
}

impl Bm25 {
    /// Indexes `documents`, each a list of (term, weight) occurrences;
    /// document ids are their positions.
    pub fn new<'a>(documents: impl IntoIterator<Item = Vec<(&'a str, f64)>>) -> Self {
        let mut index = Bm25::default();
        for (id, occurrences) in documents.into_iter().enumerate() {
            let mut counts: HashMap<&str, f64> = HashMap::new();
            let mut length = 0.0;
            for (term, weight) in occurrences {
                *counts.entry(term).or_default() += weight;
                length += weight;
            }
            let id = u32::try_from(id).unwrap_or(u32::MAX);
            for (term, count) in counts {
                index.postings.entry(term.to_string()).or_default().push((id, count));
            }
            index.lengths.push(length);
        }
        let total: f64 = index.lengths.iter().sum();
        index.average_length =
            if index.lengths.is_empty() { 1.0 } else { (total / index.lengths.len() as f64).max(1.0) };
        index
    }

    /// Scores of every document matching at least one of `terms` (each
    /// with its weight in the query), as (document, score), unsorted.
    pub fn scores(&self, terms: &[(String, f64)]) -> Vec<(u32, f64)> {
        let documents = self.lengths.len() as f64;
        let mut scores: HashMap<u32, f64> = HashMap::new();
        for (term, weight) in terms {
            let Some(postings) = self.postings.get(term) else { continue };
            let frequency = postings.len() as f64;
            // The "plus one" variant keeps idf positive for common terms.
            let idf = ((documents - frequency + 0.5) / (frequency + 0.5) + 1.0).ln();
            for &(id, count) in postings {
                let norm = 1.0 - B + B * self.lengths[id as usize] / self.average_length;
                *scores.entry(id).or_default() += weight * idf * count * (K1 + 1.0) / (count + K1 * norm);
            }
        }
        scores.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(text: &str) -> Vec<(String, f64)> {
        text.split(' ').map(|term| (term.to_string(), 1.0)).collect()
    }

    #[test]
    fn rare_terms_and_heavier_fields_rank_higher() {
        let index = Bm25::new([
            vec![("list", 3.0), ("invoic", 3.0), ("paid", 1.0)],
            vec![("list", 3.0), ("custom", 3.0)],
            vec![("send", 3.0), ("email", 3.0), ("invoic", 1.0)],
        ]);
        let ranked = |query: &str| {
            let mut scores = index.scores(&terms(query));
            scores.sort_by(|a, b| b.1.total_cmp(&a.1));
            scores.iter().map(|s| s.0).collect::<Vec<_>>()
        };
        // Both match "invoic"; the one with it in a heavier field first.
        assert_eq!(ranked("invoic"), [0, 2]);
        // "paid" is rarer than "list": it decides between 0 and 1.
        assert_eq!(ranked("list paid"), [0, 1]);
        assert!(index.scores(&terms("nothing")).is_empty());
    }
}

//! Token counts as a model sees them, with a real tokenizer: OpenAI's
//! `o200k_base` (its vocabulary ships inside `tiktoken-rs`). Figures from
//! another model's tokenizer differ by a few percent; the ratios between
//! two texts hardly do.

/// The tokenizer's name, for reports.
pub const TOKENIZER: &str = "o200k_base";

/// The number of tokens in `text` (special-token text counts as ordinary
/// text). The first call loads the vocabulary (about 0.1 s); call
/// [`warm_up`] early to take that off the first result's latency.
pub fn count(text: &str) -> usize {
    tiktoken_rs::o200k_base_singleton().encode_ordinary(text).len()
}

/// Loads the vocabulary now, in the background.
pub fn warm_up() {
    std::thread::spawn(|| count(""));
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_tokens_like_the_model_does() {
        assert_eq!(super::count(""), 0);
        assert_eq!(super::count("hello world"), 2);
        let long = "The quick brown fox jumps over the lazy dog. ".repeat(100);
        let tokens = super::count(&long);
        assert!((900..=1100).contains(&tokens), "{tokens}");
    }
}

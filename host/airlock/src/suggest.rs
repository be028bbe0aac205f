//! "Did you mean" suggestions for misspelt names: config keys, tool
//! arguments, exports.

/// The longest word a suggestion is looked for.
const MAX_NAME: usize = 128;

/// The candidate closest to `word` when it is close enough to be a likely
/// typo. Case, `_` and `-` are ignored (`mcp_servers` is `mcpServers`).
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    // No name is this long; an edit distance to it would cost its length
    // times each candidate's (the word can come from guest code).
    if word.len() > MAX_NAME {
        return None;
    }
    let fold = |text: &str| -> String {
        text.chars().filter(|c| !matches!(c, '_' | '-')).flat_map(char::to_lowercase).collect()
    };
    let folded = fold(word);
    let (best, distance) = candidates
        .into_iter()
        .filter(|candidate| *candidate != word)
        .map(|candidate| {
            let other = fold(candidate);
            // A shortened name (`lang` for `language`) is as good as a typo.
            let shortened = folded.len() >= 3 && (other.starts_with(&folded) || folded.starts_with(&other));
            (candidate, if shortened { 1 } else { strsim::levenshtein(&folded, &other) })
        })
        .min_by_key(|(_, distance)| *distance)?;
    (distance <= (folded.chars().count() / 3).max(2)).then_some(best)
}

/// ` (did you mean `x`?)`, or nothing.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    closest(word, candidates).map(|best| format!(" (did you mean `{best}`?)")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested() {
        assert_eq!(closest("mcpServer", ["mcpServers", "airlock"]), Some("mcpServers"));
        assert_eq!(closest("mcp_servers", ["mcpServers", "airlock"]), Some("mcpServers"));
        assert_eq!(closest("record_id", ["id", "limit"]), None);
        assert_eq!(closest("listCustomer", ["listCustomers", "getCustomer"]), Some("listCustomers"));
        assert_eq!(closest("globalShortcut", ["mcpServers", "airlock"]), None);
        assert_eq!(closest("lang", ["code", "language", "timeout_ms"]), Some("language"));
        assert_eq!(did_you_mean("airlok", ["airlock"]), " (did you mean `airlock`?)");
        assert_eq!(did_you_mean("x", Vec::<&str>::new()), "");
        assert_eq!(closest(&"listCustomers".repeat(100), ["listCustomers"]), None, "too long to be a typo");
    }
}

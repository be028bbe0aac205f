//! What counts as finding a labelled tool. A label names one tool; a tool
//! that does the same job is as good, by one mechanical rule applied to the
//! whole catalog, never per query: tools of one server whose names differ
//! only in the verb among list, search and find (`billing_list_customers`,
//! `billing_search_customers`) are alternatives of each other.

use std::collections::{BTreeSet, HashMap};

/// Verbs whose tools are alternatives when the rest of their names agree.
const SIBLING_VERBS: [&str; 3] = ["list", "search", "find"];

/// For each tool (`server.tool`), the tools that count as it, itself
/// included.
pub struct Alternatives {
    by_tool: HashMap<String, BTreeSet<String>>,
}

impl Alternatives {
    /// Applies the rule to every tool of `names` (`server.tool`).
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut groups: HashMap<String, BTreeSet<String>> = HashMap::new();
        let mut key_of: Vec<(String, String)> = Vec::new();
        for name in names {
            let key = sibling_key(name);
            groups.entry(key.clone()).or_default().insert(name.to_string());
            key_of.push((name.to_string(), key));
        }
        let by_tool = key_of.into_iter().map(|(name, key)| (name, groups[&key].clone())).collect();
        Alternatives { by_tool }
    }

    /// Whether `found` holds `label` or one of its alternatives.
    pub fn satisfied(&self, label: &str, found: &BTreeSet<String>) -> bool {
        match self.by_tool.get(label) {
            Some(group) => group.iter().any(|tool| found.contains(tool)),
            None => found.contains(label),
        }
    }

    /// `label` and its alternatives.
    pub fn of(&self, label: &str) -> BTreeSet<String> {
        self.by_tool.get(label).cloned().unwrap_or_else(|| BTreeSet::from([label.to_string()]))
    }
}

/// The name with a list/search/find verb replaced by `*` (the name itself
/// when it has none).
fn sibling_key(name: &str) -> String {
    let (server, tool) = name.split_once('.').unwrap_or(("", name));
    let words: Vec<&str> = tool.split('_').map(|word| if SIBLING_VERBS.contains(&word) { "*" } else { word }).collect();
    format!("{server}.{}", words.join("_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_search_and_find_siblings_are_alternatives() {
        let names = ["c.billing_list_customers", "c.billing_search_customers", "c.crm_list_customers", "c.get_x"];
        let alternatives = Alternatives::new(names);
        let found = BTreeSet::from(["c.billing_search_customers".to_string()]);
        assert!(alternatives.satisfied("c.billing_list_customers", &found));
        assert!(!alternatives.satisfied("c.crm_list_customers", &found));
        assert_eq!(alternatives.of("c.get_x").len(), 1);
    }
}

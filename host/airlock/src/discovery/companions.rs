//! Companions: the tool that gives an id another tool needs, derived from
//! schemas and names alone. A tool with a required `<x>_id` (or `<x>Id`,
//! `<x>_ids`) parameter needs an id the task rarely states; the tool of the
//! same server that lists, searches or finds `<x>`s gives it
//! (`billing_cancel_subscription` → `billing_list_subscriptions`,
//! `slack_post_message` → `slack_list_channels`). Search results bring the
//! companion along, so an agent finds both in one search.
//!
//! The rule, applied to every tool the same way:
//! - the resource `<x>` is the id's name without its suffix, split into
//!   words; when no tool gives the whole phrase, its leading words are
//!   dropped one at a time (`primary_contact_id` → `contact`);
//! - a tool gives `<x>` when its name has a verb (list, search, find,
//!   query, or get for a plural) followed by exactly the words of `<x>`,
//!   the last one singular or plural, and it does not need that id itself;
//! - of several, the one sharing the longest name prefix with the tool
//!   that needs it (the same service of a big server), then list before
//!   search before find before query before get, then by name.

use std::collections::HashMap;

use serde_json::Value;

use super::words::split_words;
use crate::tool::ToolDefinition;

/// Verbs of a tool that gives many of a thing, preferred in this order.
const GIVING_VERBS: [&str; 5] = ["list", "search", "find", "query", "get"];

/// An id parameter a tool requires, and the tool that gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Need {
    /// The parameter (`subscription_id`).
    pub id: String,
    /// The index of the tool that gives it.
    pub giver: usize,
}

/// A tool of one server, as the rule sees it.
pub(crate) struct Named<'a> {
    pub server: &'a str,
    pub definition: &'a ToolDefinition,
}

/// For each tool, the ids it needs that another tool gives, in the order
/// of its schema's `required` list.
pub(crate) fn needs(tools: &[Named<'_>]) -> Vec<Vec<Need>> {
    let names: Vec<Vec<String>> = tools.iter().map(|tool| name_words(&tool.definition.name)).collect();
    let required: Vec<Vec<(String, Vec<String>)>> = tools.iter().map(|tool| required_ids(tool.definition)).collect();
    // (server, resource phrase) → the tools that give it, under each
    // singular its last word may have.
    let mut givers: HashMap<(&str, String), Vec<usize>> = HashMap::new();
    for (index, (tool, words)) in tools.iter().zip(&names).enumerate() {
        let Some(verb) = words.iter().position(|word| GIVING_VERBS.contains(&word.as_str())) else { continue };
        let Some((last, leading)) = words[verb + 1..].split_last() else { continue };
        // `get_user` fetches one user (by its id); `get_users` lists them.
        if words[verb] == "get" && !is_plural(last) {
            continue;
        }
        for form in singulars(last) {
            let mut resource = leading.to_vec();
            resource.push(form);
            let entry = givers.entry((tool.server, phrase(&resource))).or_default();
            if !entry.contains(&index) {
                entry.push(index);
            }
        }
    }
    let preference = |giver: usize, words: &[String]| {
        let shared = names[giver].iter().zip(words).take_while(|(a, b)| a == b).count();
        let verb = names[giver]
            .iter()
            .find_map(|word| GIVING_VERBS.iter().position(|verb| verb == word))
            .unwrap_or(GIVING_VERBS.len());
        (std::cmp::Reverse(shared), verb, tools[giver].definition.name.as_str())
    };
    tools
        .iter()
        .zip(&names)
        .zip(&required)
        .map(|((tool, words), ids)| {
            ids.iter()
                .filter_map(|(id, resource)| {
                    // The whole resource first, then without its leading words.
                    let giver = (0..resource.len()).find_map(|skip| {
                        givers
                            .get(&(tool.server, phrase(&resource[skip..])))?
                            .iter()
                            .copied()
                            .filter(|&giver| !required[giver].iter().any(|(other, _)| other == id))
                            .min_by_key(|&giver| preference(giver, words))
                    })?;
                    Some(Need { id: id.clone(), giver })
                })
                .collect()
        })
        .collect()
}

/// The required id parameters of a tool, each with its resource's words.
fn required_ids(definition: &ToolDefinition) -> Vec<(String, Vec<String>)> {
    let Some(required) = definition.input_schema.get("required").and_then(Value::as_array) else { return Vec::new() };
    required
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|id| {
            let words = name_words(id);
            let (last, resource) = words.split_last()?;
            (matches!(last.as_str(), "id" | "ids") && !resource.is_empty()).then(|| (id.to_string(), resource.to_vec()))
        })
        .collect()
}

/// The lowercase words of an identifier (`list_customers`, `listCustomers`,
/// `list-customers`).
fn name_words(name: &str) -> Vec<String> {
    split_words(name).into_iter().map(str::to_lowercase).collect()
}

/// A resource's words as one key.
fn phrase(words: &[String]) -> String {
    words.join(" ")
}

/// The words a plural may be the plural of: `warehouses` → `warehouse`
/// (strip `s`) or `warehous` (strip `es`); `policies` → `policy`. The
/// word itself is kept, for names in the singular (`find_customer`).
fn singulars(word: &str) -> Vec<String> {
    let mut forms = vec![word.to_string()];
    if let Some(stem) = word.strip_suffix("ies").filter(|stem| !stem.is_empty()) {
        forms.push(format!("{stem}y"));
    }
    if let Some(stem) = word.strip_suffix("es").filter(|stem| !stem.is_empty()) {
        forms.push(stem.to_string());
    }
    if let Some(stem) = word.strip_suffix('s').filter(|stem| !stem.is_empty() && !stem.ends_with('s')) {
        forms.push(stem.to_string());
    }
    forms
}

/// Whether a name's last word reads as a plural (`users`, not `status`,
/// `address` or `history`).
fn is_plural(word: &str) -> bool {
    word.ends_with('s') && !word.ends_with("ss") && !word.ends_with("us") && !word.ends_with("is")
}

/// The plural of an English noun (`subscription` → `subscriptions`,
/// `policy` → `policies`, `address` → `addresses`).
pub fn plural(word: &str) -> String {
    let vowel_before_y = word.len() > 1 && word[..word.len() - 1].ends_with(['a', 'e', 'i', 'o', 'u']);
    if word.ends_with('y') && !vowel_before_y {
        format!("{}ies", &word[..word.len() - 1])
    } else if word.ends_with(['s', 'x', 'z']) || word.ends_with("ch") || word.ends_with("sh") {
        format!("{word}es")
    } else {
        format!("{word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(name: &str, required: &[&str]) -> ToolDefinition {
        let properties: serde_json::Map<String, Value> =
            required.iter().map(|id| (id.to_string(), json!({"type": "string"}))).collect();
        ToolDefinition::new(name)
            .input_schema(json!({"type": "object", "properties": properties, "required": required}))
    }

    fn givers(tools: &[(&str, ToolDefinition)]) -> Vec<Vec<(String, String)>> {
        let named: Vec<Named<'_>> = tools.iter().map(|(server, definition)| Named { server, definition }).collect();
        needs(&named)
            .into_iter()
            .map(|needs| needs.into_iter().map(|need| (need.id, tools[need.giver].1.name.clone())).collect())
            .collect()
    }

    #[test]
    fn an_id_is_given_by_the_tool_listing_its_resource() {
        let tools = [
            ("s", tool("billing_cancel_subscription", &["subscription_id"])),
            ("s", tool("billing_list_subscriptions", &[])),
            ("s", tool("billing_get_subscription", &["subscription_id"])),
            ("s", tool("crm_list_subscriptions", &[])),
            ("s", tool("billing_search_subscriptions", &[])),
        ];
        let found = givers(&tools);
        assert_eq!(found[0], [("subscription_id".to_string(), "billing_list_subscriptions".to_string())]);
        // A tool needing the id does not give it to itself or its kind.
        assert_eq!(found[2], [("subscription_id".to_string(), "billing_list_subscriptions".to_string())]);
        assert!(found[1].is_empty());
    }

    #[test]
    fn qualified_ids_camel_case_and_plural_gets_are_understood() {
        let tools = [
            ("hr", tool("hr_approve_time_off", &["time_off_request_id", "primaryContactId"])),
            ("hr", tool("hr_list_time_off_requests", &[])),
            ("hr", tool("getContacts", &[])),
            ("chat", tool("post", &["user_id"])),
            ("chat", tool("get_user", &["user_id"])),
        ];
        let found = givers(&tools);
        assert_eq!(
            found[0],
            [
                ("time_off_request_id".to_string(), "hr_list_time_off_requests".to_string()),
                ("primaryContactId".to_string(), "getContacts".to_string()),
            ]
        );
        // `get_user` fetches one user and needs its id: it gives nothing.
        assert!(found[3].is_empty());
    }

    #[test]
    fn givers_are_looked_for_on_the_same_server_only() {
        let tools = [("a", tool("close_ticket", &["ticket_id"])), ("b", tool("list_tickets", &[]))];
        assert!(givers(&tools)[0].is_empty());
    }

    #[test]
    fn a_plural_s_singulars_include_the_word() {
        for word in ["subscription", "policy", "address", "status", "branch", "day", "box", "warehouse"] {
            assert!(singulars(&plural(word)).contains(&word.to_string()), "{word}");
        }
        assert!(is_plural("users") && !is_plural("status") && !is_plural("address") && !is_plural("history"));
    }
}

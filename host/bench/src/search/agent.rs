//! The simulated agent of the task-level evaluation: it searches for a
//! task as a model would with `search_tools`, and searches again only for
//! what the results themselves say is missing. It is given the task's text
//! and a search function, never the task's labels.

use std::collections::BTreeSet;

use airlock::discovery::{SearchResults, plural};

/// Most searches per task (the first, then follow-ups).
pub const MAX_SEARCHES: usize = 3;

/// Results a follow-up search asks for.
pub const FOLLOW_UP_LIMIT: usize = 3;

/// One search the agent made.
pub struct Search {
    /// What it searched for.
    pub query: String,
    /// The `server.tool` names the results listed.
    pub names: Vec<String>,
    /// The results' tokens as the model reads them (o200k).
    pub tokens: usize,
}

/// What the agent did for one task.
pub struct Transcript {
    /// Its searches, in order.
    pub searches: Vec<Search>,
    /// Every tool some search listed.
    pub found: BTreeSet<String>,
}

impl Transcript {
    /// The result tokens of all its searches.
    pub fn tokens(&self) -> usize {
        self.searches.iter().map(|search| search.tokens).sum()
    }
}

/// Works on `task`: searches for it, then, while searches remain, for each
/// id a listed tool needs (`cancel_subscription(subscription_id)`) that no
/// listed tool gives (`list_subscriptions → subscription_id`, or a name such as
/// `billing_list_subscriptions`), searches "list subscriptions".
pub fn solve(task: &str, mut search: impl FnMut(&str, usize) -> SearchResults, limit: usize) -> Transcript {
    let mut transcript = Transcript { searches: Vec::new(), found: BTreeSet::new() };
    let mut needed: Vec<String> = Vec::new();
    let mut given: BTreeSet<String> = BTreeSet::new();
    let mut asked: BTreeSet<String> = BTreeSet::new();
    let mut query = Some(task.to_string());
    while let Some(text) = query.take() {
        // A follow-up looks for one tool: a few results are enough.
        let wanted = if transcript.searches.is_empty() { limit } else { limit.min(FOLLOW_UP_LIMIT) };
        let results = search(&text, wanted);
        for found in &results.matches {
            transcript.found.insert(found.name.clone());
            given.extend(found.gives.iter().cloned());
            for id in &found.needs {
                if !needed.contains(id) {
                    needed.push(id.clone());
                }
            }
        }
        transcript.searches.push(Search {
            query: text,
            names: results.matches.iter().map(|found| found.name.clone()).collect(),
            tokens: airlock_serve::tokens::count(&results.to_text()),
        });
        if transcript.searches.len() < MAX_SEARCHES {
            let missing = needed
                .iter()
                .find(|id| !given.contains(*id) && !asked.contains(*id) && !listed(id, &transcript.found))
                .cloned();
            query = missing.map(|id| {
                asked.insert(id.clone());
                follow_up(&id)
            });
        }
    }
    transcript
}

/// Whether a tool named like a list of the id's resource was found
/// (`tickets_list_tickets` for `ticket_id`), as a reader of the names
/// would judge.
fn listed(id: &str, found: &BTreeSet<String>) -> bool {
    let resource = follow_up(id).trim_start_matches("list ").replace(' ', "_");
    found
        .iter()
        .any(|name| ["list_", "search_", "find_"].iter().any(|verb| name.ends_with(&format!("{verb}{resource}"))))
}

/// The search for whatever gives `id`: "list subscriptions" for
/// `subscription_id`, "list time off requests" for `time_off_request_id`.
pub fn follow_up(id: &str) -> String {
    let resource = id.trim_end_matches("_ids").trim_end_matches("_id").trim_end_matches("Ids").trim_end_matches("Id");
    let mut words: Vec<String> = Vec::new();
    for part in resource.split('_').filter(|part| !part.is_empty()) {
        let mut word = String::new();
        for c in part.chars() {
            if c.is_uppercase() && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            word.extend(c.to_lowercase());
        }
        words.push(word);
    }
    if let Some(last) = words.last_mut() {
        *last = plural(last);
    }
    format!("list {}", words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use airlock::discovery::ToolMatch;

    fn row(name: &str, needs: &[&str], gives: &[&str]) -> ToolMatch {
        let (server, tool) = name.split_once('.').unwrap();
        ToolMatch {
            name: name.into(),
            server: server.into(),
            tool: tool.into(),
            score: 1.0,
            description: None,
            declaration: None,
            needs: needs.iter().map(|id| id.to_string()).collect(),
            gives: gives.iter().map(|id| id.to_string()).collect(),
        }
    }

    #[test]
    fn follow_ups_name_the_resource_of_an_id() {
        assert_eq!(follow_up("subscription_id"), "list subscriptions");
        assert_eq!(follow_up("time_off_request_id"), "list time off requests");
        assert_eq!(follow_up("policyId"), "list policies");
    }

    #[test]
    fn searches_again_only_for_ids_no_result_gives() {
        let mut queries = Vec::new();
        let transcript = solve(
            "cancel the plan",
            |query, _| {
                queries.push(query.to_string());
                let matches = match query {
                    "cancel the plan" => vec![
                        row("s.cancel_subscription", &["subscription_id"], &[]),
                        row("s.list_subscriptions", &[], &["subscription_id"]),
                        row("s.notify", &["channel_id", "user_id"], &[]),
                    ],
                    "list channels" => vec![row("s.list_channels", &[], &[])],
                    _ => vec![row("s.other", &["channel_id"], &[])],
                };
                SearchResults { matches, unavailable: Vec::new() }
            },
            10,
        );
        // subscription_id was given; channel_id, then user_id, were not;
        // no fourth search, and no search twice for one id.
        assert_eq!(queries, ["cancel the plan", "list channels", "list users"]);
        assert_eq!(transcript.searches.len(), MAX_SEARCHES);
        assert!(transcript.found.contains("s.list_channels"));
        assert!(transcript.tokens() > 0);
    }
}

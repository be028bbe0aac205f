//! Query expansion: the words people use for the things and actions of
//! business tools are not the words tool authors write ("case" for
//! ticket, "opportunity" for deal, "bin" for delete). Each group below is a
//! set of words used interchangeably in tool catalogs; a query word also
//! searches for its group-mates, at a lower weight, so an exact word still
//! ranks first. The groups are general vocabulary, not tuned to one
//! catalog; a word may sit in several groups.

use std::collections::HashMap;

use super::words::Words;

/// How much a group-mate of a query word counts, relative to the word.
pub const SYNONYM_WEIGHT: f64 = 0.4;

/// Abbreviations and short phrases, replaced before the query is split.
const PHRASES: &[(&str, &str)] = &[
    ("pr", "pull request"),
    ("prs", "pull requests"),
    ("mr", "merge request"),
    ("kb", "knowledge base"),
    ("pto", "time off"),
    ("dm", "direct message"),
    ("ooo", "out of office"),
    ("eta", "estimated delivery"),
    ("kpi", "metrics"),
    ("kpis", "metrics"),
    ("csv", "csv export"),
];

/// Interchangeable words.
const GROUPS: &[&[&str]] = &[
    // Actions.
    &["create", "add", "new", "make", "register", "insert", "setup", "draft", "compose"],
    &["delete", "remove", "trash", "bin", "binned", "discard", "erase", "destroy", "purge", "drop", "forget"],
    &["update", "edit", "change", "modify", "patch", "amend", "alter", "adjust", "rename"],
    &["show", "view", "display", "read", "fetch", "retrieve", "inspect", "open", "details", "look"],
    &["list", "browse", "enumerate", "all", "every", "overview"],
    &["search", "find", "query", "locate", "lookup", "filter", "look", "where"],
    &["send", "email", "mail", "notify", "tell", "ping", "inform", "announce", "post", "message"],
    &["remind", "reminder", "nudge", "chase", "follow"],
    &["reply", "respond", "answer", "rsvp"],
    &["forward", "pass", "relay"],
    &["restore", "recover", "undelete", "revert", "rollback", "undo", "back"],
    &["merge", "combine", "fold", "consolidate", "dedupe", "deduplicate", "unify", "duplicate"],
    &["approve", "approval", "accept", "confirm", "authorize", "sign", "greenlight", "allow"],
    &["reject", "decline", "deny", "refuse", "dismiss"],
    &["assign", "route", "reassign", "transfer", "hand", "delegate", "allocate", "owner"],
    &["cancel", "stop", "end", "terminate", "abort", "halt", "shut", "close", "disable", "pause"],
    &["archive", "shelve"],
    &["share", "permission", "access", "grant", "collaborator", "acl"],
    &["export", "download", "dump", "extract"],
    &["import", "load", "upload", "ingest", "attach"],
    &["trigger", "run", "start", "launch", "kick", "execute", "rerun", "retry", "restart", "redeploy"],
    &["schedule", "book", "arrange", "reschedule"],
    &["translate", "translation", "language", "localize"],
    &["comment", "note", "remark", "annotate", "feedback"],
    &["summary", "summarize", "report", "stats", "statistics", "metrics", "analytics", "numbers", "breakdown"],
    &["copy", "clone", "replicate", "duplicate"],
    &["move", "relocate", "transfer"],
    &["tag", "label", "categorize"],
    &["subscribe", "follow", "watch"],
    &["unsubscribe", "opt", "optout"],
    &["sum", "add", "plus", "total"],
    &["echo", "repeat", "mirror"],
    &["remember", "memorize", "memory", "store", "stored", "save", "recall", "forget"],
    &["convert", "conversion"],
    // Things.
    &["ticket", "case", "request", "helpdesk", "support"],
    &["deal", "opportunity", "opportunities", "opp"],
    &["contact", "lead", "person", "people", "prospect", "individual"],
    &["company", "account", "organization", "organisation", "org", "client", "firm"],
    &["customer", "client", "buyer", "purchaser", "shopper", "subscriber"],
    &["channel", "room", "chatroom"],
    &["message", "msg", "text", "chat", "conversation", "thread", "discussion"],
    &["form", "survey", "questionnaire", "poll", "quiz"],
    &["response", "answer", "submission", "entry", "entries"],
    &["pull", "pr"],
    &["repository", "repo", "codebase", "source", "code"],
    &["build", "run", "job", "workflow", "ci"],
    &["deployment", "deploy", "rollout", "release", "ship", "shipped", "production"],
    &["spreadsheet", "sheet", "workbook", "excel", "tab", "grid"],
    &["cell", "cells", "range"],
    &["row", "rows", "line", "record", "entry"],
    &["chart", "graph", "plot", "visualization", "visualize"],
    &["document", "doc", "file", "paper", "writeup"],
    &["folder", "directory", "dir"],
    &["event", "meeting", "appointment", "invite", "invitation"],
    &["calendar", "agenda", "diary"],
    &["availability", "available", "free", "busy", "slot"],
    &["employee", "staff", "worker", "hire", "colleague", "teammate", "personnel", "member"],
    &["candidate", "applicant", "recruit", "hiring"],
    &["job", "opening", "vacancy", "position", "posting", "role"],
    &["vacation", "leave", "holiday", "absence", "off"],
    &["invoice", "bill", "statement", "owe", "unpaid", "overdue"],
    &["payment", "charge", "transaction", "paid", "pay", "charged"],
    &["refund", "reimburse", "chargeback", "money"],
    &["subscription", "plan", "membership", "renewal"],
    &["product", "sku", "stock", "item"],
    &["inventory", "stock", "warehouse"],
    &["order", "purchase"],
    &["shipment", "package", "parcel", "delivery", "tracking", "courier"],
    &["return", "rma"],
    &["campaign", "newsletter", "blast", "promotion"],
    &["segment", "audience", "subscribers", "mailing"],
    &["alert", "alarm", "warning"],
    &["incident", "outage", "downtime", "problem", "down"],
    &["monitor", "uptime", "health", "probe", "check"],
    &["task", "todo", "chore", "card"],
    &["sprint", "iteration"],
    &["milestone", "deadline", "goal"],
    &["wiki", "knowledge", "article", "page", "handbook"],
    &["template", "boilerplate", "blueprint", "standard"],
    &["link", "url"],
    &["status", "state", "progress"],
    &["priority", "urgent", "severity", "importance"],
    &["secret", "credential", "password", "token", "apikey"],
    &["webhook", "callback", "hook"],
    &["time", "clock", "now", "current"],
    &["timezone", "zone", "tz"],
    &["entity", "node", "concept", "thing"],
    &["relation", "relationship", "connection", "edge", "link"],
    &["observation", "fact"],
    &["graph", "knowledge", "memory"],
];

/// Word → its group-mates, as search terms.
pub struct Synonyms {
    mates: HashMap<String, Vec<String>>,
}

impl Synonyms {
    /// Builds the map with the terms `words` makes of each word.
    pub fn new(words: &Words) -> Self {
        let mut mates: HashMap<String, Vec<String>> = HashMap::new();
        for group in GROUPS {
            let terms: Vec<String> = group.iter().flat_map(|word| words.terms(word)).collect();
            for term in &terms {
                let entry = mates.entry(term.clone()).or_default();
                for mate in terms.iter().filter(|mate| *mate != term) {
                    if !entry.contains(mate) {
                        entry.push(mate.clone());
                    }
                }
            }
        }
        Synonyms { mates }
    }

    /// The weighted terms of `query`: its own terms at weight 1, then the
    /// group-mates none of them already is, at [`SYNONYM_WEIGHT`].
    pub fn expand(&self, words: &Words, query: &str) -> Vec<(String, f64)> {
        let terms = words.terms(&spell_out(query));
        let mut out: Vec<(String, f64)> = terms.iter().map(|term| (term.clone(), 1.0)).collect();
        for term in &terms {
            for mate in self.mates.get(term).into_iter().flatten() {
                if !out.iter().any(|(seen, _)| seen == mate) {
                    out.push((mate.clone(), SYNONYM_WEIGHT));
                }
            }
        }
        out
    }
}

/// `query` with its abbreviations written out, and `#name` read as the
/// channel it names in chat tools.
fn spell_out(query: &str) -> String {
    let query = query.replace(" #", " channel #");
    query
        .split_inclusive(|c: char| !c.is_alphanumeric())
        .map(|piece| {
            let word = piece.trim_end_matches(|c: char| !c.is_alphanumeric());
            let tail = &piece[word.len()..];
            match PHRASES.iter().find(|(short, _)| word.eq_ignore_ascii_case(short)) {
                Some((_, long)) => format!("{long}{tail}"),
                None => piece.to_string(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_words_bring_their_group_mates_at_a_lower_weight() {
        let words = Words::default();
        let synonyms = Synonyms::new(&words);
        let expanded = synonyms.expand(&words, "open support cases");
        assert!(expanded.contains(&("case".to_string(), 1.0)), "{expanded:?}");
        assert!(expanded.contains(&("ticket".to_string(), SYNONYM_WEIGHT)), "{expanded:?}");
        // A word the query has itself keeps its full weight.
        assert_eq!(expanded.iter().filter(|(term, _)| term == "support").count(), 1);
        assert!(expanded.contains(&("support".to_string(), 1.0)));
    }

    #[test]
    fn abbreviations_are_spelled_out() {
        assert_eq!(spell_out("review PR 88, then the KB"), "review pull request 88, then the knowledge base");
        assert_eq!(spell_out("April"), "April");
    }
}

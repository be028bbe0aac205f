//! [`ToolIndex`]: BM25 search over the tools of every server, and
//! [`ToolCatalog`], which keeps the index in step with the servers'
//! current tool lists.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde::Serialize;
use serde_json::Value;

use super::bm25::Bm25;
use super::companions::{self, Named, Need};
use super::synonyms::Synonyms;
use super::words::{StemMemo, Words};
use crate::codegen::{DeclarationStyle, py_tool_declaration, ts_tool_declaration};
use crate::registry::ToolRegistry;
use crate::skills::{Skill, SkillStore};
use crate::tool::{Listing, ToolDefinition};

/// How much a search returns about each tool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Detail {
    /// `server.tool` only.
    #[default]
    Name,
    /// Adds the first sentence of the tool's description.
    Description,
    /// Adds the TypeScript declaration of the tool's function.
    Full,
}

impl std::str::FromStr for Detail {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "name" => Ok(Detail::Name),
            "description" => Ok(Detail::Description),
            "full" => Ok(Detail::Full),
            other => Err(format!("unknown detail '{other}' (use name, description or full)")),
        }
    }
}

/// The detail `search_tools` shows unless asked for another: names, with
/// the ids each tool needs or gives (an agent then reads the declarations
/// of the few it uses).
pub const DEFAULT_DETAIL: Detail = Detail::Name;
/// The results `search_tools` returns unless asked for another number:
/// the most whose tasks stay within 300 result tokens on the tuning set
/// (`airlock-bench search` prints the comparison).
pub const DEFAULT_LIMIT: usize = 35;

/// The most results guest code gets from a search, whatever it asks for
/// (the host caps it at the boundary).
pub const MAX_LIMIT: usize = 1000;

/// One tool a search found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolMatch {
    /// `server.tool`.
    pub name: String,
    /// The server (`skills` for a saved skill).
    pub server: String,
    /// The tool's MCP name.
    pub tool: String,
    /// BM25 relevance; higher is better.
    pub score: f64,
    /// The first sentence of its description (detail `description` and
    /// `full`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The declaration of its function (detail `full`): TypeScript, or
    /// Python for [`DeclarationStyle::Python`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declaration: Option<String>,
    /// The required ids (`subscription_id`) another tool of its server
    /// gives: an agent that does not have them asks for that tool, which
    /// the results bring along when the limit allows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub needs: Vec<String>,
    /// The ids this tool gives to other tools of these results.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gives: Vec<String>,
}

/// Field weights: where a word appears says how much it tells about the
/// tool.
const SERVER_WEIGHT: f64 = 2.0;
const NAME_WEIGHT: f64 = 3.0;
const DESCRIPTION_WEIGHT: f64 = 1.0;
const PARAMETER_WEIGHT: f64 = 1.0;
const PARAMETER_DESCRIPTION_WEIGHT: f64 = 0.5;

/// How many of the best matches bring their companions along: below
/// them, a companion would push out a better match for the query.
const COMPANIONS_FOR: usize = 3;

/// Longest one-line description, in characters.
const ONE_LINE: usize = 160;

struct Entry {
    server: String,
    definition: ToolDefinition,
    /// The ids it requires that another tool gives (see [`companions`]).
    needs: Vec<Need>,
    /// What detail `full` shows when it is not the tool's generated
    /// declaration (a skill's code).
    declaration: Option<String>,
    /// What Python code calls it by (`py_attributes` over its server).
    python: String,
    /// What Python code imports its server as.
    python_server: String,
}

/// The name saved skills are found under in search results
/// (`skills.<name>`).
const SKILLS: &str = "skills";

/// A saved skill as the index sees it: a definition (name, description)
/// and what detail `full` shows.
struct SkillEntry {
    /// The skill's name and description (marked when stale).
    definition: ToolDefinition,
    /// How to import it, and its code.
    declaration: String,
}

/// How text becomes search terms, built once and shared by every index.
struct Vocabulary {
    words: Words,
    synonyms: Synonyms,
}

impl Default for Vocabulary {
    fn default() -> Self {
        let words = Words::default();
        let synonyms = Synonyms::new(&words);
        Vocabulary { words, synonyms }
    }
}

/// A BM25 index over tool definitions: server name, tool name split into
/// words, description, parameter names and parameter descriptions. Query
/// words also search for their common synonyms, at a lower weight.
pub struct ToolIndex {
    vocabulary: Arc<Vocabulary>,
    entries: Vec<Entry>,
    bm25: Bm25,
}

impl ToolIndex {
    /// Indexes the tools of `servers` (name and listing each).
    pub fn new(servers: &[(String, Listing)]) -> Self {
        let names: Vec<&str> = servers.iter().map(|(server, _)| server.as_str()).collect();
        ToolIndex::with_vocabulary(Arc::default(), servers, Vec::new(), &names)
    }

    /// The index of `servers`' tools and `skills`; `configured` names every
    /// configured server (those that could not be listed too), which
    /// Python imports by names numbered among them all.
    fn with_vocabulary(
        vocabulary: Arc<Vocabulary>,
        servers: &[(String, Listing)],
        skills: Vec<SkillEntry>,
        configured: &[&str],
    ) -> Self {
        let mut entries: Vec<Entry> = servers
            .iter()
            .flat_map(|(server, listing)| {
                let python = crate::codegen::py_attributes(listing.definitions.iter().map(|tool| tool.name.as_str()));
                let python_server = crate::codegen::py_server_import(server, configured);
                listing.definitions.iter().zip(python).map(move |(definition, python)| Entry {
                    server: server.clone(),
                    definition: definition.clone(),
                    needs: Vec::new(),
                    declaration: None,
                    python,
                    python_server: python_server.clone(),
                })
            })
            .chain(skills.into_iter().map(|skill| Entry {
                server: SKILLS.to_string(),
                definition: skill.definition,
                needs: Vec::new(),
                declaration: Some(skill.declaration),
                python: String::new(),
                python_server: String::new(),
            }))
            .collect();
        let named: Vec<Named<'_>> =
            entries.iter().map(|entry| Named { server: &entry.server, definition: &entry.definition }).collect();
        let needs = companions::needs(&named);
        for (entry, needs) in entries.iter_mut().zip(needs) {
            entry.needs = needs;
        }
        let mut memo = StemMemo::default();
        let documents: Vec<Vec<(String, f64)>> =
            entries.iter().map(|entry| document(&vocabulary.words, &mut memo, entry)).collect();
        let bm25 = Bm25::new(
            documents.iter().map(|terms| terms.iter().map(|(term, weight)| (term.as_str(), *weight)).collect()),
        );
        ToolIndex { vocabulary, entries, bm25 }
    }

    /// How many tools the index holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the index holds no tool.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The `limit` best matches for `query`, best first; equal scores in
    /// `server.tool` order, so results are deterministic. After a tool
    /// that needs an id, the tool that gives it follows (its companion),
    /// unless an earlier result is that tool; companions count against
    /// `limit`.
    pub fn search(&self, query: &str, detail: Detail, limit: usize) -> Vec<ToolMatch> {
        self.search_styled(query, detail, limit, DeclarationStyle::TypeScript)
    }

    /// [`ToolIndex::search`] with declarations in `style`.
    pub fn search_styled(&self, query: &str, detail: Detail, limit: usize, style: DeclarationStyle) -> Vec<ToolMatch> {
        let mut scored = self.ranked(query);
        if style == DeclarationStyle::Python {
            scored.retain(|(id, _)| self.entries[*id as usize].declaration.is_none());
        }
        let rows = self.with_companions(&scored, limit);
        let mut matches: Vec<ToolMatch> =
            rows.iter().map(|&(id, score)| found(&self.entries[id], score, detail, style)).collect();
        for (row, &(id, _)) in rows.iter().enumerate() {
            for need in &self.entries[id].needs {
                if let Some(giver) = rows.iter().position(|&(other, _)| other == need.giver) {
                    let gives = &mut matches[giver].gives;
                    if giver != row && !gives.contains(&need.id) {
                        gives.push(need.id.clone());
                    }
                }
            }
        }
        matches
    }

    /// The first `limit` rows of `ranked`, the best [`COMPANIONS_FOR`]
    /// each followed by the givers of the ids it needs that no earlier row
    /// gives.
    fn with_companions(&self, ranked: &[(u32, f64)], limit: usize) -> Vec<(usize, f64)> {
        let mut rows: Vec<(usize, f64)> = Vec::with_capacity(limit.min(ranked.len()));
        let score_of = |id: usize| ranked.iter().find(|(other, _)| *other as usize == id).map_or(0.0, |(_, s)| *s);
        for (rank, &(id, score)) in ranked.iter().enumerate() {
            if rows.len() >= limit {
                break;
            }
            let id = id as usize;
            if rows.iter().any(|&(row, _)| row == id) {
                continue;
            }
            rows.push((id, score));
            if rank >= COMPANIONS_FOR {
                continue;
            }
            for need in &self.entries[id].needs {
                if rows.len() < limit && !rows.iter().any(|&(row, _)| row == need.giver) {
                    rows.push((need.giver, score_of(need.giver)));
                }
            }
        }
        rows
    }

    /// The ids the tool `server.tool` requires that another tool of its
    /// server gives, each with that tool's `server.tool` name: the
    /// companions its search results bring along.
    pub fn needs(&self, name: &str) -> Vec<(String, String)> {
        let Some((server, tool)) = name.split_once('.') else { return Vec::new() };
        let Some(entry) = self.entries.iter().find(|entry| entry.server == server && entry.definition.name == tool)
        else {
            return Vec::new();
        };
        entry
            .needs
            .iter()
            .map(|need| {
                let giver = &self.entries[need.giver];
                (need.id.clone(), format!("{}.{}", giver.server, giver.definition.name))
            })
            .collect()
    }

    /// Every tool matching `query`, best first, with its BM25 score.
    fn ranked(&self, query: &str) -> Vec<(u32, f64)> {
        let terms = self.vocabulary.synonyms.expand(&self.vocabulary.words, query);
        let mut scored = self.bm25.scores(&terms);
        self.sort(&mut scored);
        scored
    }

    /// Best score first; equal scores in `server.tool` order.
    fn sort(&self, scored: &mut [(u32, f64)]) {
        let key = |id: u32| {
            let entry = &self.entries[id as usize];
            (entry.server.as_str(), entry.definition.name.as_str())
        };
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| key(a.0).cmp(&key(b.0))));
    }
}

/// The weighted terms of one tool.
fn document(words: &Words, memo: &mut StemMemo, entry: &Entry) -> Vec<(String, f64)> {
    let mut terms = Vec::new();
    let mut add =
        |text: &str, weight: f64| terms.extend(words.terms_memo(text, memo).into_iter().map(|term| (term, weight)));
    add(&entry.server, SERVER_WEIGHT);
    add(&entry.definition.name, NAME_WEIGHT);
    add(entry.definition.description.as_deref().unwrap_or(""), DESCRIPTION_WEIGHT);
    if let Some(properties) = entry.definition.input_schema.get("properties").and_then(Value::as_object) {
        for (name, schema) in properties {
            add(name, PARAMETER_WEIGHT);
            add(schema.get("description").and_then(Value::as_str).unwrap_or(""), PARAMETER_DESCRIPTION_WEIGHT);
            // An enum's values name what the tool filters by ("overdue").
            for value in schema.get("enum").and_then(Value::as_array).into_iter().flatten() {
                add(value.as_str().unwrap_or(""), PARAMETER_DESCRIPTION_WEIGHT);
            }
        }
    }
    terms
}

fn found(entry: &Entry, score: f64, detail: Detail, style: DeclarationStyle) -> ToolMatch {
    let definition = &entry.definition;
    ToolMatch {
        name: format!("{}.{}", entry.server, definition.name),
        server: entry.server.clone(),
        tool: definition.name.clone(),
        score,
        description: (detail != Detail::Name).then(|| one_line(definition.description.as_deref().unwrap_or(""))),
        declaration: (detail == Detail::Full).then(|| match (&entry.declaration, style) {
            (Some(declaration), _) => declaration.clone(),
            (None, DeclarationStyle::TypeScript) => ts_tool_declaration(&entry.server, definition),
            (None, DeclarationStyle::Python) => {
                py_tool_declaration(&entry.server, &entry.python_server, definition, &entry.python)
            }
        }),
        needs: entry.needs.iter().map(|need| need.id.clone()).collect(),
        gives: Vec::new(),
    }
}

/// The first sentence (or line) of `text`, at most [`ONE_LINE`] characters.
pub(crate) fn one_line(text: &str) -> String {
    let text = text.trim();
    let line = text.lines().next().unwrap_or("");
    let sentence = line.find(". ").map_or(line, |end| &line[..=end]);
    if sentence.chars().count() <= ONE_LINE {
        return sentence.trim_end().to_string();
    }
    let cut: String = sentence.chars().take(ONE_LINE - 1).collect();
    format!("{}…", cut.trim_end())
}

/// What a search over a runtime's servers found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SearchResults {
    /// The matches, best first.
    pub matches: Vec<ToolMatch>,
    /// Servers left out because their tools could not be listed, with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unavailable: Vec<(String, String)>,
}

impl SearchResults {
    /// The results as text for a model. Names only (detail `name`): one
    /// line per run of tools of one server, `server: tool, tool`. Otherwise
    /// one tool per line (`server.tool`, then ` — description`),
    /// declarations below their line. The ids a tool needs follow its name
    /// in parentheses, as in a call, and the ids it gives after an arrow:
    /// `cancel_subscription(subscription_id), list_subscriptions →
    /// subscription_id`.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        let names_only = self.matches.iter().all(|found| found.description.is_none() && found.declaration.is_none());
        let mut server: Option<&str> = None;
        for found in &self.matches {
            if names_only {
                if server == Some(found.server.as_str()) {
                    text.push_str(", ");
                } else {
                    if server.is_some() {
                        text.push('\n');
                    }
                    text.push_str(&found.server);
                    text.push_str(": ");
                    server = Some(&found.server);
                }
                text.push_str(&found.tool);
            } else {
                text.push_str(&found.name);
            }
            push_ids(&mut text, found);
            if names_only {
                continue;
            }
            if let Some(description) = found.description.as_deref().filter(|d| !d.is_empty()) {
                text.push_str(" — ");
                text.push_str(description);
            }
            text.push('\n');
            if let Some(declaration) = &found.declaration {
                text.push_str(declaration.trim_end());
                text.push_str("\n\n");
            }
        }
        if server.is_some() {
            text.push('\n');
        }
        if self.matches.is_empty() {
            text.push_str("(no tool matches; try other words, or list_servers)\n");
        }
        for (server, reason) in &self.unavailable {
            text.push_str(&format!("(server '{server}' was not searched: {reason})\n"));
        }
        text
    }
}

/// Appends the ids `found` needs, `(a_id, b_id)`, and the ids it gives,
/// ` → a_id` or ` → (a_id, b_id)`: the same facts as words in brackets
/// (`[needs a_id]`) in about 15% fewer tokens over a default search, so
/// more tools fit the same budget.
fn push_ids(text: &mut String, found: &ToolMatch) {
    if !found.needs.is_empty() {
        text.push_str(&format!("({})", found.needs.join(", ")));
    }
    match found.gives.as_slice() {
        [] => {}
        [one] => text.push_str(&format!(" → {one}")),
        several => text.push_str(&format!(" → ({})", several.join(", "))),
    }
}

/// The search index over a registry's servers, rebuilt only when a
/// server's tool list changes (a restart, `tools/list_changed`).
#[derive(Default)]
pub struct ToolCatalog {
    /// Built at the first search: a process that never searches (most
    /// `airlock run`s) does not pay for the stemmers and synonyms.
    vocabulary: OnceLock<Arc<Vocabulary>>,
    current: Mutex<Option<Arc<Indexed>>>,
}

struct Indexed {
    /// (server, digest of its listing) the index was built from.
    versions: Vec<(String, Arc<str>)>,
    index: ToolIndex,
}

impl ToolCatalog {
    /// Searches the tools of every server `registry` reaches, starting the
    /// ones that are not running, and the skills of `skills`.
    pub async fn search(
        &self,
        registry: &ToolRegistry,
        skills: &SkillStore,
        query: &str,
        detail: Detail,
        limit: usize,
        style: DeclarationStyle,
    ) -> SearchResults {
        let (index, unavailable) = self.index(registry, skills).await;
        SearchResults { matches: index.index.search_styled(query, detail, limit, style), unavailable }
    }

    async fn index(&self, registry: &ToolRegistry, skills: &SkillStore) -> (Arc<Indexed>, Vec<(String, String)>) {
        let servers = registry.servers();
        let configured = servers.clone();
        let listed = futures::future::join_all(servers.iter().map(|server| registry.listing(server))).await;
        let mut listings = Vec::new();
        let mut unavailable = Vec::new();
        for (server, listed) in servers.into_iter().zip(listed) {
            match listed {
                Ok(listing) => listings.push((server.to_string(), listing)),
                Err(error) => unavailable.push((server.to_string(), error.message().to_string())),
            }
        }
        let mut versions: Vec<(String, Arc<str>)> =
            listings.iter().map(|(server, listing)| (server.clone(), listing.digest.clone())).collect();
        let skills = saved_skills(registry, skills).await;
        // A skill's entry follows from its name, description, code and staleness.
        let skill_version: String = skills
            .iter()
            .map(|(skill, stale)| {
                let manifest = &skill.manifest;
                format!("{}\u{0}{:?}\u{0}{}\u{0}{stale:?}\n", manifest.name, manifest.description, manifest.code_sha256)
            })
            .collect();
        versions.push((SKILLS.to_string(), skill_version.into()));
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(indexed) = current.as_ref().filter(|indexed| indexed.versions == versions) {
            return (indexed.clone(), unavailable);
        }
        let started = std::time::Instant::now();
        let indexed = Arc::new(Indexed {
            versions,
            index: ToolIndex::with_vocabulary(
                self.vocabulary.get_or_init(Arc::default).clone(),
                &listings,
                skills.into_iter().map(|(skill, stale)| skill_entry(skill, stale)).collect(),
                &configured,
            ),
        });
        tracing::debug!(tools = indexed.index.len(), took = ?started.elapsed(), "tool index rebuilt");
        *current = Some(indexed.clone());
        (indexed, unavailable)
    }
}

/// The usable saved skills, each with why it is stale, if it is.
async fn saved_skills(registry: &ToolRegistry, skills: &SkillStore) -> Vec<(Skill, Option<String>)> {
    let mut out = Vec::new();
    for listed in skills.list() {
        let Ok(skill) = listed.skill else { continue };
        let stale = crate::skills::stale_tools(&skill.manifest, registry).await.first().map(ToString::to_string);
        out.push((skill, stale));
    }
    out
}

/// A skill as the index holds it: stale ones marked in their description.
fn skill_entry(skill: Skill, stale: Option<String>) -> SkillEntry {
    let mut description = skill.manifest.description.clone();
    if let Some(stale) = stale {
        // First, so the one-line description keeps it.
        description = format!("[stale: {stale}] {description}");
    }
    let name = &skill.manifest.name;
    let declaration = match skill.manifest.language {
        crate::skills::SkillLanguage::Component => format!(
            "// import {{ run }} from \"./skills/{name}\" (a precompiled component; its input: ./skills/{name}/SKILL.md)\n\
             export function run(input: unknown): Promise<unknown>;\n"
        ),
        crate::skills::SkillLanguage::Python => format!(
            "# from skills.{} import ...\n{}",
            crate::codegen::py_name(name),
            String::from_utf8_lossy(&skill.code)
        ),
        _ => format!("// import {{ ... }} from \"./skills/{name}\"\n{}", String::from_utf8_lossy(&skill.code)),
    };
    // The one-line description only: documentation repeats the words of
    // the tools a skill wraps and would outrank the tools themselves.
    let definition = ToolDefinition::new(name.clone()).description(description);
    SkillEntry { definition, declaration }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(name: &str, description: &str, properties: Value) -> ToolDefinition {
        ToolDefinition::new(name)
            .description(description)
            .input_schema(json!({"type": "object", "properties": properties}))
    }

    fn listings() -> Vec<(String, Listing)> {
        vec![
            (
                "billing".into(),
                Listing::new(vec![
                    tool(
                        "list_invoices",
                        "List invoices. Filter by status (paid, overdue).",
                        json!({"status": {"type": "string"}}),
                    ),
                    tool("refund_payment", "Refund a captured payment in full or in part.", json!({})),
                ]),
            ),
            (
                "mail".into(),
                Listing::new(vec![tool(
                    "send_email",
                    "Send an email message.",
                    json!({"to": {"type": "string", "description": "Recipient address."}}),
                )]),
            ),
        ]
    }

    #[test]
    fn finds_tools_by_words_of_their_name_description_and_parameters() {
        let index = ToolIndex::new(&listings());
        assert_eq!(index.len(), 3);
        let names = |query: &str| -> Vec<String> {
            index.search(query, Detail::Name, 2).into_iter().map(|found| found.name).collect()
        };
        assert_eq!(names("which invoices are overdue")[0], "billing.list_invoices");
        assert_eq!(names("email the customer")[0], "mail.send_email");
        assert_eq!(names("refunds")[0], "billing.refund_payment");
        assert_eq!(names("recipient")[0], "mail.send_email");
        assert!(names("zebra").is_empty());
    }

    #[test]
    fn detail_levels_add_description_and_declaration() {
        let index = ToolIndex::new(&listings());
        let name = &index.search("refund", Detail::Name, 1)[0];
        assert_eq!((name.description.as_deref(), name.declaration.as_deref()), (None, None));
        let described = &index.search("refund", Detail::Description, 1)[0];
        assert_eq!(described.description.as_deref(), Some("Refund a captured payment in full or in part."));
        let full = &index.search("refund", Detail::Full, 1)[0];
        assert!(full.declaration.as_deref().unwrap().contains("refundPayment"), "{full:?}");
    }

    #[test]
    fn ties_are_broken_by_name() {
        let same = |name: &str| tool(name, "Archive a thing.", json!({}));
        let index = ToolIndex::new(&[(
            "s".into(),
            Listing::new(vec![same("b_archive"), same("a_archive"), same("c_archive")]),
        )]);
        let names: Vec<String> = index.search("archive", Detail::Name, 3).into_iter().map(|f| f.tool).collect();
        assert_eq!(names, ["a_archive", "b_archive", "c_archive"]);
    }

    fn with_required(name: &str, description: &str, required: &[&str]) -> ToolDefinition {
        let properties: serde_json::Map<String, Value> =
            required.iter().map(|id| (id.to_string(), json!({"type": "string"}))).collect();
        ToolDefinition::new(name)
            .description(description)
            .input_schema(json!({"type": "object", "properties": properties, "required": required}))
    }

    #[test]
    fn companions_follow_their_tool_and_count_against_the_limit() {
        let index = ToolIndex::new(&[(
            "shop".into(),
            Listing::new(vec![
                with_required("cancel_order", "Cancel an order before it ships.", &["order_id"]),
                with_required("list_orders", "Every order, newest first.", &[]),
                with_required("refund_order", "Refund an order.", &["order_id"]),
            ]),
        )]);
        let rows = |limit: usize| -> Vec<(String, Vec<String>, Vec<String>)> {
            index
                .search("cancel the order", Detail::Name, limit)
                .into_iter()
                .map(|m| (m.tool, m.needs, m.gives))
                .collect()
        };
        let ids = |ids: &[&str]| ids.iter().map(|id| id.to_string()).collect::<Vec<_>>();
        assert_eq!(
            rows(3),
            [
                ("cancel_order".into(), ids(&["order_id"]), ids(&[])),
                ("list_orders".into(), ids(&[]), ids(&["order_id"])),
                ("refund_order".into(), ids(&["order_id"]), ids(&[])),
            ]
        );
        // No room for the companion: the tool still says what it needs.
        assert_eq!(rows(1), [("cancel_order".into(), ids(&["order_id"]), ids(&[]))]);
    }

    /// A search row of `server.tool` that needs and gives these ids.
    fn row(server: &str, tool: &str, needs: &[&str], gives: &[&str]) -> ToolMatch {
        ToolMatch {
            name: format!("{server}.{tool}"),
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
    fn names_only_text_has_a_line_per_run_of_one_server() {
        let results = SearchResults {
            matches: vec![
                row("a", "x", &["x_id"], &[]),
                row("a", "y", &[], &[]),
                row("b", "z", &[], &[]),
                row("a", "w", &[], &[]),
            ],
            unavailable: Vec::new(),
        };
        assert_eq!(results.to_text(), "a: x(x_id), y\nb: z\na: w\n");
        let mut described = results.clone();
        described.matches[0].description = Some("Does x.".into());
        assert!(described.to_text().starts_with("a.x(x_id) — Does x.\na.y\n"), "{}", described.to_text());
    }

    #[test]
    fn needed_ids_read_as_arguments_and_given_ids_follow_an_arrow() {
        let results = SearchResults {
            matches: vec![
                row("s", "update_milestone", &["project_id", "milestone_id"], &[]),
                row("s", "list_projects", &[], &["project_id"]),
                row("s", "list_milestones", &["project_id"], &["milestone_id", "release_id"]),
            ],
            unavailable: Vec::new(),
        };
        assert_eq!(
            results.to_text(),
            "s: update_milestone(project_id, milestone_id), list_projects → project_id, \
             list_milestones(project_id) → (milestone_id, release_id)\n"
        );
    }

    #[test]
    fn one_line_takes_the_first_sentence() {
        assert_eq!(one_line("Lists files. Paginated.\nMore."), "Lists files.");
        assert_eq!(one_line("  no period here  "), "no period here");
        assert!(one_line(&"x".repeat(300)).ends_with('…'));
    }
}

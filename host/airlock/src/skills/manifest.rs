//! `SKILL.md`: a skill's manifest, YAML frontmatter between `---` lines
//! followed by free documentation.
//!
//! ```text
//! ---
//! name: "export-csv"
//! description: "Write a list of records to a CSV file in the workspace."
//! language: "javascript"
//! version: "1.0.0"
//! code_sha256: "9f86d08…"
//! tools:
//!   "records.list_records": "2c26b46…"
//! ---
//! How to call it, for the agent that reads it.
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::SkillError;

/// The language a skill's code is in, which names its code file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SkillLanguage {
    /// `index.js`, imported into the calling execution.
    JavaScript,
    /// `index.ts`, imported into the calling execution.
    TypeScript,
    /// `index.py`, imported into the calling Python execution
    /// (`from skills.<name> import ...`).
    Python,
    /// `skill.wasm`, a precompiled component of the `skill` world.
    Component,
}

impl SkillLanguage {
    /// The language of a source skill's code; `None` for a component.
    pub fn language(self) -> Option<crate::language::Language> {
        use crate::language::Language;
        match self {
            SkillLanguage::JavaScript => Some(Language::JavaScript),
            SkillLanguage::TypeScript => Some(Language::TypeScript),
            SkillLanguage::Python => Some(Language::Python),
            SkillLanguage::Component => None,
        }
    }

    /// `javascript`, `typescript`, `python` or `component`, as `SKILL.md`
    /// writes it.
    pub fn name(self) -> &'static str {
        self.language().map_or("component", |language| language.spec().name)
    }

    /// The file the code lives in.
    pub fn code_file(self) -> &'static str {
        self.language().map_or("skill.wasm", |language| language.spec().skill_file)
    }
}

impl From<crate::language::Language> for SkillLanguage {
    /// A skill saved from code in `language` is in that language.
    fn from(language: crate::language::Language) -> Self {
        match language {
            crate::language::Language::JavaScript => SkillLanguage::JavaScript,
            crate::language::Language::TypeScript => SkillLanguage::TypeScript,
            crate::language::Language::Python => SkillLanguage::Python,
        }
    }
}

/// What `SKILL.md` records about a skill.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillManifest {
    /// The skill's name: its folder's name and its import path
    /// (`./skills/<name>`).
    pub name: String,
    /// One line on what it does, for search results and listings.
    pub description: String,
    /// The language of its code.
    pub language: SkillLanguage,
    /// Its version, free-form (`1.0.0`).
    #[serde(default = "first_version")]
    pub version: String,
    /// Hex SHA-256 of the code file; code that does not match is refused.
    /// (Empty in the source folder of a component skill not yet built.)
    #[serde(default)]
    pub code_sha256: String,
    /// The tools the code calls (`server.tool`) with the SHA-256 of each
    /// tool's schemas when the skill was saved.
    #[serde(default)]
    pub tools: BTreeMap<String, String>,
}

fn first_version() -> String {
    "1.0.0".into()
}

/// The longest skill name.
const MAX_NAME: usize = 64;

/// Checks a skill name: lowercase letters, digits and single hyphens,
/// starting with a letter. Anything else (paths, dots, spaces) is refused.
pub fn validate_name(name: &str) -> Result<(), SkillError> {
    let fits = !name.is_empty()
        && name.len() <= MAX_NAME
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && !name.contains("--")
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if fits {
        Ok(())
    } else {
        Err(SkillError::BadName(format!(
            "'{name}' is not a skill name: use lowercase letters, digits and single hyphens, \
             starting with a letter, at most {MAX_NAME} characters"
        )))
    }
}

impl SkillManifest {
    /// Parses a `SKILL.md`: the manifest and the documentation after it.
    pub fn parse(text: &str) -> Result<(SkillManifest, String), SkillError> {
        let bad = |message: String| SkillError::BadManifest(message);
        let rest = text.strip_prefix("---").ok_or_else(|| bad("SKILL.md must start with a '---' line".into()))?;
        let (front, body) = rest
            .split_once("\n---")
            .ok_or_else(|| bad("SKILL.md has no closing '---' line after its frontmatter".into()))?;
        let manifest: SkillManifest = serde_saphyr::from_str(front).map_err(|e| bad(format!("frontmatter: {e}")))?;
        validate_name(&manifest.name)?;
        let body = body.split_once('\n').map_or("", |(_, body)| body);
        Ok((manifest, body.trim_start_matches('\n').to_string()))
    }

    /// The `SKILL.md` text for this manifest and `documentation`. Values
    /// are written as JSON strings, which YAML reads as quoted scalars.
    pub fn render(&self, documentation: &str) -> String {
        let quote = |text: &str| serde_json::Value::String(text.to_string()).to_string();
        let mut out = String::from("---\n");
        out.push_str(&format!("name: {}\n", quote(&self.name)));
        out.push_str(&format!("description: {}\n", quote(&self.description)));
        out.push_str(&format!("language: {}\n", quote(self.language.name())));
        out.push_str(&format!("version: {}\n", quote(&self.version)));
        out.push_str(&format!("code_sha256: {}\n", quote(&self.code_sha256)));
        if self.tools.is_empty() {
            out.push_str("tools: {}\n");
        } else {
            out.push_str("tools:\n");
            for (tool, digest) in &self.tools {
                out.push_str(&format!("  {}: {}\n", quote(tool), quote(digest)));
            }
        }
        out.push_str("---\n");
        out.push_str(documentation);
        if !documentation.is_empty() && !documentation.ends_with('\n') {
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> SkillManifest {
        SkillManifest {
            name: "export-csv".into(),
            description: "Write \"records\" to CSV: one row each.".into(),
            language: SkillLanguage::JavaScript,
            version: "1.2.0".into(),
            code_sha256: "ab".repeat(32),
            tools: BTreeMap::from([("records.list_records".to_string(), "cd".repeat(32))]),
        }
    }

    #[test]
    fn render_and_parse_round_trip() {
        let text = manifest().render("Call `exportCsv(rows, path)`.");
        let (parsed, documentation) = SkillManifest::parse(&text).unwrap();
        assert_eq!(parsed, manifest());
        assert_eq!(documentation, "Call `exportCsv(rows, path)`.\n");
        let none = SkillManifest { tools: BTreeMap::new(), ..manifest() };
        assert_eq!(SkillManifest::parse(&none.render("")).unwrap().0, none);
    }

    #[test]
    fn hand_written_yaml_is_read() {
        let text = "---\nname: page-all\ndescription: Collect every page.\nlanguage: typescript\n\
                    code_sha256: 00\ntools:\n  records.list_records: ff\n---\n# Docs\n";
        let (parsed, documentation) = SkillManifest::parse(text).unwrap();
        assert_eq!(parsed.language, SkillLanguage::TypeScript);
        assert_eq!(parsed.version, "1.0.0");
        assert_eq!(parsed.tools["records.list_records"], "ff");
        assert_eq!(documentation, "# Docs\n");
    }

    #[test]
    fn bad_manifests_say_what_is_wrong() {
        for (text, expected) in [
            ("name: x", "must start with"),
            ("---\nname: x\n", "no closing"),
            ("---\nname: x\ndescription: d\nlanguage: cobol\ncode_sha256: 0\n---\n", "frontmatter"),
            ("---\nname: x\ndescription: d\nlanguage: javascript\ncode_sha256: 0\nextra: 1\n---\n", "frontmatter"),
            ("---\nname: ../x\ndescription: d\nlanguage: javascript\ncode_sha256: 0\n---\n", "not a skill name"),
        ] {
            let error = SkillManifest::parse(text).unwrap_err().to_string();
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }

    #[test]
    fn names_cannot_leave_their_folder() {
        for good in ["export-csv", "a", "page2"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in ["", "../x", "a/b", ".hidden", "Export", "a--b", "-a", "a-", "a b", "a.b", &"a".repeat(65)] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }
}

//! `airlock:runtime/skills`: agent code saves a skill (`saveSkill`).

use wasmtime::component::HasData;

use crate::language::Language;
use crate::registry::ToolRegistry;
use crate::skills::{SaveRequest, SkillLanguage, SkillStore, save_source};
use crate::wit::airlock::runtime::skills;

/// The `skills` interface's projection of the store.
pub(crate) struct Skills;

impl HasData for Skills {
    type Data<'a> = SkillsView<'a>;
}

/// What saving a skill reaches: the tools (to record which ones the skill
/// calls) and the skill folders as the session sees them.
pub(crate) struct SkillsView<'a> {
    pub tools: &'a ToolRegistry,
    pub skills: &'a SkillStore,
}

impl skills::Host for SkillsView<'_> {
    async fn save(
        &mut self,
        name: String,
        description: String,
        code: String,
        language: String,
        replace: bool,
        session_only: bool,
    ) -> wasmtime::Result<Result<Vec<String>, String>> {
        let language = match language.parse::<Language>() {
            Ok(language) => SkillLanguage::from(language),
            Err(message) => return Ok(Err(message)),
        };
        let request = SaveRequest {
            name,
            description,
            code,
            language,
            documentation: None,
            version: None,
            replace,
            session: session_only,
        };
        let saved = save_source(self.tools, self.skills, request).await;
        Ok(saved.map(|skill| skill.manifest.tools.into_keys().collect()).map_err(|e| e.to_string()))
    }
}

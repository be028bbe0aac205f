//! `airlock skills build DIR`, its second half: the component cargo built
//! is precompiled into the artifact cache, its typed imports are checked
//! against the servers' current tools, and it is saved as a skill.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::Engine;

use super::CompiledSkills;
use crate::digest::sha256_hex;
use crate::registry::ToolRegistry;
use crate::skills::{BuildRequest, Built, NewSkill, SkillError, SkillManifest, SkillStore, build_crate, digests};

/// Builds the Rust skill in `request.source`, checks its typed imports
/// against the servers of `tools` (a mismatch names the tool and the
/// field), precompiles it and saves it, with its source, into the first
/// folder of `store`, replacing an earlier build.
pub(crate) async fn build(
    engine: &Engine,
    tools: &Arc<ToolRegistry>,
    compiled: &CompiledSkills,
    store: &SkillStore,
    request: &BuildRequest,
) -> Result<Built, SkillError> {
    let built = build_crate(request, compiled.cache_dir()).await?;
    let (manifest, code) = (built.manifest, built.code);

    let started = Instant::now();
    let digest = sha256_hex(&code);
    let component = compiled
        .compile(engine, &manifest.name, &digest, code.clone().into())
        .await
        .map_err(|e| SkillError::Build(crate::Report(&e).to_string()))?;
    let precompile_time = started.elapsed();
    crate::typed::link(engine, &component, tools).await.map_err(|e| {
        SkillError::Build(format!("its imports do not match the servers' tools: {}", crate::Report(&e)))
    })?;

    let called = crate::typed::typed_tools(engine, &component, tools).await;
    let mut recorded = std::collections::BTreeMap::new();
    for (tool, digest) in digests(tools, &called).await {
        if let Ok(digest) = digest {
            recorded.insert(tool, digest);
        }
    }
    let manifest = SkillManifest { tools: recorded, ..manifest };
    let new = NewSkill { manifest, documentation: &built.documentation, code: &code };
    let skill = store.save_with_source(new, &request.source)?;
    Ok(Built { skill, cargo_time: built.cargo_time, precompile_time })
}

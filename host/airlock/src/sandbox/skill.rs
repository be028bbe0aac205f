//! `components.run`: a component skill called from agent code runs in an
//! instance of its own, spending what the calling execution has left.
//!
//! It gets the caller's remaining fuel, deadline, tool calls and memory,
//! the same output caps and workspace, and the caller's boundary (policy
//! and PII vault). What it spends is charged to the caller; a limit it
//! exhausts ends the calling execution with that limit's error. A
//! component skill cannot run another: it is linked with the `skill`
//! world's imports only (see [`super::skill_linker`]), and the instance
//! pool holds two instances per execution, the guest and one skill.

use wasmtime::component::InstancePre;
use wasmtime::{Store, StoreContextMut};

use super::{Budget, LimitTrap, StoreState, limited_store};
use crate::skills::SkillLanguage;

/// Instantiates `pre`, a component of the `skill` world, in `store` and
/// calls its `run` on `input`.
pub(crate) async fn call_run(
    pre: &InstancePre<StoreState>,
    store: &mut Store<StoreState>,
    input: String,
) -> wasmtime::Result<Result<String, String>> {
    let instance = pre.instantiate_async(&mut *store).await?;
    let run = instance.get_typed_func::<(String,), (Result<String, String>,)>(&mut *store, "run")?;
    let (returned,) = run.call_async(&mut *store, (input,)).await?;
    Ok(returned)
}

/// Runs the component skill `name` with `input` (JSON text) for the
/// execution that owns `caller`. `Ok(Err(_))` is a failure the calling code
/// can catch; `Err(_)` ends the calling execution (a limit).
pub(super) async fn run(
    mut caller: StoreContextMut<'_, StoreState>,
    name: String,
    input: String,
) -> wasmtime::Result<Result<String, String>> {
    let tools = caller.data().boundary.tools().clone();
    let skill = match caller.data().services.skills.load(&name) {
        Ok(skill) => skill,
        Err(e) => return Ok(Err(e.to_string())),
    };
    if skill.manifest.language != SkillLanguage::Component {
        return Ok(Err(format!(
            "skill '{name}' is a {} skill: import it with `import * as skill from \"./skills/{name}\"`",
            skill.manifest.language.name()
        )));
    }
    let engine = caller.engine().clone();
    let Some(linker) = caller.data().services.components.clone() else {
        return Ok(Err(format!("skill '{name}': component skills cannot run here")));
    };
    let pre = match linker.link(&engine, &skill, &tools).await {
        Ok(pre) => pre,
        Err(error) => return Ok(Err(format!("skill '{name}': {}", crate::Report(&error)))),
    };

    let fuel = caller.get_fuel()?;
    let state = caller.data();
    let budget = Budget {
        fuel,
        deadline: state.budget.deadline,
        tool_calls: state.budget.tool_calls.saturating_sub(state.tool_calls),
        // What the caller does not hold: together they stay within the cap.
        memory_bytes: state.memory.cap.saturating_sub(state.memory.used) as u64,
    };
    let nested_state =
        StoreState::new(budget, state.surroundings.clone(), state.boundary.clone(), state.services.clone())?;
    let mut nested = limited_store(&engine, nested_state)?;
    let outcome = call_run(&pre, &mut nested, input).await;

    // Charge the caller for what the skill spent.
    let spent = fuel.saturating_sub(nested.get_fuel().unwrap_or(0));
    caller.set_fuel(fuel - spent)?;
    let limit = outcome.as_ref().err().and_then(|trap| super::limit_of(trap, nested.data()));
    let state = caller.data_mut();
    state.tool_calls += nested.data().tool_calls;
    state.memory.peak = state.memory.peak.max(state.memory.used + nested.data().memory.peak);
    // Returning the instance's pool slot takes longer than the call itself.
    super::release(nested, ());

    if state.boundary.halted() {
        // A call of the skill paused the execution (or its replay diverged).
        return Err(super::halt_trap(&state.boundary));
    }
    match outcome {
        Ok(returned) => Ok(returned.map_err(|message| format!("skill '{name}' failed: {message}"))),
        Err(trap) => match limit {
            Some(limit) => {
                state.limit_hit = Some(limit);
                Err(wasmtime::Error::new(LimitTrap(limit)))
            }
            None => Ok(Err(format!("skill '{name}' trapped: {}", super::trap_message(&trap)))),
        },
    }
}

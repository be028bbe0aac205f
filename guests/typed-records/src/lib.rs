//! A skill component that calls the `records` server with typed records:
//! `run("7")` fetches record 7, adds 35 to its id through the `add` tool,
//! and shows that a failing call arrives as a typed `tool-error`.

wit_bindgen::generate!({
    world: "typed-records",
    path: "wit",
    generate_all,
});

use airlock_servers::records::tools::{self, AddArgs, GetRecordArgs, GetRecordResultStatus, ToolError};

struct Skill;

fn describe(error: ToolError) -> String {
    match error {
        ToolError::NotFound(m) => format!("not-found: {m}"),
        ToolError::Denied(m) => format!("denied: {m}"),
        ToolError::InvalidArguments(m) => format!("invalid-arguments: {m}"),
        ToolError::Failed(m) => format!("failed: {m}"),
        ToolError::Unavailable(m) => format!("unavailable: {m}"),
    }
}

/// A JSON string literal.
fn quote(text: &str) -> String {
    let escaped: String = text
        .chars()
        .flat_map(|c| match c {
            '"' => vec!['\\', '"'],
            '\\' => vec!['\\', '\\'],
            c if (c as u32) < 0x20 => format!("\\u{:04x}", c as u32).chars().collect(),
            c => vec![c],
        })
        .collect();
    format!("\"{escaped}\"")
}

impl Guest for Skill {
    fn run(input: String) -> Result<String, String> {
        let id: i64 = input.trim().parse().map_err(|e| format!("the input must be a record id: {e}"))?;
        let record = tools::get_record(GetRecordArgs { id }).map_err(describe)?;
        let sum = tools::add(AddArgs { a: record.id, b: 35 }).map_err(describe)?;
        let status = match record.status {
            GetRecordResultStatus::Pending => "pending",
            GetRecordResultStatus::Paid => "paid",
            GetRecordResultStatus::Overdue => "overdue",
        };
        let missing = match tools::get_record(GetRecordArgs { id: -1 }) {
            Err(ToolError::Failed(_)) => "failed",
            Err(_) => "another error",
            Ok(_) => "found",
        };
        Ok(format!(
            "{{\"id\":{},\"name\":{},\"status\":\"{status}\",\"sum\":{sum},\"tags\":{},\"missing\":\"{missing}\"}}",
            record.id,
            quote(&record.name),
            record.tags.len()
        ))
    }
}

export!(Skill);

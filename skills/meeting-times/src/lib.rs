//! `meeting-times`: one wall-clock time shown in several time zones, each
//! converted by the time server's `convert_time` through its typed WIT
//! interface.
//!
//! Input: `{"time": "14:30", "from": "America/New_York", "to": ["Europe/London", "Asia/Tokyo"]}`
//! (`from` defaults to `UTC`). Output: one row per zone, in the order
//! given, with the converted date and time, the weekday, whether daylight
//! saving applies and the offset from `from`.

wit_bindgen::generate!({
    world: "meeting-times",
    path: "wit",
    generate_all,
});

use airlock_servers::time::tools::{self, ConvertTimeArgs, ToolError};
use airlock_skill::{Skill, Value, export_skill, json};

struct MeetingTimes;

fn describe(error: ToolError) -> String {
    match error {
        ToolError::NotFound(m)
        | ToolError::Denied(m)
        | ToolError::InvalidArguments(m)
        | ToolError::Failed(m)
        | ToolError::Unavailable(m) => m,
    }
}

impl Skill for MeetingTimes {
    fn run(input: Value) -> Result<Value, String> {
        let time = input["time"].as_str().ok_or("`time` (\"HH:MM\", 24-hour) is required")?;
        let from = input["from"].as_str().unwrap_or("UTC");
        let zones = input["to"].as_array().ok_or("`to` must be a list of IANA time zone names")?;
        let mut rows = Vec::with_capacity(zones.len());
        for zone in zones {
            let zone = zone.as_str().ok_or("every entry of `to` must be a time zone name")?;
            let converted = tools::convert_time(&ConvertTimeArgs {
                source_timezone: from.to_string(),
                target_timezone: zone.to_string(),
                time: time.to_string(),
            })
            .map_err(|e| format!("{zone}: {}", describe(e)))?;
            rows.push(json!({
                "timezone": converted.target.timezone,
                "datetime": converted.target.datetime,
                "day": converted.target.day_of_week,
                "dst": converted.target.is_dst,
                "difference": converted.time_difference,
            }));
        }
        Ok(json!({ "from": from, "time": time, "times": rows }))
    }
}

export_skill!(MeetingTimes);

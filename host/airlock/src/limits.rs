//! Per-execution limits and their defaults.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The limits one execution runs under. Every field has a documented
/// default; exceeding any of them ends that execution (and only it) with
/// [`crate::ExecutionError::Limit`] naming the [`Limit`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Instruction budget (wasmtime fuel, about one unit per wasm
    /// instruction). Default: 10 billion, half a second to a second of pure
    /// compute (a JavaScript busy loop spent it in 0.47 s on a 2-core EPYC).
    pub fuel: u64,
    /// Wall-clock deadline, covering time spent in tool calls too.
    /// Default: 30 s.
    #[serde(with = "duration_text")]
    pub timeout: Duration,
    /// Cap on the guest's linear memory, in bytes. Default: 256 MiB.
    pub memory_bytes: u64,
    /// Cap on the stdout bytes returned; output beyond it ends the
    /// execution and is cut with a visible marker. Default: 128 KiB.
    pub stdout_bytes: u64,
    /// Cap on the stderr bytes returned. Default: 64 KiB.
    pub stderr_bytes: u64,
    /// Cap on tool calls per execution. Default: 1,000.
    pub tool_calls: u32,
    /// Cap on what the workspace folder may hold while code writes to it,
    /// in bytes: files' lengths plus 4 KiB per file, folder or link.
    /// Measured when an execution first writes; a write that would pass it
    /// ends the execution. Default: 1 GiB.
    pub workspace_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 10_000_000_000,
            timeout: Duration::from_secs(30),
            memory_bytes: 256 << 20,
            stdout_bytes: 128 << 10,
            stderr_bytes: 64 << 10,
            tool_calls: 1_000,
            workspace_bytes: 1 << 30,
        }
    }
}

/// The limit an execution hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Limit {
    /// The instruction budget ran out.
    Fuel,
    /// The wall-clock deadline passed.
    Timeout,
    /// The guest tried to grow its memory past the cap.
    Memory,
    /// stdout or stderr went past its cap.
    Output,
    /// The code made more tool calls than allowed.
    ToolCalls,
    /// The code wrote more to its workspace than the folder may hold.
    Workspace,
    /// The code held more files open at once than allowed (256).
    OpenFiles,
}

impl Limit {
    /// The limit's name as used in errors and JSON (`tool-calls`).
    pub fn name(self) -> &'static str {
        match self {
            Limit::Fuel => "fuel",
            Limit::Timeout => "timeout",
            Limit::Memory => "memory",
            Limit::Output => "output",
            Limit::ToolCalls => "tool-calls",
            Limit::Workspace => "workspace",
            Limit::OpenFiles => "open-files",
        }
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a text is not a byte size ([`parse_size`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseSizeError {
    /// No number leads the text.
    #[error("'{0}' is not a size (try 64MiB)")]
    NotANumber(String),
    /// The unit after the number is not one of B, KiB, MiB, GiB.
    #[error("unknown size unit '{unit}' in '{text}' (use KiB, MiB or GiB)")]
    UnknownUnit {
        /// The whole text.
        text: String,
        /// The unit as written.
        unit: String,
    },
    /// The size does not fit in 64 bits.
    #[error("size '{0}' is too large")]
    TooLarge(String),
}

/// Parses a byte size such as `64MiB`, `512k`, `1G` or `1048576`
/// (binary multiples: `k`/`KiB` = 1024).
pub fn parse_size(text: &str) -> Result<u64, ParseSizeError> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let number: u64 = digits.parse().map_err(|_| ParseSizeError::NotANumber(text.to_string()))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        other => return Err(ParseSizeError::UnknownUnit { text: text.to_string(), unit: other.to_string() }),
    };
    number.checked_mul(1 << shift).ok_or_else(|| ParseSizeError::TooLarge(text.to_string()))
}

/// Durations in config files are written as text (`"30s"`, `"500ms"`).
pub(crate) mod duration_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&humantime::format_duration(*value).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(&text).map_err(|e| serde::de::Error::custom(format!("'{text}': {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("MiB").is_err());
    }

    #[test]
    fn limits_read_from_json_with_text_durations() {
        let limits: Limits = serde_json::from_str(r#"{"timeout": "1500ms", "tool_calls": 3}"#).unwrap();
        assert_eq!(limits.timeout, Duration::from_millis(1500));
        assert_eq!(limits.tool_calls, 3);
        assert_eq!(limits.fuel, Limits::default().fuel);
        assert!(serde_json::from_str::<Limits>(r#"{"fuell": 1}"#).is_err());
    }
}

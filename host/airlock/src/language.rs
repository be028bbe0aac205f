//! [`Language`]: the languages agent code is written in.

use std::path::Path;
use std::str::FromStr;

/// The language of the code to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// JavaScript, run as an ES module.
    JavaScript,
    /// TypeScript: types are stripped, then it runs as JavaScript.
    TypeScript,
    /// Python (CPython 3.14 with its standard library): tools are called
    /// as `server.tool(arg=...)` after `from servers import server`.
    Python,
}

impl Language {
    /// The language a file's extension implies (`.ts`, `.mts` →
    /// TypeScript; `.py` → Python; anything else → JavaScript).
    pub fn from_path(path: &Path) -> Language {
        match path.extension().and_then(|e| e.to_str()) {
            Some("ts" | "mts" | "cts") => Language::TypeScript,
            Some("py") => Language::Python,
            _ => Language::JavaScript,
        }
    }

    /// `javascript`, `typescript` or `python`.
    pub fn name(self) -> &'static str {
        match self {
            Language::JavaScript => "javascript",
            Language::TypeScript => "typescript",
            Language::Python => "python",
        }
    }

    /// How the language declares tools: Python code reads Python
    /// signatures, JavaScript and TypeScript code TypeScript declarations.
    pub fn declarations(self) -> crate::codegen::DeclarationStyle {
        match self {
            Language::Python => crate::codegen::DeclarationStyle::Python,
            Language::JavaScript | Language::TypeScript => crate::codegen::DeclarationStyle::TypeScript,
        }
    }

    /// The file the guest runs code in this language as (`main.ts`).
    pub(crate) fn file_name(self) -> &'static str {
        match self {
            Language::JavaScript => "main.js",
            Language::TypeScript => "main.ts",
            Language::Python => "main.py",
        }
    }
}

impl FromStr for Language {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "js" | "javascript" => Ok(Language::JavaScript),
            "ts" | "typescript" => Ok(Language::TypeScript),
            "py" | "python" => Ok(Language::Python),
            other => {
                let names = ["javascript", "typescript", "python"];
                let hint = crate::suggest::did_you_mean(other, names);
                Err(format!("unknown language '{other}'{hint}: use javascript, typescript or python"))
            }
        }
    }
}

//! [`Language`]: the languages agent code is written in, each described
//! once in [`LANGUAGES`].

use std::path::Path;
use std::str::FromStr;

use crate::codegen::DeclarationStyle;

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

/// The interpreter guest a language runs in (`engine` maps it to the
/// component `build.rs` built).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interpreter {
    /// QuickJS (guests/js): JavaScript, and TypeScript once transpiled.
    QuickJs,
    /// CPython 3.14 (guests/python), built by componentize-py.
    CPython,
}

/// Everything the host knows about one language of agent code. Adding a
/// language is one more entry in [`LANGUAGES`], its guest under `guests/`
/// (an [`Interpreter`]) and its tool declarations (`codegen`); see the
/// README's architecture section.
#[derive(Debug)]
pub struct LanguageSpec {
    /// The language this describes.
    pub language: Language,
    /// Its name in configs, flags and `SKILL.md` (`python`).
    pub name: &'static str,
    /// Other names accepted for it (`py`).
    pub aliases: &'static [&'static str],
    /// File extensions that imply it.
    pub extensions: &'static [&'static str],
    /// The file the guest runs the agent's code as (tracebacks name it).
    pub main_file: &'static str,
    /// The file a skill's code lives in.
    pub skill_file: &'static str,
    /// How tools are declared to code in this language.
    pub declarations: DeclarationStyle,
    /// The guest that runs it.
    pub interpreter: Interpreter,
    /// Transpiled to JavaScript before it runs (TypeScript).
    pub transpiled: bool,
}

/// Every language agent code may be written in, in the order of
/// [`Language`]'s variants; the first is the default.
pub const LANGUAGES: &[LanguageSpec] = &[
    LanguageSpec {
        language: Language::JavaScript,
        name: "javascript",
        aliases: &["js"],
        extensions: &["js", "mjs", "cjs"],
        main_file: "main.js",
        skill_file: "index.js",
        declarations: DeclarationStyle::TypeScript,
        interpreter: Interpreter::QuickJs,
        transpiled: false,
    },
    LanguageSpec {
        language: Language::TypeScript,
        name: "typescript",
        aliases: &["ts"],
        extensions: &["ts", "mts", "cts"],
        main_file: "main.ts",
        skill_file: "index.ts",
        declarations: DeclarationStyle::TypeScript,
        interpreter: Interpreter::QuickJs,
        transpiled: true,
    },
    LanguageSpec {
        language: Language::Python,
        name: "python",
        aliases: &["py"],
        extensions: &["py"],
        main_file: "main.py",
        skill_file: "index.py",
        declarations: DeclarationStyle::Python,
        interpreter: Interpreter::CPython,
        transpiled: false,
    },
];

impl Language {
    /// Its entry in [`LANGUAGES`].
    pub fn spec(self) -> &'static LanguageSpec {
        // LANGUAGES lists the variants in declaration order (a test checks).
        &LANGUAGES[self as usize]
    }

    /// The language a file's extension implies (`.ts`, `.mts` →
    /// TypeScript; `.py` → Python; anything else → JavaScript).
    pub fn from_path(path: &Path) -> Language {
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or_default();
        LANGUAGES.iter().find(|spec| spec.extensions.contains(&extension)).unwrap_or(&LANGUAGES[0]).language
    }

    /// `javascript`, `typescript` or `python`.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// How the language declares tools: Python code reads Python
    /// signatures, JavaScript and TypeScript code TypeScript declarations.
    pub fn declarations(self) -> DeclarationStyle {
        self.spec().declarations
    }

    /// The file the guest runs code in this language as (`main.ts`).
    pub(crate) fn file_name(self) -> &'static str {
        self.spec().main_file
    }
}

impl FromStr for Language {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.to_ascii_lowercase();
        let named = |spec: &&LanguageSpec| spec.name == lower || spec.aliases.contains(&lower.as_str());
        if let Some(spec) = LANGUAGES.iter().find(named) {
            return Ok(spec.language);
        }
        let names: Vec<&str> = LANGUAGES.iter().map(|spec| spec.name).collect();
        let hint = crate::suggest::did_you_mean(&lower, names.iter().copied());
        let mut list = String::new();
        for (at, name) in names.iter().enumerate() {
            if at > 0 {
                list.push_str(if at + 1 == names.len() { " or " } else { ", " });
            }
            list.push_str(name);
        }
        Err(format!("unknown language '{lower}'{hint}: use {list}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_language_finds_its_own_entry_and_names() {
        for (at, spec) in LANGUAGES.iter().enumerate() {
            assert_eq!(spec.language as usize, at, "LANGUAGES follows the order of Language's variants");
            assert_eq!(spec.language.spec().name, spec.name);
            assert_eq!(spec.name.parse::<Language>(), Ok(spec.language));
            for alias in spec.aliases {
                assert_eq!(alias.parse::<Language>(), Ok(spec.language));
            }
        }
        assert_eq!(Language::from_path(Path::new("a.mts")), Language::TypeScript);
        assert_eq!(Language::from_path(Path::new("a.py")), Language::Python);
        assert_eq!(Language::from_path(Path::new("README")), Language::JavaScript);
        let error = "pyhton".parse::<Language>().unwrap_err();
        assert_eq!(error, "unknown language 'pyhton' (did you mean `python`?): use javascript, typescript or python");
    }
}

//! A problem the user reads, as a value: a stable code (`E-…`) beside the text that says what to do.
//!
//! The constructors live in each floor's diagnostics module (`inputs/advice.rs`, `docker/advice.rs`,
//! `aws/registry/advice.rs`, …), one named function per problem, as in cargo-deny's `diags.rs`: the
//! logic that raises a problem reads on one screen, and the text is written once. The code travels
//! with the error through `anyhow` (context added on the way keeps it) and comes out as the title of
//! the `::error` annotation, where users search for it and tests match it instead of the prose. The
//! README's "Diagnostics" section lists every code; a unit test keeps the two in step.
//!
//! The ground floor: it imports nothing from the crate.

use std::fmt;

/// A user-facing problem: its codes (one; several when it gathers problems, such as every refused
/// input at once or each destination that failed) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    codes: Vec<&'static str>,
    text: String,
}

impl Diagnostic {
    pub fn new(code: &'static str, text: impl Into<String>) -> Self {
        debug_assert!(is_code(code), "not a diagnostic code: {code}");
        Diagnostic {
            codes: vec![code],
            text: text.into(),
        }
    }

    /// Several problems told as one, keeping each one's code (in order, once each).
    pub fn gathered(
        codes: impl IntoIterator<Item = &'static str>,
        text: impl Into<String>,
    ) -> Self {
        let mut unique = Vec::new();
        for code in codes {
            if !unique.contains(&code) {
                unique.push(code);
            }
        }
        Diagnostic {
            codes: unique,
            text: text.into(),
        }
    }

    pub fn codes(&self) -> &[&'static str] {
        &self.codes
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Diagnostic {}

/// The problem `code` as an error: what the constructors return.
pub fn error(code: &'static str, text: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Diagnostic::new(code, text))
}

/// The codes an error carries, outermost first: those of every [`Diagnostic`] in its chain.
pub fn codes(err: &anyhow::Error) -> Vec<&'static str> {
    let found = err
        .chain()
        .filter_map(|e| e.downcast_ref::<Diagnostic>())
        .flat_map(|d| d.codes.iter().copied());
    Diagnostic::gathered(found, "").codes
}

/// `E-` then upper-case words joined by `-`: what a code looks like, in the README and the log.
pub fn is_code(text: &str) -> bool {
    text.strip_prefix("E-").is_some_and(|rest| {
        rest.split('-').all(|word| {
            !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_survive_context_and_gathering() {
        let err = error("E-TEST-ONE", "first").context("while doing something");
        assert_eq!(codes(&err), ["E-TEST-ONE"]);
        let gathered = anyhow::Error::new(Diagnostic::gathered(
            ["E-TEST-ONE", "E-TEST-TWO", "E-TEST-ONE"],
            "both",
        ));
        assert_eq!(codes(&gathered), ["E-TEST-ONE", "E-TEST-TWO"]);
        assert!(codes(&anyhow::anyhow!("no code")).is_empty());
    }

    #[test]
    fn code_grammar() {
        assert!(is_code("E-INPUT-TAG"));
        assert!(is_code("E-S3-2"));
        for bad in ["E-", "E-input", "E--X", "X-TAG", "E-TAG-", "E-TA G"] {
            assert!(!is_code(bad), "{bad}");
        }
    }

    /// Every code a constructor in `src/` raises is listed in the README's "Diagnostics" section, and
    /// every code listed there is raised somewhere: the list users read is the list the code has.
    #[test]
    fn readme_lists_exactly_the_codes_raised() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
        let section = readme
            .split("\n## Diagnostics")
            .nth(1)
            .expect("README has a `## Diagnostics` section");
        let section = section.split("\n## ").next().unwrap_or_default();
        let listed = quoted_codes(section, '`');
        let mut raised = Vec::new();
        let mut sources = vec![root.join("src")];
        while let Some(path) = sources.pop() {
            if path.is_dir() {
                let entries = std::fs::read_dir(&path).expect("src/ is readable");
                sources.extend(entries.map(|e| e.expect("a directory entry").path()));
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a source file");
                // Codes raised by the code, not those its tests name.
                let code = text.split("#[cfg(test)]").next().unwrap_or_default();
                raised.extend(quoted_codes(code, '"'));
            }
        }
        raised.retain(|c| !c.starts_with("E-TEST"));
        for code in &raised {
            assert!(
                listed.contains(code),
                "{code} is raised but not in the README"
            );
        }
        for code in &listed {
            assert!(
                raised.contains(code),
                "{code} is in the README but never raised"
            );
        }
    }

    /// Codes written between two `quote`s.
    fn quoted_codes(text: &str, quote: char) -> Vec<String> {
        let opening = format!("{quote}E-");
        text.match_indices(&opening)
            .filter_map(|(at, _)| text[at + 1..].split(quote).next())
            .filter(|t| is_code(t))
            .map(str::to_owned)
            .collect()
    }
}

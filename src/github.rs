//! The one place that writes what the user sees: the log (with workflow commands — masks, groups,
//! annotations), step outputs (`$GITHUB_OUTPUT`) and the job summary (`$GITHUB_STEP_SUMMARY`).
//!
//! Everything user-controlled that reaches a workflow command is escaped here, so no input, registry
//! message or AWS error text can start a command of its own. The rest of the crate never prints.
#![allow(clippy::print_stdout, clippy::disallowed_macros)]

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

/// Tells the runner to hide `secret` in every later log line. Multi-line values are masked line by line
/// because the runner matches masks per line.
pub fn mask(secret: &str) {
    for line in secret.lines().map(str::trim).filter(|l| !l.is_empty()) {
        println!("::add-mask::{}", escape_data(line));
    }
}

/// A plain log line. A line that would parse as a workflow command is neutralised.
pub fn info(message: &str) {
    for line in message.lines() {
        if line.trim_start().starts_with("::") {
            println!(" {line}");
        } else {
            println!("{line}");
        }
    }
}

/// A document printed as it is (the `policy` subcommand's JSON), for piping into other tools.
pub fn document(text: &str) {
    print!("{text}");
}

pub fn warning(message: &str) {
    println!("::warning::{}", escape_data(message));
}

pub fn error(message: &str) {
    println!("::error::{}", escape_data(message));
}

/// A collapsible section of the log; it closes when the guard is dropped, also on early return.
#[must_use = "the group closes when this guard is dropped"]
pub struct Group(());

pub fn group(title: &str) -> Group {
    println!("::group::{}", escape_data(title));
    *CURRENT_STEP
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(title.to_owned());
    Group(())
}

impl Drop for Group {
    fn drop(&mut self) {
        println!("::endgroup::");
    }
}

/// The last step (group) the log opened: where a run that times out was.
static CURRENT_STEP: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

pub fn current_step() -> Option<String> {
    CURRENT_STEP
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

/// Sets step outputs. Under Actions they go to `$GITHUB_OUTPUT` as heredocs; elsewhere (plain
/// binary, `docker run`) they are printed so a person can read them.
pub fn set_outputs(outputs: &[(&str, String)]) -> Result<()> {
    if let Some(path) = std::env::var_os("GITHUB_OUTPUT").filter(|p| !p.is_empty()) {
        append(Path::new(&path), &outputs_file_text(outputs)?)
            .context("writing step outputs to $GITHUB_OUTPUT")
    } else {
        {
            info("Outputs:");
            for (name, value) in outputs {
                let mut lines = value.lines();
                info(&format!("  {name}: {}", lines.next().unwrap_or_default()));
                for more in lines {
                    info(&format!("  {:width$}  {more}", "", width = name.len()));
                }
            }
            Ok(())
        }
    }
}

/// Appends Markdown to the job summary, when there is one (only under Actions).
pub fn append_summary(markdown: &str) -> Result<()> {
    match std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        Some(path) => append(Path::new(&path), markdown)
            .context("writing the job summary to $GITHUB_STEP_SUMMARY"),
        None => Ok(()),
    }
}

fn append(path: &Path, text: &str) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// `name<<DELIM` heredocs, with a random delimiter that occurs in no value (so no value can end its
/// own heredoc early and smuggle in another output).
fn outputs_file_text(outputs: &[(&str, String)]) -> Result<String> {
    let delimiter = loop {
        let candidate = format!("ghadelimiter_{}", random_hex()?);
        if outputs
            .iter()
            .all(|(name, value)| !name.contains(&candidate) && !value.contains(&candidate))
        {
            break candidate;
        }
    };
    let mut text = String::new();
    for (name, value) in outputs {
        // Writing to a String cannot fail.
        let _ = write!(text, "{name}<<{delimiter}\n{value}\n{delimiter}\n");
    }
    Ok(text)
}

fn random_hex() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| anyhow::anyhow!("no randomness for the output delimiter: {e}"))?;
    Ok(bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    }))
}

/// Escaping of a workflow command's message, as the runner unescapes it.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes text for a Markdown table cell of the job summary.
pub fn table_cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('`', "\\`")
        .replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_command_data() {
        assert_eq!(escape_data("50%\r\nnext::x"), "50%25%0D%0Anext::x");
    }

    #[test]
    fn heredoc_delimiter_is_random_and_absent_from_values() {
        let outputs = [("a", "one\ntwo".to_owned()), ("b", String::new())];
        let text = outputs_file_text(&outputs).expect("delimiter");
        let first = text.lines().next().expect("a line");
        let delimiter = first.strip_prefix("a<<").expect("heredoc");
        assert!(delimiter.starts_with("ghadelimiter_") && delimiter.len() > 30);
        assert_eq!(
            text,
            format!("a<<{delimiter}\none\ntwo\n{delimiter}\nb<<{delimiter}\n\n{delimiter}\n")
        );
        let again = outputs_file_text(&outputs).expect("delimiter");
        assert_ne!(text, again, "each run draws a new delimiter");
    }

    #[test]
    fn table_cells_cannot_break_the_table() {
        assert_eq!(table_cell("a|b\nc`d"), "a\\|b c\\`d");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn unescape(text: &str) -> String {
        text.replace("%0A", "\n")
            .replace("%0D", "\r")
            .replace("%25", "%")
    }

    /// Reads `name<<DELIM` … `DELIM` heredocs back, as the runner does.
    fn read_outputs(text: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut lines = text.split('\n');
        while let Some(header) = lines.next().filter(|h| !h.is_empty()) {
            let (name, delimiter) = header.split_once("<<").expect("heredoc header");
            let mut value = Vec::new();
            for line in lines.by_ref() {
                if line == delimiter {
                    break;
                }
                value.push(line);
            }
            out.push((name.to_owned(), value.join("\n")));
        }
        out
    }

    proptest! {
        #[test]
        fn escaped_messages_stay_on_one_line_and_round_trip(text in ".*") {
            let escaped = escape_data(&text);
            prop_assert!(!escaped.contains('\n') && !escaped.contains('\r'));
            prop_assert_eq!(unescape(&escaped), text);
        }

        #[test]
        fn any_output_value_survives_the_heredoc(
            values in proptest::collection::vec("(ghadelimiter_[0-9a-f]{0,32}|[^\r]{0,40})(\n[^\r]{0,20}){0,3}", 1..4)
        ) {
            let outputs: Vec<(&str, String)> = values.iter().map(|v| ("value", v.clone())).collect();
            let text = outputs_file_text(&outputs).expect("delimiter");
            let read = read_outputs(&text);
            prop_assert_eq!(read.len(), values.len());
            for ((_, got), want) in read.iter().zip(&values) {
                prop_assert_eq!(got, want);
            }
        }

        #[test]
        fn table_cells_never_break_a_row(text in ".*") {
            let cell = table_cell(&text);
            prop_assert!(!cell.contains('\n') && !cell.contains('\r'));
            prop_assert!(!cell.replace("\\|", "").contains('|'));
        }
    }
}

//! The one place that writes what the user sees: the log (with workflow commands — masks, groups,
//! annotations), step outputs (`$GITHUB_OUTPUT`) and the job summary (`$GITHUB_STEP_SUMMARY`).
//!
//! Everything user-controlled that reaches a workflow command is escaped here, so no input, registry
//! message or AWS error text can start a command of its own. The rest of the crate never prints.
//!
//! How the runner reads a step's output (actions/runner `ActionCommand.cs`, `ActionCommandManager.cs`):
//! it splits it into lines at `\r\n`, `\r` or `\n`; a line is a command when, after `TrimStart()`, it
//! starts with `::name …::` (v2), or when it holds `##[name …]` anywhere (v1). Both matches are .NET's
//! culture-sensitive `StartsWith`/`IndexOf`, which skip ignorable code points (controls, soft hyphens,
//! zero-width characters): a leading space, or an invisible character slipped in, does not neutralise
//! anything. [`info`] therefore makes every line it prints unparseable by construction, without state:
//! - the number sign `#` (and its two compatibility forms) is percent-encoded (`%23`), so no line holds a
//!   `#` the v1 form needs;
//! - a line whose first character after leading whitespace is not an ASCII letter or digit gets
//!   [`UNTRUSTED_LINE`] in front, so no line can start with `:` once trimmed.
//!
//! The runner undoes neither. The alternative, a `::stop-commands::<random>` … `::<random>::` block
//! around untrusted text, keeps the text exact but has state: the runner prints both marker lines, and
//! a process killed inside a block would leave commands off for the rest of the job — including the
//! `::add-mask::` of later steps.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::disallowed_macros)]

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use anyhow::Result;

/// An error and its causes on one line, each once (the SDK's own causes often repeat each other).
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let next = cause.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = cause.source();
    }
    text
}

/// Tells the runner to hide `secret` in every later log line. Multi-line values are masked line by line
/// because the runner matches masks per line, and its lines end at `\r` as well as `\n`. A part that
/// [`info`] would print differently (it holds a `#`) is masked in that form too.
pub fn mask(secret: &str) {
    for line in mask_commands(secret) {
        println!("{line}");
    }
}

fn mask_commands(secret: &str) -> Vec<String> {
    let mut commands = Vec::new();
    for part in runner_lines(secret)
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        commands.push(format!("::add-mask::{}", escape_data(part)));
        let printed = escape_number_signs(part);
        if printed != part {
            commands.push(format!("::add-mask::{}", escape_data(&printed)));
        }
    }
    commands
}

/// What [`info`] puts before a line that does not start (after whitespace) with an ASCII letter or
/// digit: it could otherwise be read as a `::command::` once the runner trims it.
pub const UNTRUSTED_LINE: &str = "> ";

/// Log lines, neutralised so that none of them is a workflow command (see the module doc). Every text
/// the action did not write itself — registry, daemon and AWS messages, inputs, tags — is printed
/// through here.
pub fn info(message: &str) {
    for line in log_lines(message) {
        emit(line);
    }
}

tokio::task_local! {
    /// The log lines of work that runs beside other work, held back until it is done (see [`held`]).
    static HELD: Held;
}

/// Held log lines. Work stopped before it ended (the run's `timeout`) has its lines printed when
/// it is dropped: the log then shows how far each part got.
#[derive(Default)]
struct Held(std::cell::RefCell<Vec<String>>);

impl Drop for Held {
    fn drop(&mut self) {
        release(self.0.take());
    }
}

/// Runs `work`, holding back its log lines (groups, annotations, info) when `hold` is set, and returns
/// them; [`release`] prints them (see [`at_once`]). Work done at the same time as other work — several destinations,
/// several tags — would otherwise interleave its lines and groups. Held work nested in held work gives
/// its lines to the outer one when released. Masks are never held: they must reach the runner before
/// anything could print the secret.
async fn held<F: Future>(hold: bool, work: F) -> (F::Output, Vec<String>) {
    if !hold {
        return (work.await, Vec::new());
    }
    let scoped = async {
        let output = work.await;
        (output, HELD.with(|held| held.0.take()))
    };
    HELD.scope(Held::default(), scoped).await
}

/// Prints lines that [`held`] held back (to the held work around this, if any).
fn release(lines: Vec<String>) {
    for line in lines {
        emit(line);
    }
}

/// Runs `first` and `then` at once, each one's log held and printed once both have ended, `first`'s
/// before; when `first` failed, `then`'s log is left out — the run stops at `first`, and its log ends
/// with the step that failed, as it would had the two run in turn.
pub async fn both<T, E, B: Future>(
    first: impl Future<Output = Result<T, E>>,
    then: B,
) -> (Result<T, E>, B::Output) {
    let joined = futures_util::future::join(held(true, first), held(true, then));
    let ((first, first_lines), (then, then_lines)) = joined.await;
    release(first_lines);
    if first.is_ok() {
        release(then_lines);
    }
    (first, then)
}

/// As [`both`], with `first` on a task of its own, so that `then` blocking its thread for a while
/// (the AWS SDK reads the system's root certificates when it builds its client) does not hold
/// `first` up: on a runtime with two threads, the two then really run at once.
pub async fn both_apart<T, E, B>(
    first: impl Future<Output = Result<T, E>> + Send + 'static,
    then: B,
) -> (Result<T, E>, B::Output)
where
    T: Send + 'static,
    E: Send + 'static,
    B: Future,
{
    let first = tokio::spawn(held(true, first));
    // Its lines, released inside `both`, are held there with the rest of `first`'s.
    let joined = async move {
        let (output, lines) = first
            .await
            .unwrap_or_else(|stopped| std::panic::resume_unwind(stopped.into_panic()));
        release(lines);
        output
    };
    both(joined, then).await
}

/// Runs `work` at once. With more than one, each one's log is held and printed once all have ended,
/// in the order given, so that groups never interleave; one alone logs as it goes.
pub async fn at_once<F: Future>(work: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let work: Vec<F> = work.into_iter().collect();
    let hold = work.len() > 1;
    let done = futures_util::future::join_all(work.into_iter().map(|w| held(hold, w))).await;
    done.into_iter()
        .map(|(output, lines)| {
            release(lines);
            output
        })
        .collect()
}

/// [`at_once`], each one's log printed as soon as it ends: a long push shows its log without waiting
/// for the slowest.
pub async fn at_once_logged_as_done<F: Future>(
    work: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let work: Vec<F> = work.into_iter().collect();
    let hold = work.len() > 1;
    let each = work.into_iter().map(|w| async move {
        let (output, lines) = held(hold, w).await;
        release(lines);
        output
    });
    futures_util::future::join_all(each).await
}

/// One log line: printed, or held while in [`held`] work.
fn emit(line: String) {
    let mut line = Some(line);
    let _ = HELD.try_with(|held| held.0.borrow_mut().extend(line.take()));
    if let Some(line) = line {
        println!("{line}");
    }
}

/// The lines [`info`] prints for `message`.
fn log_lines(message: &str) -> impl Iterator<Item = String> {
    runner_lines(message).map(neutralise_line)
}

/// The lines of `text` as the runner's `ReadLine` splits them: at `\r\n`, `\r` or `\n`.
fn runner_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text).filter(|t| !t.is_empty());
    std::iter::from_fn(move || {
        let text = rest?;
        match text.find(['\r', '\n']) {
            None => {
                rest = None;
                Some(text)
            }
            Some(at) => {
                let skip = if text[at..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&text[at + skip..]).filter(|r| !r.is_empty());
                Some(&text[..at])
            }
        }
    })
}

/// `text` with each of its lines (as the runner splits them) made unparseable as a workflow command,
/// joined by `\n`: for text the action prints as a document of its own (`policy --check`'s report).
pub fn neutralise(text: &str) -> String {
    log_lines(text).collect::<Vec<_>>().join("\n")
}

/// One line (without line breaks) made unparseable as a v1 or v2 workflow command.
pub fn neutralise_line(line: &str) -> String {
    let first = line.trim_start().chars().next();
    if first.is_some_and(|c| !c.is_ascii_alphanumeric()) {
        format!("{UNTRUSTED_LINE}{}", escape_number_signs(line))
    } else {
        escape_number_signs(line)
    }
}

/// `#` and its compatibility forms, percent-encoded: a line without them has no `##[` command.
fn escape_number_signs(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        match c {
            '#' => out.push_str("%23"),
            '\u{FF03}' => out.push_str("%EF%BC%83"),
            '\u{FE5F}' => out.push_str("%EF%B9%9F"),
            c => out.push(c),
        }
    }
    out
}

/// A JSON document (the `policy` subcommand's; or its usage text, which has no `#`), for piping into
/// other tools. JSON escapes line breaks inside strings, and `#` can only occur inside strings, where
/// `\u0023` means the same: so no line of it can be a workflow command (every line starts with
/// whitespace, a bracket or a quote), and the document is unchanged for a JSON reader.
pub fn document(json: &str) {
    print!("{}", json.replace('#', "\\u0023"));
}

/// A warning about a [`document`], on stderr so that stdout stays the document alone (the runner reads
/// commands from both streams).
pub fn warning_beside_document(message: &str) {
    eprintln!("::warning::{}", escape_data(message));
}

pub fn warning(message: &str) {
    emit(format!("::warning::{}", escape_data(message)));
}

/// The run's failure, titled with its diagnostic codes (`E-…`, comma-separated) when it has any: the
/// annotation then reads "E-INPUT-TAG: …" in the checks UI, and a search finds the README's entry.
pub fn error(codes: &[&str], message: &str) {
    let title = match codes {
        [] => String::new(),
        codes => format!(" title={}", escape_property(&codes.join(", "))),
    };
    emit(format!("::error{title}::{}", escape_data(message)));
}

/// A collapsible section of the log; it closes when the guard is dropped, also on early return.
#[must_use = "the group closes when this guard is dropped"]
pub struct Group(());

pub fn group(title: &str) -> Group {
    emit(format!("::group::{}", escape_data(title)));
    Group(())
}

impl Drop for Group {
    fn drop(&mut self) {
        emit("::endgroup::".to_owned());
    }
}

/// Sets step outputs. Under Actions they go to `$GITHUB_OUTPUT` as heredocs; elsewhere (plain
/// binary, `docker run`) they are printed so a person can read them.
pub fn set_outputs(outputs: &[(&str, String)]) -> Result<()> {
    if let Some(path) = std::env::var_os("GITHUB_OUTPUT").filter(|p| !p.is_empty()) {
        append(
            Path::new(&path),
            &outputs_file_text(outputs)?,
            advice::OUTPUTS,
        )
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
        Some(path) => append(Path::new(&path), markdown, advice::SUMMARY),
        None => Ok(()),
    }
}

/// Appends `text` to the file at `path`, which holds `what` (see [`advice::OUTPUTS`]).
fn append(path: &Path, text: &str, what: &str) -> Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|e| advice::unwritable(what, "open", path, &e))?;
    file.write_all(text.as_bytes())
        .map_err(|e| advice::unwritable(what, "write", path, &e))
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
    getrandom::fill(&mut bytes).map_err(|e| advice::no_randomness(&e))?;
    Ok(bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    }))
}

/// Escaping of a workflow command's property value, as the runner unescapes it.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Escaping of a workflow command's message, as the runner unescapes it.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Text from a registry or AWS as a Markdown code span inside a table cell of the job summary: nothing
/// in it renders (no link, image or HTML), a `|` cannot end the cell, a line break cannot end the row.
/// The fence is one backtick longer than any run of backticks in the text (the Markdown rule).
pub fn code_cell(text: &str) -> String {
    let text = text.replace(['\r', '\n'], " ").replace('|', "\\|");
    let longest = text
        .split(|c| c != '`')
        .map(str::len)
        .max()
        .unwrap_or_default();
    let fence = "`".repeat(longest + 1);
    // A code span's content may not begin or end with a backtick next to the fence: pad with spaces,
    // which CommonMark strips again.
    let pad = if text.is_empty() || text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// What the user reads when the outputs or the summary cannot be written: each problem with its code.
mod advice {
    use anyhow::Error;

    use crate::diagnostic::error;

    /// What the files written hold, as an error names them.
    pub const OUTPUTS: &str = "step outputs to $GITHUB_OUTPUT";
    pub const SUMMARY: &str = "the job summary to $GITHUB_STEP_SUMMARY";

    /// The file at `path` for `what` could not be opened or written (`verb`).
    pub fn unwritable(
        what: &str,
        verb: &str,
        path: &std::path::Path,
        why: &std::io::Error,
    ) -> Error {
        error(
            "E-OUTPUT-WRITE",
            format!("writing {what}: cannot {verb} {}: {why}", path.display()),
        )
    }

    pub fn no_randomness(why: &dyn std::fmt::Display) -> Error {
        error(
            "E-OUTPUT-RANDOM",
            format!("no randomness for the output delimiter: {why}"),
        )
    }
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
    fn log_lines_cannot_be_commands() {
        let lines = |text: &str| log_lines(text).collect::<Vec<_>>();
        assert_eq!(
            lines("toomanyrequests: slow down\n ::stop-commands::x\r::add-mask::y\r\nnext"),
            [
                "toomanyrequests: slow down",
                ">  ::stop-commands::x",
                "> ::add-mask::y",
                "next"
            ]
        );
        assert_eq!(
            lines("Pushing a failed: ##[set-output name=digest]forged ＃＃[x]"),
            ["Pushing a failed: %23%23[set-output name=digest]forged %EF%BC%83%EF%BC%83[x]"]
        );
        assert_eq!(lines("\u{200B}::debug::x"), ["> \u{200B}::debug::x"]);
        assert_eq!(lines("  digest: sha256:ab"), ["  digest: sha256:ab"]);
        assert_eq!(lines(""), Vec::<String>::new());
    }

    #[test]
    fn a_secret_is_masked_in_every_form_it_could_be_printed() {
        assert_eq!(
            mask_commands("one\rtwo#2\n"),
            [
                "::add-mask::one",
                "::add-mask::two#2",
                "::add-mask::two%25232"
            ]
        );
    }

    #[test]
    fn runner_lines_end_at_cr_lf_and_crlf() {
        let lines: Vec<&str> = runner_lines("a\rb\nc\r\nd\n\ne").collect();
        assert_eq!(lines, ["a", "b", "c", "d", "", "e"]);
    }

    #[test]
    fn code_cells_render_nothing_and_stay_in_their_cell() {
        assert_eq!(code_cell("sha256:ab"), "`sha256:ab`");
        assert_eq!(
            code_cell("a `b` ![x](https://evil.example/x.png)|\nc"),
            "``a `b` ![x](https://evil.example/x.png)\\| c``"
        );
        assert_eq!(code_cell("``x`"), "``` ``x` ```");
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

        /// Whatever the text, no printed line can be a command: none holds a `#` (or a look-alike) for
        /// the `##[` form, and each starts, after whitespace, with an ASCII letter or digit — or the
        /// marker — so none starts with `::` however the runner's matching skips characters.
        #[test]
        fn no_log_line_can_be_a_command(text in "(\\PC|[\r\n\t #:\\[\\]\u{0}-\u{1f}\u{ad}\u{200b}\u{feff}\u{ff03}\u{fe5f}])*") {
            let lines: Vec<String> = log_lines(&text).collect();
            prop_assert_eq!(lines.len(), runner_lines(&text).count());
            for line in &lines {
                prop_assert!(!line.contains(['\r', '\n', '#', '\u{FF03}', '\u{FE5F}']), "{:?}", line);
                let first = line.trim_start().chars().next();
                prop_assert!(
                    first.is_none_or(|c| c.is_ascii_alphanumeric()) || line.starts_with(UNTRUSTED_LINE),
                    "{:?}", line
                );
            }
        }

        #[test]
        fn plain_text_is_printed_as_it_is(text in "[A-Za-z0-9][A-Za-z0-9 .,:;/@()_=+-]{0,60}") {
            prop_assert_eq!(log_lines(&text).collect::<Vec<_>>(), vec![text.clone()]);
        }

        #[test]
        fn every_part_of_a_secret_is_masked_as_the_runner_splits_lines(parts in proptest::collection::vec("[A-Za-z0-9+/=]{1,12}", 1..4), breaks in proptest::collection::vec("(\r|\n|\r\n)", 3)) {
            let secret: String = parts.iter().zip(&breaks).flat_map(|(p, b)| [p.as_str(), b.as_str()]).collect();
            let want: Vec<String> = parts.iter().map(|p| format!("::add-mask::{p}")).collect();
            prop_assert_eq!(mask_commands(&secret), want);
        }

        /// A code cell is one code span: the fence opens and closes it and occurs nowhere inside, so no
        /// text renders; and it stays in its cell and row.
        #[test]
        fn code_cells_are_one_code_span(text in "[`a|\\\n!\\[\\]()<>x ]{0,30}") {
            let cell = code_cell(&text);
            prop_assert!(!cell.contains('\n') && !cell.contains('\r'));
            prop_assert!(!cell.replace("\\|", "").contains('|'));
            let fence: String = cell.chars().take_while(|&c| c == '`').collect();
            prop_assert!(cell.len() >= 2 * fence.len() && cell.ends_with(&fence));
            let inside = &cell[fence.len()..cell.len() - fence.len()];
            prop_assert!(!inside.split(|c| c != '`').any(|run| run.len() == fence.len()), "{:?}", cell);
        }
    }
}

//! The workflow commands the runner would find in a step's output, parsed the way actions/runner does
//! (`src/Runner.Common/ActionCommand.cs`, `src/Runner.Worker/ActionCommandManager.cs`), and the check
//! every end-to-end run goes through: only the commands the action meant to write.
//!
//! The runner splits the output at `\r\n`, `\r` or `\n`; tries the v2 form (`::name k=v,k=v::data`
//! after `TrimStart()`), then the v1 form (`##[name k=v;k=v]data` anywhere in the line); and honours
//! `::stop-commands::TOKEN` … `::TOKEN::`. Its `StartsWith`/`IndexOf` are culture-sensitive: they skip
//! ignorable code points. This model folds such characters away (and the width variants of `#`, `:`,
//! `[`, `]`) before matching, so it finds at least every command the runner would: a stricter check.

/// Every command name the runner registers (names match without regard to case).
const REGISTERED: [&str; 15] = [
    "set-env",
    "set-output",
    "save-state",
    "add-path",
    "add-mask",
    "add-matcher",
    "remove-matcher",
    "warning",
    "error",
    "notice",
    "debug",
    "group",
    "endgroup",
    "echo",
    "stop-commands",
];

/// The commands the action writes itself.
const INTENDED: [&str; 6] = ["add-mask", "group", "endgroup", "error", "warning", "debug"];

/// A command as the runner would see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Lower-cased.
    pub name: String,
    pub properties: Vec<(String, String)>,
    pub data: String,
    /// `::` form at the very start of the line (how `github.rs` writes), rather than after whitespace
    /// or ignorable characters, or the `##[` form.
    pub plain_v2: bool,
    pub line: String,
}

/// The runner's `ReadLine`: lines end at `\r\n`, `\r` or `\n`.
pub fn runner_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(['\r', '\n']) {
        lines.push(&rest[..at]);
        let skip = if rest[at..].starts_with("\r\n") { 2 } else { 1 };
        rest = &rest[at + skip..];
    }
    if !rest.is_empty() {
        lines.push(rest);
    }
    lines
}

/// Characters the runner's culture-sensitive matching may skip, and look-alikes it may equate; a
/// generous set (control and format characters, Unicode's default-ignorable code points).
fn folded(line: &str) -> String {
    line.chars()
        .filter(|&c| {
            let ignorable = (c.is_control() && !c.is_whitespace())
                || matches!(c as u32,
                    0xAD | 0x34F | 0x61C | 0x115F..=0x1160 | 0x17B4..=0x17B5 | 0x180B..=0x180F
                    | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
                    | 0xFEFF | 0xFFA0 | 0xFFF0..=0xFFF8 | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A
                    | 0xE0000..=0xE0FFF);
            !ignorable
        })
        .map(|c| match c {
            '\u{FF03}' | '\u{FE5F}' => '#',
            '\u{FF1A}' | '\u{FE55}' | '\u{FE13}' => ':',
            '\u{FF3B}' => '[',
            '\u{FF3D}' => ']',
            c => c,
        })
        .collect()
}

fn registered(name: &str, stop_token: Option<&str>) -> bool {
    REGISTERED.iter().any(|r| r.eq_ignore_ascii_case(name))
        || stop_token.is_some_and(|t| t.eq_ignore_ascii_case(name))
}

fn unescape(text: &str, mappings: &[(&str, &str)]) -> String {
    mappings
        .iter()
        .fold(text.to_owned(), |t, (escaped, raw)| t.replace(escaped, raw))
}

fn parse_v2(line: &str, stop_token: Option<&str>) -> Option<Found> {
    let message = folded(line);
    let message = message.trim_start();
    let rest = message.strip_prefix("::")?;
    let end = rest.find("::")?;
    let info = &rest[..end];
    let (name, properties) = info.split_once(' ').unwrap_or((info, ""));
    if !registered(name, stop_token) {
        return None;
    }
    let properties = properties
        .trim()
        .split(',')
        .filter_map(|p| p.split_once('='))
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .map(|(k, v)| {
            let v = unescape(
                v,
                &[
                    ("%0D", "\r"),
                    ("%0A", "\n"),
                    ("%3A", ":"),
                    ("%2C", ","),
                    ("%25", "%"),
                ],
            );
            (k.to_owned(), v)
        })
        .collect();
    Some(Found {
        name: name.to_ascii_lowercase(),
        properties,
        data: unescape(
            &rest[end + 2..],
            &[("%0D", "\r"), ("%0A", "\n"), ("%25", "%")],
        ),
        plain_v2: line.starts_with(&format!("::{info}::")),
        line: line.to_owned(),
    })
}

fn parse_v1(line: &str, stop_token: Option<&str>) -> Option<Found> {
    let message = folded(line);
    let start = message.find("##[")? + 3;
    let end = start + message[start..].find(']')?;
    let info = &message[start..end];
    let (name, properties) = info.split_once(' ').unwrap_or((info, ""));
    if !registered(name, stop_token) {
        return None;
    }
    let v1 = [
        ("%3B", ";"),
        ("%0D", "\r"),
        ("%0A", "\n"),
        ("%5D", "]"),
        ("%25", "%"),
    ];
    let properties = properties
        .split(';')
        .filter_map(|p| p.split_once('='))
        .filter(|(k, v)| !k.is_empty() && !v.is_empty())
        .map(|(k, v)| (k.to_owned(), unescape(v, &v1)))
        .collect();
    Some(Found {
        name: name.to_ascii_lowercase(),
        properties,
        data: unescape(&message[end + 1..], &v1),
        plain_v2: false,
        line: line.to_owned(),
    })
}

/// The commands the runner would process in `stdout`, in order (a `stop-commands` block's content is
/// not processed; the stop and resume lines themselves are listed).
pub fn commands(stdout: &str) -> Vec<Found> {
    let mut found = Vec::new();
    let mut stop_token: Option<String> = None;
    for line in runner_lines(stdout) {
        let Some(command) =
            parse_v2(line, stop_token.as_deref()).or_else(|| parse_v1(line, stop_token.as_deref()))
        else {
            continue;
        };
        match &stop_token {
            Some(token) if command.name.eq_ignore_ascii_case(token) => {
                stop_token = None;
                found.push(command);
            }
            Some(_) => {}
            None => {
                if command.name == "stop-commands" {
                    stop_token = Some(command.data.clone());
                }
                found.push(command);
            }
        }
    }
    found
}

/// The one property the action writes: an `::error`'s title, its diagnostic codes (`E-…`, comma-separated).
fn only_diagnostic_title(command: &Found) -> bool {
    let is_code = |code: &str| {
        code.strip_prefix("E-").is_some_and(|rest| {
            rest.split('-').all(|w| {
                !w.is_empty()
                    && w.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            })
        })
    };
    match command.properties.as_slice() {
        [] => true,
        [(key, codes)] => {
            command.name == "error" && key == "title" && codes.split(", ").all(is_code)
        }
        _ => false,
    }
}

/// The check of every end-to-end run: the runner would find only the commands the action writes, each
/// in the plain form `github.rs` prints; groups are balanced; and no `::add-mask::` registers text an
/// attacker chose (the hostile tests mark theirs with `forged`).
#[track_caller]
pub fn assert_only_intended_commands(stdout: &str) {
    let mut depth = 0usize;
    for command in commands(stdout) {
        assert!(
            INTENDED.contains(&command.name.as_str()),
            "the runner would run `{}`, which the action never writes: {:?}\n{stdout}",
            command.name,
            command.line
        );
        assert!(
            command.plain_v2 && only_diagnostic_title(&command),
            "a command the runner would find in a line the action did not write as one: {:?}\n{stdout}",
            command.line
        );
        match command.name.as_str() {
            "group" => {
                assert_eq!(depth, 0, "nested group: {:?}\n{stdout}", command.line);
                depth += 1;
            }
            "endgroup" => {
                assert_eq!(depth, 1, "endgroup without group\n{stdout}");
                depth -= 1;
            }
            "add-mask" => assert!(
                !command.data.contains("forged") && !command.data.trim().is_empty(),
                "a mask of attacker-chosen or empty text: {:?}\n{stdout}",
                command.line
            ),
            _ => {}
        }
    }
    assert_eq!(depth, 0, "a group is left open\n{stdout}");
}

/// The commands of `stdout` with the given name.
pub fn named<'a>(found: &'a [Found], name: &str) -> Vec<&'a Found> {
    found.iter().filter(|c| c.name == name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_finds_what_the_runner_finds() {
        let found = commands(
            "::add-mask::a%0Ab\n  ::warning::w\r\x01::error::e\nx ##[set-output name=x]v\n::notice title=t%3A,line=1::n\n::unknown::u\n",
        );
        let names: Vec<&str> = found.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            ["add-mask", "warning", "error", "set-output", "notice"]
        );
        assert_eq!(found[0].data, "a\nb");
        assert!(found[0].plain_v2 && !found[1].plain_v2 && !found[2].plain_v2);
        assert_eq!(found[3].properties, [("name".to_owned(), "x".to_owned())]);
        assert_eq!(
            found[4].properties[0],
            ("title".to_owned(), "t:".to_owned())
        );
    }

    #[test]
    fn a_stop_commands_block_is_honoured() {
        let found = commands("::stop-commands::tok\n::add-mask::x\n##[tok]\n::debug::d\n");
        let names: Vec<&str> = found.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["stop-commands", "tok", "debug"]);
    }

    #[test]
    fn ignorable_characters_do_not_hide_a_command() {
        for line in [
            "#\u{AD}#[add-mask]x",
            "\u{200B}::add-mask::x",
            ":\u{0}:add-mask::x",
            "＃＃[debug]x",
        ] {
            assert_eq!(commands(line).len(), 1, "{line:?}");
        }
    }
}

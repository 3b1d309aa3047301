//! The one secret check over every end-to-end run.

use super::{Run, commands};

/// The one shared secret check over every end-to-end run: no known secret, and no value the action
/// itself masked (ID tokens, session credentials, registry tokens), appears outside `::add-mask::`
/// lines of the log, nor anywhere in the outputs or the summary.
#[track_caller]
pub fn assert_secrets_masked(run: &Run, secrets: &[String]) {
    let found = commands::commands(&run.stdout);
    let masked = commands::named(&found, "add-mask")
        .into_iter()
        .map(|c| c.data.clone());
    let all: Vec<String> = secrets
        .iter()
        .cloned()
        .chain(masked)
        .filter(|s| s.len() >= 8)
        .collect();
    for secret in &all {
        for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            for line in text.lines().filter(|l| l.contains(secret.as_str())) {
                assert!(
                    line.starts_with("::add-mask::"),
                    "secret in {stream} outside ::add-mask::: {line}"
                );
            }
        }
        assert!(
            !run.outputs_file.contains(secret.as_str()),
            "secret in GITHUB_OUTPUT"
        );
        assert!(
            !run.summary.contains(secret.as_str()),
            "secret in GITHUB_STEP_SUMMARY"
        );
    }
}

pub(super) fn base64_encode(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

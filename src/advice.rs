//! What the run as a whole tells the user when it fails after its steps: the `timeout` that ran out,
//! and the verdict over every destination (what was not pushed, and where everything is in place).
//! Each problem is a named constructor with its stable code, as in each floor's `advice.rs`; the
//! steps' own problems are theirs.

use std::fmt::Write as _;

use crate::diagnostic::{Diagnostic, error};

/// The run's `timeout` ran out after `seconds`, during the step `step`.
pub fn timed_out(seconds: u64, step: &str) -> anyhow::Error {
    error(
        "E-TIMEOUT",
        format!(
            "The run did not finish within {seconds} s (input `timeout`) and was stopped during \"{step}\"; \
             nothing after that step ran. Look at that step's log above, or raise `timeout`."
        ),
    )
}

/// A destination that could not be made ready (`why`, with its own codes): nothing went there.
pub fn nothing_pushed(destination: &str, why: &Diagnostic) -> Diagnostic {
    Diagnostic::gathered(
        why.codes().iter().copied(),
        format!("Nothing was pushed to {destination}: {why}"),
    )
}

/// What one destination's push left: the tags not pushed to `uri` with why (`codes`, each reason's
/// own), of `planned`; the tags pushed and their digest; the repository this run created, if it did.
pub struct NotPushed<'a> {
    pub uri: &'a str,
    pub planned: usize,
    pub failed: &'a [(String, String)],
    pub codes: &'a [&'static str],
    pub pushed: &'a [String],
    pub digest: Option<&'a str>,
    pub created: Option<&'a str>,
}

pub fn tags_not_pushed(left: &NotPushed<'_>) -> Diagnostic {
    let mut text = format!(
        "{} of {} tags were not pushed to {}:",
        left.failed.len(),
        left.planned,
        left.uri
    );
    for (tag, why) in left.failed {
        let _ = write!(text, "\n- {tag}: {why}");
    }
    if let Some(digest) = left.digest {
        let _ = write!(text, "\nPushed: {} ({digest}).", left.pushed.join(", "));
    }
    if let Some(repository) = left.created {
        let _ = write!(
            text,
            "\nThe repository {repository} was created by this run and is left in place."
        );
    }
    let codes = std::iter::once("E-PUSH-FAILED").chain(left.codes.iter().copied());
    Diagnostic::gathered(codes, text)
}

/// Every destination has the image, under these `(repository URI, digest)`, which differ.
pub fn digests_differ(held: &[(&str, &str)]) -> Diagnostic {
    let listed: Vec<String> = held
        .iter()
        .map(|(uri, digest)| format!("{uri}: {digest}"))
        .collect();
    Diagnostic::new(
        "E-DESTINATIONS-DIGESTS-DIFFER",
        format!(
            "The destinations hold this image under different digests, so `digest` has no single value:\n- {}\n\
             The engine made different manifests for them (e.g. layers compressed anew); push again with \
             `if-tag-exists: overwrite`, or check which one your deployments use.",
            listed.join("\n- ")
        ),
    )
}

/// The last line of a failure with several destinations: where every tag is in place all the same.
pub fn in_place(repository_uris: &[String]) -> String {
    format!("Every tag is in place in: {}.", repository_uris.join(", "))
}

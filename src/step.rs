//! Where the run is: each phase of the pipeline is entered here, which opens its `::group::` in the
//! log and records its name, so that a run stopped by `timeout` can say which step it was in. The log
//! only prints; this is the one place that remembers.

use std::sync::Mutex;

use crate::{advice, github};

/// The step entered last. One run per process, so one slot for the process.
static CURRENT: Mutex<Option<String>> = Mutex::new(None);

/// Enters the step `title`: records it and opens its group, which closes when the guard is dropped.
#[must_use = "the step's group closes when this guard is dropped"]
pub fn enter(title: &str) -> github::Group {
    *CURRENT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(title.to_owned());
    github::group(title)
}

/// Records `title` as where the run is, within the step entered (which keeps its group): for a part
/// of a step that a `timeout` should be able to name.
pub fn mark(title: &str) {
    *CURRENT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(title.to_owned());
}

/// The step entered last, or "start-up" before the first.
pub fn current() -> String {
    CURRENT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
        .unwrap_or_else(|| "start-up".to_owned())
}

/// The run's `timeout` ran out (after `seconds`) in the step entered last.
pub fn timed_out(seconds: u64) -> anyhow::Error {
    advice::timed_out(seconds, &current())
}

//! Where the run is: each phase of the pipeline is entered here, which opens its `::group::` in the
//! log and records its name, so that a run stopped by `timeout` can say which step it was in. The log
//! only prints; this is the one place that remembers. Steps may run at once (the local image is found
//! while the registries are logged in; destinations are pushed together): every step still open is
//! named.

use std::sync::Mutex;

use crate::{advice, github};

/// The steps entered and not yet left, in the order entered (each with its number), and the one
/// entered last. One run per process, so one record for the process.
static STEPS: Mutex<Steps> = Mutex::new(Steps {
    open: Vec::new(),
    last: None,
    next: 0,
});

struct Steps {
    open: Vec<(u64, String)>,
    last: Option<String>,
    next: u64,
}

fn steps() -> std::sync::MutexGuard<'static, Steps> {
    STEPS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A step entered: its group closes, and it is no longer open, when this is dropped.
#[must_use = "the step's group closes when this guard is dropped"]
pub struct Step {
    id: u64,
    _group: github::Group,
}

impl Drop for Step {
    fn drop(&mut self) {
        steps().open.retain(|(id, _)| *id != self.id);
    }
}

/// Enters the step `title`: records it and opens its group, which closes when the guard is dropped.
pub fn enter(title: &str) -> Step {
    let id = {
        let mut steps = steps();
        let id = steps.next;
        steps.next += 1;
        steps.open.push((id, title.to_owned()));
        steps.last = Some(title.to_owned());
        id
    };
    Step {
        id,
        _group: github::group(title),
    }
}

/// Records `title` as where the run is, within the step entered last (which keeps its group): for a
/// part of a step that a `timeout` should be able to name.
pub fn mark(title: &str) {
    let mut steps = steps();
    if let Some((_, open)) = steps.open.last_mut() {
        title.clone_into(open);
    }
    steps.last = Some(title.to_owned());
}

/// The steps still open ("A" and "B" when two are), else the one entered last, or "start-up"
/// before the first.
pub fn current() -> String {
    let steps = steps();
    let open: Vec<&str> = steps.open.iter().map(|(_, t)| t.as_str()).collect();
    match open.as_slice() {
        [] => steps.last.clone().unwrap_or_else(|| "start-up".to_owned()),
        [one] => (*one).to_owned(),
        [all @ .., last] => format!("{}\" and \"{last}", all.join("\", \"")),
    }
}

/// The run's `timeout` ran out (after `seconds`) in the step entered last.
pub fn timed_out(seconds: u64) -> anyhow::Error {
    advice::timed_out(seconds, &current())
}

//! How a rule says no: a [`Problem`] (the input it names, the code, the text), a rule's [`Checked`]
//! result, and [`Gather`], which keeps every problem so that all of them are told at once. The ground
//! of the folder: it imports nothing from it; the rules and `advice.rs` import these from here.

/// A rule's refusal: the input (or environment variable) it names, the problem's code, and what to
/// do about it. Made by the constructors below.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub input: &'static str,
    pub code: &'static str,
    pub text: String,
}

pub type Checked<T> = Result<T, Problem>;

/// Every problem the rules found; `mod.rs` lists them, in the order users read them, when done.
#[derive(Default)]
pub struct Gather(pub Vec<Problem>);

impl Gather {
    /// The rule's value, or `None` with its problem kept.
    pub fn keep<T>(&mut self, result: Checked<T>) -> Option<T> {
        result.map_err(|problem| self.0.push(problem)).ok()
    }
}

pub(super) fn problem(input: &'static str, code: &'static str, text: impl Into<String>) -> Problem {
    Problem {
        input,
        code,
        text: text.into(),
    }
}

//! The second moto, which enforces IAM. Enforcement is switched for the whole server, so tests that
//! use it hold [`exclusive`] for their whole run.

use std::process::Command;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::{Action, stack, unique};

static ENFORCEMENT: Mutex<()> = Mutex::new(());

/// Holds the enforcing moto for one test: the mutex orders the tests of this process, the file
/// lock those of other test processes on the same stack (two checkouts tested at once).
pub struct Exclusive {
    _file: std::fs::File,
    _guard: MutexGuard<'static, ()>,
}

pub fn exclusive() -> Exclusive {
    let guard = ENFORCEMENT.lock().unwrap_or_else(PoisonError::into_inner);
    let file = std::fs::File::create(stack().dir.join("moto-iam.lock")).expect("lock file");
    file.lock().expect("lock the enforcing moto");
    enforce(false);
    Exclusive {
        _file: file,
        _guard: guard,
    }
}

pub fn endpoint() -> String {
    format!(
        "http://{}",
        std::env::var("TESTBED_MOTO_IAM_ADDR").expect("TESTBED_MOTO_IAM_ADDR")
    )
}

pub fn enforce(on: bool) {
    let url = format!("{}/moto-api/reset-auth", endpoint());
    let count = if on { "0" } else { "inf" };
    super::run(Command::new("curl").args([
        "-fsS",
        "-X",
        "POST",
        "-H",
        "Content-Type: text/plain",
        "--data-binary",
        count,
        &url,
    ]));
}

/// A user allowed exactly `actions` (on "*"), after creating `repositories`; enforcement must be off.
pub fn user(actions: &[String], repositories: &[&str]) -> (String, String) {
    let mut setup = Command::new(stack().dir.join("venv/bin/python"));
    setup
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/support/iam-user.py"
        ))
        .args([&endpoint(), &unique("pusher"), &actions.join(" ")])
        .args(repositories);
    let keys = String::from_utf8(super::run(&mut setup).stdout).expect("keys");
    let (id, secret) = keys.trim().split_once(' ').expect("key id and secret");
    (id.to_owned(), secret.to_owned())
}

/// The action aimed at the enforcing moto (behind its fake of ECR's newer operations) with `keys`.
pub fn action(local: &str, repository: &str, keys: &(String, String)) -> Action {
    Action::new(local, repository)
        .input("aws-access-key-id", &keys.0)
        .input("aws-secret-access-key", &keys.1)
        .env("AWS_ENDPOINT_URL", &super::ecr_api::iam_endpoint())
}

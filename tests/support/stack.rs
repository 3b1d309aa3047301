//! The shared local stack the tests run against (`testbed/stack-up` starts it, `tools/test` exports
//! where it is), names no other test uses, scratch directories that remove themselves, and running a
//! helper command that must succeed.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

/// moto's fixed registry password for the caller's account (base64 of `AWS:<account>-auth-token`).
pub fn registry_password() -> String {
    format!("{}-auth-token", stack().account)
}

pub struct Stack {
    pub dir: PathBuf,
    pub region: String,
    pub account: String,
    pub other_account: String,
    pub endpoint: String,
    /// Base URL of the fake GitHub OIDC token endpoint, and the request token it expects.
    pub oidc: String,
    pub oidc_request_token: String,
    /// The fake ECR Public API (`host:port`), its registry alias and its registry password.
    pub public_api: String,
    pub public_alias: String,
    pub public_password: String,
}

pub fn stack() -> Stack {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: run the tests through tools/test, which starts the stack")
        })
    };
    Stack {
        dir: PathBuf::from(var("TESTBED_DIR")),
        region: var("TESTBED_REGION"),
        account: var("TESTBED_ACCOUNT"),
        other_account: var("TESTBED_OTHER_ACCOUNT"),
        endpoint: var("AWS_ENDPOINT_URL"),
        oidc: format!("http://{}", var("TESTBED_OIDC_ADDR")),
        oidc_request_token: var("TESTBED_OIDC_REQUEST_TOKEN"),
        public_api: var("TESTBED_PUBLIC_ADDR"),
        public_alias: var("TESTBED_PUBLIC_ALIAS"),
        public_password: var("TESTBED_PUBLIC_PASSWORD"),
    }
}

impl Stack {
    /// `ACTIONS_ID_TOKEN_REQUEST_URL` of the fake GitHub token endpoint, with extra query parameters.
    pub fn oidc_url(&self, extra_query: &str) -> String {
        format!("{}/token?api-version=2.0{extra_query}", self.oidc)
    }

    pub fn host(&self, account: &str) -> String {
        format!("{account}.dkr.ecr.{}.amazonaws.com", self.region)
    }
}

/// A name no other test (or earlier run) uses.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos();
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A scratch directory owned by one test.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Self {
        let dir = std::env::temp_dir().join(unique("ecr-push-action-test"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

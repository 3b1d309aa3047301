//! A per-test context against the shared local stack: unique image and repository names (so tests run
//! in parallel), a way to run the action exactly as the runner does, and checks made from outside —
//! the registry over HTTPS, moto through the SDK, the daemon through the docker CLI.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

pub mod commands;
mod engine;
pub mod front;
pub use engine::{Engine, Image};

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
            panic!("{name} is not set: run the tests through scripts/test, which starts the stack")
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

fn stdout_text(cmd: &mut Command) -> String {
    String::from_utf8_lossy(&run(cmd).stdout).trim().to_owned()
}

/// A one-layer image with content of its own (so its digest is its own), tagged `reference` (untagged
/// when it is empty). Returns the image ID. Built with `docker import`: there is no base image here.
pub fn make_image(reference: &str) -> String {
    let dir = TempDir::new();
    let root = dir.0.join("root");
    std::fs::create_dir_all(&root).expect("image root");
    std::fs::write(root.join("content"), unique("content")).expect("image file");
    let tar = dir.0.join("layer.tar");
    run(Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(&tar)
        .arg("."));
    stdout_text(
        Command::new("docker")
            .arg("import")
            .arg(&tar)
            .args(Some(reference).filter(|r| !r.is_empty())),
    )
}

pub fn remove_image(reference: &str) {
    let _ = Command::new("docker")
        .args(["rmi", "--force", reference])
        .output();
}

/// Every manifest media type a push may store: single-platform images of both engines, and the
/// containerd store's indexes (Docker manifest lists for completeness).
pub const MANIFEST_TYPES: [&str; 4] = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// The digest the registry serves for `repository:tag`, asked over HTTPS with ECR's login, as a
/// puller would; `None` when the registry does not know the tag.
pub fn registry_digest(host: &str, repository: &str, tag: &str) -> Option<String> {
    registry_digest_as(host, repository, tag, &registry_password())
}

/// [`registry_digest`] with another registry password (ECR Public's).
pub fn registry_digest_as(
    host: &str,
    repository: &str,
    tag: &str,
    password: &str,
) -> Option<String> {
    let s = stack();
    let out = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-D", "-", "--head"])
        .arg("--cacert")
        .arg(s.dir.join("ca.crt"))
        .args(["-u", &format!("AWS:{password}")])
        .args(
            MANIFEST_TYPES
                .iter()
                .flat_map(|t| ["-H".to_owned(), format!("Accept: {t}")]),
        )
        .arg(format!("https://{host}/v2/{repository}/manifests/{tag}"))
        .output()
        .expect("curl");
    let headers = String::from_utf8_lossy(&out.stdout);
    if !headers.starts_with("HTTP/1.1 200") && !headers.starts_with("HTTP/2 200") {
        return None;
    }
    headers.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("docker-content-digest")
            .then(|| value.trim().to_owned())
    })
}

/// The manifest (or index) the registry serves for `repository:reference`, as a puller would read it.
pub fn registry_manifest(host: &str, repository: &str, reference: &str) -> serde_json::Value {
    let out = run(Command::new("curl")
        .args(["-fsS", "--cacert"])
        .arg(stack().dir.join("ca.crt"))
        .args(["-u", &format!("AWS:{}", registry_password())])
        .args(
            MANIFEST_TYPES
                .iter()
                .flat_map(|t| ["-H".to_owned(), format!("Accept: {t}")]),
        )
        .arg(format!(
            "https://{host}/v2/{repository}/manifests/{reference}"
        )));
    serde_json::from_slice(&out.stdout).expect("manifest JSON")
}

/// The distinct layer blobs behind `reference`: a manifest's own, or those of every manifest of an
/// index (attestation manifests included: the daemon pushes their layers too).
pub fn registry_layers(
    host: &str,
    repository: &str,
    reference: &str,
) -> std::collections::BTreeSet<String> {
    let manifest = registry_manifest(host, repository, reference);
    let digests = |m: &serde_json::Value, key: &str| -> Vec<String> {
        m[key]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["digest"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let manifests = if manifest["manifests"].is_array() {
        digests(&manifest, "manifests")
            .iter()
            .map(|child| registry_manifest(host, repository, child))
            .collect()
    } else {
        vec![manifest]
    };
    manifests
        .iter()
        .flat_map(|m| digests(m, "layers"))
        .collect()
}

/// An ECR client on moto, for checks and set-up from outside the action.
pub fn ecr() -> aws_sdk_ecr::Client {
    ecr_at(&stack().endpoint)
}

/// An ECR client on the moto at `endpoint` (the open one, or the one that enforces IAM while
/// enforcement is off).
pub fn ecr_at(endpoint: &str) -> aws_sdk_ecr::Client {
    let config = aws_sdk_ecr::Config::builder()
        .behavior_version(aws_sdk_ecr::config::BehaviorVersion::latest())
        .region(aws_sdk_ecr::config::Region::new(stack().region))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_ecr::config::Credentials::new(
            "AKIATESTSETUP",
            "setup-secret",
            None,
            None,
            "tests",
        ))
        .build();
    aws_sdk_ecr::Client::from_conf(config)
}

pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

/// The registry ID of `name` in moto, or `None` when moto has no such repository.
pub fn repository_registry_id(name: &str, registry_id: Option<&str>) -> Option<String> {
    let found = block_on(
        ecr()
            .describe_repositories()
            .repository_names(name)
            .set_registry_id(registry_id.map(str::to_owned))
            .send(),
    );
    match found {
        Ok(out) => out.repositories().first().and_then(|r| r.registry_id().map(str::to_owned)),
        Err(err) if err.as_service_error().is_some_and(aws_sdk_ecr::operation::describe_repositories::DescribeRepositoriesError::is_repository_not_found_exception) => None,
        Err(err) => panic!("DescribeRepositories {name}: {}", aws_sdk_ecr::error::DisplayErrorContext(err)),
    }
}

pub fn create_repository(name: &str) {
    block_on(ecr().create_repository().repository_name(name).send()).expect("CreateRepository");
}

/// What one run of the action left behind.
#[derive(Debug)]
pub struct Run {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
    pub outputs: BTreeMap<String, String>,
    pub outputs_file: String,
    pub summary: String,
}

impl Run {
    pub fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .unwrap_or_else(|| panic!("no output `{name}` in {:?}\n{}", self.outputs, self.stdout))
    }

    /// The `::error::` lines of the log.
    pub fn errors(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with("::error::"))
            .collect()
    }

    /// Exactly one `::error::` annotation, returned unescaped.
    pub fn single_error(&self) -> String {
        let errors = self.errors();
        assert!(
            !self.success,
            "the action should have failed:\n{}",
            self.stdout
        );
        assert_eq!(
            errors.len(),
            1,
            "want one ::error:: line:\n{}\n{}",
            self.stdout,
            self.stderr
        );
        errors[0]
            .trim_start_matches("::error::")
            .replace("%0A", "\n")
            .replace("%0D", "\r")
            .replace("%25", "%")
    }

    pub fn assert_success(&self) {
        assert!(
            self.success,
            "the action failed:\n{}\n{}",
            self.stdout, self.stderr
        );
    }
}

/// Builds an action invocation the way GitHub's runner does: inputs only as `INPUT_<NAME>` with the
/// hyphens kept, temp `GITHUB_OUTPUT` / `GITHUB_STEP_SUMMARY`, and a clean environment.
pub struct Action {
    inputs: Vec<(String, String)>,
    env: Vec<(String, String)>,
    files: TempDir,
}

pub const TEST_SECRET_KEY: &str = "test-secret-key-4f1d9a7c0b2e";

impl Action {
    /// With static test keys (moto takes any) and the stack's region.
    pub fn new(local_image: &str, repository: &str) -> Self {
        Action::bare()
            .input("local-image", local_image)
            .input("repository", repository)
            .input("aws-region", &stack().region)
            .input("aws-access-key-id", "AKIAE2ETESTKEY000001")
            .input("aws-secret-access-key", TEST_SECRET_KEY)
    }

    /// No inputs at all; the endpoint still points at moto.
    pub fn bare() -> Self {
        let s = stack();
        let files = TempDir::new();
        let home = files.0.join("home");
        std::fs::create_dir_all(&home).expect("home");
        Action {
            inputs: Vec::new(),
            env: vec![
                ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
                ("HOME".into(), home.display().to_string()),
                ("AWS_ENDPOINT_URL".into(), s.endpoint),
                // ECR Public is not in moto: its calls go to the fake of its API.
                (
                    "AWS_ENDPOINT_URL_ECR_PUBLIC".into(),
                    format!("http://{}", s.public_api),
                ),
                ("GITHUB_ACTIONS".into(), "true".into()),
                (
                    "GITHUB_OUTPUT".into(),
                    files.0.join("output").display().to_string(),
                ),
                (
                    "GITHUB_STEP_SUMMARY".into(),
                    files.0.join("summary").display().to_string(),
                ),
            ],
            files,
        }
    }

    pub fn input(mut self, name: &str, value: &str) -> Self {
        self.inputs.retain(|(n, _)| n != name);
        self.inputs.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Runs against `engine`'s daemon (`DOCKER_HOST`); without it, the default socket (20.10).
    pub fn on(self, engine: Engine) -> Self {
        self.env("DOCKER_HOST", &engine.host())
    }

    pub fn without_input(mut self, name: &str) -> Self {
        self.inputs.retain(|(n, _)| n != name);
        self
    }

    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.retain(|(n, _)| n != name);
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn run(&self) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecr-push-action"));
        cmd.env_clear().current_dir(&self.files.0);
        for (name, value) in &self.env {
            cmd.env(name, value);
        }
        for (name, value) in &self.inputs {
            cmd.env(format!("INPUT_{}", name.to_uppercase()), value);
        }
        let out = cmd.output().expect("run the action");
        let run = self.collect(out.status.success(), &out.stdout, &out.stderr);
        assert_secrets_masked(&run, &self.secrets());
        commands::assert_only_intended_commands(&run.stdout);
        self.assert_nothing_else_written();
        run
    }

    /// Every secret this run knows of: keys given as inputs or in the environment, and the
    /// registry password with its encoded token.
    pub fn secrets(&self) -> Vec<String> {
        let mut secrets = vec![registry_password(), stack().public_password];
        secrets.push(base64_encode(&format!("AWS:{}", registry_password())));
        for (name, value) in self.inputs.iter().chain(&self.env) {
            let name = name.to_lowercase().replace('_', "-");
            if name.ends_with("secret-access-key")
                || name.ends_with("session-token")
                || name.ends_with("request-token")
            {
                secrets.push(value.clone());
            }
        }
        secrets
    }

    /// The action writes `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY` and nothing else: no
    /// `~/.docker/config.json`, no credentials file, nothing in its working directory.
    pub fn assert_nothing_else_written(&self) {
        let mut written = Vec::new();
        let mut pending = vec![self.files.0.clone()];
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).expect("read dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    pending.push(path);
                } else if !["output", "summary"]
                    .iter()
                    .any(|f| path == self.files.0.join(f))
                {
                    written.push(path);
                }
            }
        }
        assert!(
            written.is_empty(),
            "the action wrote files it should not: {written:?}"
        );
    }

    pub fn collect(&self, success: bool, stdout: &[u8], stderr: &[u8]) -> Run {
        let outputs_file = std::fs::read_to_string(self.files.0.join("output")).unwrap_or_default();
        Run {
            success,
            stdout: String::from_utf8_lossy(stdout).into_owned(),
            stderr: String::from_utf8_lossy(stderr).into_owned(),
            outputs: parse_outputs(&outputs_file),
            outputs_file,
            summary: std::fs::read_to_string(self.files.0.join("summary")).unwrap_or_default(),
        }
    }

    pub fn files_dir(&self) -> &Path {
        &self.files.0
    }

    pub fn inputs(&self) -> &[(String, String)] {
        &self.inputs
    }
}

fn base64_encode(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Reads `name<<DELIM` … `DELIM` heredocs (the only form the action writes) and checks the framing.
pub fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut outputs = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(header) = lines.next() {
        let (name, delimiter) = header
            .split_once("<<")
            .unwrap_or_else(|| panic!("not a heredoc header: {header:?}"));
        let mut value = Vec::new();
        loop {
            let line = lines
                .next()
                .unwrap_or_else(|| panic!("heredoc {name} is not closed"));
            if line == delimiter {
                break;
            }
            value.push(line);
        }
        assert!(
            outputs.insert(name.to_owned(), value.join("\n")).is_none(),
            "output {name} written twice"
        );
    }
    outputs
}

/// The one shared secret check over every end-to-end run: no known secret, and no value the action
/// itself masked (ID tokens, session credentials, registry tokens), appears outside `::add-mask::`
/// lines of the log, nor anywhere in the outputs or the summary.
pub fn assert_secrets_masked(run: &Run, secrets: &[String]) {
    let masked = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("::add-mask::"))
        .map(|v| {
            v.replace("%0D", "\r")
                .replace("%0A", "\n")
                .replace("%25", "%")
        });
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

/// The second moto, which enforces IAM. Enforcement is switched for the whole server, so tests that
/// use it hold [`iam::exclusive`] for their whole run.
pub mod iam {
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

    /// The action aimed at the enforcing moto with `keys`.
    pub fn action(local: &str, repository: &str, keys: &(String, String)) -> Action {
        Action::new(local, repository)
            .input("aws-access-key-id", &keys.0)
            .input("aws-secret-access-key", &keys.1)
            .env("AWS_ENDPOINT_URL", &endpoint())
    }
}

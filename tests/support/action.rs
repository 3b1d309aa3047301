//! Running the compiled action exactly as GitHub's runner does, and what one run left behind: its log,
//! its outputs (read back as the runner reads `$GITHUB_OUTPUT`) and its job summary. Every run is
//! checked for leaked secrets, stray files and workflow commands the action did not mean to write.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use super::secrets::{assert_secrets_masked, base64_encode};
use super::{Engine, TempDir, commands, registry_password, stack};

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
    /// The `::warning::` lines of the log (without a title), in order.
    pub fn warnings(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with("::warning::"))
            .collect()
    }

    pub fn output(&self, name: &str) -> &str {
        self.outputs
            .get(name)
            .unwrap_or_else(|| panic!("no output `{name}` in {:?}\n{}", self.outputs, self.stdout))
    }

    /// Exactly one `::error::` annotation, returned unescaped; it must carry its diagnostic code(s).
    #[track_caller]
    pub fn single_error(&self) -> String {
        assert!(
            !self.success,
            "the action should have failed:\n{}",
            self.stdout
        );
        let found = commands::commands(&self.stdout);
        let errors = commands::named(&found, "error");
        assert_eq!(
            errors.len(),
            1,
            "want one ::error:: line:\n{}\n{}",
            self.stdout,
            self.stderr
        );
        assert!(
            !self.error_codes().is_empty(),
            "the ::error:: line has no diagnostic code in its title:\n{}",
            self.stdout
        );
        errors[0].data.clone()
    }

    /// The diagnostic codes in the title of the single `::error::` annotation (`E-…`, in order).
    #[track_caller]
    pub fn error_codes(&self) -> Vec<String> {
        let found = commands::commands(&self.stdout);
        let errors = commands::named(&found, "error");
        let title = errors
            .first()
            .and_then(|e| e.properties.iter().find(|(k, _)| k == "title"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        title
            .split(", ")
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Fails unless the run failed with exactly one error, coded `code` (among others when the error
    /// gathers several problems); returns the error's text for the data it must name.
    #[track_caller]
    pub fn assert_error(&self, code: &str) -> String {
        let error = self.single_error();
        let codes = self.error_codes();
        assert!(
            codes.iter().any(|c| c == code),
            "want diagnostic {code}, got {codes:?}: {error}"
        );
        error
    }

    /// The log comes first and the error annotations last, so that a shortened report of the failure
    /// (CI keeps a test output's head and tail) still shows why the run failed.
    #[track_caller]
    pub fn assert_success(&self) {
        let found = commands::commands(&self.stdout);
        let errors: Vec<String> = commands::named(&found, "error")
            .iter()
            .map(|e| format!("{:?}: {}", e.properties, e.data))
            .collect();
        assert!(
            self.success,
            "the action failed:\n{}\n{}\nits errors: {errors:#?}",
            self.stdout, self.stderr
        );
    }
}

/// What one run cost.
#[derive(Debug, Clone, Copy)]
pub struct Cost {
    pub peak_rss_kib: u64,
    pub seconds: f64,
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

    /// No inputs at all; the endpoint still points at moto (behind the fake of ECR's newer API).
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
                // ECR's API as the test bed has it: moto, behind the fake of the operations
                // moto lacks (which forwards every other request, STS's and IAM's too).
                ("AWS_ENDPOINT_URL".into(), super::ecr_api::endpoint()),
                // ECR Public is not in moto: its calls go to the fake of its API.
                (
                    "AWS_ENDPOINT_URL_ECR_PUBLIC".into(),
                    format!("http://{}", s.public_api),
                ),
                ("GITHUB_ACTIONS".into(), "true".into()),
                // The action's own registry requests (`assemble`) trust the test CA, as a runner
                // behind a private CA is told with SSL_CERT_FILE.
                (
                    "SSL_CERT_FILE".into(),
                    s.dir.join("ca-bundle.crt").display().to_string(),
                ),
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
        self.run_as(Command::new(env!("CARGO_BIN_EXE_ecr-push-action")))
    }

    /// [`Action::run`], measured: the action process's peak resident memory (GNU time's `%M`, which
    /// the test bed installs) and the wall-clock time of the run.
    pub fn run_measured(&self) -> (Run, Cost) {
        let report = TempDir::new();
        let rss = report.0.join("peak-rss-kib");
        let mut cmd = Command::new("/usr/bin/time");
        cmd.args(["-f", "%M", "-o"])
            .arg(&rss)
            .arg(env!("CARGO_BIN_EXE_ecr-push-action"));
        let started = std::time::Instant::now();
        let run = self.run_as(cmd);
        let seconds = started.elapsed().as_secs_f64();
        let text = std::fs::read_to_string(&rss).expect("GNU time's report (apt-get install time)");
        let peak_rss_kib = text
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .next_back()
            .unwrap_or_else(|| panic!("no peak RSS in {text:?}"));
        (
            run,
            Cost {
                peak_rss_kib,
                seconds,
            },
        )
    }

    fn run_as(&self, mut cmd: Command) -> Run {
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

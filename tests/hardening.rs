//! Issue #16, seen from where an attacker or a user would see it: text from a hostile registry or
//! input never acts as a workflow command (every run's log is also parsed as the runner parses it, in
//! `Action::run`); secrets never travel in clear text; the boundary rules hold before any side effect;
//! the summary renders nothing a registry sent; and the release pipeline's supply-chain rules. Issue
//! #22: what `assemble` reads from a hostile registry (the front's hostile modes) is bounded in size
//! and time and checked before use; the run stops within `timeout`, in little memory, writing nothing.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt as _;
use std::path::Path;
use std::process::Command;

use crate::support::commands::{self, named};
use crate::support::{
    Action, Cost, Engine, Image, Run, front, registry_digest, repository_registry_id, stack, unique,
};

/// Text a hostile registry answers with: each line tries another way in — the v2 form after a
/// newline, a carriage return or whitespace, an invisible character, the v1 form anywhere, a forged
/// output and mask — plus Markdown that would render in the summary.
const HOSTILE: &str = "slow down [click](https://evil.example/forged) ![x](https://evil.example/forged.png) `|\n \
     ::stop-commands::x\r::add-mask::forged\n\u{200B}::warning::forged ##[set-output name=digest]forged \
     ::set-output name=digest::forged";

/// A local image and a repository (through the front) that already holds it under `seed`.
fn seeded(name: &str) -> (Image, String) {
    let local = Engine::Classic.image(&format!("{}:src", unique(&format!("e2e-{name}"))));
    let repository = unique(name);
    Action::new(&local.reference, &repository)
        .input("aws-region", &front::region())
        .input("tags", "seed")
        .run()
        .assert_success();
    (local, repository)
}

#[track_caller]
fn assert_logged_as_text(stdout: &str) {
    assert!(
        !stdout.contains("injected fault"),
        "the running testbed/ecr-front predates its `message` field: restart it (stop its process, then \
         testbed/stack-up) so that it runs this checkout's script\n{stdout}"
    );
    // The hostile text is in the log (the retry says what the registry answered), as plain lines.
    assert!(stdout.contains("stop-commands::x"), "{stdout}");
    assert!(
        stdout.contains("%23%23[set-output name=digest]forged"),
        "{stdout}"
    );
    let found = commands::commands(stdout);
    assert!(named(&found, "warning").is_empty(), "{stdout}");
    assert!(named(&found, "stop-commands").is_empty(), "{stdout}");
}

#[test]
fn a_hostile_registry_message_is_logged_as_text_and_never_run() {
    let (local, repository) = seeded("hostile-registry");
    // Once: the retry line carries the message, then the push succeeds.
    front::arm(
        &repository,
        &serde_json::json!({"kind": "status", "status": 429, "action": "PutImage", "message": HOSTILE}),
    );
    let run = Action::new(&local.reference, &repository)
        .input("aws-region", &front::region())
        .input("tags", "v1")
        .run();
    run.assert_success();
    // A 429: throttling's schedule, ten attempts.
    assert!(run.stdout.contains("(attempt 1 of 10)"), "{}", run.stdout);
    assert_logged_as_text(&run.stdout);
    assert!(run.output("digest").starts_with("sha256:"));
    assert_eq!(
        registry_digest(&front::host(), &repository, "v1").as_deref(),
        Some(run.output("digest"))
    );

    // A refusal with the message (a 400, not retried; a throttling 429 every time would take its
    // ten attempts): it also ends in the error and in the summary's row for the tag.
    front::arm(
        &repository,
        &serde_json::json!({"kind": "status", "status": 400, "action": "PutImage", "message": HOSTILE, "count": 5}),
    );
    let run = Action::new(&local.reference, &repository)
        .input("aws-region", &front::region())
        .input("tags", "v2")
        .run();
    let found = commands::commands(&run.stdout);
    assert!(named(&found, "warning").is_empty(), "{}", run.stdout);
    assert!(named(&found, "stop-commands").is_empty(), "{}", run.stdout);
    let error = run.assert_error("E-DOCKER-PUSH");
    assert!(
        error.contains("::stop-commands::x"),
        "the error says what the registry said: {error}"
    );
    let row = run
        .summary
        .lines()
        .find(|l| l.contains("**failed**"))
        .unwrap_or_else(|| panic!("a failed row: {}", run.summary));
    let cell = row
        .split("**failed**: ")
        .nth(1)
        .and_then(|c| c.strip_suffix(" |"))
        .expect("the failure cell");
    let fence: String = cell.chars().take_while(|&c| c == '`').collect();
    assert!(
        fence.len() >= 2
            && cell.ends_with(&fence)
            && cell[fence.len()..cell.len() - fence.len()].contains("](https://evil.example"),
        "the registry's text is one code span, so its link and image do not render: {cell}"
    );
}

#[test]
fn hostile_inputs_are_logged_as_text_and_never_run() {
    let local = format!("{}:h", unique("e2e-hostile-input"));
    // Removed from the daemon when the test ends, passed or failed.
    let _image = Engine::Classic.image(&local);
    let repository = unique("hostile-input");
    let s = stack();
    // The audience is printed ("Got a GitHub OIDC ID token for audience …") and goes into the token.
    let audience = "sts.amazonaws.com ##[add-mask]forged ::warning::forged";
    let run = Action::new(&local, &repository)
        .without_input("aws-access-key-id")
        .without_input("aws-secret-access-key")
        .input("role-to-assume", "arn:aws:iam::123456789012:role/gha-push")
        .input("audience", audience)
        .env("ACTIONS_ID_TOKEN_REQUEST_URL", &s.oidc_url(""))
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", &s.oidc_request_token)
        .run();
    run.assert_success();
    assert!(
        run.stdout
            .contains("%23%23[add-mask]forged ::warning::forged"),
        "{}",
        run.stdout
    );
    let found = commands::commands(&run.stdout);
    assert!(named(&found, "warning").is_empty(), "{}", run.stdout);

    // Inputs the rules refuse are only ever data of the one error.
    for (input, value, code) in [
        ("tags", "v1\n::add-mask::forged", "E-INPUT-TAG"),
        (
            "local-image",
            "app\r##[add-mask]forged",
            "E-INPUT-LOCAL-IMAGE-CHARACTERS",
        ),
        (
            "repository",
            "x ::set-output name=digest::forged",
            "E-INPUT-REPOSITORY",
        ),
    ] {
        let run = Action::new(&local, &repository).input(input, value).run();
        let error = run.assert_error(code);
        assert!(error.contains(&format!("`{input}`")), "{error}");
        assert_eq!(commands::commands(&run.stdout).len(), 1, "{}", run.stdout);
    }
}

/// Runs `action` and expects one error, coded `code` and naming `names`, before anything started (no
/// group, no call).
#[track_caller]
fn assert_refused_before_any_call(action: &Action, code: &str, names: &[&str]) -> String {
    let run = action.run();
    let error = run.assert_error(code);
    for name in names {
        assert!(
            error.contains(name),
            "error should contain {name:?}: {error}"
        );
    }
    assert!(
        !run.stdout.contains("::group::"),
        "nothing may start:\n{}",
        run.stdout
    );
    error
}

#[test]
fn secrets_never_travel_in_clear_text_to_another_machine() {
    let repository = unique("plaintext");
    let base = || Action::new("anything:v1", &repository);
    // The registry password would go to this daemon in the X-Registry-Auth header.
    assert_refused_before_any_call(
        &base().env("DOCKER_HOST", "tcp://docker.example:2375"),
        "E-INPUT-DOCKER-HOST-WITHOUT-TLS",
        &["`DOCKER_HOST`", "tcp://docker.example:2375"],
    );
    // TLS asked for, without the client's certificates.
    let empty = crate::support::TempDir::new();
    assert_refused_before_any_call(
        &base()
            .env("DOCKER_HOST", "tcp://docker.example:2376")
            .env("DOCKER_TLS_VERIFY", "1")
            .env("DOCKER_CERT_PATH", &empty.0.display().to_string()),
        "E-INPUT-DOCKER-CERT-MISSING",
        // The first of the three files that is missing.
        &["`DOCKER_CERT_PATH`", "ca.pem"],
    );
    // The bearer request token would go to GitHub's token endpoint in clear.
    assert_refused_before_any_call(
        &base()
            .without_input("aws-access-key-id")
            .without_input("aws-secret-access-key")
            .input("role-to-assume", "arn:aws:iam::123456789012:role/gha-push")
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_URL",
                "http://token.example/token?api-version=2.0",
            )
            .env(
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                "request-token-not-to-be-sent",
            ),
        "E-INPUT-PLAIN-HTTP",
        &[
            "`ACTIONS_ID_TOKEN_REQUEST_URL`",
            "http://token.example/token",
        ],
    );
    // Signed AWS requests, and the credentials in their answers.
    assert_refused_before_any_call(
        &base().env("AWS_ENDPOINT_URL", "http://ecr.example:5055"),
        "E-INPUT-PLAIN-HTTP",
        &["`AWS_ENDPOINT_URL`", "http://ecr.example:5055"],
    );
    assert_eq!(repository_registry_id(&repository, None), None);
}

#[test]
fn docker_host_is_an_input_checked_first_and_empty_means_the_default_socket() {
    let repository = unique("docker-host");
    for malformed in [
        "tcp://",
        "ftp://docker.example",
        "unix://relative",
        "tcp://host:99999",
    ] {
        assert_refused_before_any_call(
            &Action::new("anything:v1", &repository).env("DOCKER_HOST", malformed),
            "E-INPUT-DOCKER-HOST",
            &["`DOCKER_HOST`", &format!("`{malformed}`")],
        );
    }
    let local = format!("{}:v1", unique("e2e-empty-docker-host"));
    // Removed from the daemon when the test ends, passed or failed.
    let _image = Engine::Classic.image(&local);
    let run = Action::new(&local, &repository)
        .env("DOCKER_HOST", "")
        .run();
    run.assert_success();
    assert!(
        run.stdout
            .contains("Docker daemon at unix:///var/run/docker.sock"),
        "{}",
        run.stdout
    );
}

#[test]
fn each_boundary_rule_is_enforced_before_any_call() {
    let repository = unique("boundary");
    let big_policy = format!(
        r#"{{"Version": "2012-10-17", "Statement": [{{"Sid": "{}", "Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::210987654321:root"}}, "Action": "ecr:BatchGetImage"}}]}}"#,
        "S".repeat(10_240)
    );
    let big_lifecycle = format!(
        r#"{{"rules": [{{"rulePriority": 1, "description": "{}", "selection": {{"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 5}}, "action": {{"type": "expire"}}}}]}}"#,
        "d".repeat(30_720)
    );
    let long_image = format!("{}:v1", "a".repeat(256));
    let long_audience = "a".repeat(256);
    // Each refusal's code, and what it must name: the input, and the limit where there is one.
    let cases: Vec<(&str, &str, &str, &[&str])> = vec![
        (
            "local-image",
            "app/../etc",
            "E-INPUT-LOCAL-IMAGE",
            &["`local-image`", "`app/../etc`"],
        ),
        (
            "local-image",
            "app?x=1",
            "E-INPUT-LOCAL-IMAGE",
            &["`local-image`"],
        ),
        (
            "local-image",
            "app\u{1}",
            "E-INPUT-LOCAL-IMAGE-CHARACTERS",
            &["`local-image`"],
        ),
        (
            "local-image",
            &long_image,
            "E-INPUT-LOCAL-IMAGE-NAME-TOO-LONG",
            &["`local-image`", "255"],
        ),
        (
            "role-to-assume",
            "arn:aws-made-up:iam::123456789012:role/x",
            "E-INPUT-ROLE",
            &["`role-to-assume`"],
        ),
        (
            "audience",
            "sts.amazonaws.com\u{7}",
            "E-INPUT-AUDIENCE",
            &["`audience`", "(18 characters"],
        ),
        (
            "audience",
            &long_audience,
            "E-INPUT-AUDIENCE",
            &["`audience`", "(256 characters"],
        ),
        (
            "repository-policy",
            &big_policy,
            "E-INPUT-POLICY-TOO-LONG",
            &["`repository-policy`", "10240"],
        ),
        (
            "lifecycle-policy",
            &big_lifecycle,
            "E-INPUT-POLICY-TOO-LONG",
            &["`lifecycle-policy`", "30720"],
        ),
    ];
    for (input, value, code, expected) in cases {
        let mut action = Action::new("anything:v1", &repository).input(input, value);
        if input == "audience" {
            let s = stack();
            action = action
                .without_input("aws-access-key-id")
                .without_input("aws-secret-access-key")
                .input("role-to-assume", "arn:aws:iam::123456789012:role/gha-push")
                .env("ACTIONS_ID_TOKEN_REQUEST_URL", &s.oidc_url(""))
                .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", &s.oidc_request_token);
        }
        assert_refused_before_any_call(&action, code, expected);
    }
    for (kind, key) in [
        ("KMS", "bogus-key"),
        ("KMS", "arn:aws:kms:us-east-1:123456789012:role/x"),
    ] {
        assert_refused_before_any_call(
            &Action::new("anything:v1", &repository)
                .input("encryption-type", kind)
                .input("kms-key", key),
            "E-INPUT-KMS-KEY",
            &["`kms-key`", &format!("`{key}`")],
        );
    }
    assert_eq!(repository_registry_id(&repository, None), None);
}

#[test]
fn a_non_utf8_input_is_an_error_naming_it() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecr-push-action"));
    cmd.env_clear()
        .env("INPUT_LOCAL-IMAGE", "app:1")
        .env("INPUT_REPOSITORY", "team/app")
        .env("INPUT_AWS-REGION", "us-east-1")
        .env(
            "INPUT_IF-TAG-EXISTS",
            OsString::from_vec(b"fail\xff".to_vec()),
        );
    let out = cmd.output().expect("run the action");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    commands::assert_only_intended_commands(&stdout);
    let found = commands::commands(&stdout);
    assert_eq!(named(&found, "error").len(), 1, "{stdout}");
    assert_eq!(
        found[0].properties,
        [("title".to_owned(), "E-INPUT-NOT-UTF8".to_owned())],
        "{stdout}"
    );
    assert!(found[0].data.contains("`if-tag-exists`"), "{stdout}");
    // The policy subcommand reads the same inputs.
    let out = Command::new(env!("CARGO_BIN_EXE_ecr-push-action"))
        .env_clear()
        .args([
            "policy",
            "--repository",
            "app",
            "--region",
            "us-east-1",
            "--account",
            "123456789012",
        ])
        .env(
            "INPUT_REGISTRY-TYPE",
            OsString::from_vec(b"public\xff".to_vec()),
        )
        .output()
        .expect("run the policy command");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success()
            && stdout.contains("::error title=E-INPUT-NOT-UTF8::")
            && stdout.contains("`registry-type`"),
        "{stdout}"
    );
}

#[test]
fn a_repository_policy_open_to_anyone_is_warned_about() {
    let local = format!("{}:v1", unique("e2e-open-policy"));
    // Removed from the daemon when the test ends, passed or failed.
    let _image = Engine::Classic.image(&local);
    let repository = unique("open-policy");
    let policy = r#"{"Version": "2012-10-17", "Statement": [{"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]}"#;
    let run = Action::new(&local, &repository)
        .input("repository-policy", policy)
        .run();
    run.assert_success();
    let found = commands::commands(&run.stdout);
    let warnings = named(&found, "warning");
    assert_eq!(warnings.len(), 1, "{}", run.stdout);
    assert!(
        warnings[0].data.contains("`Everyone`") && warnings[0].data.contains("Principal: \"*\""),
        "{}",
        warnings[0].data
    );
    // A policy naming an account is not warned about.
    let named_policy = policy.replace(r#""*""#, r#"{"AWS": "arn:aws:iam::210987654321:root"}"#);
    let run = Action::new(&local, &repository)
        .input("repository-policy", &named_policy)
        .run();
    run.assert_success();
    assert!(
        named(&commands::commands(&run.stdout), "warning").is_empty(),
        "{}",
        run.stdout
    );
}

fn policy_command(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ecr-push-action"))
        .env_clear()
        .arg("policy")
        .args([
            "--account",
            "123456789012",
            "--region",
            "eu-west-1",
            "--repository",
            "team/api",
        ])
        .args(args)
        .output()
        .expect("run the policy command")
}

#[test]
fn trust_policies_never_open_the_role_to_other_repositories() {
    for subject in ["github:*/*", "github:octo*/app", "github:octo-org/*"] {
        let out = policy_command(&["--trust", subject]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{subject}: {stdout}");
        assert!(
            stdout.contains("wildcard in the owner or repository"),
            "{stdout}"
        );
        assert!(!stdout.contains("repo:"), "no policy is printed: {stdout}");
    }
    // Every workflow of one repository: printed, with a warning (on stderr, so stdout stays JSON).
    let out = policy_command(&["--trust", "github:octo-org/octo-repo"]);
    assert!(out.status.success());
    let policy: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is the JSON alone");
    assert_eq!(
        policy["Statement"][0]["Condition"]["StringLike"]["token.actions.githubusercontent.com:sub"],
        "repo:octo-org/octo-repo:*"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let found = commands::commands(&stderr);
    assert_eq!(named(&found, "warning").len(), 1, "{stderr}");
    assert!(
        found[0]
            .data
            .contains("any branch or tag, any environment, and pull requests"),
        "{stderr}"
    );
    // An exact subject: no warning.
    let out = policy_command(&["--trust", "github:octo-org/octo-repo:ref:refs/heads/main"]);
    assert!(out.status.success() && out.stderr.is_empty());
    // A hostile audience stays inside a JSON string, and no line of the document is a command.
    let out = policy_command(&[
        "--trust",
        "github:o/r:environment:prod",
        "--audience",
        "a##[add-mask]forged",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(commands::commands(&stdout).is_empty(), "{stdout}");
    let policy: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        policy["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:aud"],
        "a##[add-mask]forged"
    );
}

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn every_base_image_is_pinned_by_digest() {
    let dockerfile =
        std::fs::read_to_string(Path::new(ROOT).join("Dockerfile")).expect("Dockerfile");
    let args: Vec<(&str, &str)> = dockerfile
        .lines()
        .filter_map(|l| l.strip_prefix("ARG "))
        .filter_map(|a| a.split_once('='))
        .collect();
    let froms: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert!(froms.len() >= 2, "{froms:?}");
    for from in froms {
        let image = from
            .split_whitespace()
            .find(|w| !w.starts_with("FROM") && !w.starts_with("--"))
            .expect("an image");
        let image = args
            .iter()
            .find(|(name, _)| image == format!("${{{name}}}") || image == format!("${name}"))
            .map_or(image, |(_, value)| value);
        if image == "scratch" {
            continue;
        }
        let digest = image
            .split_once("@sha256:")
            .map(|(_, d)| d)
            .unwrap_or_default();
        assert!(
            digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()),
            "`{from}` is not pinned by digest (image@sha256:…): {image}"
        );
    }
}

#[test]
fn releases_attest_the_image_and_never_move_a_version_tag() {
    let release = std::fs::read_to_string(Path::new(ROOT).join(".github/workflows/release.yml"))
        .expect("release.yml");
    assert!(
        release.contains("uses: actions/attest-build-provenance@"),
        "{release}"
    );
    assert!(release.contains("push-to-registry: true"), "{release}");
    // The token permissions of an attestation only where it is made.
    let top = release.split("\njobs:").next().expect("header");
    assert!(top.contains("permissions: {}"), "{top}");
    assert_eq!(release.matches("id-token: write").count(), 1, "{release}");
    assert_eq!(
        release.matches("attestations: write").count(),
        1,
        "{release}"
    );
    // Only the major tag is ever forced; the version tag is created once, and an existing one refused.
    for line in release
        .lines()
        .filter(|l| l.contains("git tag") || l.contains("git push"))
    {
        if line.contains("--force") || line.contains(" -f ") {
            assert!(
                line.contains("$major"),
                "only the major tag may move: {line}"
            );
            assert!(
                !line.contains("\"$TAG\"") && !line.contains("refs/tags/$TAG"),
                "{line}"
            );
        }
    }
    assert!(
        release.contains("git ls-remote --exit-code --tags"),
        "{release}"
    );
    // Publishing waits for the protected environment; nothing runs emulated; every image the
    // builds use is pinned by digest.
    assert!(release.contains("environment: release"), "{release}");
    let ci =
        std::fs::read_to_string(Path::new(ROOT).join(".github/workflows/ci.yml")).expect("ci.yml");
    for workflow in [&release, &ci] {
        assert!(!workflow.contains("setup-qemu-action"), "{workflow}");
        let pinned = workflow
            .lines()
            .filter(|l| l.contains("driver-opts: image="))
            .all(|l| l.contains("@sha256:"));
        assert!(
            pinned && workflow.contains("driver-opts: image="),
            "{workflow}"
        );
    }
    let dockerfile =
        std::fs::read_to_string(Path::new(ROOT).join("Dockerfile")).expect("Dockerfile");
    // An image given through an ARG is pinned where the ARG is set.
    let pinned_arg = |name: &str| {
        dockerfile
            .lines()
            .any(|l| l.starts_with(&format!("ARG {name}=")) && l.contains("@sha256:"))
    };
    for from in dockerfile
        .lines()
        .filter(|l| l.trim_start().starts_with("FROM "))
    {
        let image = from
            .split_whitespace()
            .find(|w| !w.starts_with('-') && *w != "FROM");
        let pinned = match image {
            Some("scratch") => true,
            Some(arg) if arg.starts_with("${") => pinned_arg(arg.trim_matches(['$', '{', '}'])),
            Some(image) => image.contains("@sha256:"),
            None => false,
        };
        assert!(pinned, "{from}");
    }
}

/// An `https://` proxy is spoken to in TLS: one that speaks nothing else carries `assemble`'s registry
/// requests — the CONNECT and its `Proxy-Authorization` inside TLS, the registry's own TLS inside the
/// tunnel — nothing reaches it in plain text, and its password appears nowhere the run wrote.
#[test]
fn an_https_proxy_gets_the_connect_and_its_credentials_inside_tls() {
    use crate::support::proxy::{Head, TlsProxy};
    use base64::Engine as _;
    let s = stack();
    let image = Engine::Classic.image(&format!("{}:src", unique("e2e-tls-proxy")));
    let repository = unique("tls-proxy");
    Action::new(&image.reference, &repository)
        .input("tags", "one")
        .run()
        .assert_success();
    let proxy = TlsProxy::start();
    let password = "proxy-pass-5e0c9a";
    let url = proxy
        .url
        .replacen("https://", &format!("https://proxy-user:{password}@"), 1);
    let run = Action::new("", &repository)
        .without_input("local-image")
        .input("assemble", "one")
        .input("tags", "index")
        .env("HTTPS_PROXY", &url)
        .run();
    run.assert_success();
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("proxy-user:{password}"));
    let connect = Head {
        line: format!("CONNECT {}:443 HTTP/1.1", s.host(&s.account)),
        proxy_authorization: Some(format!("Basic {encoded}")),
    };
    assert!(
        proxy.inside_tls().contains(&connect),
        "{:?}",
        proxy.inside_tls()
    );
    let registry = format!("CONNECT {}:443", s.host(&s.account));
    assert!(
        proxy.seen().contains(&registry),
        "tunnelled: {:?}",
        proxy.seen()
    );
    assert_eq!(
        proxy.plain_text(),
        Vec::<String>::new(),
        "nothing in plain text"
    );
    for text in [&run.stdout, &run.stderr, &run.outputs_file, &run.summary] {
        assert!(
            !text.contains(password) && !text.contains(&encoded),
            "{text}"
        );
    }
}

/// A SOCKS proxy is refused when the action's own client is built, before its first request (here
/// GitHub's token request), naming the variable and the scheme and never the credentials. The
/// listener would have served an HTTP CONNECT: the client used to send one to any proxy.
#[test]
fn a_socks_proxy_is_refused_before_any_request() {
    use crate::support::proxy::CountingProxy;
    let s = stack();
    let listener = CountingProxy::start();
    let password = "socks-pass-91b2d4";
    let url = listener
        .url
        .replacen("http://", &format!("socks5://proxy-user:{password}@"), 1);
    let run = Action::new("", &unique("socks-proxy"))
        .without_input("local-image")
        .without_input("aws-access-key-id")
        .without_input("aws-secret-access-key")
        .input("assemble", "one")
        .input("tags", "index")
        .input("role-to-assume", "arn:aws:iam::123456789012:role/gha-push")
        .env("ACTIONS_ID_TOKEN_REQUEST_URL", &s.oidc_url(""))
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", &s.oidc_request_token)
        .env("HTTPS_PROXY", &url)
        .env("http_proxy", &url)
        .run();
    let error = run.assert_error("E-PROXY-SCHEME");
    assert!(
        error.contains("`HTTPS_PROXY`") && error.contains("`socks5://`"),
        "the variable and the scheme: {error}"
    );
    assert_eq!(
        listener.seen(),
        Vec::<String>::new(),
        "no request reached it"
    );
    for text in [&run.stdout, &run.stderr] {
        assert!(
            !text.contains(password) && !text.contains("proxy-user"),
            "{text}"
        );
    }
    // With keys, the AWS SDK's requests would come first: the refusal still comes before them.
    let run = Action::new("", &unique("socks-proxy-keys"))
        .without_input("local-image")
        .input("assemble", "one")
        .input("tags", "index")
        .env("HTTPS_PROXY", &url)
        .run();
    let error = run.assert_error("E-PROXY-SCHEME");
    assert!(error.contains("`HTTPS_PROXY`"), "{error}");
    assert_eq!(listener.seen(), Vec::<String>::new());
    assert!(
        !run.stdout.contains("Using AWS access key"),
        "{}",
        run.stdout
    );
}

/// The `timeout` of the runs against a hostile registry: every one must end well within it.
const HOSTILE_TIMEOUT_S: f64 = 20.0;
/// The most memory the action may use against a hostile registry (its peak resident set).
const PEAK_RSS_LIMIT_KIB: u64 = 64 << 10;

/// The assemble job, through the front, of what `references` name.
fn assemble_through_front(repository: &str, references: &str) -> Action {
    Action::new("", repository)
        .without_input("local-image")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .input("aws-region", &front::region())
        .input("assemble", references)
        .input("tags", "index")
        .input("timeout", &format!("{HOSTILE_TIMEOUT_S}s"))
}

/// The run failed with one error, coded `code` and holding every one of `pieces`, within the timeout
/// and 64 MiB, and wrote nothing: no index under the tag, no tag or platform in the outputs.
#[track_caller]
fn assert_stopped_cleanly(
    what: &str,
    repository: &str,
    (run, cost): &(Run, Cost),
    code: &str,
    pieces: &[&str],
) {
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "{what}: peak RSS {} KiB, {:.1} s",
        cost.peak_rss_kib,
        cost.seconds
    );
    let error = run.assert_error(code);
    for piece in pieces {
        assert!(error.contains(piece), "{what}: {piece}\n{error}");
    }
    assert!(
        cost.seconds < HOSTILE_TIMEOUT_S + 5.0,
        "{what}: {:.1} s, past the timeout",
        cost.seconds
    );
    assert!(
        cost.peak_rss_kib < PEAK_RSS_LIMIT_KIB,
        "{what}: peak RSS {} KiB",
        cost.peak_rss_kib
    );
    for output in ["pushed-tags", "platforms", "digest"] {
        let value = run.outputs.get(output);
        assert!(
            value.is_none_or(String::is_empty),
            "{what}: {output} = {value:?}"
        );
    }
    assert_eq!(
        registry_digest(&front::host(), repository, "index"),
        None,
        "{what}: nothing written"
    );
}

#[test]
fn a_two_gib_configuration_is_refused_without_being_held() {
    let (_local, repository) = seeded("hostile-huge");
    for (what, rule) in [
        ("announced", serde_json::json!({"kind": "huge"})),
        (
            "chunked",
            serde_json::json!({"kind": "huge", "chunked": true}),
        ),
    ] {
        front::arm(&repository, &rule);
        let run = assemble_through_front(&repository, "seed").run_measured();
        assert_stopped_cleanly(
            &format!("2 GiB configuration, {what}"),
            &repository,
            &run,
            "E-ASSEMBLE-TOO-LARGE",
            &["8388608 bytes", &front::host()],
        );
        // Refused, not retried: another read would be as large.
        assert!(!run.0.stdout.contains("attempt 1 of"), "{}", run.0.stdout);
    }
    assert_eq!(front::fired(&repository), 2);
}

#[test]
fn a_registry_that_trickles_its_answer_is_stopped_by_the_timeout() {
    let (_local, repository) = seeded("hostile-trickle");
    front::arm(
        &repository,
        &serde_json::json!({"kind": "trickle", "action": "BatchGetImage", "seconds": 1}),
    );
    let run = assemble_through_front(&repository, "seed").run_measured();
    assert_stopped_cleanly(
        "a manifest one byte a second",
        &repository,
        &run,
        "E-TIMEOUT",
        // The bound, and the step it stopped in.
        &[&format!("{HOSTILE_TIMEOUT_S} s"), "\"Read `seed` from"],
    );
    assert!(
        run.1.seconds >= HOSTILE_TIMEOUT_S - 1.0,
        "stopped by the timeout, not before: {:.1} s",
        run.1.seconds
    );
}

#[test]
fn a_blob_redirect_is_followed_only_once_and_only_to_https() {
    let (_local, repository) = seeded("hostile-redirect");
    front::arm(&repository, &serde_json::json!({"kind": "redirect"}));
    let control = std::env::var("TESTBED_FRONT_CONTROL").expect("TESTBED_FRONT_CONTROL");
    let host = control.split(':').next().expect("host");
    let run = assemble_through_front(&repository, "seed").run_measured();
    assert_stopped_cleanly(
        "a redirect to http://",
        &repository,
        &run,
        "E-ASSEMBLE-REDIRECT",
        &[&format!("`http://{host}`")],
    );
    assert_eq!(
        front::followed(&repository),
        0,
        "the http:// target was never asked"
    );
    // Two hops, each to https://: the second is not followed.
    front::arm(
        &repository,
        &serde_json::json!({"kind": "redirect", "scheme": "https", "count": 2}),
    );
    let run = assemble_through_front(&repository, "seed").run_measured();
    assert_stopped_cleanly(
        "two redirects",
        &repository,
        &run,
        "E-ASSEMBLE-REDIRECT-AGAIN",
        &[],
    );
    assert_eq!(front::fired(&repository), 3);
}

#[test]
fn a_manifest_that_does_not_hash_to_its_digest_is_refused() {
    let (_local, repository) = seeded("hostile-tamper");
    let digest = registry_digest(&front::host(), &repository, "seed").expect("seeded");
    // By tag: the registry's Docker-Content-Digest names other bytes than it serves.
    front::arm(&repository, &serde_json::json!({"kind": "tamper"}));
    let run = assemble_through_front(&repository, "seed").run_measured();
    assert_stopped_cleanly(
        "a tampered manifest, by tag",
        &repository,
        &run,
        "E-ASSEMBLE-DIGEST-HEADER",
        // What was read, and the digest the header states.
        &[
            &format!("`seed` in {}/{repository}", front::host()),
            &digest,
        ],
    );
    // By digest: the bytes must hash to the digest asked for, whatever the header says.
    front::arm(&repository, &serde_json::json!({"kind": "tamper"}));
    let run = assemble_through_front(&repository, &digest).run_measured();
    assert_stopped_cleanly(
        "a tampered manifest, by digest",
        &repository,
        &run,
        "E-ASSEMBLE-DIGEST-MISMATCH",
        &[&digest],
    );
    assert_eq!(front::fired(&repository), 2);
}

#[test]
fn a_platform_outside_the_input_rule_never_reaches_the_outputs() {
    let (_local, repository) = seeded("hostile-platform");
    let crafted = "linux/amd64;touch${IFS}x";
    front::arm(
        &repository,
        &serde_json::json!({"kind": "platform", "platform": crafted}),
    );
    let run = assemble_through_front(&repository, "seed").run_measured();
    assert_stopped_cleanly(
        "a crafted platform",
        &repository,
        &run,
        "E-ASSEMBLE-CONFIG-PLATFORM",
        &[
            &format!("`seed` in {}/{repository}", front::host()),
            &format!("`{crafted}`"),
        ],
    );
    assert!(
        !run.0.outputs_file.contains("touch"),
        "{}",
        run.0.outputs_file
    );
}

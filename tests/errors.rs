//! Failures the user causes: each ends with a non-zero exit, exactly one `::error::` line that names
//! the cause and the fix, and no repository left behind.

use crate::support::{Action, Engine, create_repository, repository_registry_id, stack, unique};

/// Runs `action` (which targets `repository`), expects one error containing every piece of `expected`,
/// and checks that the repository was not created.
fn assert_fails(action: &Action, repository: &str, expected: &[&str]) -> String {
    let run = action.run();
    let error = run.single_error();
    for piece in expected {
        assert!(
            error.contains(piece),
            "error should contain {piece:?}: {error}"
        );
    }
    assert!(
        run.outputs.is_empty(),
        "no outputs on failure: {:?}",
        run.outputs
    );
    assert_eq!(
        repository_registry_id(repository, None),
        None,
        "no repository may be created"
    );
    error
}

#[test]
fn each_input_rule_is_enforced_before_any_call() {
    let local = unique("e2e-rules");
    let good_repo = unique("rules");
    let long_tag = "t".repeat(129);
    // Each refusal's code, and the input and value it names.
    let cases: Vec<(&str, &str, &str, &[&str])> = vec![
        (
            "repository",
            "Bad/Name",
            "E-INPUT-REPOSITORY",
            &["`repository`", "`Bad/Name`"],
        ),
        (
            "repository",
            "x",
            "E-INPUT-REPOSITORY",
            &["`repository`", "`x`"],
        ),
        ("tags", "ok,-bad", "E-INPUT-TAG", &["`tags`", "`-bad`"]),
        ("tags", &long_tag, "E-INPUT-TAG", &["`tags`"]),
        (
            "registry-id",
            "12345",
            "E-INPUT-REGISTRY-ID",
            &["`registry-id`", "`12345`"],
        ),
        (
            "create-repository",
            "yes",
            "E-INPUT-BOOLEAN",
            &["`create-repository`", "`yes`"],
        ),
        (
            "aws-region",
            "mars-1",
            "E-INPUT-REGION",
            &["`aws-region`", "`mars-1`"],
        ),
        (
            "local-image",
            "",
            "E-INPUT-LOCAL-IMAGE-REQUIRED",
            &["`local-image`"],
        ),
        (
            "aws-secret-access-key",
            "",
            "E-INPUT-KEY-PAIR",
            &["`aws-secret-access-key`"],
        ),
    ];
    for (input, value, code, named) in cases {
        let action = Action::new(&local, &good_repo).input(input, value);
        let run = action.run();
        let error = run.assert_error(code);
        assert_eq!(run.error_codes(), [code], "{input}={value:?}: {error}");
        for piece in named {
            assert!(
                error.contains(piece),
                "{input}={value:?}: error should name {piece:?}: {error}"
            );
        }
        // Rejected before Docker or AWS: not a single phase started.
        assert!(
            !run.stdout.contains("::group::"),
            "{input}: no phase may start:\n{}",
            run.stdout
        );
    }
    assert_eq!(repository_registry_id(&good_repo, None), None);
}

#[test]
fn a_missing_local_image_stops_before_aws() {
    let repository = unique("no-image");
    let error = assert_fails(
        &Action::new("e2e-does-not-exist:v1", &repository),
        &repository,
        &["`local-image`", "e2e-does-not-exist:v1", "docker build"],
    );
    assert!(!error.contains("AWS"), "{error}");
}

#[test]
fn an_unreachable_daemon_is_named_with_the_fix() {
    let repository = unique("no-daemon");
    let action = Action::new("anything:v1", &repository)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    assert_fails(
        &action,
        &repository,
        &[
            "Docker daemon at unix:///nonexistent/docker.sock",
            "DOCKER_HOST",
        ],
    );
}

#[test]
fn a_missing_region_says_how_to_set_it() {
    let repository = unique("no-region");
    let run = Action::new("anything:v1", &repository)
        .without_input("aws-region")
        .run();
    run.assert_error("E-INPUT-REGION-REQUIRED");
    assert!(run.outputs.is_empty(), "{:?}", run.outputs);
    assert_eq!(repository_registry_id(&repository, None), None);
}

#[test]
fn missing_credentials_say_how_to_provide_them() {
    let local = format!("{}:v1", unique("e2e-nocreds"));
    // Removed from the daemon when the test ends, passed or failed.
    let _image = Engine::Classic.image(&local);
    let repository = unique("no-creds");
    let action = Action::new(&local, &repository)
        .without_input("aws-access-key-id")
        .without_input("aws-secret-access-key");
    assert_fails(
        &action,
        &repository,
        &["No AWS credentials found", "aws-access-key-id"],
    );
}

#[test]
fn a_missing_repository_with_creation_off_is_an_error() {
    let local = format!("{}:v1", unique("e2e-nocreate"));
    // Removed from the daemon when the test ends, passed or failed.
    let _image = Engine::Classic.image(&local);
    let repository = unique("not-created");
    let action = Action::new(&local, &repository).input("create-repository", "false");
    assert_fails(
        &action,
        &repository,
        &[
            &format!("`{repository}` does not exist"),
            "create-repository",
        ],
    );
}

#[test]
fn creation_off_still_pushes_into_an_existing_repository() {
    let local = format!("{}:v1", unique("e2e-nocreate-ok"));
    // Removed from the daemon when the test ends, passed or failed.
    let _image = Engine::Classic.image(&local);
    let repository = unique("precreated");
    create_repository(&repository);
    let run = Action::new(&local, &repository)
        .input("create-repository", "false")
        .run();
    run.assert_success();
    assert_eq!(run.output("repository-created"), "false");
    assert_eq!(
        repository_registry_id(&repository, None).as_deref(),
        Some(stack().account.as_str())
    );
}

#[test]
fn the_timeout_input_bounds_the_run_and_names_the_step() {
    // A "daemon" that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let address = silent.local_addr().expect("address");
    let _held = std::thread::spawn(move || {
        let held: Vec<_> = silent.incoming().take(4).collect();
        std::thread::sleep(std::time::Duration::from_secs(30));
        drop(held);
    });
    let repository = unique("timeout");
    let started = std::time::Instant::now();
    let action = Action::new("anything:v1", &repository)
        .env("DOCKER_HOST", &format!("tcp://{address}"))
        .input("timeout", "2s");
    let error = assert_fails(
        &action,
        &repository,
        &["within 2 s (input `timeout`)", "stopped during \"Docker\""],
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{error}"
    );
    let bad = Action::new("anything:v1", &repository)
        .input("timeout", "forever")
        .run()
        .assert_error("E-INPUT-TIMEOUT");
    assert!(bad.contains("`forever`"), "{bad}");
}

#[test]
fn hostile_values_cannot_forge_workflow_commands_or_outputs() {
    let repository = unique("hostile");
    // A newline followed by a workflow command, a percent sign, a carriage return, a long value.
    for (value, code) in [
        (
            "app\n::warning::forged".to_owned(),
            "E-INPUT-LOCAL-IMAGE-CHARACTERS",
        ),
        (
            "app\r\n::add-mask::x%0A::error::forged".to_owned(),
            "E-INPUT-LOCAL-IMAGE-CHARACTERS",
        ),
        (
            format!("{}:{}", "a".repeat(300), "%25".repeat(100)),
            "E-INPUT-LOCAL-IMAGE-TOO-LONG",
        ),
    ] {
        let run = Action::new(&value, &repository).run();
        let error = run.assert_error(code);
        assert!(error.contains("`local-image`"), "{error}");
        for line in run.stdout.lines().filter(|l| l.starts_with("::")) {
            assert!(
                line.starts_with("::error title=E-INPUT-") || line.starts_with("::add-mask::"),
                "forged command: {line}"
            );
            assert!(!line.contains('\r'));
        }
        assert!(
            !run.stdout
                .lines()
                .any(|l| l.starts_with("::warning::forged") || l.starts_with("::error::forged"))
        );
    }
    // A repository tag value with a delimiter-looking text goes to AWS, never into the outputs' framing.
    let local = format!("{}:h", unique("e2e-hostile"));
    // Removed from the daemon when the test ends, passed or failed.
    let _image = Engine::Classic.image(&local);
    let run = Action::new(&local, &repository)
        .input("repository-tags", "Note=ghadelimiter_x EOF %0A")
        .run();
    run.assert_success();
    assert_eq!(run.output("pushed-tags"), "h");
}

//! Where credentials come from, end to end: GitHub OIDC → `AssumeRoleWithWebIdentity` with no AWS key
//! anywhere, a token file, `AssumeRole` from keys, and the failures a user meets first.

use std::process::Command;

use crate::on_both_engines;
use crate::support::{
    Action, Engine, Run, TempDir, registry_digest, repository_registry_id, stack, unique,
};

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/gha-push";

/// An action with no AWS keys in inputs or environment, the role to assume, and GitHub's OIDC
/// variables pointing at the fake token endpoint (with `extra_query` appended to its URL).
fn keyless(local: &str, repository: &str, extra_query: &str) -> Action {
    let s = stack();
    Action::new(local, repository)
        .without_input("aws-access-key-id")
        .without_input("aws-secret-access-key")
        .input("role-to-assume", ROLE_ARN)
        .env("ACTIONS_ID_TOKEN_REQUEST_URL", &s.oidc_url(extra_query))
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", &s.oidc_request_token)
}

fn assert_pushed_as(run: &Run, repository: &str, tag: &str, session: &str) {
    run.assert_success();
    let s = stack();
    assert_eq!(
        registry_digest(&s.host(&s.account), repository, tag).as_deref(),
        Some(run.output("digest")),
        "the registry serves the pushed tag"
    );
    assert_eq!(
        repository_registry_id(repository, None).as_deref(),
        Some(s.account.as_str())
    );
    assert_eq!(
        run.output("authenticated-arn"),
        format!("arn:aws:sts::{}:assumed-role/gha-push/{session}", s.account)
    );
    assert_eq!(run.output("aws-account-id"), s.account);
}

on_both_engines! {
fn github_oidc_assumes_the_role_and_pushes_without_any_key(engine: Engine) {
    let image = engine.image(&format!("{}:oidc", unique("e2e-oidc")));
    let repository = unique("oidc");
    let run = keyless(&image.reference, &repository, "").on(engine).run();
    assert_pushed_as(&run, &repository, "oidc", "GitHubActions");
    assert!(
        run.stdout.lines().any(|l| l.starts_with("::add-mask::eyJ")),
        "the ID token is masked"
    );
    assert!(
        run.stdout
            .contains(&format!("Assumed {ROLE_ARN} as arn:aws:sts::")),
        "{}",
        run.stdout
    );
}
}

#[test]
fn a_flaky_token_endpoint_is_retried() {
    let local = format!("{}:flaky", unique("e2e-flaky"));
    // Removed from the daemon when the test ends, passed or failed.
    let _image = Engine::Classic.image(&local);
    let repository = unique("flaky");
    let run = keyless(&local, &repository, &format!("&fail=2&key={}", unique("k"))).run();
    assert_pushed_as(&run, &repository, "flaky", "GitHubActions");
    assert!(
        run.stdout
            .contains("Requesting the GitHub OIDC token failed (attempt 1 of 5): HTTP 503"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("(attempt 2 of 5)") && !run.stdout.contains("(attempt 3 of 5)"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_token_file_in_the_workspace_is_used() {
    let s = stack();
    let workspace = TempDir::new();
    std::fs::create_dir_all(workspace.0.join("tokens")).expect("dir");
    // A token from the same issuer, saved to a file as another tool would.
    let answer = Command::new("curl")
        .args([
            "-fsS",
            "-H",
            &format!("Authorization: bearer {}", s.oidc_request_token),
        ])
        .arg(s.oidc_url("&audience=sts.amazonaws.com"))
        .output()
        .expect("curl");
    let value: serde_json::Value = serde_json::from_slice(&answer.stdout).expect("json");
    let token = value["value"].as_str().expect("token").to_owned();
    std::fs::write(workspace.0.join("tokens/id"), format!("{token}\n")).expect("token file");

    let local = format!("{}:file", unique("e2e-tokenfile"));
    // Removed from the daemon when the test ends, passed or failed.
    let _image = Engine::Classic.image(&local);
    let repository = unique("tokenfile");
    let action = Action::new(&local, &repository)
        .without_input("aws-access-key-id")
        .without_input("aws-secret-access-key")
        .input("role-to-assume", ROLE_ARN)
        .input("role-session-name", "from-file")
        .input("web-identity-token-file", "tokens/id")
        .env("GITHUB_WORKSPACE", &workspace.0.display().to_string());
    let run = action.run();
    assert_pushed_as(&run, &repository, "file", "from-file");
    assert!(
        run.stdout.contains(&format!("::add-mask::{token}")),
        "the file's token is masked"
    );
}

#[test]
fn keys_assume_a_role_by_name_with_an_external_id() {
    let local = format!("{}:keys", unique("e2e-assume"));
    // Removed from the daemon when the test ends, passed or failed.
    let _image = Engine::Classic.image(&local);
    let repository = unique("assume");
    let run = Action::new(&local, &repository)
        .input("role-to-assume", "gha-push")
        .input("role-external-id", "ext-4711")
        .input("role-session-name", "release-bot")
        .input("role-duration-seconds", "900")
        .run();
    assert_pushed_as(&run, &repository, "keys", "release-bot");
    assert!(
        run.stdout.contains(&format!("Assumed {ROLE_ARN} as")),
        "bare name completed with the account: {}",
        run.stdout
    );
}

#[test]
fn a_role_without_id_token_permission_fails_before_any_call() {
    let repository = unique("no-id-token");
    let run = Action::new("anything:v1", &repository)
        .without_input("aws-access-key-id")
        .without_input("aws-secret-access-key")
        .input("role-to-assume", ROLE_ARN)
        .run();
    let error = run.single_error();
    assert!(
        error.contains("Input `role-to-assume`")
            && error.contains("permissions:\n    id-token: write"),
        "{error}"
    );
    assert!(
        !run.stdout.contains("::group::"),
        "no phase may start:\n{}",
        run.stdout
    );
}

#[test]
fn a_refused_token_request_names_the_permission() {
    let repository = unique("bad-request-token");
    let local = format!("{}:v1", unique("e2e-badreq"));
    // Removed from the daemon when the test ends, passed or failed.
    let _image = Engine::Classic.image(&local);
    let run = keyless(&local, &repository, "")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "not-the-right-request-token",
        )
        .run();
    let error = run.single_error();
    assert!(
        error.contains("GitHub refused the OIDC token request (HTTP 401"),
        "{error}"
    );
    assert!(error.contains("id-token: write"), "{error}");
    assert_eq!(repository_registry_id(&repository, None), None);
}

#[test]
fn a_matrix_of_jobs_rides_out_a_shared_token_endpoint_outage() {
    // Four jobs start together while the endpoint fails its next three answers (whoever gets them):
    // jittered retries must carry every job through.
    let key = format!("&fail=3&key={}", unique("matrix"));
    let jobs: Vec<_> = (0..4)
        .map(|i| {
            let key = key.clone();
            std::thread::spawn(move || {
                let local = format!("{}:m{i}", unique("e2e-matrix"));
                // Removed from the daemon when the test ends, passed or failed.
                let _image = Engine::Classic.image(&local);
                let repository = unique("matrix");
                let run = keyless(&local, &repository, &key).run();
                (run, repository, format!("m{i}"))
            })
        })
        .collect();
    let mut retried = 0;
    for job in jobs {
        let (run, repository, tag) = job.join().expect("job thread");
        assert_pushed_as(&run, &repository, &tag, "GitHubActions");
        retried += usize::from(
            run.stdout
                .contains("Requesting the GitHub OIDC token failed"),
        );
    }
    assert!(retried >= 1, "the outage was met and retried");
}

/// act runs workflows locally and offers no OIDC token: a role without keys is refused before any
/// call, saying so and showing the keys alternative.
#[test]
fn under_act_a_role_without_keys_says_act_has_no_oidc_token() {
    let run = Action::new("app:1", &unique("act"))
        .without_input("aws-access-key-id")
        .without_input("aws-secret-access-key")
        .input(
            "role-to-assume",
            "arn:aws:iam::123456789012:role/github-push",
        )
        .env("ACT", "true")
        .run();
    let error = run.single_error();
    assert!(
        error.contains("this runner (act) offers no GitHub OIDC token")
            && error.contains("act -s AWS_ACCESS_KEY_ID"),
        "{error}"
    );
    assert!(
        !run.stdout.contains("::group::"),
        "no step ran:\n{}",
        run.stdout
    );
}

/// A stand-in for the EC2 instance metadata endpoint on a port of its own: it reads each request and
/// either never answers (what a container sees with the default hop limit of 1: the answer is
/// dropped one hop short) or refuses the `IMDSv2` token request with 403.
fn instance_metadata(answer: Option<&'static str>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            use std::io::{Read as _, Write as _};
            let mut stream = stream;
            let mut request = [0_u8; 4096];
            let _ = stream.read(&mut request);
            match answer {
                Some(response) => {
                    let _ = stream.write_all(response.as_bytes());
                }
                None => held.push(stream),
            }
        }
    });
    format!("http://{address}")
}

/// On a self-hosted EC2 runner without another source, the chain ends at the instance role: when the
/// metadata endpoint does not answer in time the error names the hop limit and the command that
/// raises it; when it refuses the token request it says so.
#[test]
fn an_unreachable_instance_role_names_the_hop_limit() {
    let image = Engine::Classic.image(&format!("{}:imds", unique("e2e-imds")));
    let cases = [
        (None, "did not answer in time"),
        (
            Some("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            "refused the IMDSv2 token request",
        ),
    ];
    for (answer, piece) in cases {
        let run = Action::new(&image.reference, &unique("imds"))
            .without_input("aws-access-key-id")
            .without_input("aws-secret-access-key")
            .env(
                "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                &instance_metadata(answer),
            )
            .run();
        let error = run.single_error();
        assert!(
            error.contains(piece)
                && error.contains("--http-put-response-hop-limit 2")
                && error.contains("role-to-assume"),
            "{piece}\n{error}"
        );
    }
}

/// Behind a proxy, every request the action makes itself goes through it: the AWS calls (the SDK's)
/// and GitHub's token request (the action's own client) — and neither with `NO_PROXY` naming the
/// hosts. The push is the daemon's, with the daemon's own proxy settings.
#[test]
fn a_proxy_carries_every_request_the_action_makes() {
    use crate::support::proxy::CountingProxy;
    let s = stack();
    let image = Engine::Classic.image(&format!("{}:proxy", unique("e2e-proxy")));
    let moto = s.endpoint.trim_start_matches("http://").to_owned();
    let oidc = s.oidc.trim_start_matches("http://").to_owned();
    let behind = |action: Action, proxy: &CountingProxy| {
        action
            .env("HTTPS_PROXY", &proxy.url)
            .env("http_proxy", &proxy.url)
    };

    let proxy = CountingProxy::start();
    let run = behind(keyless(&image.reference, &unique("proxy-oidc"), ""), &proxy).run();
    run.assert_success();
    let seen = proxy.seen();
    assert!(
        seen.contains(&format!("CONNECT {oidc}")),
        "the token request: {seen:?}"
    );
    assert!(
        seen.iter().any(|s| s.ends_with(&moto)),
        "the AWS calls: {seen:?}"
    );

    let proxy = CountingProxy::start();
    let run = behind(Action::new(&image.reference, &unique("proxy-keys")), &proxy).run();
    run.assert_success();
    let seen = proxy.seen();
    assert!(
        seen.iter().any(|s| s.ends_with(&moto)),
        "the AWS calls: {seen:?}"
    );

    // assemble's registry requests are the action's own too.
    let repository = unique("proxy-assemble");
    Action::new(&image.reference, &repository)
        .input("tags", "one")
        .run()
        .assert_success();
    let proxy = CountingProxy::start();
    let run = behind(Action::new("", &repository), &proxy)
        .without_input("local-image")
        .input("assemble", "one")
        .input("tags", "index")
        .run();
    run.assert_success();
    let registry = format!("CONNECT {}:443", s.host(&s.account));
    assert!(proxy.seen().contains(&registry), "{:?}", proxy.seen());

    let proxy = CountingProxy::start();
    let run = behind(
        keyless(&image.reference, &unique("proxy-bypassed"), ""),
        &proxy,
    )
    .env("NO_PROXY", "127.0.0.1,localhost")
    .run();
    run.assert_success();
    assert_eq!(proxy.seen(), Vec::<String>::new(), "NO_PROXY bypasses it");
}

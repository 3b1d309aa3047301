//! Where credentials come from, end to end: GitHub OIDC → `AssumeRoleWithWebIdentity` with no AWS key
//! anywhere, a token file, `AssumeRole` from keys, and the failures a user meets first.

use std::process::Command;

use crate::on_every_engine;
use crate::support::commands::runner_lines;
use crate::support::{
    Action, Engine, Run, TempDir, assert_secrets_masked, registry_digest, repository_registry_id,
    sessions_issued, stack, unique,
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

on_every_engine! {
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

/// A run of `image` into a new repository (its name returned) with the AWS chain as its only source of
/// credentials, set up by `env`.
fn chain_only(image: &str, env: &[(&str, String)]) -> (Run, String) {
    let repository = unique("chain-role");
    let mut action = Action::new(image, &repository)
        .without_input("aws-access-key-id")
        .without_input("aws-secret-access-key");
    for (name, value) in env {
        action = action.env(name, value);
    }
    (action.run(), repository)
}

/// The check of the two tests below, for a chain source that assumes a role: every session the run
/// obtained was masked as soon as it arrived, so the one the clients signed with was too.
///
/// Which session signed? The action does not say, and moto keeps no request log; but moto lists every
/// session its STS issued, with key, secret and token (`/moto-api/data.json`), and a session name
/// unique to the test picks out this run's. A client of the run can only have signed with one of those
/// (the chain's answer is an assumed session; source keys or a token only obtain it), so each must be
/// masked — `::add-mask::` of its token and its secret — before the line that first names its access
/// key, which the action prints as it starts using it. And there must be exactly one: the chain asked
/// once and its answer shared. Before, the chain was asked once to check and mask, and again by the
/// SDK's identity cache for the first call: a second session, never masked, signed every request.
#[track_caller]
fn assert_signed_only_with_a_masked_session(run: &Run, repository: &str, session_name: &str) {
    run.assert_success();
    assert_eq!(
        repository_registry_id(repository, None).as_deref(),
        Some(stack().account.as_str()),
        "the run's ECR calls were signed (moto created the repository)"
    );
    let lines = runner_lines(&run.stdout);
    let first = |wanted: &dyn Fn(&str) -> bool| lines.iter().position(|l| wanted(l));
    let sessions = sessions_issued(session_name);
    assert!(
        !sessions.is_empty(),
        "moto issued no session named {session_name}:\n{}",
        run.stdout
    );
    for session in &sessions {
        // A session never named counts as named after the last line: it must still be masked.
        let named =
            first(&|l| !l.starts_with("::add-mask::") && l.contains(&session.access_key_id))
                .unwrap_or(lines.len());
        for (what, secret) in [
            ("session token", &session.session_token),
            ("secret key", &session.secret_access_key),
        ] {
            let masked = first(&|l| l == format!("::add-mask::{secret}"));
            assert!(
                masked.is_some_and(|at| at < named),
                "the {what} of session {} is masked at line {masked:?}, its key first named at line {named} \
                 (of {} lines):\n{}",
                session.access_key_id,
                lines.len(),
                run.stdout
            );
        }
    }
    assert_eq!(
        sessions.len(),
        1,
        "the chain is asked once and its session shared by every client: {sessions:?}"
    );
}

/// A profile with `role_arn` + `source_profile` (static keys), in the AWS config files the job points
/// at (see [`assert_signed_only_with_a_masked_session`]).
#[test]
fn a_profile_that_assumes_a_role_signs_with_the_one_session_it_masked() {
    let image = Engine::Classic.image(&format!("{}:profile", unique("e2e-profile")));
    let session_name = unique("profile-role");
    let files = TempDir::new();
    let config = files.0.join("config");
    let credentials = files.0.join("credentials");
    std::fs::write(
        &config,
        format!(
            "[profile push-role]\nrole_arn = {ROLE_ARN}\nsource_profile = base\nrole_session_name = {session_name}\n"
        ),
    )
    .expect("config file");
    let source_secret = "profile-source-secret-7c31e0";
    std::fs::write(
        &credentials,
        format!("[base]\naws_access_key_id = AKIAE2EPROFILEBASE01\naws_secret_access_key = {source_secret}\n"),
    )
    .expect("credentials file");
    let (run, repository) = chain_only(
        &image.reference,
        &[
            ("AWS_CONFIG_FILE", config.display().to_string()),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                credentials.display().to_string(),
            ),
            ("AWS_PROFILE", "push-role".to_owned()),
        ],
    );
    assert_secrets_masked(&run, &[source_secret.to_owned()]);
    assert_signed_only_with_a_masked_session(&run, &repository, &session_name);
}

/// A web identity token file named by the environment (`AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`),
/// as on EKS (see [`assert_signed_only_with_a_masked_session`]).
#[test]
fn a_token_file_in_the_chain_signs_with_the_one_session_it_masked() {
    let image = Engine::Classic.image(&format!("{}:chain-token", unique("e2e-chain-token")));
    let session_name = unique("token-file-role");
    let files = TempDir::new();
    let token_file = files.0.join("token");
    // moto's STS checks no token.
    std::fs::write(&token_file, "eyJhbGciOiJSUzI1NiJ9.e30.c2ln").expect("token file");
    let (run, repository) = chain_only(
        &image.reference,
        &[
            (
                "AWS_WEB_IDENTITY_TOKEN_FILE",
                token_file.display().to_string(),
            ),
            ("AWS_ROLE_ARN", ROLE_ARN.to_owned()),
            ("AWS_ROLE_SESSION_NAME", session_name.clone()),
        ],
    );
    assert_signed_only_with_a_masked_session(&run, &repository, &session_name);
}

#[test]
fn a_role_without_id_token_permission_fails_before_any_call() {
    let repository = unique("no-id-token");
    let run = Action::new("anything:v1", &repository)
        .without_input("aws-access-key-id")
        .without_input("aws-secret-access-key")
        .input("role-to-assume", ROLE_ARN)
        .run();
    let error = run.assert_error("E-INPUT-ROLE-WITHOUT-CREDENTIALS");
    assert!(error.contains("`role-to-assume`"), "{error}");
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
    let error = run.assert_error("E-OIDC-REFUSED");
    assert!(error.contains("HTTP 401"), "what GitHub answered: {error}");
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
    let error = run.assert_error("E-INPUT-ROLE-WITHOUT-CREDENTIALS-UNDER-ACT");
    assert!(error.contains("`role-to-assume`"), "{error}");
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
        (None, "E-CREDENTIALS-IMDS-UNANSWERED"),
        (
            Some("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            "E-CREDENTIALS-IMDS-REFUSED",
        ),
    ];
    for (answer, problem) in cases {
        let run = Action::new(&image.reference, &unique("imds"))
            .without_input("aws-access-key-id")
            .without_input("aws-secret-access-key")
            .env(
                "AWS_EC2_METADATA_SERVICE_ENDPOINT",
                &instance_metadata(answer),
            )
            .run();
        run.assert_error(problem);
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
    // The action's AWS endpoint: moto behind the fake of ECR's newer API.
    let moto = crate::support::ecr_api::endpoint()
        .trim_start_matches("http://")
        .to_owned();
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

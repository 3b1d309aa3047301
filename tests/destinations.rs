//! One step, several registries (`destinations`): the test account in two regions and a second
//! account, pushed at once; one destination refused while the others are pushed; `if-tag-exists:
//! match` against the same and another image on an immutable repository, and a re-run that succeeds.

use serde_json::Value;

use crate::on_every_engine;
use crate::support::{
    Action, Engine, Run, TempDir, front, read_back_with_skopeo, registry_digest, registry_password,
    run as run_ok, seed_tag, stack, unique,
};

/// The three registries of the test bed, in the order listed: the caller's in the stack's region (as
/// a region), the caller's in the front's region (as a region), the other account's (as a host).
fn three() -> ([String; 3], String) {
    let s = stack();
    let hosts = [s.host(&s.account), front::host(), s.host(&s.other_account)];
    let listed = format!("{}, {}\n{}", s.region, front::region(), hosts[2]);
    (hosts, listed)
}

fn destinations(run: &Run) -> Vec<Value> {
    let parsed: Value = serde_json::from_str(run.output("destinations")).expect("JSON output");
    parsed.as_array().expect("an array").clone()
}

#[track_caller]
fn assert_serves(host: &str, repository: &str, tags: &[&str], digest: Option<&str>) {
    for tag in tags {
        assert_eq!(
            registry_digest(host, repository, tag).as_deref(),
            digest,
            "{host}/{repository}:{tag}"
        );
    }
}

on_every_engine! {
/// Every tag in every registry, one digest, each repository created, outputs and summary per
/// destination; each destination's layers go up once (with its first tag).
fn pushes_to_three_registries_at_once(engine: Engine) {
    let image = engine.image(&format!("{}:d", unique("e2e-dest")));
    let repository = unique("dest");
    let (hosts, listed) = three();
    let run = Action::new(&image.reference, &repository)
        .on(engine)
        .input("tags", "d1, d2")
        .input("destinations", &listed)
        .run();
    run.assert_success();
    let digest = run.output("digest");
    for host in &hosts {
        assert_serves(host, &repository, &["d1", "d2"], Some(digest));
    }
    assert_eq!(run.output("registry"), hosts[0]);
    assert_eq!(run.output("repository-uri"), format!("{}/{repository}", hosts[0]));
    assert_eq!(run.output("pushed-tags"), "d1\nd2");
    assert_eq!(run.output("failed-tags"), "");
    let uris: Vec<String> = hosts
        .iter()
        .flat_map(|h| ["d1", "d2"].map(|t| format!("{h}/{repository}:{t}")))
        .collect();
    let mut listed_uris: Vec<&str> = run.output("image-uris").lines().collect();
    listed_uris.sort_unstable();
    let mut want: Vec<&str> = uris.iter().map(String::as_str).collect();
    want.sort_unstable();
    assert_eq!(listed_uris, want);
    let each = destinations(&run);
    assert_eq!(each.len(), 3);
    // moto keeps one repository namespace per region whatever `registryId` says, so the other
    // account's repository in the first region is the caller's of the same name there: the first and
    // the third destination are prepared at once, and whichever creates it first made it — exactly
    // one of them. Real ECR keeps them apart. The second region's is the front's, made by this run.
    let created = |i: usize| each[i]["repository-created"] == true;
    assert!(created(1), "{}", each[1]);
    assert!(created(0) != created(2), "exactly one: {} {}", each[0], each[2]);
    for (object, host) in each.iter().zip(&hosts) {
        assert_eq!(object["registry"], host.as_str(), "{object}");
        assert_eq!(object["repository-uri"], format!("{host}/{repository}"), "{object}");
        assert_eq!(object["pushed-tags"], serde_json::json!(["d1", "d2"]), "{object}");
        assert_eq!(object["failed-tags"], serde_json::json!([]), "{object}");
        assert_eq!(object["digest"], digest, "{object}");
    }
    for uri in &uris {
        let tag = uri.rsplit(':').next().expect("tag");
        let row = format!("| `{tag}` | `{uri}` | `{digest}` | pushed |");
        assert!(run.summary.contains(&row), "{row}\n{}", run.summary);
    }
    assert_eq!(run.summary.matches("| pushed |").count(), 6, "{}", run.summary);
    if engine == Engine::Classic {
        assert_saved_once_and_pulled(&run, &hosts, &repository, &image.id);
        // The image is in every destination now: the daemon's push (which only checks what is
        // there) costs less than saving and compressing it again.
        let again = Action::new(&image.reference, &repository)
            .on(engine)
            .input("tags", "d3")
            .input("destinations", &listed)
            .run();
        again.assert_success();
        assert!(!again.stdout.contains("Saved "), "{}", again.stdout);
        for host in &hosts {
            assert_serves(host, &repository, &["d3"], Some(again.output("digest")));
        }
        return;
    }
    // The second tag of each destination finds every layer there: uploaded once per destination.
    for host in &hosts {
        let line = run
            .stdout
            .lines()
            .find(|l| l.contains(&format!("{host}/{repository}:d2: ")))
            .unwrap_or_else(|| panic!("no summary line for {host}:d2\n{}", run.stdout));
        // Podman's push stream has no layer events: nothing to count.
        assert!(line.contains(" 0 pushed") || engine == Engine::Podman, "{line}");
    }
}
}

/// The classic store's daemon pushes one destination after another: the action saved the image once,
/// compressed it once and uploaded it to each destination itself. A client this project did not write
/// reads every destination back (skopeo checks every blob against its digest), and the engine's own
/// pull gives back the very image that was pushed (the same ID: its configuration is unchanged).
#[track_caller]
fn assert_saved_once_and_pulled(run: &Run, hosts: &[String], repository: &str, id: &str) {
    let saved = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("Saved "))
        .count();
    assert_eq!(saved, 1, "saved once:\n{}", run.stdout);
    for host in hosts {
        let line = format!("{host}/{repository}: 2 blobs: 2 uploaded, 0 already present");
        assert!(run.stdout.contains(&line), "{line}\n{}", run.stdout);
        assert_eq!(
            read_back_with_skopeo(host, repository, "d2"),
            run.output("digest")
        );
    }
    let reference = format!("{}/{repository}:d1", hosts[2]);
    let config = TempDir::new();
    let docker = || {
        let mut cmd = Engine::Classic.cli();
        cmd.arg("--config").arg(&config.0);
        cmd
    };
    let password = registry_password();
    run_ok(docker().args(["login", "-u", "AWS", "--password", &password, &hosts[2]]));
    run_ok(docker().args(["pull", "-q", &reference]));
    let pulled = run_ok(docker().args(["image", "inspect", "--format", "{{.Id}}", &reference]));
    let _ = docker().args(["rmi", &reference]).output();
    assert_eq!(String::from_utf8_lossy(&pulled.stdout).trim(), id);
}

/// The front refuses the second region's pushes: the other two destinations are pushed all the same,
/// the run fails naming the refused one, and the outputs say per destination what happened.
#[test]
fn a_refused_destination_does_not_stop_the_others() {
    let engine = Engine::Classic;
    let image = engine.image(&format!("{}:r", unique("e2e-dest-denied")));
    let repository = unique("dest-denied");
    let (hosts, listed) = three();
    front::arm(
        &repository,
        &serde_json::json!({"kind": "deny", "action": "InitiateLayerUpload"}),
    );
    let run = Action::new(&image.reference, &repository)
        .on(engine)
        .input("tags", "r1")
        .input("destinations", &listed)
        .run();
    // The classic store with several destinations: the action's own upload was refused, and the doctor
    // names the permission as for a daemon's push.
    let error = run.assert_error("E-ASSEMBLE-DENIED");
    let refused = format!("{}/{repository}", hosts[1]);
    for piece in [
        format!("1 of 1 tags were not pushed to {refused}"),
        "ecr:InitiateLayerUpload".to_owned(),
        format!(
            "Every tag is in place in: {}/{repository}, {}/{repository}.",
            hosts[0], hosts[2]
        ),
    ] {
        assert!(error.contains(&piece), "{piece}\n{error}");
    }
    let digest = run.output("digest");
    assert_serves(&hosts[0], &repository, &["r1"], Some(digest));
    assert_serves(&hosts[2], &repository, &["r1"], Some(digest));
    assert_serves(&hosts[1], &repository, &["r1"], None);
    assert_eq!(run.output("pushed-tags"), "", "not in every destination");
    assert_eq!(run.output("failed-tags"), "r1");
    let each = destinations(&run);
    assert_eq!(each[1]["failed-tags"], serde_json::json!(["r1"]));
    assert_eq!(each[1]["digest"], "");
    assert_eq!(each[2]["pushed-tags"], serde_json::json!(["r1"]));
    assert!(
        run.summary
            .contains(&format!("| `r1` | `{refused}:r1` |  | **failed**:")),
        "{}",
        run.summary
    );
}

on_every_engine! {
/// `match` on an immutable repository: the first run pushes; a re-run of the same job with the same
/// image succeeds and pushes nothing; another image under the tag is refused before anything is
/// pushed, naming the tag, both digests and the repository.
fn match_makes_reruns_safe_on_immutable_tags(engine: Engine) {
    let s = stack();
    let host = s.host(&s.account);
    let image = engine.image(&format!("{}:m", unique("e2e-match")));
    let other = engine.image(&format!("{}:n", unique("e2e-match-other")));
    let repository = unique("match");
    let job = |reference: &str, tags: &str| {
        Action::new(reference, &repository)
            .on(engine)
            .input("tags", tags)
            .input("image-tag-mutability", "IMMUTABLE")
            .input("if-tag-exists", "match")
            .run()
    };
    let first = job(&image.reference, "1.0.0");
    first.assert_success();
    seed_tag(&repository, "1.0.0");
    let digest = first.output("digest");

    let rerun = job(&image.reference, "1.0.0");
    rerun.assert_success();
    assert_eq!(rerun.output("pushed-tags"), "1.0.0");
    assert_eq!(rerun.output("digest"), digest);
    assert_eq!(rerun.output("image-uri"), format!("{host}/{repository}:1.0.0"));
    assert!(
        rerun.stdout.contains(&format!("Tag 1.0.0 holds this image already ({digest})")),
        "{}",
        rerun.stdout
    );
    assert!(!rerun.stdout.contains("::group::Push "), "nothing pushed:\n{}", rerun.stdout);
    assert!(
        rerun.summary.contains(&format!(
            "| `1.0.0` | `{host}/{repository}:1.0.0` | `{digest}` | already there: it holds this image |"
        )),
        "{}",
        rerun.summary
    );

    let refused = job(&other.reference, "1.0.1, 1.0.0");
    let error = refused.assert_error("E-TAG-DIFFERS");
    for piece in [
        "`1.0.0`".to_owned(),
        format!("{host}/{repository}"),
        digest.to_owned(),
    ] {
        assert!(error.contains(&piece), "{piece}\n{error}");
    }
    if engine == Engine::Containerd {
        // The containerd store knows the digest it would push: the refusal names it.
        assert!(error.contains(&format!("({}", other.id)), "{error}");
    }
    assert_serves(&host, &repository, &["1.0.1"], None);
    assert_serves(&host, &repository, &["1.0.0"], Some(digest));
}
}

/// Input mistakes in `destinations` are named before any call: nothing is created anywhere.
#[test]
fn bad_destinations_are_refused_before_any_call() {
    let repository = unique("dest-bad");
    for (value, code, item) in [
        (
            "public.ecr.aws",
            "E-INPUT-DESTINATION-PUBLIC",
            "public.ecr.aws",
        ),
        ("ghcr.io", "E-INPUT-DESTINATION-HOST", "ghcr.io"),
        (
            "eu-west-1, eu-west-1",
            "E-INPUT-DESTINATION-TWICE",
            "eu-west-1",
        ),
    ] {
        let run = Action::new("app:1", &repository)
            .input("destinations", value)
            .run();
        let error = run.assert_error(code);
        assert!(
            error.contains("`destinations`") && error.contains(&format!("`{item}`")),
            "{value}: {error}"
        );
        assert!(
            !run.stdout.contains("::group::"),
            "no step ran:\n{}",
            run.stdout
        );
    }
    let s = stack();
    let image = Engine::Classic.image(&format!("{}:t", unique("e2e-dest-twice")));
    let run = Action::new(&image.reference, &repository)
        .input(
            "destinations",
            &format!("{}, {}", s.region, s.host(&s.account)),
        )
        .run();
    let error = run.assert_error("E-REGISTRY-TWICE");
    // A region and a host can name one registry: told after the logins, before any repository exists.
    assert!(error.contains(&s.host(&s.account)), "{error}");
    assert_eq!(
        crate::support::repository_registry_id(&repository, None),
        None
    );
}

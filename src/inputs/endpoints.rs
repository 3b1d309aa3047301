//! Where the action sends requests that carry a secret, checked before any of them is made: the
//! Docker daemon (`DOCKER_HOST`, `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`) receives the registry
//! password in its `X-Registry-Auth` header; GitHub's token endpoint receives the bearer request
//! token; AWS endpoints receive signed requests and return credentials. None of them may be reached in
//! clear text, except on this machine's loopback (the test bed's services).

use std::net::IpAddr;
use std::path::PathBuf;

use super::advice;
use super::problem::{Checked, Gather};
use super::raw::Env;

/// The Docker daemon to talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerHost {
    /// `unix:///path/to/docker.sock`.
    Unix(String),
    /// `tcp://host:port` without TLS: only ever on loopback.
    Tcp { address: String },
    /// `tcp://host:port` with TLS, the server checked against `ca.pem` (and the system's roots), the
    /// client identified by `cert.pem` / `key.pem`, all from `cert_path`.
    Tls { address: String, cert_path: PathBuf },
}

impl DockerHost {
    pub const DEFAULT: &str = "unix:///var/run/docker.sock";

    /// As the user wrote it, for messages.
    pub fn address(&self) -> &str {
        match self {
            DockerHost::Unix(address)
            | DockerHost::Tcp { address }
            | DockerHost::Tls { address, .. } => address,
        }
    }
}

impl Default for DockerHost {
    fn default() -> Self {
        DockerHost::Unix(Self::DEFAULT.to_owned())
    }
}

/// `host` is this machine: 127.0.0.0/8, `::1` or `localhost`.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The environment variables that say where requests carrying secrets go: the AWS endpoints the SDK
/// would use instead of AWS's own, and the Docker daemon.
pub(super) fn derive(check: &mut Gather, env: &Env) -> Option<DockerHost> {
    for name in AWS_ENDPOINT_VARIABLES {
        if let Some(url) = env.get(name) {
            check.keep(secure_url_rule(name, url, advice::AWS_ENDPOINT_CARRIES));
        }
    }
    check.keep(docker_host_rule(
        env.get("DOCKER_HOST"),
        env.get("DOCKER_TLS_VERIFY"),
        env.get("DOCKER_CERT_PATH"),
        env.get("HOME"),
    ))
}

/// Where the AWS APIs are called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiEndpoints {
    /// AWS's own, in the form `host_form` says.
    Aws,
    /// An `AWS_ENDPOINT_URL*` variable's (the test bed's, a proxy's).
    Custom,
}

/// The variables that replace the AWS SDK's endpoints with custom ones.
const AWS_ENDPOINT_VARIABLES: [&str; 4] = [
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_ECR",
    "AWS_ENDPOINT_URL_ECR_PUBLIC",
    "AWS_ENDPOINT_URL_STS",
];

/// Some AWS API endpoint is a custom one (the test bed's, a proxy's): the SDK then calls no
/// dual-stack or FIPS endpoint ("Dualstack and custom endpoint are not supported").
pub(super) fn api_endpoints(env: &Env) -> ApiEndpoints {
    if AWS_ENDPOINT_VARIABLES.iter().any(|v| env.get(v).is_some()) {
        ApiEndpoints::Custom
    } else {
        ApiEndpoints::Aws
    }
}

/// The daemon from `DOCKER_HOST` (empty: the default socket), `DOCKER_TLS_VERIFY` (set and non-empty:
/// TLS, as the docker CLI reads it) and `DOCKER_CERT_PATH` (default `~/.docker`). `DOCKER_CERT_PATH`
/// alone also means TLS: the docker CLI then encrypts without checking the server, this action always
/// checks it.
pub fn docker_host_rule(
    host: Option<&str>,
    tls_verify: Option<&str>,
    cert_path: Option<&str>,
    home: Option<&str>,
) -> Checked<DockerHost> {
    let Some(address) = host else {
        return Ok(DockerHost::default());
    };
    let malformed = |why: &str| advice::malformed_docker_host(address, why);
    if address.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(malformed(advice::DOCKER_HOST_CHARACTERS));
    }
    if let Some(path) = address.strip_prefix("unix://") {
        if !path.starts_with('/') || path.len() < 2 {
            return Err(malformed(advice::DOCKER_HOST_UNIX_PATH));
        }
        return Ok(DockerHost::Unix(address.to_owned()));
    }
    let Some(authority) = address.strip_prefix("tcp://") else {
        return Err(malformed(advice::DOCKER_HOST_SCHEME));
    };
    let (hostname, port) = host_and_port(authority).map_err(malformed)?;
    let tls = tls_verify.is_some() || cert_path.is_some();
    // The docker CLI's default ports: 2376 with TLS, 2375 without.
    let default_port = if tls { "2376" } else { "2375" };
    let address = format!("tcp://{hostname}:{}", port.unwrap_or(default_port));
    if tls {
        let cert_path = tls_cert_path(cert_path, home)?;
        return Ok(DockerHost::Tls { address, cert_path });
    }
    if !is_loopback(hostname) {
        return Err(advice::remote_docker_without_tls(&address));
    }
    Ok(DockerHost::Tcp { address })
}

/// The host (an IPv6 literal keeps its brackets) and the port, if any, of a `tcp://` address's
/// `host[:port][/]`; the error says what is wrong.
fn host_and_port(authority: &str) -> Result<(&str, Option<&str>), &'static str> {
    const NOT_A_HOST: &str = advice::DOCKER_HOST_NOT_A_HOST;
    let authority = authority.strip_suffix('/').unwrap_or(authority);
    let (hostname, port) = match authority.strip_prefix('[') {
        // An IPv6 literal: `[::1]:2375`.
        Some(rest) => {
            let (ip, after) = rest
                .split_once(']')
                .filter(|(ip, _)| ip.parse::<std::net::Ipv6Addr>().is_ok())
                .ok_or(NOT_A_HOST)?;
            let port = match after {
                "" => None,
                _ => Some(after.strip_prefix(':').ok_or(NOT_A_HOST)?),
            };
            (&authority[..ip.len() + 2], port)
        }
        None => match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    let valid_host = hostname.starts_with('[')
        || !hostname.is_empty()
            && hostname
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if !valid_host {
        return Err(NOT_A_HOST);
    }
    if port.is_some_and(|p| !matches!(p.parse::<u16>(), Ok(1..))) {
        return Err(advice::DOCKER_HOST_PORT);
    }
    Ok((hostname, port))
}

/// The directory holding the client's TLS files (`DOCKER_CERT_PATH`, else `~/.docker`), with all three.
fn tls_cert_path(cert_path: Option<&str>, home: Option<&str>) -> Checked<PathBuf> {
    let cert_path = match (cert_path, home) {
        (Some(path), _) => PathBuf::from(path),
        (None, Some(home)) => PathBuf::from(home).join(".docker"),
        (None, None) => return Err(advice::docker_cert_path_needed()),
    };
    if let Some(missing) = ["ca.pem", "cert.pem", "key.pem"]
        .into_iter()
        .find(|file| !cert_path.join(file).is_file())
    {
        return Err(advice::docker_cert_missing(&cert_path, missing));
    }
    Ok(cert_path)
}

/// An endpoint that carries a secret: `https://`, or `http://` on loopback only. `name` is the
/// environment variable it came from.
pub fn secure_url_rule(name: &'static str, url: &str, carries: &str) -> Checked<()> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(advice::not_an_https_url(name, url));
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let host = if authority.starts_with('[') {
        authority.split_once(']').map_or(authority, |(h, _)| h)
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    match scheme.to_ascii_lowercase().as_str() {
        "https" if !host.is_empty() => Ok(()),
        "http" if !host.is_empty() && is_loopback(host) => Ok(()),
        "http" if !host.is_empty() => Err(advice::plain_http(name, url, carries)),
        _ => Err(advice::not_an_https_url(name, url)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(value: Option<&str>) -> Checked<DockerHost> {
        docker_host_rule(value, None, None, Some("/root"))
    }

    #[test]
    fn unix_sockets_and_loopback_tcp_are_taken_as_they_are() {
        assert_eq!(host(None), Ok(DockerHost::default()));
        assert_eq!(
            host(Some("unix:///run/docker.sock")),
            Ok(DockerHost::Unix("unix:///run/docker.sock".into()))
        );
        for (given, address) in [
            ("tcp://127.0.0.1:2375", "tcp://127.0.0.1:2375"),
            ("tcp://localhost", "tcp://localhost:2375"),
            ("tcp://127.8.0.3:9/", "tcp://127.8.0.3:9"),
            ("tcp://[::1]:2375", "tcp://[::1]:2375"),
        ] {
            assert_eq!(
                host(Some(given)),
                Ok(DockerHost::Tcp {
                    address: address.into()
                }),
                "{given}"
            );
        }
    }

    #[test]
    fn malformed_addresses_name_docker_host() {
        for bad in [
            "tcp://",
            "tcp://:2375",
            "tcp://host:port",
            "tcp://host:0",
            "tcp://host:70000",
            "ssh://user@host",
            "unix://",
            "unix://relative.sock",
            "/var/run/docker.sock",
            "tcp://a b:1",
            "tcp://host/path:1",
        ] {
            let refused = host(Some(bad)).expect_err(bad);
            assert_eq!(
                (refused.input, refused.code),
                ("DOCKER_HOST", "E-INPUT-DOCKER-HOST"),
                "{bad}"
            );
            assert!(refused.text.contains(&format!("`{bad}`")), "{refused:?}");
        }
    }

    #[test]
    fn a_remote_daemon_without_tls_is_refused_with_the_reason() {
        for remote in [
            "tcp://docker.example:2375",
            "tcp://10.0.0.5:2375",
            "tcp://[2001:db8::1]:2375",
        ] {
            let refused = host(Some(remote)).expect_err(remote);
            assert_eq!(
                (refused.input, refused.code),
                ("DOCKER_HOST", "E-INPUT-DOCKER-HOST-WITHOUT-TLS"),
                "{remote}"
            );
        }
    }

    #[test]
    fn tls_needs_the_three_pem_files() {
        let dir = std::env::temp_dir().join(format!("docker-certs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.display().to_string();
        let refused = docker_host_rule(Some("tcp://docker.example"), Some("1"), Some(&path), None)
            .expect_err("no pem");
        assert_eq!(
            (refused.input, refused.code),
            ("DOCKER_CERT_PATH", "E-INPUT-DOCKER-CERT-MISSING")
        );
        // The first of the three that is missing.
        assert!(refused.text.contains("ca.pem"), "{refused:?}");
        let refused = docker_host_rule(Some("tcp://docker.example"), Some("1"), None, None)
            .expect_err("no home");
        assert_eq!(refused.code, "E-INPUT-DOCKER-CERT-PATH-REQUIRED");
        for file in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::write(dir.join(file), "").expect("pem");
        }
        assert_eq!(
            docker_host_rule(Some("tcp://docker.example"), Some("1"), Some(&path), None),
            Ok(DockerHost::Tls {
                address: "tcp://docker.example:2376".into(),
                cert_path: dir.clone()
            })
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn secrets_travel_over_https_except_on_loopback() {
        for ok in [
            "https://token.actions.githubusercontent.com/x?y=1",
            "http://127.0.0.1:5056/token",
            "http://localhost/x",
            "http://[::1]:80/",
        ] {
            assert_eq!(secure_url_rule("V", ok, "the token"), Ok(()), "{ok}");
        }
        for (bad, code) in [
            ("http://token.example/x", "E-INPUT-PLAIN-HTTP"),
            ("http://127.0.0.1.example/", "E-INPUT-PLAIN-HTTP"),
            ("http://user@evil.example/", "E-INPUT-PLAIN-HTTP"),
            ("ftp://x/", "E-INPUT-URL"),
            ("token.example", "E-INPUT-URL"),
        ] {
            let refused = secure_url_rule("V", bad, "the token").expect_err(bad);
            assert_eq!((refused.input, refused.code), ("V", code), "{bad}");
        }
    }
}

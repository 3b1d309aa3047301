//! What the user reads when a proxy in the environment cannot be used, or a request through it or to
//! its destination fails: each problem written once, the refusals with their stable codes. No text
//! here shows a proxy variable's value: it may hold credentials.

use anyhow::Error;

use crate::diagnostic::error;

const WHAT_TO_DO: &str = "Point it at an HTTP proxy (`http://host:port`, or `https://host:port` for TLS \
     to the proxy, with `user:password@` before the host if it asks for credentials), or unset it";

/// The variable `name` names a proxy of `scheme`, which the action's client cannot speak to;
/// `readable`: the value is an address, else only its scheme could be read.
pub fn unsupported_scheme(name: &str, scheme: &str, readable: bool) -> Error {
    let text = if readable {
        format!(
            "`{name}` names a `{scheme}://` proxy, which the action cannot use: its own requests (GitHub's \
             OIDC token, the registry API of `assemble`) reach a proxy with HTTP `CONNECT` only. {WHAT_TO_DO}."
        )
    } else {
        format!("`{name}` names a `{scheme}://` proxy, which the action cannot use. {WHAT_TO_DO}.")
    };
    error("E-PROXY-SCHEME", text)
}

pub fn unreadable(name: &str) -> Error {
    error(
        "E-PROXY-UNREADABLE",
        format!(
            "`{name}` is not a proxy address the action can read (the value is not shown: it may hold \
             credentials; `@` or `/` in a password must be percent-encoded). {WHAT_TO_DO}."
        ),
    )
}

pub fn no_host(name: &str) -> Error {
    error(
        "E-PROXY-NO-HOST",
        format!(
            "`{name}` names no proxy host (the value is not shown: it may hold credentials). {WHAT_TO_DO}."
        ),
    )
}

pub fn no_root_certificates(why: &dyn std::fmt::Display) -> Error {
    error(
        "E-PROXY-ROOTS",
        format!("loading the system's root certificates: {why}"),
    )
}

// Why one exchange gave no answer to use: the cause that the caller's error says.

pub fn too_large(host: &str, cap: usize, what: &str) -> String {
    format!(
        "the answer from {host} is larger than {cap} bytes, the most the action reads for {what}"
    )
}

pub fn no_answer_in_time(host: &str, seconds: u64) -> String {
    format!("no whole answer from {host} within {seconds} s")
}

/// The connector's refusal of a proxy the client refuses first (`shown`: scheme, host and port).
pub fn not_an_http_proxy(shown: &str) -> String {
    format!("the proxy {shown} is not an HTTP proxy (http:// or https://)")
}

/// A failed tunnel, with its cause (`chain`) and what to check: the proxy refused the credentials or
/// asks for some, its certificate is not trusted, or anything else.
pub fn tunnel_failed(proxy: &str, target: &str, chain: &str, with_credentials: bool) -> String {
    // hyper-util's `TunnelError` is not exported: its text is all there is to tell a 407 by (a unit
    // test pins it, so an upgrade that rewords it fails there).
    let hint = if chain.contains("proxy authorization required") {
        if with_credentials {
            "the proxy refused the credentials in the proxy variable"
        } else {
            "the proxy asks for credentials: put them in the proxy variable as `user:password@` before the host"
        }
    } else if chain.contains("certificate") && proxy.starts_with("https://") {
        "the proxy's TLS certificate must be trusted by the system's roots or the bundle SSL_CERT_FILE names"
    } else {
        "check the proxy variable (HTTPS_PROXY, HTTP_PROXY or ALL_PROXY) and that the proxy allows this host"
    };
    format!("through the proxy {proxy} to {target}: {chain} ({hint})")
}

/// TLS refused `host`'s certificate: what to trust, and how.
pub fn untrusted(host: &str, chain: &str) -> String {
    format!(
        "{host}'s TLS certificate is not trusted ({chain}): the action trusts the system's root \
         certificates and the bundle SSL_CERT_FILE names; add the CA that issued it there (a TLS-inspecting \
         proxy's, or a private registry mirror's)"
    )
}

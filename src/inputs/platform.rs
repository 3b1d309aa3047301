//! The `platform` input (`os/architecture[/variant]`, as `docker --platform` takes it) and how a
//! platform of a local image is matched against it.

use std::fmt;

use super::advice::not_a_platform;

/// An OCI platform: `linux/amd64`, `linux/arm64`, `linux/arm/v7`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// Parses `os/architecture[/variant]`; the error says what is wrong, for the input's error line.
    pub fn parse(text: &str) -> Result<Platform, String> {
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            [os, architecture] => Platform::new(os, architecture, None),
            [os, architecture, variant] => Platform::new(os, architecture, Some(variant)),
            _ => Err(not_a_platform(text)),
        }
    }

    /// The platform a JSON object states (an image configuration, or a descriptor's `platform`): its
    /// `os`, `architecture` and `variant`; `None` when it states none, and the text stated as the
    /// error when it is not a platform by [`Platform::new`]'s rule.
    pub fn stated(value: &serde_json::Value) -> Result<Option<Platform>, String> {
        let text = |key: &str| value[key].as_str().filter(|s| !s.is_empty());
        let (Some(os), Some(architecture)) = (text("os"), text("architecture")) else {
            return Ok(None);
        };
        let variant = text("variant");
        Platform::new(os, architecture, variant)
            .map(Some)
            .map_err(|_| {
                let parts = [Some(os), Some(architecture), variant];
                parts.into_iter().flatten().collect::<Vec<_>>().join("/")
            })
    }

    /// A platform from its parts, each in the OCI spec's characters (lower-case letters, digits, `_.-`,
    /// at most 32): the rule of the `platform` input, for every platform that can reach the `platforms`
    /// output — from a registry's image configuration or index, or from the local image — so that a
    /// crafted image cannot put shell syntax into a workflow that writes the output into `run:`.
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Result<Platform, String> {
        let part_ok = |p: &str| {
            !p.is_empty()
                && p.len() <= 32
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
        };
        if part_ok(os) && part_ok(architecture) && variant.is_none_or(part_ok) {
            Ok(Platform {
                os: os.to_owned(),
                architecture: architecture.to_owned(),
                variant: variant.map(str::to_owned),
            })
        } else {
            let text = [Some(os), Some(architecture), variant]
                .into_iter()
                .flatten();
            Err(not_a_platform(&text.collect::<Vec<_>>().join("/")))
        }
    }

    /// Whether an image made for `self` serves a request for `wanted`. A request without a variant
    /// takes the architecture's default one (`arm64` is `arm64/v8`), as containerd's matcher does.
    pub fn serves(&self, wanted: &Platform) -> bool {
        self.os == wanted.os
            && self.architecture == wanted.architecture
            && (wanted.variant.is_none() || self.normal_variant() == wanted.normal_variant())
    }

    fn normal_variant(&self) -> Option<&str> {
        match (self.architecture.as_str(), self.variant.as_deref()) {
            ("arm64", None | Some("v8")) => None,
            (_, variant) => variant.filter(|v| !v.is_empty()),
        }
    }

    /// The Engine API's `platform` query value: JSON-encoded OCI platform.
    pub fn to_json(&self) -> String {
        let mut value = serde_json::json!({ "os": self.os, "architecture": self.architecture });
        if let Some(variant) = &self.variant {
            value["variant"] = variant.clone().into();
        }
        value.to_string()
    }
}

/// `linux/arm64`, `linux/arm/v7` (arm64's default variant `v8` is left out, as Docker shows it).
impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        match self.normal_variant() {
            Some(variant) => write!(f, "/{variant}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Platform {
        Platform::parse(text).expect("a platform")
    }

    #[test]
    fn parses_os_architecture_and_variant() {
        assert_eq!(
            p("linux/arm/v7"),
            Platform {
                os: "linux".into(),
                architecture: "arm".into(),
                variant: Some("v7".into())
            }
        );
        assert_eq!(p("linux/amd64").to_string(), "linux/amd64");
        assert_eq!(p("linux/arm64/v8").to_string(), "linux/arm64");
        for bad in [
            "linux",
            "linux/",
            "/amd64",
            "Linux/AMD64",
            "linux/arm/v7/x",
            "linux/amd 64",
            "linux/amd64;touch${IFS}x",
            "",
        ] {
            assert_eq!(Platform::parse(bad), Err(not_a_platform(bad)));
        }
    }

    #[test]
    fn parts_follow_the_input_rule() {
        assert_eq!(
            Platform::new("linux", "arm", Some("v7")),
            Ok(p("linux/arm/v7"))
        );
        assert_eq!(
            Platform::new("linux", "amd64;touch${IFS}x", None),
            Err(not_a_platform("linux/amd64;touch${IFS}x"))
        );
        assert!(Platform::new("linux", "amd64", Some("")).is_err());
        assert!(Platform::new("", "amd64", None).is_err());
        assert!(Platform::new("linux", "AMD64", None).is_err());
    }

    #[test]
    fn a_request_without_variant_takes_the_default_one() {
        assert!(p("linux/arm64/v8").serves(&p("linux/arm64")));
        assert!(p("linux/arm64").serves(&p("linux/arm64/v8")));
        assert!(p("linux/arm/v7").serves(&p("linux/arm")));
        assert!(!p("linux/arm/v6").serves(&p("linux/arm/v7")));
        assert!(!p("linux/amd64").serves(&p("linux/arm64")));
        assert!(!p("windows/amd64").serves(&p("linux/amd64")));
    }

    #[test]
    fn the_engine_gets_json() {
        for (text, want) in [
            (
                "linux/arm/v7",
                serde_json::json!({"os": "linux", "architecture": "arm", "variant": "v7"}),
            ),
            (
                "linux/arm64",
                serde_json::json!({"os": "linux", "architecture": "arm64"}),
            ),
        ] {
            let sent: serde_json::Value = serde_json::from_str(&p(text).to_json()).expect("json");
            assert_eq!(sent, want, "{text}");
        }
    }
}

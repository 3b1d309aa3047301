//! The inputs as the process environment holds them: `INPUT_*` variables (upper-cased, hyphens kept, as
//! GitHub passes them) and the few other variables the inputs fall back on. Every value is trimmed
//! here, once, and a blank value means "not set" — GitHub passes every declared input, with `""` for
//! the ones the workflow leaves out — so no rule ever sees surrounding whitespace or an empty string.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::advice;
use crate::diagnostic::Diagnostic;

/// The inputs, trimmed; `None` when the workflow left one out or blank.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawInputs {
    pub local_image: Option<String>,
    pub assemble: Option<String>,
    pub repository: Option<String>,
    pub tags: Option<String>,
    pub aws_region: Option<String>,
    pub aws_access_key_id: Option<String>,
    pub aws_secret_access_key: Option<String>,
    pub aws_session_token: Option<String>,
    pub registry_id: Option<String>,
    pub destinations: Option<String>,
    pub dualstack: Option<String>,
    pub fips: Option<String>,
    pub create_repository: Option<String>,
    pub role_to_assume: Option<String>,
    pub role_session_name: Option<String>,
    pub role_duration_seconds: Option<String>,
    pub role_external_id: Option<String>,
    pub audience: Option<String>,
    pub web_identity_token_file: Option<String>,
    pub image_tag_mutability: Option<String>,
    pub image_tag_mutability_exclusion_filters: Option<String>,
    pub scan_on_push: Option<String>,
    pub encryption_type: Option<String>,
    pub kms_key: Option<String>,
    pub repository_tags: Option<String>,
    pub lifecycle_policy: Option<String>,
    pub repository_policy: Option<String>,
    pub if_tag_exists: Option<String>,
    pub registry_type: Option<String>,
    pub public_description: Option<String>,
    pub public_about: Option<String>,
    pub public_usage: Option<String>,
    pub public_architectures: Option<String>,
    pub public_operating_systems: Option<String>,
    pub timeout: Option<String>,
    pub summary: Option<String>,
    pub platform: Option<String>,
    pub signing_profile: Option<String>,
    pub require_signature: Option<String>,
    pub scan: Option<String>,
    pub fail_on_severity: Option<String>,
    pub ignore_findings: Option<String>,
    pub mount_from: Option<String>,
}

/// The rest of the environment, trimmed the same way, for the few fallbacks that inputs have.
pub struct Env(BTreeMap<String, String>);

impl Env {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The region's fallback when `aws-region` is empty, as the AWS CLI reads it.
    pub fn region(&self) -> Option<&str> {
        self.get("AWS_REGION")
            .or_else(|| self.get("AWS_DEFAULT_REGION"))
    }

    /// `GITHUB_WORKSPACE`: where relative paths in inputs point.
    pub fn workspace(&self) -> Option<&Path> {
        self.get("GITHUB_WORKSPACE").map(Path::new)
    }
}

/// The inputs and the rest of the environment from `(name, value)` pairs; a later pair overrides an
/// earlier one of the same name (how `policy`'s flags override the `INPUT_*` variables).
pub fn read(
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<(RawInputs, Env), Vec<Diagnostic>> {
    let vars: BTreeMap<String, String> = vars.into_iter().collect();
    let vars: BTreeMap<String, String> = vars
        .into_iter()
        .filter_map(|(name, value)| {
            let value = value.trim();
            (!value.is_empty()).then(|| (name, value.to_owned()))
        })
        .collect();
    let raw: RawInputs = envy::prefixed("INPUT_")
        .from_iter(vars.iter().map(|(k, v)| (k.clone(), v.clone())))
        .map_err(|e| vec![advice::inputs_unreadable(&e)])?;
    Ok((raw, Env(vars)))
}

/// The process environment as text. An `INPUT_*` value that is not UTF-8 is an error naming its input
/// (it would otherwise be dropped, and the input silently take its default); other such variables are
/// left out, as they cannot name anything the action reads.
pub fn environment() -> Result<Vec<(String, String)>, Vec<Diagnostic>> {
    let mut vars = Vec::new();
    let mut errors = Vec::new();
    for (name, value) in std::env::vars_os() {
        let Ok(name) = name.into_string() else {
            continue;
        };
        match value.into_string() {
            Ok(value) => vars.push((name, value)),
            Err(_) if name.starts_with("INPUT_") || ENVIRONMENT_READ.contains(&name.as_str()) => {
                errors.push(advice::not_utf8(&name));
            }
            Err(_) => {}
        }
    }
    if errors.is_empty() {
        Ok(vars)
    } else {
        Err(errors)
    }
}

/// The environment variables (besides `INPUT_*`) whose values decide what the action does.
const ENVIRONMENT_READ: [&str; 19] = [
    "ACT",
    "GITHUB_REPOSITORY",
    "GITHUB_REF",
    "GITHUB_EVENT_NAME",
    "GITHUB_SERVER_URL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_ECR",
    "AWS_ENDPOINT_URL_ECR_PUBLIC",
    "AWS_ENDPOINT_URL_STS",
    "AWS_USE_DUALSTACK_ENDPOINT",
    "AWS_USE_FIPS_ENDPOINT",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "GITHUB_WORKSPACE",
    "DOCKER_HOST",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Records the field names serde asks for, so the test sees what `RawInputs` reads.
    struct FieldNames(Vec<&'static str>);

    impl<'de> serde::Deserializer<'de> for &mut FieldNames {
        type Error = serde::de::value::Error;
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = fields.to_vec();
            Err(serde::de::Error::custom("only the field names were wanted"))
        }
        fn deserialize_any<V: serde::de::Visitor<'de>>(
            self,
            _: V,
        ) -> Result<V::Value, Self::Error> {
            Err(serde::de::Error::custom("not a struct"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
            unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }

    #[test]
    fn action_yml_declares_exactly_the_inputs_read() {
        let mut names = FieldNames(Vec::new());
        let _ = RawInputs::deserialize(&mut names);
        let mut read: Vec<String> = names.0.iter().map(|n| (*n).to_owned()).collect();
        let mut declared = crate::report::declared_in_action_yml("inputs");
        read.sort();
        declared.sort();
        assert_eq!(read, declared);
    }

    #[test]
    fn values_are_trimmed_and_blank_ones_unset_after_overrides() {
        let pair = |name: &str, value: &str| (name.to_owned(), value.to_owned());
        let (raw, env) = read([
            pair("INPUT_REPOSITORY", " team/api \n"),
            pair("INPUT_AWS-REGION", "eu-west-1"),
            pair("INPUT_AWS-REGION", "  "),
            pair("AWS_REGION", "\tus-east-1 "),
        ])
        .expect("readable");
        assert_eq!(raw.repository.as_deref(), Some("team/api"));
        assert_eq!(raw.aws_region, None);
        assert_eq!(env.region(), Some("us-east-1"));
    }
}

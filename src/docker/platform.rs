//! What a push sends for the `platform` input: every platform of the local image, or one of them —
//! decided from how the daemon stores the image and what its API can do.

use bollard::models::{ImageInspect, OciPlatform};

use super::advice;
use crate::inputs::Platform;

/// A platform as the Engine API lists it for an image of a multi-platform image; the error names the
/// platform that breaks the `platform` input's rule (it would reach the `platforms` output).
pub(super) fn platform_from(p: &OciPlatform) -> Result<Platform, String> {
    parts(
        p.os.as_deref(),
        p.architecture.as_deref(),
        p.variant.as_deref(),
    )
}

/// The platform of a single-platform image, from its inspection, under the same rule.
pub(super) fn platform_of(image: &ImageInspect) -> Result<Platform, String> {
    parts(
        image.os.as_deref(),
        image.architecture.as_deref(),
        image.variant.as_deref(),
    )
}

fn parts(
    os: Option<&str>,
    architecture: Option<&str>,
    variant: Option<&str>,
) -> Result<Platform, String> {
    Platform::new(
        os.unwrap_or_default(),
        architecture.unwrap_or_default(),
        variant.filter(|v| !v.is_empty()),
    )
}

/// How the daemon keeps the local image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Stored {
    /// The classic store: one image, one platform.
    Classic(Platform),
    /// The containerd store: an index (or manifest) with the platforms of its images where the engine
    /// can list them.
    Containerd(Option<Vec<Platform>>),
}

impl Stored {
    pub(super) fn describe(&self) -> String {
        match self {
            Stored::Classic(platform) => platform.to_string(),
            Stored::Containerd(Some(platforms)) => join(platforms),
            Stored::Containerd(None) => "platforms not listed by this engine".to_owned(),
        }
    }
}

/// Why `platform` cannot be honoured.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    Missing { wanted: Platform, has: String },
    EngineTooOld { wanted: Platform, has: String },
}

impl Refusal {
    pub(super) fn advice(&self, reference: &str, api: &bollard::ClientVersion) -> anyhow::Error {
        match self {
            Refusal::Missing { wanted, has } => advice::platform_missing(reference, wanted, has),
            Refusal::EngineTooOld { wanted, has } => {
                advice::engine_too_old_for_platform(wanted, has, api)
            }
        }
    }
}

/// What the push sends — its platforms, and the push's `platform` parameter — for the `wanted`
/// platform (`None`: the whole image). A classic image is one platform's image already, so it is
/// pushed as it is (the parameter is for multi-platform images only); a containerd-store image needs
/// the parameter, which engines before API 1.46 do not take.
pub(super) fn select(
    stored: &Stored,
    wanted: Option<&Platform>,
    can_push_platform: bool,
) -> Result<(Vec<Platform>, Option<Platform>), Refusal> {
    let has = stored.describe();
    let (listed, classic) = match stored {
        Stored::Classic(platform) => (Some(std::slice::from_ref(platform)), true),
        Stored::Containerd(platforms) => (platforms.as_deref(), false),
    };
    let Some(wanted) = wanted else {
        return Ok((listed.map(<[Platform]>::to_vec).unwrap_or_default(), None));
    };
    if listed.is_some_and(|all| !all.iter().any(|p| p.serves(wanted))) {
        return Err(Refusal::Missing {
            wanted: wanted.clone(),
            has,
        });
    }
    if classic {
        return Ok((vec![wanted.clone()], None));
    }
    if !can_push_platform {
        return Err(Refusal::EngineTooOld {
            wanted: wanted.clone(),
            has,
        });
    }
    Ok((vec![wanted.clone()], Some(wanted.clone())))
}

/// `linux/amd64,linux/arm64`: the `platforms` output's form.
pub fn join(platforms: &[Platform]) -> String {
    platforms
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Platform {
        Platform::parse(text).expect("platform")
    }

    #[test]
    fn a_platform_is_selected_only_where_the_image_and_the_engine_have_it() {
        let classic = Stored::Classic(p("linux/amd64"));
        let multi = Stored::Containerd(Some(vec![p("linux/amd64"), p("linux/arm64")]));
        let unlisted = Stored::Containerd(None);
        // The whole image: every platform it has, no parameter.
        assert_eq!(
            select(&multi, None, true),
            Ok((vec![p("linux/amd64"), p("linux/arm64")], None))
        );
        assert_eq!(
            select(&classic, None, false),
            Ok((vec![p("linux/amd64")], None))
        );
        // One platform: the parameter for an index, nothing for a classic image of that platform.
        let arm = p("linux/arm64");
        assert_eq!(
            select(&multi, Some(&arm), true),
            Ok((vec![arm.clone()], Some(arm.clone())))
        );
        assert_eq!(
            select(&classic, Some(&p("linux/amd64")), false),
            Ok((vec![p("linux/amd64")], None))
        );
        assert_eq!(
            select(&unlisted, Some(&arm), true),
            Ok((vec![arm.clone()], Some(arm.clone())))
        );
        // Refused: a platform the image lacks, and an index on an engine without the parameter.
        assert_eq!(
            select(&classic, Some(&arm), true),
            Err(Refusal::Missing {
                wanted: arm.clone(),
                has: "linux/amd64".into()
            })
        );
        assert_eq!(
            select(&multi, Some(&p("linux/s390x")), true),
            Err(Refusal::Missing {
                wanted: p("linux/s390x"),
                has: "linux/amd64,linux/arm64".into()
            })
        );
        assert!(matches!(
            select(&multi, Some(&arm), false),
            Err(Refusal::EngineTooOld { .. })
        ));
        assert!(matches!(
            select(&unlisted, Some(&arm), false),
            Err(Refusal::EngineTooOld { .. })
        ));
    }
}

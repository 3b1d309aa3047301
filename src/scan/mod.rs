//! The scan gate (`scan: wait | start`): after the push, ECR's image scan of what each destination
//! holds — each platform's image manifest, for an index cannot be scanned — started where asked,
//! waited for within the run's `timeout`, read (basic and enhanced findings, every page) and judged
//! against `ignore-findings` and `fail-on-severity`. Without `fail-on-severity` it only reports, and
//! a scan that gives no findings is a warning.

pub mod advice;
pub mod findings;
pub mod summary;

use std::time::{Duration, Instant};

use aws_sdk_ecr::Client;
use aws_sdk_ecr::config::http::HttpResponse;
use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ecr::operation::describe_image_scan_findings::DescribeImageScanFindingsError as DescribeError;
use aws_sdk_ecr::operation::start_image_scan::StartImageScanError;
use aws_sdk_ecr::types::ImageIdentifier;

use crate::aws::registry::repository::{DOCKER_LIST, MANIFEST_TYPES, OCI_INDEX, REFERENCE_TYPE};
use crate::aws::{call_failed, denied, sdk_error_text};
use crate::diagnostic::{self, Diagnostic};
use crate::inputs::{ScanGate, ScanMode};
use crate::{github, step};
use findings::{Finding, Judged};

/// One destination's pushed image, for [`gate_all`].
pub struct Pushed<'a> {
    pub ecr: &'a Client,
    pub registry_id: Option<&'a str>,
    pub repository: &'a str,
    pub repository_arn: &'a str,
    /// The digest the destination holds this run's image under (an index's, or a manifest's).
    pub digest: &'a str,
    /// The platform of a single-platform image, for the report.
    pub platform: Option<String>,
}

/// The scan of one image manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageScan {
    pub platform: Option<String>,
    pub digest: String,
    /// ECR's last `imageScanStatus.status` (`NONE` when no scan was found).
    pub status: String,
    pub judged: Judged,
}

/// What the gate found in one destination.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scanned {
    pub images: Vec<ImageScan>,
    /// Why the run fails because of the scan: findings at or above `fail-on-severity`, or a scan
    /// that gave none while one was required.
    pub problem: Option<Diagnostic>,
}

/// After the push: each destination's scan (`None` where nothing was pushed, in the order given),
/// each waited for until `deadline` at the latest.
pub async fn gate_all(
    gate: &ScanGate,
    pushed: Vec<Option<Pushed<'_>>>,
    deadline: Instant,
) -> Vec<Option<Scanned>> {
    if gate.mode == ScanMode::Off || pushed.iter().all(Option::is_none) {
        return pushed.iter().map(|_| None).collect();
    }
    let _step = step::enter("Scan");
    github::at_once(
        pushed
            .into_iter()
            .map(|p| async move { Some(gate_one(gate, &p?, deadline).await) }),
    )
    .await
}

async fn gate_one(gate: &ScanGate, p: &Pushed<'_>, deadline: Instant) -> Scanned {
    let images = match manifests(p).await {
        Ok(images) => images,
        Err(err) => return verdict(gate, p, Vec::new(), &[err]),
    };
    let scans = futures_util::future::join_all(
        images
            .into_iter()
            .map(|(platform, digest)| scan_image(gate, p, platform, digest, deadline)),
    )
    .await;
    let now = unix_now();
    let mut images = Vec::new();
    let mut troubles = Vec::new();
    for (image, found) in scans {
        match found {
            Ok(found) => {
                let judged = findings::judge(found, &gate.ignore, now);
                github::info(&advice::scanned(p.repository, &image, &judged));
                images.push(ImageScan { judged, ..image });
            }
            Err(trouble) => {
                troubles.push(trouble);
                images.push(image);
            }
        }
    }
    verdict(gate, p, images, &troubles)
}

/// The gate's verdict on one destination: every image whose scan gave no findings (`troubles`), and
/// the counted findings at or above `fail-on-severity` of the others — all in one problem, each
/// with its code. Without `fail-on-severity` the troubles are warnings and nothing fails.
fn verdict(
    gate: &ScanGate,
    p: &Pushed<'_>,
    images: Vec<ImageScan>,
    troubles: &[anyhow::Error],
) -> Scanned {
    let Some(threshold) = gate.fail_on else {
        for trouble in troubles {
            github::warning(&advice::report_only(&format!("{trouble:#}")));
        }
        return Scanned {
            images,
            problem: None,
        };
    };
    let mut parts: Vec<Diagnostic> = troubles
        .iter()
        .map(|t| Diagnostic::gathered(diagnostic::codes(t), format!("{t:#}")))
        .collect();
    let failing: Vec<(&ImageScan, &Finding)> = images
        .iter()
        .flat_map(|i| i.judged.counted.iter().map(move |f| (i, f)))
        .filter(|(_, f)| f.severity >= threshold)
        .collect();
    if !failing.is_empty() {
        parts.push(advice::findings_fail(p.repository, threshold, &failing));
    }
    let problem = (!parts.is_empty()).then(|| {
        let codes: Vec<&'static str> = parts
            .iter()
            .flat_map(|d| d.codes().iter().copied())
            .collect();
        let text: Vec<&str> = parts.iter().map(Diagnostic::text).collect();
        Diagnostic::gathered(codes, text.join("\n"))
    });
    Scanned { images, problem }
}

/// The image manifests under the pushed digest, each with its platform: an index's children that
/// are images (not attestations), or the manifest itself (`BatchGetImage`).
async fn manifests(p: &Pushed<'_>) -> anyhow::Result<Vec<(Option<String>, String)>> {
    let action = "ecr:BatchGetImage";
    let answer = p
        .ecr
        .batch_get_image()
        .set_registry_id(p.registry_id.map(str::to_owned))
        .repository_name(p.repository)
        .image_ids(ImageIdentifier::builder().image_digest(p.digest).build())
        .set_accepted_media_types(Some(
            MANIFEST_TYPES.iter().map(|t| (*t).to_owned()).collect(),
        ))
        .send()
        .await
        .map_err(|err| call_failed(&err, action, p.repository_arn))?;
    let Some(image) = answer.images().first() else {
        return Err(advice::image_not_found(p.repository, p.digest));
    };
    let manifest = image.image_manifest().unwrap_or_default();
    let media_type = image.image_manifest_media_type().unwrap_or_default();
    if !INDEXES.contains(&media_type) {
        return Ok(vec![(p.platform.clone(), p.digest.to_owned())]);
    }
    if manifest.len() > MANIFEST_CAP {
        return Err(advice::index_too_large(
            p.repository,
            p.digest,
            MANIFEST_CAP,
        ));
    }
    let index: serde_json::Value = serde_json::from_str(manifest)
        .map_err(|e| advice::index_unreadable(p.repository, p.digest, &e))?;
    Ok(platform_manifests(&index))
}

/// The kinds of manifest that list others.
const INDEXES: [&str; 2] = [OCI_INDEX, DOCKER_LIST];
/// ECR's limit for a manifest is 4 MiB.
const MANIFEST_CAP: usize = 4 << 20;

/// An index's image manifests with their platforms; `BuildKit`'s attestation manifests (platform
/// `unknown/unknown`, `vnd.docker.reference.type: attestation-manifest`) are not images to scan.
pub fn platform_manifests(index: &serde_json::Value) -> Vec<(Option<String>, String)> {
    let children = index["manifests"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    children
        .iter()
        .filter(|m| m["annotations"][REFERENCE_TYPE] != "attestation-manifest")
        .filter(|m| m["platform"]["os"] != "unknown")
        .filter(|m| !INDEXES.contains(&m["mediaType"].as_str().unwrap_or_default()))
        .filter_map(|m| {
            let digest = m["digest"].as_str()?.to_owned();
            let platform = &m["platform"];
            let platform = platform["os"].as_str().map(|os| {
                let arch = platform["architecture"].as_str().unwrap_or_default();
                match platform["variant"].as_str() {
                    Some(variant) => format!("{os}/{arch}/{variant}"),
                    None => format!("{os}/{arch}"),
                }
            });
            Some((platform, digest))
        })
        .collect()
}

/// Starts the scan where asked, then waits for its findings. `Err`: why there are none.
async fn scan_image(
    gate: &ScanGate,
    p: &Pushed<'_>,
    platform: Option<String>,
    digest: String,
    deadline: Instant,
) -> (ImageScan, anyhow::Result<Vec<Finding>>) {
    let mut image = ImageScan {
        platform,
        digest,
        status: "NONE".to_owned(),
        judged: Judged::default(),
    };
    // Even where the repository scans on push: the registry's scanning configuration may override
    // that, and a digest pushed before is not scanned again; a scan made today is no error.
    let started = if gate.mode == ScanMode::Start {
        start(p, &image.digest).await
    } else {
        Ok(())
    };
    let found = match started {
        Ok(()) => wait(p, &mut image, deadline).await,
        Err(err) => Err(err),
    };
    (image, found)
}

/// `StartImageScan`: a basic scan of the image. A scan already made within 24 hours (ECR allows one
/// per image per day, scan on push included) is no error: its findings are waited for.
async fn start(p: &Pushed<'_>, digest: &str) -> anyhow::Result<()> {
    let action = "ecr:StartImageScan";
    let answer = p
        .ecr
        .start_image_scan()
        .set_registry_id(p.registry_id.map(str::to_owned))
        .repository_name(p.repository)
        .image_id(ImageIdentifier::builder().image_digest(digest).build())
        .send()
        .await;
    let Err(err) = answer else {
        github::info(&advice::started(p.repository, digest));
        return Ok(());
    };
    let limited = err
        .as_service_error()
        .is_some_and(StartImageScanError::is_limit_exceeded_exception)
        || err.code() == Some("ThrottlingException");
    if limited {
        github::info(&advice::scanned_today(p.repository, digest));
        return Ok(());
    }
    if denied::from_sdk_error(&err, action, p.repository_arn).is_some() {
        return Err(call_failed(&err, action, p.repository_arn));
    }
    // Enhanced scanning has no manual scan: its own scan of the push is waited for.
    github::info(&advice::not_started(
        p.repository,
        digest,
        &sdk_error_text(&err),
    ));
    Ok(())
}

/// What one `DescribeImageScanFindings` poll says.
enum Poll {
    Pending(String),
    /// The status (`COMPLETE`, `ACTIVE`) and every finding.
    Done(String, Vec<Finding>),
}

/// Polls until the findings are there, the scan ends otherwise, or `deadline`; no scan at all
/// after [`NOT_STARTED_AFTER`] is the repository not scanning.
async fn wait(
    p: &Pushed<'_>,
    image: &mut ImageScan,
    deadline: Instant,
) -> anyhow::Result<Vec<Finding>> {
    let since = Instant::now();
    let mut interval = Duration::from_secs(1);
    loop {
        let polled = tokio::time::timeout_at(deadline.into(), poll(p, image)).await;
        let Ok(polled) = polled else {
            return Err(advice::not_complete(
                p.repository,
                &image.digest,
                &image.status,
            ));
        };
        match polled? {
            Poll::Done(status, found) => {
                image.status = status;
                return Ok(found);
            }
            Poll::Pending(status) => image.status = status,
        }
        let never = image.status == "NONE" && since.elapsed() > NOT_STARTED_AFTER;
        if never {
            return Err(advice::not_scanning(
                p.repository,
                &image.digest,
                NOT_STARTED_AFTER.as_secs(),
            ));
        }
        if Instant::now() + interval >= deadline {
            return Err(advice::not_complete(
                p.repository,
                &image.digest,
                &image.status,
            ));
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(Duration::from_secs(5));
    }
}

/// How long a pushed image may have no scan at all before the gate says the repository does not
/// scan it (ECR documents no delay; basic scans on push start within seconds).
const NOT_STARTED_AFTER: Duration = Duration::from_mins(2);

/// One status read, and every page of findings once the scan is complete (`COMPLETE`, or `ACTIVE`
/// for enhanced scanning's continuous scan).
async fn poll(p: &Pushed<'_>, image: &ImageScan) -> anyhow::Result<Poll> {
    let action = "ecr:DescribeImageScanFindings";
    let mut found = Vec::new();
    let mut next = None;
    for page in 0..MAX_PAGES {
        let answer = p
            .ecr
            .describe_image_scan_findings()
            .set_registry_id(p.registry_id.map(str::to_owned))
            .repository_name(p.repository)
            .image_id(
                ImageIdentifier::builder()
                    .image_digest(&image.digest)
                    .build(),
            )
            .max_results(1000)
            .set_next_token(next)
            .send()
            .await;
        let out = match answer {
            Ok(out) => out,
            Err(err) if page == 0 && not_yet(&err) => return Ok(Poll::Pending("NONE".to_owned())),
            Err(err) => return Err(call_failed(&err, action, p.repository_arn)),
        };
        let status = out.image_scan_status();
        let word = status
            .and_then(|s| s.status())
            .map_or("NONE", |s| s.as_str());
        match word {
            "COMPLETE" | "ACTIVE" => {}
            "IN_PROGRESS" | "PENDING" | "NONE" if page == 0 => {
                return Ok(Poll::Pending(word.to_owned()));
            }
            other => {
                let why = status.and_then(|s| s.description()).unwrap_or_default();
                return Err(advice::scan_ended(p.repository, &image.digest, other, why));
            }
        }
        let Some(findings) = out.image_scan_findings() else {
            if page > 0 {
                return Ok(Poll::Done(word.to_owned(), found));
            }
            // Enhanced scanning has been seen to say COMPLETE before its findings are there.
            return Ok(Poll::Pending(word.to_owned()));
        };
        found.extend(findings.findings().iter().map(Finding::basic));
        found.extend(findings.enhanced_findings().iter().map(Finding::enhanced));
        next = out.next_token().map(str::to_owned);
        if next.is_none() {
            return Ok(Poll::Done(word.to_owned(), found));
        }
    }
    Err(advice::too_many_pages(
        p.repository,
        &image.digest,
        MAX_PAGES,
    ))
}

/// At most this many pages of 1,000 findings.
const MAX_PAGES: usize = 50;

/// No scan yet (`ScanNotFoundException`), or the image not yet visible just after the push.
fn not_yet(err: &SdkError<DescribeError, HttpResponse>) -> bool {
    err.as_service_error()
        .is_some_and(|e| e.is_scan_not_found_exception() || e.is_image_not_found_exception())
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `BuildKit`'s attestation manifests are in the index beside the images; only images are
    /// scanned (ECR rejects an index: "cannot be scanned").
    #[test]
    fn an_index_is_scanned_by_its_platform_images() {
        let index = serde_json::json!({"manifests": [
            {"digest": "sha256:a", "platform": {"os": "linux", "architecture": "amd64"}},
            {"digest": "sha256:b", "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {"digest": "sha256:c", "platform": {"os": "unknown", "architecture": "unknown"},
             "annotations": {"vnd.docker.reference.type": "attestation-manifest"}},
        ]});
        assert_eq!(
            platform_manifests(&index),
            [
                (Some("linux/amd64".to_owned()), "sha256:a".to_owned()),
                (Some("linux/arm64/v8".to_owned()), "sha256:b".to_owned()),
            ]
        );
    }
}

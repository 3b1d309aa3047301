//! What a registry says of a repository, in the few terms this action uses — what each registry is called
//! ([`RegistryType`]'s words), the repository and its description, what looking it up and creating it answered — and
//! the manifest media types a registry serves. Data only: the calls that produce it are in
//! [`client`](super::client), [`private`](super::private) and [`public`](super::public).

use crate::aws::token::RegistryLogin;
use crate::inputs::RegistryType;

/// The manifest media types a registry serves (OCI image spec, Docker's distribution manifest v2):
/// what ECR's `BatchGetImage` accepts and what `assemble` asks for and writes.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Every manifest type a tag can hold: indexes, and images of both image stores.
pub const MANIFEST_TYPES: [&str; 4] = [OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST];
/// The annotation `BuildKit` puts on an attestation manifest's descriptor in an index.
pub const REFERENCE_TYPE: &str = "vnd.docker.reference.type";

/// What messages and the summary call each registry (the inputs' one private-or-public choice).
impl RegistryType {
    /// The registry's name in the job summary.
    pub fn title(self) -> &'static str {
        match self {
            RegistryType::Private => "Amazon ECR",
            RegistryType::Public => "Amazon ECR Public",
        }
    }

    pub fn repository_noun(self) -> &'static str {
        match self {
            RegistryType::Private => "Repository",
            RegistryType::Public => "Public repository",
        }
    }

    pub fn group(self) -> &'static str {
        match self {
            RegistryType::Private => "ECR repository",
            RegistryType::Public => "ECR Public repository",
        }
    }
}

/// What a tag holds: its digest, and whether ECR archived that image (private ECR only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tagged {
    pub digest: String,
    pub archived: bool,
}

/// The repository the images go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub name: String,
    pub created: bool,
    /// What the registry said of it; `None` when the action may not read it (private ECR only).
    pub described: Option<Described>,
    /// Missing, and left for ECR to create on push (`create-repository: template`).
    pub created_on_push: bool,
}

/// A repository as its registry described it, in the few terms this action uses.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Described {
    pub arn: Option<String>,
    pub registry_id: Option<String>,
    /// ECR Public's `public.ecr.aws/<alias>/<name>`; private ECR's follows from the login host.
    pub uri: Option<String>,
    /// Private ECR's own settings, as ECR names them; ECR Public has none of them and leaves them empty.
    pub tag_mutability: String,
    pub exclusions: Vec<String>,
    pub scan_on_push: bool,
    pub encryption: String,
    pub kms_key: Option<String>,
}

impl Described {
    /// The ARN, empty when the registry did not say it.
    pub fn arn(&self) -> &str {
        self.arn.as_deref().unwrap_or_default()
    }
}

/// What `DescribeRepositories` said.
pub enum Lookup {
    Found(Described),
    Missing,
    /// Not allowed to look (private ECR): the doctor's text.
    Denied(String),
}

/// What `CreateRepository` said.
pub enum Created {
    /// Made; `None` when ECR's answer did not describe it.
    Made(Option<Described>),
    /// A concurrent job (a matrix sibling) made it first, or it was there and we could not look.
    AlreadyExists,
    /// Not allowed to create (private ECR): the doctor's text.
    Denied(String),
}

/// The URI and ARN of the private repository `name` in the registry of `login`.
pub fn private_location(login: &RegistryLogin, region: &str, name: &str) -> (String, String) {
    let uri = format!("{}/{name}", login.host);
    (
        uri,
        crate::partition::repository_arn(region, &login.account, name),
    )
}

impl Repository {
    pub fn new(name: &str, created: bool, described: Option<Described>) -> Self {
        Repository {
            name: name.to_owned(),
            created,
            described,
            created_on_push: false,
        }
    }
}

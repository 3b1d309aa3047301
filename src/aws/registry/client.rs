//! The registry's client — private ECR or ECR Public — and the few calls that differ between them
//! (login, describe, create, tags, the repository policy, the digest a tag holds). An enum rather than
//! a trait: there are exactly two registries, chosen once from the inputs, and an enum keeps that
//! choice one `match` away in each method instead of spreading generics through the callers.

use anyhow::Result;

use super::repository::{Created, Described, Lookup, Tagged};
use super::{advice, private, public};
use crate::aws::token::{self, RegistryLogin};
use crate::inputs::{Catalog, Config, Document, RegistryType, Tag, is_sha256_digest};

/// The registry's client, and for ECR Public the catalog data a new repository gets.
pub enum Registry<'a> {
    Private(aws_sdk_ecr::Client),
    Public(aws_sdk_ecrpublic::Client, &'a Catalog),
}

impl<'a> Registry<'a> {
    /// The client of `config`'s registry, in the region of `sdk`.
    pub fn new(sdk: &aws_config::SdkConfig, config: &'a Config) -> Self {
        match config.registry_type {
            RegistryType::Private => Registry::Private(aws_sdk_ecr::Client::new(sdk)),
            RegistryType::Public => Registry::Public(public::client(sdk), &config.catalog),
        }
    }

    pub fn kind(&self) -> RegistryType {
        match self {
            Registry::Private(_) => RegistryType::Private,
            Registry::Public(..) => RegistryType::Public,
        }
    }

    /// The login for `config`'s registry (narrowed to one destination), at its host in
    /// `config.host_form` (ECR Public: always `public.ecr.aws`, the inputs refuse other forms).
    pub async fn login(&self, config: &Config) -> Result<RegistryLogin> {
        let registry_id = config.registry_id.as_deref();
        match self {
            Registry::Private(ecr) => {
                token::fetch(ecr, registry_id, &config.region, config.host_form).await
            }
            Registry::Public(client, _) => public::login(client, registry_id).await,
        }
    }

    pub async fn describe(&self, config: &Config) -> Result<Lookup> {
        match self {
            Registry::Private(ecr) => private::describe(ecr, config).await,
            Registry::Public(client, _) => public::describe(client, config).await,
        }
    }

    pub async fn create(&self, config: &Config) -> Result<Created> {
        match self {
            Registry::Private(ecr) => private::create(ecr, config).await,
            Registry::Public(client, catalog) => public::create(client, config, catalog).await,
        }
    }

    pub async fn tags(&self, arn: &str) -> Result<Vec<(String, String)>> {
        match self {
            Registry::Private(ecr) => private::tags(ecr, arn).await,
            Registry::Public(client, _) => public::tags(client, arn).await,
        }
    }

    pub async fn add_tags(&self, arn: &str, tags: &[(String, String)]) -> Result<()> {
        match self {
            Registry::Private(ecr) => private::add_tags(ecr, arn, tags).await,
            Registry::Public(client, _) => public::add_tags(client, arn, tags).await,
        }
    }

    pub async fn repository_policy(
        &self,
        name: &str,
        described: &Described,
    ) -> Result<Option<String>> {
        match self {
            Registry::Private(ecr) => private::repository_policy(ecr, name, described).await,
            Registry::Public(client, _) => public::repository_policy(client, name, described).await,
        }
    }

    pub async fn set_repository_policy(
        &self,
        name: &str,
        described: &Described,
        wanted: &Document,
    ) -> Result<()> {
        match self {
            Registry::Private(ecr) => {
                private::set_repository_policy(ecr, name, described, wanted).await
            }
            Registry::Public(client, _) => {
                public::set_repository_policy(client, name, described, wanted).await
            }
        }
    }

    /// What `tag` holds (its digest, and whether the image is archived), `None` when it does not
    /// exist; `Err` is the user-facing cause. ECR Public has no archive.
    pub async fn existing_digest(
        &self,
        config: &Config,
        described: Option<&Described>,
        tag: &Tag,
    ) -> Result<Option<Tagged>> {
        let arn = described.and_then(|d| d.arn.as_deref());
        let digest = match self {
            Registry::Private(ecr) => private::digest(ecr, config, arn.unwrap_or("*"), tag).await,
            Registry::Public(client, _) => {
                let digest = public::digest(
                    client,
                    config.repository.as_str(),
                    arn.unwrap_or_default(),
                    tag,
                );
                digest.await.map(|digest| {
                    digest.map(|digest| Tagged {
                        digest,
                        archived: false,
                    })
                })
            }
        }?;
        // It can become the `digest` output: the same grammar as a digest given as input.
        match digest {
            Some(tagged) if !is_sha256_digest(&tagged.digest) => Err(advice::digest_malformed(
                self.kind().title(),
                tag.as_str(),
                &tagged.digest,
            )),
            digest => Ok(digest),
        }
    }
}

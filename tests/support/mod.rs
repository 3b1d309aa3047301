//! A per-test context against the shared local stack, one concern a file: the stack itself
//! (`stack.rs`), the two Docker engines and images that remove themselves (`engine.rs`), running the
//! action as the runner does (`action.rs`), the registries as a puller sees them (`registry.rs`), moto
//! (`moto.rs`) and its IAM-enforcing twin (`iam.rs`), the fake of the ECR operations moto lacks
//! (`ecr_api.rs`), the ECR-like front (`front.rs`), the runner's
//! command parser (`commands.rs`) and the secret check (`secrets.rs`). Tests own their world: unique
//! names, images that go away on drop, so they run in parallel.

mod action;
pub mod commands;
pub mod ecr_api;
mod engine;
pub mod front;
pub mod iam;
mod moto;
pub mod proxy;
mod registry;
mod secrets;
mod stack;

pub use action::{Action, Cost, Run};
pub use engine::{Engine, Image};
pub use moto::{
    block_on, create_repository, ecr, ecr_at, repository_arn, repository_registry_id, seed_tag,
    sessions_issued,
};
pub use registry::{
    put_platformless_image, read_back_with_skopeo, registry_digest, registry_digest_as,
    registry_layers, registry_manifest,
};
pub use secrets::assert_secrets_masked;
pub use stack::{TempDir, registry_password, run, stack, unique};

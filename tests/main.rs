//! The one integration-test crate (one link): end-to-end runs of the compiled action against the local
//! stack that `testbed/stack-up` starts (dockerd, registries posing as ECR, moto). Run through
//! `tools/test`, which starts the stack and exports where it is.

mod archive;
mod assemble;
mod check;
mod container;
mod create_on_push;
mod credentials;
mod destinations;
mod ecr_api;
mod endpoints;
mod errors;
mod faults;
mod hardening;
mod layout;
mod many_jobs;
mod on_disk;
mod policy;
mod public;
mod push;
mod scan;
mod scanning;
mod settings;
mod signing;
mod simulate;
mod support;
mod workflows;

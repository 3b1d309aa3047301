//! The registry the images go to — private ECR or ECR Public — made ready to push: the login, the
//! repository (found, or created when allowed), its settings reconciled, and which tags to push.
//!
//! One path for both, by step, each in its file: [`login`] (every destination's token), then
//! [`prepare`] (ensure the repository, reconcile its settings, plan the tags) — the same steps in the
//! same order whichever the registry. [`client`] holds the few calls that differ, [`private`] and
//! [`public`] make them; what a registry answers is [`repository`]'s data; what to do with the answers
//! is decided in [`plan`] (pure), and what the user is told is written in [`advice`]. This file only
//! names the parts: nothing in it is imported by them, so data flows one way.

pub mod advice;
pub mod client;
pub mod login;
pub mod plan;
pub mod prepare;
pub mod private;
pub mod public;
pub mod repository;
pub mod signing;

pub use client::Registry;
pub use login::{LoggedIn, login};
pub use plan::Identity;
pub use prepare::{Destination, prepare};
pub use repository::private_location;

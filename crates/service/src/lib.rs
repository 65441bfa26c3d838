//! The service layer: what feather does, whoever asks and however they ask.
//!
//! It owns policy: who may do what, and what a request must say to be done. Front ends (the
//! REST routes, the Open Inference Protocol, the CLI working on a data folder) extract a
//! request, name its [`Actor`], call a function here and render its typed error in their own
//! shape; none of them decides anything. It knows no HTTP and no wire format; the store below
//! it knows no policy.
//!
//! - [`actor`]: who asks — a token's principal, or the machine's operator — and the checks on
//!   them.
//! - [`accounts`]: users, roles, tokens (the narrowing rules) and the audit log.

pub mod accounts;
pub mod actor;

pub use actor::Actor;

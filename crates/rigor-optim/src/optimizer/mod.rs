//! Per-tensor optimizers (Burn 0.22's [`burn::optim::Optimizer`] trait).
//!
//! Each follows Burn's one-file pattern: `XConfig` (documented fields and defaults, validated by
//! `build`) → `X` (the update) → `XState` (the per-parameter state, saved and loaded with the
//! [`ModuleOptimizer`](burn::optim::ModuleOptimizer) record) → `impl Optimizer for X`.
//! `XConfig::init` returns a `ModuleOptimizer` that skips (and counts) non-finite gradients
//! ([`guard`]).
//!
//! - [`signum`]: sign-SGD and Signum (sign of the momentum).
//! - [`shampoo`]: Shampoo with EMA/summed factors, blocking, Adam-norm grafting.
//! - [`soap`]: SOAP — Adam in the eigenbasis of Shampoo's factors.
//! - [`powerprop`]: Powerpropagation as a reparameterised layer and as the equivalent
//!   preconditioned SGD on the weights.

pub mod guard;
pub mod powerprop;
pub(crate) mod record;
pub mod shampoo;
pub mod signum;
pub mod soap;

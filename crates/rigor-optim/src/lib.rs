//! # rigor-optim
//!
//! Optimizers that shape *which* solution is found, and metrics that tell solutions apart, for
//! *Optimizers Qualitatively Alter Solutions And We Should Leverage This* — Pascanu, Lyle,
//! Modoranu, Elosegui Borras, Alistarh, Veličković, Chandar, De & Martens, arXiv 2507.12224
//! (2025) — on any Burn device.
//!
//! The optimizers implement Burn 0.22's per-tensor [`burn::optim::Optimizer`] trait, so they
//! plug into [`ModuleOptimizer`](burn::optim::ModuleOptimizer) next to Burn's own SGD, AdamW,
//! Muon and Lion, and their state is saved and loaded with the optimizer record.
//!
//! ## Map: paper → section → module
//!
//! | paper | what | where |
//! |---|---|---|
//! | S4 case study 1; Gupta et al. 2018, Anil et al. 2020 | Shampoo: factors, ε, inverse roots every k steps, grafting, blocking | [`optimizer::shampoo`] |
//! | Anil et al. 2020, §3.1 | coupled Newton inverse p-th root (on device) | [`linalg::newton`] |
//! | Vyas et al. 2024 (SOAP), Alg. 3 | Adam in Shampoo's eigenbasis | [`optimizer::soap`] |
//! | Bernstein et al. 2018 | sign-SGD, Signum | [`optimizer::signum`] |
//! | S4 case study 2; Schwarz et al. 2021 | Powerprop layer `w = sign(θ)|θ|^α`, equivalent optimizer `P(w) = α²|w|^{2−2/α}` | [`optimizer::powerprop`] |
//! | — | skip-and-count non-finite gradients for any optimizer | [`optimizer::guard`] |
//! | S4 metrics | near-zero fraction, Hoyer sparsity | [`metrics::sparsity`] |
//! | S4 metrics; Roy & Vetterli 2007; Kumar et al. 2021 | effective rank, stable rank, srank_δ, participation ratio | [`metrics::rank`] |
//! | Sokar et al. 2023 | τ-dormant units | [`metrics::dormant`] |
//! | S4 case study 1 | cross-class cosine similarity of class-mean activations | [`metrics::similarity`] |
//! | S4 case study 2 | global magnitude pruning, pruning curve | [`metrics::pruning`] |
//! | S4 metrics; Lopez-Paz & Ranzato 2017; Chaudhry et al. 2018 | accuracy matrix R, ACC, BWT, FWT, forgetting | [`metrics::continual`] |
//! | — | host eigen/SVD through faer (SOAP basis, metrics, test oracle) | [`linalg::host`] |
//!
//! ## Conventions
//!
//! - Configs are plain structs with documented defaults; `build()` validates them
//!   (`Result<_, OptimError>`), `init()` also wraps the optimizer in
//!   [`SkipNonFiniteOnDevice`] and returns a `ModuleOptimizer`. Invalid hyper-parameters are
//!   errors, never panics.
//! - A parameter whose gradient contains `NaN`/`±∞` is **skipped and counted** (weights and
//!   state tensors unchanged) when the optimizer is wrapped in [`SkipNonFiniteOnDevice`]
//!   (decided on the device, no read per step; host step counters advance) or
//!   [`SkipNonFinite`] (any optimizer, one host read per parameter per step); see
//!   [`optimizer::guard`].
//! - Matrix optimizers view a rank-`D ≥ 2` parameter as `[∏ leading dims, last dim]` (Burn's
//!   `Linear` weight is `[d_input, d_output]`) and treat rank-1 parameters with a documented
//!   diagonal fallback.
//! - Metrics read values back to the host and compute in f64; they return errors for inputs on
//!   which they are undefined (empty, all-zero, non-finite).
//!
//! ## Example
//!
//! ```
//! use burn::module::Module;
//! use burn::nn::{Linear, LinearConfig};
//! use burn::optim::GradientsParams;
//! use burn::tensor::{Device, Tensor};
//! use rigor_optim::ShampooConfig;
//!
//! let device = Device::flex().autodiff();
//! let mut model: Linear = LinearConfig::new(4, 3).init(&device);
//! let mut optim = ShampooConfig::default().init().unwrap();
//! let x = Tensor::<2>::ones([8, 4], &device);
//! for _ in 0..3 {
//!     let loss = model.forward(x.clone()).square().mean();
//!     let grads = GradientsParams::from_grads(loss.backward(), &model);
//!     model = optim.step(0.01, model, grads);
//! }
//! let erank = rigor_optim::metrics::rank::effective_rank(model.weight.val()).unwrap();
//! assert!(erank >= 1.0 && erank <= 3.0 + 1e-9);
//! ```
//!
//! ## Features
//!
//! - `flex` (default): Burn's pure-Rust CPU backend.
//! - `ndarray`: Burn's deprecated ndarray backend.
//! - `wgpu`: the wgpu GPU backend.
#![warn(missing_docs)]
#![recursion_limit = "256"]

pub mod error;
pub mod linalg;
pub mod metrics;
pub mod optimizer;

pub use error::{OptimError, Result};
pub use metrics::continual::AccuracyMatrix;
pub use metrics::rank::Spectrum;
pub use optimizer::guard::{
    NonFiniteCounter, SelectState, SkipNonFinite, SkipNonFiniteOnDevice, check_finite,
    count_non_finite, select_tensor, select_tensors,
};
pub use optimizer::powerprop::{
    PowerpropLinear, PowerpropLinearConfig, PowerpropSgd, PowerpropSgdConfig, powerprop_theta,
    powerprop_weight,
};
pub use optimizer::shampoo::{Grafting, Shampoo, ShampooConfig, ShampooState};
pub use optimizer::signum::{Signum, SignumConfig, SignumState};
pub use optimizer::soap::{Soap, SoapConfig, SoapState};

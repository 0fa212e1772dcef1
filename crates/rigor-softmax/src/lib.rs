//! # rigor-softmax
//!
//! Sharp attention normalizers and the dispersion theory of
//! *Softmax is not Enough (for Sharp Size Generalisation)* — Veličković, Perivolaropoulos,
//! Barbero & Pascanu, ICML 2025 (arXiv 2410.01104) — on any Burn device.
//!
//! Every op is written once against `Tensor<D>` from composed Burn ops (the reference path,
//! public as `*_reference`), so it runs and differentiates on Flex, NdArray and wgpu alike.
//! On Flex the normalizers run fused row kernels with fused backward passes ([`kernel`]),
//! tested equal to the references.
//!
//! ## Map: paper → section → module
//!
//! | paper | what | where |
//! |---|---|---|
//! | §2, eq. (1) | softmax with temperature, log-softmax, entropy | [`normalizer::softmax`] |
//! | §2, Lemma 2.1 | dispersion bounds, tight max-weight bound | [`dispersion::bounds`] |
//! | §3, Prop. 3.1 | spread $\delta \le 2\sigma_Q\sigma_K\lVert y\rVert\max_i\lVert x_i\rVert$ | [`dispersion::bounds`], [`dispersion::spectral`] |
//! | §4, listing | adaptive-temperature softmax | [`normalizer::adaptive`] |
//! | §4, Fig. 5 | refitting $\beta(H)$ | [`refit`], [`polynomial`] |
//! | SSMax, arXiv 2501.19399 | scalable softmax | [`normalizer::scalable`] |
//! | Martins & Astudillo 2016; Peters et al. 2019 | sparsemax, α-entmax | [`normalizer::entmax`] |
//! | Miller 2023 | softmax1 / quiet softmax | [`normalizer::quiet`] |
//! | Meta 2025 (Llama 4), HF `Llama4TextAttention` | query temperature $1 + a\ln(1 + \lfloor (p+1)/f \rfloor)$ on NoPE layers | [`normalizer::llama4`] |
//! | Vasylenko et al., ICLR 2026 (arXiv 2506.16640) | ASEntmax: α-entmax with a learnable per-head scale $\delta + \beta_h \ln(p + 2)^{\gamma_h}$ | [`normalizer::asentmax`] |
//! | Zuhri et al. 2025, arXiv 2504.20966 | softpick, the rectified softmax | [`normalizer::softpick`] |
//! | OpenAI 2025 (gpt-oss) | learnable attention-sink logit in the denominator | [`normalizer::sink`] |
//! | — | per-row entropy / max weight / support / spread / $\beta$ | [`dispersion::diagnostics`] |
//! | — | fused Flex kernels for every normalizer (backend extension) | `kernel` (feature `flex`) |
//! | §2 Lemma 2.1, §3 Prop. 3.1 as a kit | proptest strategies and checkers returning a verdict, for your own normalizers and heads | `theorems` (feature `proptest`) |
//! | — | the open trait [`Normalize`] (attention code takes any implementor, a user's own too) | [`normalize`] |
//!
//! One type, [`Normalizer`], picks any built-in at run time; [`Normalize`] is the trait every
//! built-in (and a user's own normalizer) implements.
//!
//! ## Conventions
//!
//! - `dim` is an `isize`; negative values count from the end. A dimension that does not exist
//!   is an [`SoftmaxError::DimOutOfRange`], never a panic.
//! - `−∞` logits are **masked** items: weight exactly 0. A fully masked row gives all-zero
//!   weights and zero entropy, never `NaN`.
//! - `NaN` or `+∞` in a row makes that row's output `NaN` (never silently repaired).
//!   [`check_logits`] / [`Normalizer::apply_checked`] turn that into an error.
//! - Configurations are validated when built (`Result`), so the math never re-checks them.
//!
//! ## Example
//!
//! ```
//! use burn::tensor::{Device, Tensor};
//! use rigor_softmax::Normalizer;
//!
//! let device = Device::flex();
//! let logits = Tensor::<2>::from_floats([[1.0, 2.0, 0.5, f32::NEG_INFINITY]], &device);
//! for normalizer in [Normalizer::softmax(), Normalizer::adaptive(), Normalizer::entmax(1.5).unwrap()] {
//!     let weights = normalizer.apply(logits.clone(), -1).unwrap();
//!     assert_eq!(weights.dims(), [1, 4]);
//! }
//! ```
//!
//! ## Features
//!
//! - `flex` (default): Burn's pure-Rust CPU backend.
//! - `ndarray`: Burn's deprecated ndarray backend.
//! - `wgpu`: the wgpu GPU backend.
#![warn(missing_docs)]
#![recursion_limit = "256"]

pub mod dispersion;
pub mod error;
#[cfg(feature = "flex")]
pub mod kernel;
pub mod normalize;
pub mod normalizer;
pub mod polynomial;
pub mod refit;
#[cfg(feature = "proptest")]
pub mod theorems;
pub mod validate;

pub use dispersion::bounds::{
    DispersionBounds, lemma_2_1, prop_3_1_spread_bound, spread, spread_needed,
};
pub use dispersion::diagnostics::{DiagnosticsSummary, RowDiagnostics, diagnose};
pub use dispersion::spectral::{PowerIteration, Prop31Report, prop_3_1};
pub use error::{ReadbackError, Result, SoftmaxError};
pub use normalize::{Normalize, normalize_along};
pub use normalizer::Normalizer;
pub use normalizer::adaptive::{
    AdaptiveTemperature, AdaptiveTemperatureConfig, adaptive_temperature_softmax,
    adaptive_temperature_softmax_reference, adaptive_temperature_softmax_with_beta,
};
pub use normalizer::asentmax::{AsEntmax, AsEntmaxConfig, AsEntmaxHeads};
pub use normalizer::entmax::{
    Entmax, EntmaxConfig, entmax, entmax_reference, sparsemax, sparsemax_reference,
};
pub use normalizer::llama4::Llama4Temperature;
pub use normalizer::quiet::{softmax1, softmax1_reference};
pub use normalizer::scalable::{
    ScalableSoftmax, scalable_softmax, scalable_softmax_learned, scalable_softmax_reference,
};
pub use normalizer::sink::{Sinks, softmax_with_sink};
pub use normalizer::softmax::{
    Temperature, entropy, log_softmax, softmax, softmax_reference, weights_entropy,
};
pub use polynomial::Polynomial;
pub use validate::{check_logits, resolve_dim};

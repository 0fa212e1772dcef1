//! # rigor-rope
//!
//! Every rotary position encoding users meet, and the theory of *Round and Round We Go! What
//! makes Rotary Positional Encodings useful?* — Barbero, Vitvitskyi, Perivolaropoulos, Pascanu
//! & Veličković, ICLR 2025 (arXiv 2410.06205) — as code, on any Burn device.
//!
//! One validated config ([`RopeConfig`] → [`Rope`]) covers every variant. Frequencies are
//! computed in `f64` on the host; cos/sin tables are built from `f64` angles and stored as
//! `f32` tensors on the device, growing on demand (no maximum length).
//!
//! ## Map: paper → section → module
//!
//! | paper | what | where |
//! |---|---|---|
//! | Su et al. 2021 (RoFormer); *Round and Round* §2 | $g_k = \theta^{-2k/d}$, rotation of 2-D chunks | [`frequencies`], [`apply::rotate`] |
//! | *Round and Round* §2 | half-split vs interleaved layouts, weight permutation | [`layout`] |
//! | *Round and Round* §5 (p-RoPE); Gemma `rope_proportion`; HF `"proportional"` | keep the top $\lfloor p\\,d/2\rfloor$ frequencies, zero the rest | [`frequencies::rotation`] |
//! | GPT-NeoX (Black et al. 2022) | partial rotary, re-spaced frequencies | [`frequencies::rotation`] |
//! | Chen et al. 2023 (PI) | linear interpolation | [`scaling::linear`] |
//! | bloc97 / emozilla 2023 | NTK-aware, dynamic NTK | [`scaling::ntk`] |
//! | Peng et al. 2023 (YaRN) | ramp + attention factor | [`scaling::yarn`] |
//! | Ding et al. 2024 (LongRoPE) | short/long factor lists | [`scaling::longrope`] |
//! | Meta 2024 (Llama 3.1) | wavelength-dependent interpolation | [`scaling::llama3`] |
//! | Sun et al. 2023 (xPos) | decay $\zeta^{(m-n)/B}$ | [`xpos`] |
//! | Heo et al. 2024 (axial); Wang et al. 2024 (Qwen2-VL M-RoPE) | multi-axis positions | [`config::Axes`] |
//! | *Round and Round* §3, claim 1 | $\mathbb E[q^\top R^r k] = 0$ | [`theory::drift`] |
//! | *Round and Round* §4, claims 2–3 | NoPE equal logits; diagonal / previous-token heads | [`theory::nope`], [`theory::constructions`] |
//! | *Round and Round* §5, claim 4 | drift bound, wavelength | [`theory::drift`], [`frequencies::wavelength`] |
//! | *Round and Round* §6, claim 5 | frequency usage (JSON, SVG heatmap) | [`theory::usage`] |
//! | HF transformers `modeling_rope_utils` | every layer's RoPE from a `config.json` (v4 `rope_scaling`, v5 `rope_parameters`, per layer type, NoPE layers) | [`hf`] |
//! | RoFormer §3.4; *Round and Round* claims 3–4 as a kit | proptest strategies and checkers returning a verdict, on your `Rope` and vectors | `theorems` (feature `proptest`) |
//! | — | the encoding as a Burn `Module` a model holds as a field (`forward(q, k, positions)`) | [`module`] |
//! | — | fused Flex rotation (one pass, in place, q and k in one call, fused backward) | `kernel` (feature `flex`) |
//!
//! ## Conventions
//!
//! - Queries and keys are `[batch, heads, seq, head_dim]` or `[batch, seq, heads, head_dim]`
//!   ([`TensorLayout`]); positions are an offset (KV cache) or per-token ids ([`Positions`]).
//! - Attention factors (YaRN, LongRoPE) multiply `cos` and `sin` of both q and k, so logits
//!   scale by the factor squared, as in HF transformers.
//! - The relative-position property $\langle R_m q, R_n k\rangle = \langle q, R_{n-m}k\rangle$
//!   holds for every variant except xPos (extra factor $\zeta^{(m-n)/B}$ per chunk) and the
//!   attention-factor variants (extra factor $a^2$); multi-axis variants satisfy it per axis.
//!   Dynamic NTK and LongRoPE satisfy it at a fixed sequence length only.
//! - Configurations are validated once ([`RopeConfig::init`]); afterwards only the caller's
//!   tensors can be wrong (shape, position ids), and that is a [`RopeError`], never a panic.
//!
//! ## Example
//!
//! ```
//! use burn::tensor::{Device, Distribution, Tensor};
//! use rigor_rope::{Positions, RopeConfig, Rotation, TensorLayout};
//!
//! let device = Device::flex();
//! let rope = RopeConfig::new(64).with_rotation(Rotation::Proportional { p: 0.75 }).init().unwrap();
//! let q = Tensor::<4>::random([2, 4, 10, 64], Distribution::Normal(0.0, 1.0), &device);
//! let k = q.clone();
//! let (q, k) = rope.apply_qk(q, k, TensorLayout::Bhsd, Positions::Offset(0)).unwrap();
//! assert_eq!(q.dims(), k.dims());
//! ```
//!
//! ## Features
//!
//! - `flex` (default): Burn's pure-Rust CPU backend.
//! - `ndarray`: Burn's deprecated ndarray backend.
//! - `wgpu`: the wgpu GPU backend.
#![warn(missing_docs)]
#![recursion_limit = "256"]

pub mod apply;
pub mod config;
pub mod error;
pub mod frequencies;
pub mod hf;
#[cfg(feature = "flex")]
pub mod kernel;
pub mod layout;
pub mod module;
pub mod scaling;
#[cfg(feature = "proptest")]
pub mod theorems;
pub mod theory;
pub mod xpos;

pub use apply::positions::{PositionIds, Positions};
pub use apply::{MAX_CACHED_ELEMENTS, MAX_POSITION, Role, Rope, TensorLayout};
pub use config::{Axes, RopeConfig};
pub use error::{ReadbackError, Result, RopeError};
pub use frequencies::{Frequencies, Rotation, default_inv_freq, wavelength};
pub use layout::{Layout, layout_permutation, permute_last_dim, permute_projection};
pub use module::RotaryEmbedding;
pub use scaling::{Llama3Config, LongRopeConfig, Scaling, YarnAttention, YarnConfig};
pub use xpos::XPosConfig;

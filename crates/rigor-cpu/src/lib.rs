//! # rigor-cpu
//!
//! The CPU building blocks of rigor's fused Flex kernels (the `kernel` modules of
//! rigor-softmax, rigor-rope and rigor-perplexity). It depends on no rigor crate, so the leaves
//! can share it without depending on each other.
//!
//! ## Map
//!
//! | what | where |
//! |---|---|
//! | [`Real`] (`f32`, `f64`), a branch-free vectorisable [`exp_f32`] / [`ln_f32`] (Cephes, ≤ 2 ulp) | [`math`] |
//! | vectorisable [`normal_cdf_f32`], [`gelu_f32`], [`gelu_grad_f32`] (erfc refitted by `scripts/fit_erfc.py`) | [`math`] |
//! | [`with_widest_simd!`]: compile a function for AVX-512, AVX2 + FMA and baseline, pick at run time | [`math`] |
//! | lane-wise reductions [`max_and_count`], [`lane_sum`], [`lane_sum2`] | [`math`] |
//! | [`for_row_chunks`] (rayon over blocks of rows) and [`DisjointRows`] (tasks writing disjoint rows of one buffer) | [`par`] |

pub mod math;
pub mod par;

pub use math::{
    LANES, Real, exp_f32, gelu_f32, gelu_grad_f32, lane_sum, lane_sum2, ln_f32, max_and_count,
    normal_cdf_f32,
};
#[cfg(target_arch = "x86_64")]
pub use math::{has_avx2, has_avx512};
pub use par::{
    DisjointRows, PARALLEL_MIN_ELEMENTS, ROWS_PER_TASK, for_row_chunks, for_row_chunks_sized,
};

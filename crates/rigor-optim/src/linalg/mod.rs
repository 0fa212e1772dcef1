//! Linear algebra the optimizers and metrics need and Burn 0.22 does not provide.
//!
//! - [`newton`]: inverse p-th roots of symmetric positive (semi-)definite matrices by the
//!   coupled Newton iteration — pure tensor ops (matmul, add, scale), so it runs on every
//!   device, GPU included. Shampoo uses it.
//! - [`host`]: f64 solvers on the host through faer — a symmetric eigendecomposition (SOAP's
//!   eigenbasis, and the oracle that tests the Newton roots) and singular values (the rank
//!   metrics).
//! - [`blocks`]: tiling of a matrix into blocks of at most `b × b`, for Shampoo/SOAP on large
//!   dimensions.

pub mod blocks;
pub mod host;
pub mod newton;

//! The dispersion theory of *Softmax is not Enough* (Veličković et al., ICML 2025) as code.
//!
//! - [`bounds`]: Lemma 2.1 (every softmax weight is Θ(1/n) for bounded spread), its tight
//!   upper bound on the largest weight, and the spread a row needs to reach a given sharpness;
//!   Proposition 3.1's bound on the spread from the query/key maps.
//! - [`spectral`]: the largest singular value σ_max by power iteration on the device.
//! - [`diagnostics`]: per-row entropy, max weight, effective support, spread and β of any
//!   normalizer's output.

pub mod bounds;
pub mod diagnostics;
pub mod spectral;

//! Sparsemax and α-entmax: normalizers with exact zeros.
//!
//! $$\alpha\text{-entmax}(z)\_k = \bigl[(\alpha - 1) z_k - \tau\bigr]\_+^{1/(\alpha-1)},
//!   \quad \tau \text{ such that } \textstyle\sum_k \alpha\text{-entmax}(z)\_k = 1$$
//!
//! Peters, Niculae & Martins, *Sparse Sequence-to-Sequence Models* (ACL 2019), eq. (9);
//! $\alpha = 2$ is sparsemax (Martins & Astudillo, ICML 2016) and $\alpha \to 1$ recovers
//! softmax. Items below the threshold get weight **exactly 0**, so the largest weight need not
//! shrink like $1/n$ as the row grows — the escape from the dispersion of *Softmax is not
//! Enough*, Lemma 2.1.
//!
//! **Forward.** $\tau$ is found without gradients: for sparsemax by bisection for the support
//! $S$ followed by the closed form $\tau = (\sum_{k\in S} z_k - 1)/|S|$, for other $\alpha$ by
//! bisection on
//! $\tau \in [\max_k x_k - 1,\ \max_k x_k - n^{1-\alpha}]$ with $x = (\alpha-1)z$,
//! followed by renormalisation.
//!
//! **Backward.** The exact Jacobian (Peters et al. 2019, Prop. 2):
//! $\partial p / \partial z = \operatorname{diag}(s) - s s^\top / \textstyle\sum_k s_k$ with
//! $s_k = p_k^{2-\alpha}$ on the support and 0 off it, attached with composed ops as
//! $p + s \odot (\delta - \langle s, \delta\rangle / \sum s)$, $\delta = z - \operatorname{stopgrad}(z)$,
//! which is `p` in value and has exactly that Jacobian. Without autodiff the term is skipped.
//!
//! **Fused.** On Flex the [kernel](crate::kernel) finds $\tau$ exactly on the candidates
//! $x_k > \max x - 1$ (Michelot's projection for sparsemax, the closed form for $\alpha = 1.5$,
//! safeguarded Newton otherwise) and `iterations` is not used; [`sparsemax_reference`] and
//! [`entmax_reference`] run the bisection above.
//!
//! **Masks.** `−∞` entries get weight 0 and do not count in `n`; fully masked rows are all
//! zeros (zero gradient). Rows with `NaN`/`+∞` are `NaN`.

use burn::tensor::{Bool, Tensor};
use serde::{Deserialize, Serialize};

use crate::error::{Result, SoftmaxError};
use crate::normalizer::Normalizer;
use crate::validate::{masked, resolve_dim, unmasked_count};

/// Bisection steps used by [`Entmax::new`]: the bracket has width < 1, so 40 halvings reach
/// below `f32` resolution.
pub const DEFAULT_BISECTION_ITERATIONS: usize = 40;

/// A validated α-entmax (α > 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "EntmaxConfig", into = "EntmaxConfig")]
pub struct Entmax {
    alpha: f64,
    iterations: usize,
}

/// Serializable form of [`Entmax`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EntmaxConfig {
    /// α > 1 (2 is sparsemax, 1.5 the common "entmax15").
    pub alpha: f64,
    /// Bisection iterations (ignored for α = 2, which has a closed form).
    pub iterations: usize,
}

impl TryFrom<EntmaxConfig> for Entmax {
    type Error = SoftmaxError;
    fn try_from(c: EntmaxConfig) -> Result<Self> {
        Entmax::new(c.alpha)?.with_iterations(c.iterations)
    }
}

impl From<Entmax> for EntmaxConfig {
    fn from(e: Entmax) -> Self {
        Self {
            alpha: e.alpha,
            iterations: e.iterations,
        }
    }
}

impl Entmax {
    /// α-entmax with [`DEFAULT_BISECTION_ITERATIONS`].
    ///
    /// # Errors
    /// [`SoftmaxError::InvalidAlpha`] unless α is finite and `> 1`.
    pub fn new(alpha: f64) -> Result<Self> {
        if alpha.is_finite() && alpha > 1.0 {
            Ok(Self {
                alpha,
                iterations: DEFAULT_BISECTION_ITERATIONS,
            })
        } else {
            Err(SoftmaxError::InvalidAlpha { value: alpha })
        }
    }

    /// Sparsemax (α = 2).
    pub fn sparsemax() -> Self {
        Self {
            alpha: 2.0,
            iterations: DEFAULT_BISECTION_ITERATIONS,
        }
    }

    /// Sets the number of bisection iterations.
    ///
    /// # Errors
    /// [`SoftmaxError::InvalidParameter`] if `iterations` is 0 or above 200.
    pub fn with_iterations(mut self, iterations: usize) -> Result<Self> {
        if iterations == 0 || iterations > 200 {
            return Err(SoftmaxError::InvalidParameter {
                name: "iterations",
                value: iterations as f64,
                reason: "must be in 1..=200",
            });
        }
        self.iterations = iterations;
        Ok(self)
    }

    /// α.
    pub fn alpha(self) -> f64 {
        self.alpha
    }

    /// Bisection iterations.
    pub fn iterations(self) -> usize {
        self.iterations
    }

    /// Applies α-entmax along a resolved `dim`.
    pub(crate) fn apply_resolved<const D: usize>(self, z: Tensor<D>, dim: usize) -> Tensor<D> {
        if z.dims()[dim] == 0 {
            return z;
        }
        // α-entmax is shift-invariant: subtract the (detached) row maximum first, so that the
        // bisection brackets [max − 1, max − n^{1−α}] are resolvable in f32 at any offset
        // (at |max| > 2^24 the ulp exceeds the bracket width) and (α − 1)·z cannot overflow.
        // Entries more than f32::MAX below the maximum become −∞: weight 0 either way.
        let z = z.clone() - crate::normalizer::softmax::safe_row_max(&z, dim);
        let mask = masked(&z);
        let empty_row = unmasked_count(&z, dim).equal_elem(0.0);
        let empty = empty_row.clone().expand(z.shape());
        // Fully masked rows are computed as if all zeros (finite throughout) and zeroed at the
        // end, so no NaN reaches either pass.
        let z_det = z.clone().detach().mask_fill(empty.clone(), 0.0);
        let p = if self.alpha == 2.0 {
            sparsemax_forward(z_det.clone(), dim, self.iterations)
        } else {
            entmax_bisect_forward(z_det.clone(), dim, self.alpha, self.iterations)
        };
        // NaN / +∞ anywhere in a row poison the whole row (masks excluded), as documented.
        let poison = (z_det.clone() - z_det)
            .mask_fill(mask.clone(), 0.0)
            .sum_dim(dim);
        let p = p + poison;
        let out = if z.is_tracked() {
            p.clone() + jacobian_term(&p, z, &mask, dim, self.alpha)
        } else {
            p
        };
        out.mask_fill(empty, 0.0)
    }
}

/// Sparsemax on detached, row-wise non-empty logits: bisection locates the support, then $\tau$ is
/// computed in closed form from it, $\tau = (\sum_{k \in S} z_k - 1)/|S|$, so the result is
/// exact. (A sort-based closed form needs `sort`/`cumsum`, which gave wrong results on
/// Burn 0.22.1's wgpu backend here; bisection uses only element-wise ops and reductions.)
fn sparsemax_forward<const D: usize>(z: Tensor<D>, dim: usize, iterations: usize) -> Tensor<D> {
    let max = z.clone().max_dim(dim);
    let n = unmasked_count(&z, dim).clamp_min(1.0);
    // f(τ) = Σ [z − τ]_+ − 1 is decreasing; f(max − 1) ≥ 0 ≥ f(max − 1/n).
    let mut lo = max.clone().sub_scalar(1.0);
    let mut hi = max - n.recip();
    for _ in 0..iterations {
        let mid = (lo.clone() + hi.clone()).mul_scalar(0.5);
        let too_low = (z.clone() - mid.clone())
            .clamp_min(0.0)
            .sum_dim(dim)
            .greater_equal_elem(1.0);
        lo = lo.mask_where(too_low.clone(), mid.clone());
        hi = hi.mask_where(too_low.bool_not(), mid);
    }
    // Support: items above the bracket's lower end (τ ≥ lo), then the exact τ.
    let support = z.clone().greater(lo).float();
    let size = support.clone().sum_dim(dim).clamp_min(1.0);
    let tau = ((z.clone().mask_fill(masked(&z), 0.0) * support).sum_dim(dim) - 1.0) / size;
    (z - tau).clamp_min(0.0)
}

/// Bisection for τ of α-entmax on detached, row-wise non-empty logits; renormalised output.
fn entmax_bisect_forward<const D: usize>(
    z: Tensor<D>,
    dim: usize,
    alpha: f64,
    iterations: usize,
) -> Tensor<D> {
    let am1 = alpha - 1.0;
    let inv = 1.0 / am1;
    let x = z.clone().mul_scalar(am1);
    let max = x.clone().max_dim(dim);
    let n = unmasked_count(&z, dim).clamp_min(1.0);
    // f(τ) = Σ [x − τ]_+^{1/(α−1)} − 1 is decreasing; f(max − 1) ≥ 0 ≥ f(max − n^{1−α}).
    let mut lo = max.clone().sub_scalar(1.0);
    let mut hi = max - n.powf_scalar(-am1);
    let mass = |tau: Tensor<D>| (x.clone() - tau).clamp_min(0.0).powf_scalar(inv);
    for _ in 0..iterations {
        let mid = (lo.clone() + hi.clone()).mul_scalar(0.5);
        let too_low = mass(mid.clone()).sum_dim(dim).greater_equal_elem(1.0);
        lo = lo.mask_where(too_low.clone(), mid.clone());
        hi = hi.mask_where(too_low.bool_not(), mid);
    }
    let p = mass((lo + hi).mul_scalar(0.5));
    let total = p.clone().sum_dim(dim);
    p / total
}

/// The zero-valued term whose gradient is the entmax Jacobian (see the module docs).
fn jacobian_term<const D: usize>(
    p: &Tensor<D>,
    z: Tensor<D>,
    mask: &Tensor<D, Bool>,
    dim: usize,
    alpha: f64,
) -> Tensor<D> {
    let off_support = p.clone().equal_elem(0.0);
    let s = if alpha == 2.0 {
        off_support.clone().bool_not().float()
    } else {
        p.clone()
            .mask_fill(off_support.clone(), 1.0)
            .powf_scalar(2.0 - alpha)
            .mask_fill(off_support, 0.0)
    };
    let delta = (z.clone() - z.detach()).mask_fill(mask.clone(), 0.0);
    let s_sum = s.clone().sum_dim(dim);
    let s_sum = s_sum.clone().mask_fill(s_sum.equal_elem(0.0), 1.0);
    let mean = (s.clone() * delta.clone()).sum_dim(dim) / s_sum;
    s * (delta - mean)
}

/// Sparsemax along `dim`: the Euclidean projection of `z` onto the probability simplex,
/// $\operatorname{sparsemax}(z) = [z - \tau]_+$ (α-entmax with $\alpha = 2$).
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`] if `dim` does not exist.
pub fn sparsemax<const D: usize>(logits: Tensor<D>, dim: isize) -> Result<Tensor<D>> {
    let dim = resolve_dim(dim, D)?;
    Ok(Normalizer::Sparsemax.apply_resolved(logits, dim))
}

/// [`sparsemax`] through the composed reference ops only (bisection for the support, then
/// the closed form).
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`] if `dim` does not exist.
pub fn sparsemax_reference<const D: usize>(logits: Tensor<D>, dim: isize) -> Result<Tensor<D>> {
    let dim = resolve_dim(dim, D)?;
    Ok(Entmax::sparsemax().apply_resolved(logits, dim))
}

/// α-entmax along `dim` (see the [module docs](self)).
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`] if `dim` does not exist.
pub fn entmax<const D: usize>(logits: Tensor<D>, dim: isize, entmax: Entmax) -> Result<Tensor<D>> {
    let dim = resolve_dim(dim, D)?;
    Ok(Normalizer::Entmax(entmax).apply_resolved(logits, dim))
}

/// [`entmax`] through the composed reference ops only (bisection, `iterations` steps).
///
/// # Errors
/// [`SoftmaxError::DimOutOfRange`] if `dim` does not exist.
pub fn entmax_reference<const D: usize>(
    logits: Tensor<D>,
    dim: isize,
    entmax: Entmax,
) -> Result<Tensor<D>> {
    let dim = resolve_dim(dim, D)?;
    Ok(entmax.apply_resolved(logits, dim))
}

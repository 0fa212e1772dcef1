//! The largest singular value $\sigma_{\max}(W) = \lVert W \rVert_2$ by power iteration on
//! $W^\top W$, run on the tensor's own device, and Proposition 3.1 evaluated on real weights.

use burn::tensor::{Tensor, TensorData};
use serde::Serialize;

use crate::dispersion::bounds::prop_3_1_spread_bound;
use crate::error::{Result, SoftmaxError};

/// Power-iteration settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PowerIteration {
    max_iterations: usize,
    tolerance: f64,
}

impl Default for PowerIteration {
    /// 1000 iterations at most, stop when σ changes by less than `1e-7` relatively.
    fn default() -> Self {
        Self {
            max_iterations: 1000,
            tolerance: 1e-7,
        }
    }
}

impl PowerIteration {
    /// Custom settings.
    ///
    /// # Errors
    /// [`SoftmaxError::InvalidParameter`] if `max_iterations == 0` or the tolerance is not a
    /// finite positive number.
    pub fn new(max_iterations: usize, tolerance: f64) -> Result<Self> {
        if max_iterations == 0 {
            return Err(SoftmaxError::InvalidParameter {
                name: "max_iterations",
                value: 0.0,
                reason: "must be >= 1",
            });
        }
        if !(tolerance.is_finite() && tolerance > 0.0) {
            return Err(SoftmaxError::InvalidParameter {
                name: "tolerance",
                value: tolerance,
                reason: "must be finite and > 0",
            });
        }
        Ok(Self {
            max_iterations,
            tolerance,
        })
    }

    /// $\sigma_{\max}(W)$ of a matrix on any device.
    ///
    /// Starts from a fixed pseudo-random vector (deterministic), alternates
    /// $u = Wv/\lVert Wv\rVert$, $v = W^\top u/\lVert W^\top u\rVert$, and stops when the
    /// estimate $\lVert W v\rVert$ settles. The zero matrix gives 0.
    ///
    /// # Errors
    /// [`SoftmaxError::InvalidParameter`] for an empty matrix, [`SoftmaxError::NonFiniteLogits`]
    /// if the matrix holds `NaN` or `±∞` (finite entries of any size are fine: the iteration
    /// runs on $W/\max_{ij}|W_{ij}|$), or
    /// [`SoftmaxError::Readback`].
    pub fn sigma_max(&self, w: Tensor<2>) -> Result<f64> {
        let [rows, cols] = w.dims();
        if rows == 0 || cols == 0 {
            return Err(SoftmaxError::InvalidParameter {
                name: "matrix size",
                value: 0.0,
                reason: "must be non-empty",
            });
        }
        let w = w.detach();
        // Work on W / max|W_ij| so that squared norms cannot overflow f32 (entries near 1e20
        // and above would give σ = +∞); σ scales back exactly.
        let scale: f32 = w
            .clone()
            .abs()
            .max()
            .try_into_scalar()
            .map_err(SoftmaxError::from)?;
        if scale.is_nan() || scale.is_infinite() {
            return Err(SoftmaxError::NonFiniteLogits {
                nan: usize::from(scale.is_nan()),
                pos_inf: usize::from(scale.is_infinite()),
            });
        }
        if scale == 0.0 {
            return Ok(0.0);
        }
        let w = w.div_scalar(scale);
        let device = w.device();
        // A fixed, irregular start vector (xorshift): not orthogonal to any singular vector
        // except on a measure-zero set.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let start: Vec<f32> = (0..cols)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
            })
            .collect();
        let mut v = Tensor::<2>::from_data(TensorData::new(start, [cols, 1]), &device);
        v = normalize(v)?.0;
        let wt = w.clone().transpose();
        let mut sigma = 0.0f64;
        for _ in 0..self.max_iterations {
            let (u, s) = normalize(w.clone().matmul(v.clone()))?;
            if s == 0.0 {
                return Ok(0.0);
            }
            let (next, _) = normalize(wt.clone().matmul(u))?;
            v = next;
            let done = (s - sigma).abs() <= self.tolerance * s;
            sigma = s;
            if done {
                break;
            }
        }
        Ok(sigma * f64::from(scale))
    }
}

/// `x / ‖x‖` and `‖x‖` (read back to the host); the zero vector is returned unchanged.
fn normalize(x: Tensor<2>) -> Result<(Tensor<2>, f64)> {
    let norm: f32 = x
        .clone()
        .square()
        .sum()
        .sqrt()
        .try_into_scalar()
        .map_err(SoftmaxError::from)?;
    if norm.is_nan() {
        return Err(SoftmaxError::NonFiniteLogits { nan: 1, pos_inf: 0 });
    }
    if norm == 0.0 {
        return Ok((x, 0.0));
    }
    Ok((x.div_scalar(norm), norm as f64))
}

/// Proposition 3.1 on concrete weights: the bound next to the spread it bounds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prop31Report {
    /// $\sigma_{\max}(W_Q)$.
    pub sigma_q: f64,
    /// $\sigma_{\max}(W_K)$.
    pub sigma_k: f64,
    /// $\lVert y \rVert$.
    pub query_norm: f64,
    /// $\max_i \lVert x_i \rVert$.
    pub max_key_norm: f64,
    /// $2\sigma_Q\sigma_K\lVert y\rVert\max_i\lVert x_i\rVert$.
    pub bound: f64,
    /// The actual spread $\max_i e_i - \min_i e_i$ of $e_i = (yW_Q)\cdot(x_iW_K)$.
    pub spread: f64,
}

/// Evaluates Proposition 3.1 for a query `y` (`[d_model]`), keys `x` (`[n, d_model]`) and
/// projections `w_q`, `w_k` (`[d_model, d_head]`, Burn's `Linear` weight layout), with
/// logits $e_i = (yW_Q)\cdot(x_iW_K)$ (no $1/\sqrt{d}$ scaling).
///
/// # Errors
/// [`SoftmaxError::ShapeMismatch`] if the shapes disagree, or as
/// [`PowerIteration::sigma_max`].
pub fn prop_3_1(
    w_q: Tensor<2>,
    w_k: Tensor<2>,
    y: Tensor<1>,
    x: Tensor<2>,
    power: &PowerIteration,
) -> Result<Prop31Report> {
    let [dq_in, dq_out] = w_q.dims();
    let [dk_in, dk_out] = w_k.dims();
    let [dy] = y.dims();
    let [n, dx] = x.dims();
    if dq_in != dy || dk_in != dx || dq_out != dk_out || n == 0 {
        return Err(SoftmaxError::ShapeMismatch {
            op: "prop_3_1",
            detail: format!(
                "w_q {:?}, w_k {:?}, y {:?}, x {:?}: need w_q [d, h], w_k [d', h], y [d], x [n>0, d']",
                [dq_in, dq_out],
                [dk_in, dk_out],
                [dy],
                [n, dx]
            ),
        });
    }
    let read = |t: Tensor<1>| -> Result<f64> {
        t.try_into_scalar::<f32>()
            .map(f64::from)
            .map_err(SoftmaxError::from)
    };
    let sigma_q = power.sigma_max(w_q.clone())?;
    let sigma_k = power.sigma_max(w_k.clone())?;
    let query_norm = read(y.clone().square().sum().sqrt())?;
    let max_key_norm = read(x.clone().square().sum_dim(1).sqrt().max())?;
    let q = y.unsqueeze::<2>().matmul(w_q); // [1, h]
    let k = x.matmul(w_k); // [n, h]
    let logits = q.matmul(k.transpose()); // [1, n]
    let spread = read(logits.clone().max() - logits.min())?;
    Ok(Prop31Report {
        sigma_q,
        sigma_k,
        query_norm,
        max_key_norm,
        bound: prop_3_1_spread_bound(sigma_q, sigma_k, query_norm, max_key_norm)?,
        spread,
    })
}

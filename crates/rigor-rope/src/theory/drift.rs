//! Claim 4 (*Round and Round We Go!* §5): low-frequency chunks drift slowly, but they drift.
//!
//! For chunk $k$ with frequency $g_k$, $a_k(r) = q_k^\top \rho(g_k)^r k_k$ and
//! $$\lvert a_k(r) - a_k(0)\rvert
//!   \le 2\\,\bigl\lvert\sin(r g_k/2)\bigr\rvert\\,\lVert q_k\rVert\lVert k_k\rVert
//!   \le r\\,g_k\\,\lVert q_k\rVert\lVert k_k\rVert,$$
//! because $\lVert \rho(\alpha) - I\rVert_2 = 2\lvert\sin(\alpha/2)\rvert$. A chunk acts like
//! NoPE only while $r g_k \ll 1$, i.e. far below its wavelength $2\pi/g_k$; p-RoPE makes the
//! lowest chunks exactly NoPE ($g_k = 0$, drift 0).

/// The logit of one chunk at relative rotation $r$: $a_k(r) = q^\top \rho(r g) k$ with
/// $\rho(\alpha) = \begin{pmatrix}\cos\alpha & -\sin\alpha\\\\
/// \sin\alpha & \cos\alpha\end{pmatrix}$.
pub fn chunk_logit(q: [f64; 2], k: [f64; 2], r: f64, g: f64) -> f64 {
    let (s, c) = (r * g).sin_cos();
    let rk = [c * k[0] - s * k[1], s * k[0] + c * k[1]];
    q[0] * rk[0] + q[1] * rk[1]
}

/// The two drift bounds of claim 4 for distance $r$, frequency $g$ and chunk norms:
/// `(tight, linear)` = $(2\lvert\sin(rg/2)\rvert\\,\lVert q\rVert\lVert k\rVert,
/// \ \lvert r\rvert g\\,\lVert q\rVert\lVert k\rVert)$.
pub fn drift_bound(r: f64, g: f64, q_norm: f64, k_norm: f64) -> (f64, f64) {
    let p = q_norm * k_norm;
    (2.0 * (r * g / 2.0).sin().abs() * p, r.abs() * g * p)
}

/// $\lvert a_k(r) - a_k(0)\rvert$, the drift the bound controls.
pub fn drift(q: [f64; 2], k: [f64; 2], r: f64, g: f64) -> f64 {
    (chunk_logit(q, k, r, g) - chunk_logit(q, k, 0.0, g)).abs()
}

/// Claim 1 (§3): for independent zero-mean $q, k$,
/// $\mathbb E[q^\top R^r k] = \sum_k \mathbb E(q_k)^\top \rho(r g_k)\\,\mathbb E(k_k) = 0$
/// for every $r$ — RoPE does not by itself make logits decay with distance. This is the standard
/// deviation of $q^\top R^r k$ for $q, k \sim \mathcal N(0, \sigma^2 I_d)$:
/// $\sigma^2\sqrt d$ (a rotation preserves the isotropic law of $k$), the scale a statistical
/// test of claim 1 needs.
pub fn logit_std_gaussian(d: usize, sigma: f64) -> f64 {
    sigma * sigma * (d as f64).sqrt()
}

//! Inverse p-th roots on the device by the coupled Newton iteration.
//!
//! For a symmetric positive definite `A` (after the ridge `A + εI`), with
//! $z = \frac{1+p}{2\lVert A\rVert_F}$, start from $M_0 = zA$, $X_0 = z^{1/p} I$ and iterate
//!
//! $$ T_k = \tfrac{p+1}{p} I - \tfrac1p M_k,\qquad X_{k+1} = X_k T_k,\qquad M_{k+1} = T_k^{\\,p} M_k. $$
//!
//! The invariant $M_k = X_k^{\\,p} A$ holds at every step, so $M_k \to I$ gives
//! $X_k \to A^{-1/p}$ (Guo & Higham, *SIAM J. Matrix Anal. Appl.* 28(3), 2006; the form used by
//! Anil et al., *Scalable Second Order Optimization for Deep Learning*, arXiv 2002.09018, §3.1).
//! Every operation is a matmul or an elementwise op, so the iteration runs on any Burn device.
//! Convergence is checked on the host every [`NewtonSettings::check_every`] iterations
//! (`max |M − I|`, one device → host read per check, so a GPU is not stalled on every
//! iteration); the iteration stops at the tolerance, or when the error stalls at the f32
//! round-off floor. When a block of iterations makes the error grow (or non-finite), its result
//! is dropped and the iteration resumes from the last checked iterate one step per check, so
//! the returned iterate is never worse than the last one checked.

use burn::tensor::Tensor;

/// Settings of [`inverse_pth_root`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewtonSettings {
    /// Maximum number of iterations (each costs about `⌈log₂ p⌉ + 2` matmuls).
    pub max_iters: usize,
    /// Stop when `max |M − I| < tolerance`.
    pub tolerance: f64,
    /// Iterations between two convergence checks (each check is one host read); `0` is read
    /// as `1`. Larger values trade a few iterations past convergence (harmless: the iterate
    /// stays at the round-off floor) for fewer device synchronisations.
    pub check_every: usize,
}

impl Default for NewtonSettings {
    /// 100 iterations, tolerance 1e-6 (f32 round-off is ~1e-7 per entry), a check every 4
    /// iterations.
    fn default() -> Self {
        Self {
            max_iters: 100,
            tolerance: 1e-6,
            check_every: 4,
        }
    }
}

/// What [`inverse_pth_root`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewtonReport {
    /// Iterations accepted.
    pub iters: usize,
    /// `max |M − I|` of the returned iterate.
    pub error: f64,
}

/// $(A + \varepsilon I)^{-1/p}$ for a symmetric PSD `a` (`n × n`), on `a`'s device.
///
/// `p ≥ 1`, `epsilon ≥ 0`. A zero matrix with `epsilon = 0` has no inverse root: the identity
/// scaled by 0 is returned with `error = ∞` (callers validate `ε > 0`).
pub fn inverse_pth_root(
    a: Tensor<2>,
    p: u32,
    epsilon: f64,
    settings: NewtonSettings,
) -> (Tensor<2>, NewtonReport) {
    let [n, _] = a.dims();
    let device = a.device();
    let p = p.max(1);
    let eye = Tensor::<2>::eye(n, &device);
    let a = if epsilon > 0.0 {
        a + eye.clone().mul_scalar(epsilon)
    } else {
        a
    };
    let norm = f64::from(a.clone().square().sum().sqrt().into_scalar::<f32>());
    if !(norm.is_finite() && norm > 0.0) {
        return (
            eye.mul_scalar(0.0),
            NewtonReport {
                iters: 0,
                error: f64::INFINITY,
            },
        );
    }
    let pf = p as f64;
    let z = (1.0 + pf) / (2.0 * norm);
    let mut m = a.mul_scalar(z);
    let mut x = eye.clone().mul_scalar(z.powf(1.0 / pf));
    let mut error = max_abs_diff(&m, &eye);
    let mut iters = 0;
    let mut block = settings.check_every.max(1);
    while iters < settings.max_iters && error >= settings.tolerance {
        let k = block.min(settings.max_iters - iters);
        let (mut x_next, mut m_next) = (x.clone(), m.clone());
        for _ in 0..k {
            let t = eye.clone().mul_scalar((pf + 1.0) / pf) - m_next.clone().div_scalar(pf);
            m_next = matrix_power(t.clone(), p).matmul(m_next);
            x_next = x_next.matmul(t);
        }
        let next_error = max_abs_diff(&m_next, &eye);
        if !next_error.is_finite() || next_error > error * 1.5 + 1e-12 {
            if k == 1 {
                break;
            }
            // Something in the block went wrong: redo it from the last checked iterate, one
            // iteration per check.
            block = 1;
            continue;
        }
        // Near convergence the error falls quadratically; once it stops falling we are at the
        // f32 round-off floor and further iterations only cost host syncs.
        let stalled = next_error < 1e-3 && next_error > 0.9 * error;
        x = x_next;
        m = m_next;
        error = next_error;
        iters += k;
        if stalled {
            break;
        }
    }
    (x, NewtonReport { iters, error })
}

fn max_abs_diff(m: &Tensor<2>, eye: &Tensor<2>) -> f64 {
    f64::from((m.clone() - eye.clone()).abs().max().into_scalar::<f32>())
}

/// `t^p` by repeated squaring.
fn matrix_power(t: Tensor<2>, p: u32) -> Tensor<2> {
    let mut result: Option<Tensor<2>> = None;
    let mut base = t;
    let mut e = p;
    loop {
        if e & 1 == 1 {
            result = Some(match result {
                Some(r) => r.matmul(base.clone()),
                None => base.clone(),
            });
        }
        e >>= 1;
        if e == 0 {
            break;
        }
        base = base.clone().matmul(base);
    }
    result.expect("p >= 1")
}

//! Claim 3 (*Round and Round We Go!* §4): RoPE builds sharp positional heads from its highest
//! frequency.
//!
//! The top chunk rotates at $g_0 = \theta^0 = 1$ rad/token for every $\theta$. Put a constant
//! $\sqrt c\\,e_1$ in the query's top chunk and $\sqrt c\\,\rho(\varphi)e_1$ in the key's. With
//! RoPE, query $i$ and key $j$ meet at $\rho((j-i)g_0)$, so with distance $r = i - j$:
//! $$a(r) = c\cos(\varphi - r).$$
//! $\varphi = 0$ peaks at $r = 0$ (**diagonal head**), $\varphi = 1$ at $r = 1$
//! (**previous-token head**); the neighbours sit $c(1 - \cos 1) \approx 0.46c$ lower, and
//! scaling $c$ makes the softmax as sharp as wanted.
//!
//! **Over a longer window the margin is smaller.** Integers come back close to multiples of
//! $2\pi$ ($\cos 6 \approx 0.960$, $\cos 44 \approx 0.99984$), so over distances
//! $0..=W$ the margin is $c\\,(1 - \max_{r \ne r^*} \cos(\varphi - r))$, which equals
//! $c(1-\cos 1)$ only for $W \le 5$ (diagonal) and shrinks towards 0 as $W$ grows; the peak
//! stays unique ($\cos n < 1$ for integers $n \ne 0$). [`PositionalHead::margin_within`]
//! computes it and [`PositionalHead::scale_for`] picks $c$ so the head peaks where claimed for
//! *any* content of bounded norm in the other chunks.
//!
//! NoPE cannot do this: see [`nope`](super::nope).

use burn::tensor::{Tensor, TensorData};

use crate::error::{Result, RopeError, positive};
use crate::layout::Layout;

/// Which position the head attends to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadKind {
    /// Query $i$ attends to key $i$ ($r = 0$).
    Diagonal,
    /// Query $i$ attends to key $i - 1$ ($r = 1$).
    PreviousToken,
}

impl HeadKind {
    /// The distance $r^* = i - j$ where the head peaks.
    pub fn peak(&self) -> usize {
        match self {
            HeadKind::Diagonal => 0,
            HeadKind::PreviousToken => 1,
        }
    }

    /// The phase $\varphi = r^* g_0$ with $g_0 = 1$.
    pub fn phase(&self) -> f64 {
        self.peak() as f64
    }
}

/// A positional head built from the highest frequency (claim 3).
#[derive(Debug, Clone, PartialEq)]
pub struct PositionalHead {
    /// Diagonal or previous-token.
    pub kind: HeadKind,
    /// Scale $c > 0$ of the logit.
    pub c: f64,
}

impl PositionalHead {
    /// A head of scale $c$.
    ///
    /// # Errors
    /// [`RopeError::InvalidParameter`] unless $c$ is finite and $> 0$.
    pub fn new(kind: HeadKind, c: f64) -> Result<Self> {
        positive("c", c)?;
        Ok(Self { kind, c })
    }

    /// The query's top chunk $\sqrt c\\,(1, 0)$.
    pub fn query_chunk(&self) -> [f64; 2] {
        [self.c.sqrt(), 0.0]
    }

    /// The key's top chunk $\sqrt c\\,(\cos\varphi, \sin\varphi)$.
    pub fn key_chunk(&self) -> [f64; 2] {
        let (s, co) = self.kind.phase().sin_cos();
        [self.c.sqrt() * co, self.c.sqrt() * s]
    }

    /// $a(r) = c\cos(\varphi - r)$ for distance $r = i - j$.
    pub fn logit(&self, r: i64) -> f64 {
        self.c * (self.kind.phase() - r as f64).cos()
    }

    /// The paper's margin over the neighbouring positions: $c(1 - \cos 1)$.
    pub fn neighbour_margin(&self) -> f64 {
        self.c * (1.0 - 1f64.cos())
    }

    /// The margin of the peak over every other distance in `0..=window`:
    /// $c\\,(1 - \max_{0 \le r \le W,\ r \ne r^*}\cos(\varphi - r))$ (`c` if there is no other
    /// distance).
    pub fn margin_within(&self, window: usize) -> f64 {
        self.c * (1.0 - max_competitor_cos(self.kind, window))
    }

    /// The smallest-plus-5 % scale $c$ that keeps the head peaked at $r^*$ over `0..=window`
    /// whatever the other chunks hold, as long as their contribution to any logit is at most
    /// `content_bound` in absolute value (e.g.
    /// $\max_i\lVert q_i^\prime\rVert \max_j \lVert k_j^\prime\rVert$ for the content parts
    /// $q^\prime, k^\prime$): $c = 1.05 \cdot 2B / (1 - \max\cos)$.
    ///
    /// # Errors
    /// [`RopeError::InvalidParameter`] if `content_bound` is negative or not finite.
    pub fn scale_for(kind: HeadKind, window: usize, content_bound: f64) -> Result<f64> {
        if !(content_bound.is_finite() && content_bound >= 0.0) {
            return Err(RopeError::InvalidParameter {
                name: "content_bound",
                value: content_bound,
                reason: "must be finite and >= 0",
            });
        }
        let gap = 1.0 - max_competitor_cos(kind, window);
        Ok((1.05 * 2.0 * content_bound / gap).max(1.0))
    }

    /// Writes the construction into the top chunk (slot 0, coordinates given by `layout` over
    /// `head_dim`) of arbitrary content `[seq, head_dim]` for queries and keys; the other
    /// chunks keep the content. Apply standard RoPE ($g_0 = 1$) to the result.
    ///
    /// # Errors
    /// [`RopeError::ShapeMismatch`] if the two contents differ in shape or `head_dim` is odd
    /// or smaller than 2.
    pub fn embed(
        &self,
        q_content: Tensor<2>,
        k_content: Tensor<2>,
        layout: Layout,
    ) -> Result<(Tensor<2>, Tensor<2>)> {
        let [s, d] = q_content.dims();
        if k_content.dims() != [s, d] || d < 2 || !d.is_multiple_of(2) {
            return Err(RopeError::ShapeMismatch {
                op: "PositionalHead::embed",
                detail: format!(
                    "q content {:?} and k content {:?} must both be [seq, even head_dim >= 2]",
                    q_content.dims(),
                    k_content.dims()
                ),
            });
        }
        let (a, b) = layout.chunk_coords(0, d);
        let device = q_content.device();
        let write = |x: Tensor<2>, chunk: [f64; 2]| {
            let mut keep = vec![1f32; d];
            keep[a] = 0.0;
            keep[b] = 0.0;
            let mut add = vec![0f32; d];
            add[a] = chunk[0] as f32;
            add[b] = chunk[1] as f32;
            let keep = Tensor::<2>::from_data(TensorData::new(keep, [1, d]), &device);
            let add = Tensor::<2>::from_data(TensorData::new(add, [1, d]), &device);
            x * keep + add
        };
        Ok((
            write(q_content, self.query_chunk()),
            write(k_content, self.key_chunk()),
        ))
    }
}

fn max_competitor_cos(kind: HeadKind, window: usize) -> f64 {
    let phase = kind.phase();
    (0..=window)
        .filter(|&r| r != kind.peak())
        .map(|r| (phase - r as f64).cos())
        .fold(f64::NEG_INFINITY, f64::max)
        .max(-1.0)
}

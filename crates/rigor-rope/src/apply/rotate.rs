//! The reference rotation, in composed tensor ops (public: read it to see what RoPE does).
//!
//! For every chunk $k$ with angle $\alpha = t\\,g_k$:
//! $$\begin{pmatrix} y_a \\\\ y_b \end{pmatrix} =
//!   \begin{pmatrix} \cos\alpha & -\sin\alpha \\\\ \sin\alpha & \cos\alpha \end{pmatrix}
//!   \begin{pmatrix} x_a \\\\ x_b \end{pmatrix},$$
//! written as $y = x \odot \cos + \operatorname{rot}(x) \odot \sin$ with `cos`/`sin`
//! expanded to one value per coordinate and $\operatorname{rot}$ moving $-x_b$ to $a$ and $x_a$
//! to $b$. The layout only decides where $a$ and $b$ are (see [`Layout`]).

use burn::tensor::Tensor;

use crate::layout::Layout;

/// $\operatorname{rot}(x)$ over the last dimension: half-split `cat(-x₂, x₁)` (HF
/// `rotate_half`) or interleaved `(x₀, x₁, …) ↦ (-x₁, x₀, …)` (GPT-J `rotate_every_two`).
pub fn rotate_pairs(x: Tensor<4>, layout: Layout) -> Tensor<4> {
    let [b, h, s, r] = x.dims();
    let n = r / 2;
    match layout {
        Layout::HalfSplit => {
            let x1 = x.clone().narrow(3, 0, n);
            let x2 = x.narrow(3, n, n);
            Tensor::cat(vec![x2.neg(), x1], 3)
        }
        Layout::Interleaved => {
            let pairs: Tensor<5> = x.reshape([b, h, s, n, 2]);
            let even = pairs.clone().narrow(4, 0, 1);
            let odd = pairs.narrow(4, 1, 1);
            Tensor::cat(vec![odd.neg(), even], 4).reshape([b, h, s, r])
        }
    }
}

/// $y = x \odot \cos + \operatorname{rot}(x) \odot \sin$; `cos` and `sin` broadcast against `x`
/// (all four dims, last one equal to `x`'s).
pub fn rotate(x: Tensor<4>, cos: Tensor<4>, sin: Tensor<4>, layout: Layout) -> Tensor<4> {
    x.clone() * cos + rotate_pairs(x, layout) * sin
}

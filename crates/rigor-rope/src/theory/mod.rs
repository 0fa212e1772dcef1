//! *Round and Round We Go! What makes Rotary Positional Encodings useful?* (Barbero,
//! Vitvitskyi, Perivolaropoulos, Pascanu & Veličković, ICLR 2025, arXiv 2410.06205) as code.
//!
//! | claim | what | where |
//! |---|---|---|
//! | 1, §3 | $\mathbb E[q^\top R^r k] = 0$ for i.i.d. zero-mean $q, k$ | [`drift::logit_std_gaussian`] (the scale of the seeded test `claim_1_…`) |
//! | 2, §4 | NoPE: identical tokens ⇒ equal first-layer logits | [`nope`] |
//! | 3, §4 | diagonal / previous-token heads from the highest frequency, margin $c(1-\cos 1)$ | [`constructions`] |
//! | 4, §5 | drift $\lvert a_k(r) - a_k(0)\rvert \le 2\lvert\sin(r g_k/2)\rvert\\,\lVert q_k\rVert\lVert k_k\rVert \le r g_k \lVert q_k\rVert\lVert k_k\rVert$; wavelength $2\pi/g_k$ | [`drift`], [`wavelength`](crate::frequencies::wavelength) |
//! | 5, §6 | usage: mean 2-norm of each 2-D chunk per frequency, per head and layer | [`usage`] |

pub mod constructions;
pub mod drift;
pub mod nope;
pub mod usage;

//! What *Round and Round We Go! What makes Rotary Positional Encodings useful?* (Barbero,
//! Vitvitskyi, Perivolaropoulos, Pascanu & Veličković, ICLR 2025, arXiv 2410.06205) reports for
//! the experiments reproduced here (as recorded in `docs/paper-facts.md` S2).

use serde::Serialize;

/// Gemma 2B trained from scratch (8k context): validation perplexity on Wiki with RoPE.
pub const WIKI_ROPE: f64 = 4.4627;
/// … with 0.75-RoPE.
pub const WIKI_P075: f64 = 4.4414;
/// FlanV2 with RoPE.
pub const FLAN_ROPE: f64 = 6.4429;
/// FlanV2 with 0.75-RoPE.
pub const FLAN_P075: f64 = 6.4422;

/// The training claim.
pub const LM_CLAIM: &str = "Gemma 2B trained from scratch: 0.75-RoPE reaches a slightly lower \
    validation perplexity than RoPE (Wiki 4.4414 vs 4.4627, FlanV2 6.4422 vs 6.4429), NoPE a \
    higher one (no number given).";

/// The usage claim (§6).
pub const USAGE_CLAIM: &str = "in Gemma 7B the lowest frequencies carry the largest query/key \
    chunk norms in most layers; high frequencies are used in the first and last layers, by \
    positional (diagonal / previous-token) heads.";

/// The constructions (§4).
pub const CONSTRUCTION_CLAIM: &str = "with identical tokens NoPE's first-layer logits are equal, \
    so no diagonal or previous-token head exists; RoPE builds both from its highest frequency \
    (a(r) = c cos(φ − r), margin c(1 − cos 1) over the neighbours).";

/// The drift bound (§5).
pub const DRIFT_CLAIM: &str = "|a_k(r) − a_k(0)| ≤ 2|sin(r g_k/2)|·‖q_k‖‖k_k‖ ≤ r g_k ‖q_k‖‖k_k‖: \
    low frequencies drift slowly but do drift; p-RoPE makes them exactly NoPE.";

/// The numbers above, for `results.json`.
#[derive(Debug, Clone, Serialize)]
pub struct PaperNumbers {
    /// [`WIKI_ROPE`].
    pub wiki_rope: f64,
    /// [`WIKI_P075`].
    pub wiki_p075: f64,
    /// [`FLAN_ROPE`].
    pub flan_rope: f64,
    /// [`FLAN_P075`].
    pub flan_p075: f64,
}

impl Default for PaperNumbers {
    fn default() -> Self {
        Self {
            wiki_rope: WIKI_ROPE,
            wiki_p075: WIKI_P075,
            flan_rope: FLAN_ROPE,
            flan_p075: FLAN_P075,
        }
    }
}

/// Relative change of a perplexity against RoPE's, `(x − rope) / rope`.
pub fn relative(x: f64, rope: f64) -> f64 {
    (x - rope) / rope
}

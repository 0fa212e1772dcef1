//! Paper reproductions, each registered as a [`Reproduction`] for the `reproduce` example.
//!
//! | paper | experiment | module |
//! |---|---|---|
//! | *Softmax is not Enough* (ICML 2025), App. A / S1 | max retrieval, softmax vs adaptive θ | [`max_retrieval`] |
//! | *Optimizers Qualitatively Alter Solutions* (arXiv 2507.12224), S4 case study 1 | forgetting of SGD / AdamW / Shampoo / Muon / SOAP / Lion on permuted and class-incremental digits: R matrix, ACC / BWT / forgetting, effective rank, cross-class similarity | [`optimizer_forgetting`] |
//! | *Optimizers Qualitatively Alter Solutions*, S4 case study 2 (Powerprop, NeurIPS 2021) | accuracy vs weights kept under global magnitude pruning for α ∈ {1, …, 4} | [`powerprop_sparsity`] |
//! | *Perplexity Cannot Always Tell Right from Wrong* (arXiv 2601.22950) / S3 | copy task α_N vs β_N with the counterexample finder, parity checkpoints (micro-F1 vs log-perplexity), iso-perplexity | [`perplexity`] |
//! | *Round and Round We Go!* (ICLR 2025) / S2 | RoPE / p-RoPE / NoPE byte-level LMs on the King James Version (bits per byte at 1×, 2×, 4× the training length), frequency usage, positional-head constructions, drift bound | [`rope`] |
//! | Change of mind in LLMs (Kumaran et al., 2025) / S5 | the two-stage paradigm on Bayesian and biased agents | [`change_of_mind`] |

pub mod change_of_mind;
pub mod max_retrieval;
pub mod optimizer_forgetting;
pub mod perplexity;
pub mod powerprop_sparsity;
pub mod rope;

use crate::report::Reproduction;

/// Every registered reproduction, in report order.
pub fn all() -> Vec<Reproduction> {
    vec![
        max_retrieval::reproduction(),
        optimizer_forgetting::reproduction(),
        powerprop_sparsity::reproduction(),
        rope::reproduction(),
        perplexity::reproduction(),
        change_of_mind::reproduction(),
    ]
}

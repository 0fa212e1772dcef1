//! Paper reproductions, each registered as a [`Reproduction`] for the `reproduce` example.
//!
//! | paper | experiment | module |
//! |---|---|---|
//! | *Softmax is not Enough* (ICML 2025), §3 / S1 | max retrieval, softmax vs adaptive θ | [`max_retrieval`] |
//! | Change of mind in LLMs (Kumaran et al., 2025) / S5 | the two-stage paradigm on Bayesian and biased agents | [`change_of_mind`] |

pub mod change_of_mind;
pub mod max_retrieval;

use crate::report::Reproduction;

/// Every registered reproduction, in report order.
pub fn all() -> Vec<Reproduction> {
    vec![
        max_retrieval::reproduction(),
        change_of_mind::reproduction(),
    ]
}

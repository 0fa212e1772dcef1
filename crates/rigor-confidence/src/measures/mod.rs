//! The paper's measures (S5) on completed trials, and the calibration of stage-1 confidence.
//!
//! | measure | definition | module |
//! |---|---|---|
//! | change-of-mind rate | $P(\text{final answer} \ne i)$ per cell / display | [`change_of_mind`] |
//! | confidence change | $c^\prime_\text{obs} - c$ in the initially chosen option $i$ | [`update`] |
//! | overweighting ratio | $\sum \Delta_\text{obs} / \sum \Delta_\text{Bayes}$ on log-odds | [`update`] |
//! | over/underconfidence gap | $c^\prime_\text{obs} - c^\prime_\text{Bayes}$ (positive = overconfident) | [`update`] |
//! | ECE, Brier, AUROC | stage-1 confidence vs correctness | [`calibration`] |
//! | temperature scaling | $\operatorname{softmax}(\ln p / T)$, $T$ by NLL | [`temperature`] |

pub mod calibration;
pub mod change_of_mind;
pub mod temperature;
pub mod update;

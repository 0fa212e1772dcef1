//! Global magnitude pruning (S4's Powerprop case study: "accuracy vs fraction of weights kept
//! after global magnitude pruning"; Schwarz et al. 2021, §4).
//!
//! One threshold for the whole model: the `keep · N` weights of largest $|w|$ over all pruned
//! parameters survive, the rest are set to 0. Ties at the threshold are all kept, so the kept
//! fraction can exceed the request by the number of ties (reported in [`PruneReport`]).
//! The accuracy of the pruned model is the caller's evaluation ([`pruning_curve`]).

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;

use crate::error::{Result, check_param};

/// Which parameters are pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PruneScope {
    /// Parameters of rank ≥ 2 (weight matrices, kernels); biases and norms untouched. The
    /// usual choice.
    Weights,
    /// Every float parameter.
    All,
}

impl PruneScope {
    fn includes(self, rank: usize) -> bool {
        match self {
            PruneScope::Weights => rank >= 2,
            PruneScope::All => true,
        }
    }
}

/// What [`prune_global_magnitude`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PruneReport {
    /// Requested keep fraction.
    pub keep: f64,
    /// Magnitude threshold: entries with $|w| <$ threshold were zeroed (`+∞` when keep = 0).
    pub threshold: f64,
    /// Number of prunable entries.
    pub total: usize,
    /// Entries left (`|w| ≥ threshold`), ties included.
    pub kept: usize,
}

struct Collect {
    scope: PruneScope,
    magnitudes: Vec<f32>,
}

impl ModuleVisitor for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if self.scope.includes(D) {
            let v = param
                .val()
                .abs()
                .try_into_vec_as::<f32>()
                .expect("reading parameters back to the host failed");
            self.magnitudes.extend(v);
        }
    }
}

struct Zero {
    scope: PruneScope,
    threshold: f64,
}

impl ModuleMapper for Zero {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if !self.scope.includes(D) {
            return param;
        }
        let thr = self.threshold;
        param.map(|t| {
            if thr.is_infinite() {
                t.zeros_like()
            } else {
                let mask = t.clone().abs().lower_elem(thr);
                t.mask_fill(mask, 0.0)
            }
        })
    }
}

/// Prunes `module` globally by magnitude, keeping the fraction `keep ∈ [0, 1]` of the
/// parameters in `scope`. Returns the pruned module and a report.
pub fn prune_global_magnitude<M: Module>(
    module: M,
    keep: f64,
    scope: PruneScope,
) -> Result<(M, PruneReport)> {
    check_param(
        "keep",
        keep,
        (0.0..=1.0).contains(&keep),
        "must be in [0, 1]",
    )?;
    let mut collect = Collect {
        scope,
        magnitudes: Vec::new(),
    };
    module.visit(&mut collect);
    let mut mags = collect.magnitudes;
    let total = mags.len();
    let k = ((keep * total as f64).round() as usize).min(total);
    let threshold = if k == 0 {
        f64::INFINITY
    } else {
        mags.sort_unstable_by(|a, b| b.total_cmp(a));
        f64::from(mags[k - 1])
    };
    let kept = mags.iter().filter(|&&m| f64::from(m) >= threshold).count();
    let pruned = module.map(&mut Zero { scope, threshold });
    Ok((
        pruned,
        PruneReport {
            keep,
            threshold,
            total,
            kept,
        },
    ))
}

/// One point of a pruning curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PruningPoint {
    /// The pruning report (requested / actual kept fraction).
    pub report: PruneReport,
    /// The caller's evaluation of the pruned model (e.g. test accuracy).
    pub score: f64,
}

/// Prunes a copy of `module` at every keep fraction and evaluates it with `eval`.
pub fn pruning_curve<M: Module + Clone>(
    module: &M,
    keeps: &[f64],
    scope: PruneScope,
    mut eval: impl FnMut(&M) -> f64,
) -> Result<Vec<PruningPoint>> {
    keeps
        .iter()
        .map(|&keep| {
            let (pruned, report) = prune_global_magnitude(module.clone(), keep, scope)?;
            Ok(PruningPoint {
                report,
                score: eval(&pruned),
            })
        })
        .collect()
}

//! Run reports: every experiment writes, into its own folder, `results.json` (config, seeds,
//! metrics, crate versions, backend), CSV tables, SVG figures and a markdown section with its
//! table next to the paper's numbers; [`registry`] gathers reproductions into one index.
//!
//! | what | where |
//! |---|---|
//! | output folder, `results.json`, run metadata | [`run`] |
//! | tables → CSV / markdown | [`table`] |
//! | line plots with mean ± std bands → SVG | [`plot`] |
//! | heat maps (panels on one colour scale) → SVG | [`heatmap`] |
//! | mean ± std, paired t-test, exact McNemar test, Pearson r with a bootstrap CI, micro-F1 | [`stats`] |
//! | `Reproduction`, `ReproCtx`, `ReportSection`, the index | [`registry`] |

pub mod heatmap;
pub mod plot;
pub mod registry;
pub mod run;
pub mod stats;
pub mod table;

pub use heatmap::{Heatmap, HeatmapGrid};
pub use plot::{LinePlot, Series};
pub use registry::{IndexEntry, ReportSection, ReproCtx, Reproduction, Scale, write_index};
pub use run::{Results, RunDir, RunMeta};
pub use stats::{
    Correlation, MeanStd, PairedTest, mcnemar_exact, mean_std, micro_f1, paired_t_test, pearson,
    pearson_bootstrap,
};
pub use table::Table;

//! The theory of S3, *Perplexity Cannot Always Tell Right from Wrong*.
//!
//! - [`iso`]: $\operatorname{pplx}(a, \gamma)$, the critical accuracy, iso-perplexity grids and
//!   curves (Section 4).
//! - [`temperature`]: Remark 3.4, temperature folded into confidence.
//! - [`boole`]: union bounds on copying (Remark 3.5 / Prop. 3.6 as derived here).
//! - [`counterexample`]: Lemma 3.1 as a search over bit flips.
//! - `plot` (feature `plot`, on by default): SVG iso-perplexity plots.

pub mod boole;
pub mod counterexample;
pub mod iso;
#[cfg(feature = "plot")]
pub mod plot;
pub mod temperature;

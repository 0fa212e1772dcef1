//! The two-mechanism model (paper S5): a beta regression of final confidence on prior
//! confidence, a Shown term and separate Same / Opposite advice weights, nested models A–D
//! compared by information criteria and held-out likelihood, with bootstrap uncertainty.
//!
//! | what | module |
//! |---|---|
//! | beta regression, logit link, ML fit | [`beta`] |
//! | models A–D, rows from trials | [`models`] |
//! | AIC / BIC / held-out comparison | [`selection`] |
//! | bootstrap intervals | [`bootstrap`] |

pub mod beta;
pub mod bootstrap;
mod linalg;
pub mod models;
pub mod selection;
pub mod special;

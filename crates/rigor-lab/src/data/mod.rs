//! Data sets the reproductions train on.
//!
//! - [`corpus`] — a byte-level text corpus ([`ByteCorpus`]): the committed King James Version
//!   (`data/kjv.txt.gz`, public domain, from Debian's `bible-kjv-text`) or any UTF-8 file,
//!   split into training and validation text by contiguous blocks; the RoPE reproduction's
//!   language-model data.

//! - [`digits`] — the UCI optical-digits set (8 × 8, 1 797 images, CC BY 4.0) committed in
//!   `crates/rigor-lab/data/`, usable offline; [`mnist`] reads MNIST's IDX files (plain or
//!   gzipped) for users who have them. Both give a [`Dataset`] (pixels in `[0, 1]`, host-side;
//!   [`Dataset::tensors`] moves one to a device): the optimizer case studies' data.
//! - [`tasks`] — seeded continual-learning sequences (permuted pixels, class-incremental
//!   pairs) for the forgetting case study.

pub mod corpus;
pub mod digits;
mod images;
pub mod mnist;
pub mod tasks;

pub use corpus::{ByteCorpus, CorpusSplit, VOCAB_BYTES};
pub use images::Dataset;

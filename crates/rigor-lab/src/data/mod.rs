//! Data sets the reproductions train on.
//!
//! - [`corpus`] — a byte-level text corpus ([`ByteCorpus`]): the committed King James Version
//!   (`data/kjv.txt.gz`, public domain, from Debian's `bible-kjv-text`) or any UTF-8 file,
//!   split into training and validation text by contiguous blocks; the RoPE reproduction's
//!   language-model data.

pub mod corpus;

pub use corpus::{ByteCorpus, CorpusSplit, VOCAB_BYTES};

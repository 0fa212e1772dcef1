//! A byte-level text corpus for language-model training (vocabulary 256: token = byte).
//!
//! **Split.** The text is cut into [`CorpusSplit::blocks`] contiguous blocks of equal length
//! (the last absorbs the remainder); every `valid_every`-th block (block indices
//! `valid_every − 1, 2·valid_every − 1, …`) is validation text, the rest is training text,
//! each concatenated in order. The default, 20 blocks with every 10th held out, keeps 10 % of
//! the text for validation in two stretches (for the King James Version: part of the
//! Psalms–Proverbs and Revelation's end), so validation text is never a random sample of
//! lines seen in training. The split is a pure function of the text and these two numbers.
//!
//! **Errors, never panics**: an empty file, text that is not UTF-8 (with the byte offset of the
//! first bad sequence), a split that leaves either part shorter than the context a caller
//! needs ([`ByteCorpus::check_context`]), and unreadable or corrupt (`gzip` CRC) files.

use std::io::Read;
use std::path::{Path, PathBuf};

use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::error::{LabError, Result};
use crate::rng::{self, LabRng};

/// The vocabulary of a byte-level model: one token per byte value.
pub const VOCAB_BYTES: usize = 256;

/// How a text is split into training and validation blocks (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorpusSplit {
    /// Number of contiguous blocks the text is cut into.
    pub blocks: usize,
    /// Every `valid_every`-th block is validation text.
    pub valid_every: usize,
}

impl Default for CorpusSplit {
    /// 20 blocks, every 10th (blocks 9 and 19) for validation: 10 % of the text.
    fn default() -> Self {
        Self {
            blocks: 20,
            valid_every: 10,
        }
    }
}

impl CorpusSplit {
    fn validate(&self) -> Result<()> {
        if self.blocks < 2 {
            return Err(LabError::config(
                "CorpusSplit::blocks",
                self.blocks,
                "need at least 2 blocks (one for training, one for validation)",
            ));
        }
        if self.valid_every < 2 || self.valid_every > self.blocks {
            return Err(LabError::config(
                "CorpusSplit::valid_every",
                self.valid_every,
                "must be in 2..=blocks, so both parts get a block",
            ));
        }
        Ok(())
    }
}

/// A UTF-8 text as bytes, split into training and validation text.
#[derive(Debug, Clone, PartialEq)]
pub struct ByteCorpus {
    /// Where the text came from (a path, or `"kjv"` for the committed corpus).
    pub source: String,
    /// Bytes of the whole text.
    pub total_bytes: usize,
    /// The split used.
    pub split: CorpusSplit,
    /// Training text.
    pub train: Vec<u8>,
    /// Validation text.
    pub valid: Vec<u8>,
}

impl ByteCorpus {
    /// Path of the committed King James Version (`crates/rigor-lab/data/kjv.txt.gz`).
    pub fn kjv_path() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/kjv.txt.gz")
    }

    /// The committed King James Version (4 137 850 bytes, public domain; `data/README.md`)
    /// with the default split.
    ///
    /// # Errors
    /// As [`from_path`](Self::from_path).
    pub fn kjv() -> Result<Self> {
        let mut c = Self::from_path(&Self::kjv_path(), CorpusSplit::default())?;
        c.source = "kjv".into();
        Ok(c)
    }

    /// Reads a UTF-8 text file (gzip-compressed when the name ends in `.gz`) and splits it.
    ///
    /// # Errors
    /// [`LabError::Io`] (unreadable file, corrupt gzip stream), and the errors of
    /// [`from_bytes`](Self::from_bytes).
    pub fn from_path(path: &Path, split: CorpusSplit) -> Result<Self> {
        let raw = std::fs::read(path).map_err(|e| LabError::io(path, e))?;
        let bytes = if path.extension().is_some_and(|e| e == "gz") {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(raw.as_slice())
                .read_to_end(&mut out)
                .map_err(|e| LabError::io(path, e))?;
            out
        } else {
            raw
        };
        Self::from_bytes(&path.display().to_string(), bytes, split)
    }

    /// Splits `bytes` (which must be non-empty UTF-8) by `split`.
    ///
    /// # Errors
    /// [`LabError::Corpus`] for an empty or non-UTF-8 text or one too short to give every
    /// block a byte; [`LabError::InvalidConfig`] for a split with fewer than 2 blocks or
    /// `valid_every` outside `2..=blocks`.
    pub fn from_bytes(source: &str, bytes: Vec<u8>, split: CorpusSplit) -> Result<Self> {
        split.validate()?;
        let bad = |why: String| LabError::Corpus {
            origin: source.to_string(),
            why,
        };
        if bytes.is_empty() {
            return Err(bad("the text is empty".into()));
        }
        if let Err(e) = std::str::from_utf8(&bytes) {
            return Err(bad(format!(
                "not UTF-8: invalid byte sequence at byte offset {}",
                e.valid_up_to()
            )));
        }
        let n = bytes.len();
        if n < split.blocks {
            return Err(bad(format!(
                "{n} bytes cannot be cut into {} blocks",
                split.blocks
            )));
        }
        let block = n / split.blocks;
        let (mut train, mut valid) = (Vec::new(), Vec::new());
        for b in 0..split.blocks {
            let lo = b * block;
            let hi = if b + 1 == split.blocks { n } else { lo + block };
            let part = if (b + 1).is_multiple_of(split.valid_every) {
                &mut valid
            } else {
                &mut train
            };
            part.extend_from_slice(&bytes[lo..hi]);
        }
        Ok(Self {
            source: source.to_string(),
            total_bytes: n,
            split,
            train,
            valid,
        })
    }

    /// Checks that training text holds at least one window of `train_context + 1` bytes and
    /// validation text at least one of `valid_context` bytes.
    ///
    /// # Errors
    /// [`LabError::Corpus`] naming the part that is too short.
    pub fn check_context(&self, train_context: usize, valid_context: usize) -> Result<()> {
        for (part, have, need) in [
            ("training", self.train.len(), train_context + 1),
            ("validation", self.valid.len(), valid_context),
        ] {
            if have < need {
                return Err(LabError::Corpus {
                    origin: self.source.clone(),
                    why: format!(
                        "its {part} text has {have} bytes, shorter than one context of {need} bytes"
                    ),
                });
            }
        }
        Ok(())
    }

    /// `batch` training windows of `len` bytes at uniformly random offsets, as token ids
    /// `[batch, len]`.
    ///
    /// # Errors
    /// [`LabError::Corpus`] if the training text is shorter than `len`;
    /// [`LabError::InvalidConfig`] for `len == 0` or `batch == 0`.
    pub fn train_windows(
        &self,
        batch: usize,
        len: usize,
        rng: &mut LabRng,
        device: &Device,
    ) -> Result<Tensor<2, Int>> {
        if batch == 0 || len == 0 {
            return Err(LabError::config(
                "ByteCorpus::train_windows batch / len",
                format!("{batch} / {len}"),
                "must be ≥ 1",
            ));
        }
        self.check_context(len - 1, 0)?;
        let span = self.train.len() - len + 1;
        let mut ids = Vec::with_capacity(batch * len);
        for _ in 0..batch {
            let at = rng::index(rng, span);
            ids.extend(self.train[at..at + len].iter().map(|&b| i64::from(b)));
        }
        Ok(Tensor::from_data(
            TensorData::new(ids, [batch, len]),
            device,
        ))
    }

    /// The first `count` non-overlapping validation windows of `len` bytes (fewer if the
    /// validation text runs out), as token-id rows.
    ///
    /// # Errors
    /// [`LabError::Corpus`] if not even one window fits; [`LabError::InvalidConfig`] for
    /// `len == 0`.
    pub fn valid_windows(&self, len: usize, count: usize) -> Result<Vec<Vec<i64>>> {
        if len == 0 {
            return Err(LabError::config(
                "ByteCorpus::valid_windows len",
                len,
                "must be ≥ 1",
            ));
        }
        self.check_context(0, len)?;
        Ok(self
            .valid
            .chunks_exact(len)
            .take(count)
            .map(|w| w.iter().map(|&b| i64::from(b)).collect())
            .collect())
    }
}

//! The UCI optical-digits set (Alpaydin & Kaynak 1998, CC BY 4.0), as shipped in
//! scikit-learn's wheel and committed in `crates/rigor-lab/data/digits.csv.gz` (see that
//! folder's README for provenance and `scripts/extract_digits.py` for the extraction).

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::data::Dataset;
use crate::error::{LabError, Result};

/// Number of images.
pub const LEN: usize = 1797;
/// Pixels per image (8 × 8).
pub const FEATURES: usize = 64;

/// Path of the committed file.
pub fn default_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/digits.csv.gz")
}

/// Loads the committed digits set (pixels / 16 → `[0, 1]`).
pub fn load() -> Result<Dataset> {
    load_from(default_path())
}

/// Loads a `digits.csv(.gz)` file: one image per line, 64 pixel counts 0–16 then the label.
pub fn load_from(path: impl AsRef<Path>) -> Result<Dataset> {
    let path = path.as_ref();
    let err = |reason: String| LabError::Dataset {
        origin: path.display().to_string(),
        why: reason,
    };
    let raw = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let text = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut s = String::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_string(&mut s)
            .map_err(|e| err(format!("gzip: {e}")))?;
        s
    } else {
        String::from_utf8(raw).map_err(|e| err(e.to_string()))?
    };
    let mut images = Vec::with_capacity(LEN * FEATURES);
    let mut labels = Vec::with_capacity(LEN);
    for (lineno, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let vals: Vec<f64> = line
            .split(',')
            .map(|v| v.trim().parse::<f64>())
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| err(format!("line {}: {e}", lineno + 1)))?;
        if vals.len() != FEATURES + 1 {
            return Err(err(format!(
                "line {}: expected {} values, got {}",
                lineno + 1,
                FEATURES + 1,
                vals.len()
            )));
        }
        let label = vals[FEATURES];
        if !(0.0..=9.0).contains(&label) || label.fract() != 0.0 {
            return Err(err(format!("line {}: bad label {label}", lineno + 1)));
        }
        images.extend(vals[..FEATURES].iter().map(|&p| (p / 16.0) as f32));
        labels.push(label as usize);
    }
    Dataset::new(images, labels, FEATURES)
}

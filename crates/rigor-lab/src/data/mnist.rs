//! MNIST's IDX format (LeCun et al.): big-endian magic `0x00000803` (images: count, rows,
//! cols, then `u8` pixels) and `0x00000801` (labels: count, then `u8` labels). Files may be
//! gzipped (`*.gz`, detected by content). MNIST itself is not redistributed here.

use std::io::Read;
use std::path::Path;

use crate::data::Dataset;
use crate::error::{LabError, Result};

fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| LabError::Dataset {
        origin: path.display().to_string(),
        why: e.to_string(),
    })?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| LabError::Dataset {
                origin: path.display().to_string(),
                why: format!("gzip: {e}"),
            })?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

fn be_u32(b: &[u8], at: usize) -> Option<usize> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

/// Parses IDX image and label bytes (pixels / 255 → `[0, 1]`).
pub fn parse(images: &[u8], labels: &[u8]) -> std::result::Result<Dataset, String> {
    if be_u32(images, 0) != Some(0x803) {
        return Err("images: bad magic (expected 0x00000803)".into());
    }
    if be_u32(labels, 0) != Some(0x801) {
        return Err("labels: bad magic (expected 0x00000801)".into());
    }
    let (n, rows, cols) = match (be_u32(images, 4), be_u32(images, 8), be_u32(images, 12)) {
        (Some(n), Some(r), Some(c)) => (n, r, c),
        _ => return Err("images: truncated header".into()),
    };
    let nl = be_u32(labels, 4).ok_or("labels: truncated header")?;
    if nl != n {
        return Err(format!("{n} images but {nl} labels"));
    }
    let f = rows * cols;
    let px = images.get(16..16 + n * f).ok_or("images: truncated data")?;
    let lb = labels.get(8..8 + n).ok_or("labels: truncated data")?;
    Dataset::new(
        px.iter().map(|&p| p as f32 / 255.0).collect(),
        lb.iter().map(|&l| l as usize).collect(),
        f,
    )
    .map_err(|e| e.to_string())
}

/// Loads an IDX image file and its label file (e.g. `train-images-idx3-ubyte(.gz)`,
/// `train-labels-idx1-ubyte(.gz)`).
pub fn load(images: impl AsRef<Path>, labels: impl AsRef<Path>) -> Result<Dataset> {
    let (ip, lp) = (images.as_ref(), labels.as_ref());
    parse(&read_maybe_gz(ip)?, &read_maybe_gz(lp)?).map_err(|reason| LabError::Dataset {
        origin: format!("{} + {}", ip.display(), lp.display()),
        why: reason,
    })
}

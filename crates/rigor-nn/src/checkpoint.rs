//! Saving and loading trained modules (Burn 0.22's burnpack records).
//!
//! A record holds the **parameters** only. The hyper-parameters — including the normalizer
//! and the RoPE variant, which are not parameters — live in the config: save it with the
//! derived `config.save(path)` (JSON) and rebuild with `Config::load(path)` → `init`, then
//! load the weights into that fresh module:
//!
//! ```
//! use burn::config::Config;
//! use burn::tensor::Device;
//! use rigor_nn::{DecoderLmConfig, checkpoint};
//!
//! let device = Device::flex();
//! let dir = std::env::temp_dir().join(format!("rigor-nn-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let config = DecoderLmConfig::new(7, 8, 2, 1);
//! let model = config.init(&device).unwrap();
//! config.save(dir.join("config.json")).unwrap();
//! checkpoint::save(model, dir.join("model.bpk")).unwrap();
//!
//! let config = DecoderLmConfig::load(dir.join("config.json")).unwrap();
//! let fresh = config.init(&device).unwrap();
//! let loaded = checkpoint::load(fresh, dir.join("model.bpk")).unwrap();
//! # let _ = loaded; std::fs::remove_dir_all(&dir).ok();
//! ```

use std::path::Path;

use burn::module::Module;
use burn::store::ModuleRecord;

use crate::error::{NnError, Result};

/// Writes `module`'s parameters to a burnpack file (conventionally `.bpk`).
///
/// # Errors
/// [`NnError::Io`] if the file cannot be written.
pub fn save<M: Module>(module: M, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    module.into_record().save(path).map_err(|e| NnError::Io {
        op: "saving",
        path: path.display().to_string(),
        detail: e.to_string(),
    })
}

/// Loads parameters saved by [`save`] into `module`, which must have the same architecture
/// (build it from the same config). Tensors land on `module`'s device.
///
/// # Errors
/// [`NnError::Io`] if the file cannot be read, or if a parameter is missing, unused or of
/// another shape.
pub fn load<M: Module>(module: M, path: impl AsRef<Path>) -> Result<M> {
    let path = path.as_ref();
    let io = |e: burn::store::RecordError| NnError::Io {
        op: "loading",
        path: path.display().to_string(),
        detail: e.to_string(),
    };
    let record = ModuleRecord::load(path).map_err(io)?;
    module.try_load_record(record).map_err(io)
}

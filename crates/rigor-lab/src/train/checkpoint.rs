//! Checkpoints: a module's parameters in Burn's burnpack format (`.bpk`), via
//! [`Module::into_record`] / [`Module::load_record`].

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::ModuleRecord;

use crate::error::{LabError, Result};

/// `dir/step-000123.bpk`: where the trainer saves the model after `step` steps.
pub fn checkpoint_path(dir: &Path, step: usize) -> PathBuf {
    dir.join(format!("step-{step:06}.bpk"))
}

/// Saves `model`'s parameters to `path` (creating the parent folder).
///
/// # Errors
/// [`LabError::Io`] if the folder cannot be created, [`LabError::Checkpoint`] if Burn cannot
/// write the record.
pub fn save_checkpoint<M: Module>(model: &M, path: &Path) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| LabError::io(parent, e))?;
    }
    model
        .clone()
        .into_record()
        .save(path)
        .map_err(|e| LabError::Checkpoint {
            path: path.to_path_buf(),
            source: e.into(),
        })
}

/// Loads the parameters saved at `path` into `model` (same architecture).
///
/// # Errors
/// [`LabError::Checkpoint`] if the file cannot be read or does not match the module.
pub fn load_checkpoint<M: Module>(model: M, path: &Path) -> Result<M> {
    let record = ModuleRecord::load(path).map_err(|e| LabError::Checkpoint {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    model
        .try_load_record(record)
        .map_err(|e| LabError::Checkpoint {
            path: path.to_path_buf(),
            source: e.into(),
        })
}

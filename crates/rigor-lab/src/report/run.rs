//! An experiment's output folder and its `results.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::{LinePlot, Table};
use crate::error::{LabError, Result};

/// The Burn version every rigor crate pins (`burn = "=0.22.1"` in the workspace).
pub const BURN_VERSION: &str = "0.22.1";

/// Where and how a run happened: crate versions, backend, time, command line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    /// `crate → version` for rigor-lab, rigor-softmax's workspace version and Burn.
    pub versions: BTreeMap<String, String>,
    /// The device, as Burn prints it (`Debug`).
    pub backend: String,
    /// Seconds since the Unix epoch when the run started.
    pub started_unix: u64,
    /// Wall-clock seconds the run took (filled in by [`RunMeta::finish`]).
    pub elapsed_s: f64,
    /// The process's command line.
    pub command: Vec<String>,
}

impl RunMeta {
    /// Metadata for a run starting now on `device`.
    pub fn start(device: &Device) -> Self {
        Self::with_backend(format!("{device:?}"))
    }

    /// Metadata for a run starting now on the backend described by `backend`.
    pub fn with_backend(backend: String) -> Self {
        let mut versions = BTreeMap::new();
        versions.insert("rigor-lab".into(), env!("CARGO_PKG_VERSION").into());
        versions.insert("burn".into(), BURN_VERSION.into());
        Self {
            versions,
            backend,
            started_unix: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            elapsed_s: 0.0,
            command: std::env::args().collect(),
        }
    }

    /// Records the elapsed time since [`start`](Self::start).
    pub fn finish(&mut self) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        self.elapsed_s = (now - self.started_unix as f64).max(0.0);
    }
}

/// The content of `results.json`: config, seeds, metrics and metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results<C, M> {
    /// Experiment name.
    pub name: String,
    /// Versions, backend, timing, command line.
    pub meta: RunMeta,
    /// The experiment's configuration.
    pub config: C,
    /// The seeds that were run.
    pub seeds: Vec<u64>,
    /// The experiment's metrics.
    pub metrics: M,
}

/// An output folder for one experiment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// Creates `path` (and parents) if needed.
    ///
    /// # Errors
    /// [`LabError::Io`].
    pub fn create(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        std::fs::create_dir_all(&path).map_err(|e| LabError::io(&path, e))?;
        Ok(Self { path })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `folder/name`.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Writes `value` as pretty JSON to `folder/name`.
    ///
    /// # Errors
    /// [`LabError::Json`], [`LabError::Io`].
    pub fn write_json<T: Serialize>(&self, name: &str, value: &T) -> Result<PathBuf> {
        let path = self.join(name);
        let text = serde_json::to_string_pretty(value)?;
        std::fs::write(&path, text).map_err(|e| LabError::io(&path, e))?;
        Ok(path)
    }

    /// Writes `results.json`.
    ///
    /// # Errors
    /// As [`write_json`](Self::write_json).
    pub fn write_results<C: Serialize, M: Serialize>(
        &self,
        results: &Results<C, M>,
    ) -> Result<PathBuf> {
        self.write_json("results.json", results)
    }

    /// Writes `table` as CSV to `folder/name`.
    ///
    /// # Errors
    /// [`LabError::Io`].
    pub fn write_csv(&self, name: &str, table: &Table) -> Result<PathBuf> {
        let path = self.join(name);
        table.write_csv(&path)?;
        Ok(path)
    }

    /// Draws `plot` as SVG to `folder/name`.
    ///
    /// # Errors
    /// [`LabError::Plot`].
    pub fn write_svg(&self, name: &str, plot: &LinePlot) -> Result<PathBuf> {
        let path = self.join(name);
        plot.write_svg(&path)?;
        Ok(path)
    }

    /// Writes `text` to `folder/name`.
    ///
    /// # Errors
    /// [`LabError::Io`].
    pub fn write_text(&self, name: &str, text: &str) -> Result<PathBuf> {
        let path = self.join(name);
        std::fs::write(&path, text).map_err(|e| LabError::io(&path, e))?;
        Ok(path)
    }
}

//! Reproductions as data: each paper's headline experiment registers a [`Reproduction`]; the
//! `reproduce` example runs them all under one [`ReproCtx`] and [`write_index`] gathers their
//! [`ReportSection`]s into one `index.md`.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::error::{LabError, Result};

/// How big a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// Seconds: for tests.
    Tiny,
    /// Minutes on a 2-core CPU: the default of every example and of `reproduce`.
    Default,
    /// The paper's scale (hours on a CPU).
    Full,
}

/// What a reproduction is run with.
#[derive(Debug, Clone)]
pub struct ReproCtx {
    /// The report's root folder; a reproduction writes into `out_dir/<name>/`.
    pub out_dir: PathBuf,
    /// The scale.
    pub scale: Scale,
    /// An autodiff device (`Device::flex().autodiff()` by default).
    pub device: Device,
    /// Overrides the scale's number of seeds.
    pub seeds: Option<usize>,
    /// Show progress bars.
    pub progress: bool,
    /// A text corpus (UTF-8, gzip if `.gz`) for the reproductions that train language models
    /// on text (the RoPE one); `None` is the committed King James Version.
    pub corpus: Option<PathBuf>,
}

impl ReproCtx {
    /// A context at `scale` on `device` writing under `out_dir`, with progress bars.
    pub fn new(out_dir: impl Into<PathBuf>, scale: Scale, device: Device) -> Self {
        Self {
            out_dir: out_dir.into(),
            scale,
            device,
            seeds: None,
            progress: true,
            corpus: None,
        }
    }

    /// `out_dir/<name>`.
    pub fn dir(&self, name: &str) -> PathBuf {
        self.out_dir.join(name)
    }
}

/// A reproduction's part of the report: markdown plus figures, all inside its own folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportSection {
    /// Section heading.
    pub title: String,
    /// Markdown body (tables, text) without the heading and figures.
    pub body: String,
    /// `(caption, file name inside the section's folder)` of each figure.
    pub figures: Vec<(String, String)>,
    /// The section's folder name under the report root.
    pub folder: String,
}

impl ReportSection {
    /// The section as markdown, with figure links relative to `link_prefix` (`""` inside the
    /// section's folder, `"<folder>/"` from the report root).
    pub fn to_markdown(&self, link_prefix: &str) -> String {
        let mut out = format!("## {}\n\n{}\n", self.title, self.body.trim_end());
        for (caption, file) in &self.figures {
            out.push_str(&format!("\n![{caption}]({link_prefix}{file})\n"));
        }
        out
    }
}

/// A registered reproduction.
#[derive(Debug, Clone, Copy)]
pub struct Reproduction {
    /// Folder-safe name, e.g. `"max_retrieval"`.
    pub name: &'static str,
    /// The paper and section it reproduces.
    pub paper: &'static str,
    /// Runs it and returns its section (it writes its own files under `ctx.dir(name)`).
    pub run: fn(&ReproCtx) -> Result<ReportSection>,
}

/// One reproduction's outcome, for [`write_index`].
#[derive(Debug)]
pub struct IndexEntry<'a> {
    /// The reproduction.
    pub reproduction: &'a Reproduction,
    /// What its run returned.
    pub outcome: &'a Result<ReportSection>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Writes `out_dir/index.md`: a summary table (status, time) then each section, with figure
/// links relative to `out_dir`. Failed reproductions appear with their error.
///
/// # Errors
/// [`LabError::Io`].
pub fn write_index(out_dir: &Path, ctx: &ReproCtx, entries: &[IndexEntry<'_>]) -> Result<PathBuf> {
    let mut md = String::from("# rigor — reproductions\n\n");
    md.push_str(&format!(
        "Scale: `{:?}` · device: `{:?}` · rigor-lab {}\n\n",
        ctx.scale,
        ctx.device,
        env!("CARGO_PKG_VERSION")
    ));
    md.push_str("| reproduction | paper | status | time |\n|---|---|---|---|\n");
    for e in entries {
        let status = match e.outcome {
            Ok(_) => "ok".to_string(),
            Err(err) => format!("failed: {}", err.to_string().replace('|', "\\|")),
        };
        md.push_str(&format!(
            "| {} | {} | {} | {:.0} s |\n",
            e.reproduction.name, e.reproduction.paper, status, e.seconds
        ));
    }
    for e in entries {
        md.push('\n');
        match e.outcome {
            Ok(section) => md.push_str(&section.to_markdown(&format!("{}/", section.folder))),
            Err(err) => md.push_str(&format!("## {}\n\nFailed: `{err}`\n", e.reproduction.name)),
        }
    }
    std::fs::create_dir_all(out_dir).map_err(|e| LabError::io(out_dir, e))?;
    let path = out_dir.join("index.md");
    std::fs::write(&path, md).map_err(|e| LabError::io(&path, e))?;
    Ok(path)
}

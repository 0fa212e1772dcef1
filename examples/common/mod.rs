//! Command-line flags shared by the reproduction examples (`max_retrieval`,
//! `optimizer_forgetting`, `powerprop_sparsity`, `reproduce`), flattened into each one's clap
//! struct.

use burn::tensor::Device;
use clap::Args;
use rigor_lab::report::Scale;

/// `--full | --tiny`, `--seeds K`, `--device NAME`.
#[derive(Args, Debug)]
pub struct RunFlags {
    /// The paper's scale (each reproduction's `Full` preset; hours on a CPU).
    #[arg(long, conflicts_with = "tiny")]
    pub full: bool,
    /// Test scale (seconds).
    #[arg(long)]
    pub tiny: bool,
    /// Number of seeds, i.e. trained models (overrides the scale's; change_of_mind has one).
    #[arg(long)]
    pub seeds: Option<usize>,
    /// Backend: flex, ndarray, wgpu or wgpu-cpu (as compiled in).
    #[arg(long, default_value = "flex")]
    pub device: String,
}

impl RunFlags {
    /// The scale the flags pick (default unless `--full` or `--tiny`).
    pub fn scale(&self) -> Scale {
        if self.full {
            Scale::Full
        } else if self.tiny {
            Scale::Tiny
        } else {
            Scale::Default
        }
    }

    /// `--seeds K` as the seeds `0..K`, if given.
    pub fn seed_list(&self) -> Option<Vec<u64>> {
        self.seeds.map(|k| (0..k as u64).collect())
    }

    /// The autodiff device named by `--device`.
    ///
    /// # Errors
    /// An unknown or not-compiled-in backend (the message lists the choices).
    pub fn device(&self) -> Result<Device, rigor_lab::LabError> {
        Ok(rigor_lab::device::by_name(&self.device)?.autodiff())
    }
}

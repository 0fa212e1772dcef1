//! The training loop: any Burn [`Module`](burn::module::Module) on an autodiff device, any
//! Burn optimizer, a learning-rate [`schedule`], evaluation hooks every k steps, checkpoints at
//! fixed steps, and a progress bar — deterministic under a seed.
//!
//! ```
//! use burn::module::{Module, Param};
//! use burn::optim::SgdConfig;
//! use burn::tensor::{Device, Tensor};
//! use rigor_lab::train::{LrSchedule, TrainConfig, Trainer};
//!
//! #[derive(Module, Debug)]
//! struct Scalar { w: Param<Tensor<1>> }
//!
//! let device = Device::flex().autodiff();
//! let model = Scalar { w: Param::from_tensor(Tensor::from_floats([3.0], &device)) };
//! let config = TrainConfig::new(50, 0).with_schedule(LrSchedule::Constant { lr: 0.1 });
//! let out = Trainer::new(config, &device).unwrap()
//!     .fit(model, SgdConfig::new().init(), |m: &Scalar, _ctx| Ok(m.w.val().powf_scalar(2.0).sum()))
//!     .unwrap();
//! assert!(out.history.final_loss().unwrap() < 1e-3);
//! ```

pub mod checkpoint;
pub mod config;
pub mod schedule;
pub mod trainer;

pub use checkpoint::{checkpoint_path, load_checkpoint, save_checkpoint};
pub use config::TrainConfig;
pub use schedule::LrSchedule;
pub use trainer::{EvalRecord, Metrics, StepCtx, TrainHistory, TrainOutcome, Trainer};

//! Small image-classification data sets and the continual-learning task sequences of S4.
//!
//! - [`digits`]: the UCI optical-digits set (8 × 8, 1 797 images, CC BY 4.0) committed in
//!   `crates/rigor-optim/data/` — usable offline.
//! - [`mnist`]: a reader for MNIST's IDX files (plain or gzipped) for users who have them.
//! - [`tasks`]: seeded permuted-pixel sequences and class-incremental pairs
//!   ((0,1) → (2,3) → …).
//!
//! Pixels are scaled to `[0, 1]`. Everything here is host-side; [`Dataset::tensors`] moves a
//! set to a device.

pub mod digits;
pub mod mnist;
pub mod tasks;

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::error::{OptimError, Result};

/// Images (row-major, one row per sample, values in `[0, 1]`) and integer labels.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// `len × features` pixel values.
    pub images: Vec<f32>,
    /// One label per sample.
    pub labels: Vec<usize>,
    /// Pixels per image.
    pub features: usize,
}

impl Dataset {
    /// Checks that the sizes agree.
    pub fn new(images: Vec<f32>, labels: Vec<usize>, features: usize) -> Result<Self> {
        if features == 0 || images.len() != labels.len() * features {
            return Err(OptimError::ShapeMismatch {
                what: "Dataset::new",
                expected: format!("{} × {features} pixel values", labels.len()),
                got: format!("{}", images.len()),
            });
        }
        Ok(Self {
            images,
            labels,
            features,
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The samples at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> Self {
        let f = self.features;
        let mut images = Vec::with_capacity(indices.len() * f);
        for &i in indices {
            images.extend_from_slice(&self.images[i * f..(i + 1) * f]);
        }
        Self {
            images,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            features: f,
        }
    }

    /// A seeded shuffle split into `(train, test)` with `round(test_fraction · len)` test
    /// samples.
    pub fn split(&self, test_fraction: f64, seed: u64) -> Result<(Self, Self)> {
        crate::error::check_param(
            "test_fraction",
            test_fraction,
            (0.0..=1.0).contains(&test_fraction),
            "must be in [0, 1]",
        )?;
        let mut idx: Vec<usize> = (0..self.len()).collect();
        tasks::SplitMix64::new(seed).shuffle(&mut idx);
        let n_test = (test_fraction * self.len() as f64).round() as usize;
        Ok((self.subset(&idx[n_test..]), self.subset(&idx[..n_test])))
    }

    /// `(images [len, features], labels [len])` on `device`.
    pub fn tensors(&self, device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
        let x = Tensor::from_data(
            TensorData::new(self.images.clone(), [self.len(), self.features]),
            device,
        );
        let y = Tensor::from_data(
            TensorData::new(
                self.labels.iter().map(|&l| l as i64).collect::<Vec<_>>(),
                [self.len()],
            ),
            device,
        );
        (x, y)
    }
}

//! [`Dataset`]: a small image-classification set in host memory.
//!
//! Pixels are scaled to `[0, 1]`. Everything here is host-side; [`Dataset::tensors`] moves a
//! set to a device.

use burn::tensor::{Device, Int, Tensor, TensorData};

use rand::seq::SliceRandom;

use crate::error::{LabError, Result};

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
            return Err(LabError::InvalidConfig {
                what: "Dataset::new pixel values",
                value: format!(
                    "{} for {} labels × {features} features",
                    images.len(),
                    labels.len()
                ),
                why: "needs labels × features pixel values and features > 0",
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

    /// A seeded shuffle (lab's ChaCha8 stream `dataset/split` under `seed`) split into `(train, test)` with `round(test_fraction · len)` test
    /// samples.
    pub fn split(&self, test_fraction: f64, seed: u64) -> Result<(Self, Self)> {
        if !(0.0..=1.0).contains(&test_fraction) {
            return Err(LabError::config(
                "Dataset::split test_fraction",
                test_fraction,
                "must be in [0, 1]",
            ));
        }
        let mut idx: Vec<usize> = (0..self.len()).collect();
        idx.shuffle(&mut crate::rng::rng(seed, "dataset/split"));
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

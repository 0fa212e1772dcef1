//! Claim 5 (*Round and Round We Go!* §6): which frequencies a model uses.
//!
//! For chunk $k$ (frequency $g_k$) the usage is the mean 2-norm of the 2-D query (or key)
//! chunk, $\overline{\lVert q_k\rVert} = \frac{1}{N}\sum_{\text{tokens}}\lVert q_{t,k}\rVert_2$,
//! per head and layer. Since $\lvert q_k^\top \rho(g_k)^r k_k\rvert \le \lVert q_k\rVert\lVert k_k\rVert$,
//! it bounds how much a frequency can contribute to a logit. In Gemma 7B the paper finds the
//! lowest frequencies carrying the largest norms in most layers, and high frequencies in the
//! first and last layers (positional heads).
//!
//! [`FrequencyUsage`] is computed from activations or from projection weights, saved as JSON
//! (serde) and drawn as an SVG heatmap, layer × frequency.

use std::path::Path;

use burn::tensor::Tensor;
#[cfg(feature = "plot")]
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use crate::apply::{Rope, TensorLayout};
use crate::error::{Result, RopeError};
use crate::frequencies::wavelength;
use crate::layout::Layout;

/// Mean chunk norms per layer, head and frequency slot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrequencyUsage {
    /// What was measured (`"query"`, `"key"`, `"w_q"`, …).
    pub source: String,
    /// $g_k$ of every slot (slot 0 = highest frequency).
    pub inv_freq: Vec<f64>,
    /// `norms[layer][head][slot]`: mean 2-norm of the slot's 2-D chunk.
    pub norms: Vec<Vec<Vec<f64>>>,
}

impl FrequencyUsage {
    /// From per-layer activations (queries or keys) of shape given by `tensor_layout`,
    /// rotated or not (rotation preserves chunk norms). The chunks follow `rope`'s layout over
    /// its rotated width; frequencies are `rope.frequencies(seq)`.
    ///
    /// # Errors
    /// [`RopeError::ShapeMismatch`] if a layer's last dim is not `head_dim` or layers differ
    /// in head count; [`RopeError::Readback`].
    pub fn from_activations(
        source: &str,
        layers: &[Tensor<4>],
        tensor_layout: TensorLayout,
        rope: &Rope,
    ) -> Result<Self> {
        let r = rope.rotary_dim();
        let n = r / 2;
        let mut norms = Vec::with_capacity(layers.len());
        let mut seq_len = 1;
        for (l, x) in layers.iter().enumerate() {
            let x = match tensor_layout {
                TensorLayout::Bhsd => x.clone(),
                TensorLayout::Bshd => x.clone().swap_dims(1, 2),
            };
            let [b, h, s, d] = x.dims();
            if d != rope.head_dim() {
                return Err(RopeError::ShapeMismatch {
                    op: "FrequencyUsage::from_activations",
                    detail: format!("layer {l} has head_dim {d}, expected {}", rope.head_dim()),
                });
            }
            seq_len = seq_len.max(s);
            let x = x.narrow(3, 0, r);
            let sq = x.clone() * x;
            let chunk_sq: Tensor<4> = match rope.layout() {
                Layout::HalfSplit => sq.clone().narrow(3, 0, n) + sq.narrow(3, n, n),
                Layout::Interleaved => {
                    let p: Tensor<5> = sq.reshape([b, h, s, n, 2]);
                    p.sum_dim(4).reshape([b, h, s, n])
                }
            };
            // mean over batch and tokens of the chunk 2-norm → [h, n]
            let mean = chunk_sq
                .sqrt()
                .swap_dims(0, 1)
                .reshape([h, b * s, n])
                .mean_dim(1)
                .reshape([h, n]);
            norms.push(rows(mean, h, n)?);
        }
        Self::check_heads(&norms)?;
        Ok(Self {
            source: source.to_string(),
            inv_freq: rope.frequencies(seq_len).inv_freq,
            norms,
        })
    }

    /// From per-layer projection weights `[d_model, heads · head_dim]` (burn `Linear`
    /// layout): the Frobenius norm of each chunk's `[d_model, 2]` column block. For white
    /// inputs $x \sim \mathcal N(0, I)$ it is the root-mean-square chunk norm,
    /// $\mathbb E\lVert W_k^\top x\rVert^2 = \lVert W_k\rVert_F^2$.
    ///
    /// # Errors
    /// [`RopeError::ShapeMismatch`] if a weight's width is not `heads · head_dim`;
    /// [`RopeError::Readback`].
    pub fn from_projection_weights(
        source: &str,
        layers: &[Tensor<2>],
        heads: usize,
        rope: &Rope,
    ) -> Result<Self> {
        let d = rope.head_dim();
        let r = rope.rotary_dim();
        let n = r / 2;
        let mut norms = Vec::with_capacity(layers.len());
        for (l, w) in layers.iter().enumerate() {
            let [m, out] = w.dims();
            if heads == 0 || out != heads * d {
                return Err(RopeError::ShapeMismatch {
                    op: "FrequencyUsage::from_projection_weights",
                    detail: format!(
                        "layer {l} weight is [{m}, {out}], expected [d_model, heads ({heads}) x head_dim ({d})]"
                    ),
                });
            }
            let col_sq = (w.clone() * w.clone()).sum_dim(0).reshape([heads, d]);
            let col_sq = col_sq.narrow(1, 0, r);
            let chunk_sq = match rope.layout() {
                Layout::HalfSplit => col_sq.clone().narrow(1, 0, n) + col_sq.narrow(1, n, n),
                Layout::Interleaved => col_sq.reshape([heads, n, 2]).sum_dim(2).reshape([heads, n]),
            };
            norms.push(rows(chunk_sq.sqrt(), heads, n)?);
        }
        Self::check_heads(&norms)?;
        Ok(Self {
            source: source.to_string(),
            inv_freq: rope.frequencies(1).inv_freq,
            norms,
        })
    }

    fn check_heads(norms: &[Vec<Vec<f64>>]) -> Result<()> {
        if let Some(first) = norms.first()
            && let Some((l, bad)) = norms
                .iter()
                .enumerate()
                .find(|(_, x)| x.len() != first.len())
        {
            return Err(RopeError::ShapeMismatch {
                op: "FrequencyUsage",
                detail: format!(
                    "layer {l} has {} heads, layer 0 has {}",
                    bad.len(),
                    first.len()
                ),
            });
        }
        Ok(())
    }

    /// `[layer][slot]`: the norms averaged over heads.
    pub fn layer_means(&self) -> Vec<Vec<f64>> {
        self.norms
            .iter()
            .map(|heads| {
                let n = heads.first().map_or(0, Vec::len);
                (0..n)
                    .map(|k| heads.iter().map(|h| h[k]).sum::<f64>() / heads.len() as f64)
                    .collect()
            })
            .collect()
    }

    /// Wavelength $2\pi/g_k$ of every slot (`None` for a NoPE slot, $g_k = 0$).
    pub fn wavelengths(&self) -> Vec<Option<f64>> {
        self.inv_freq
            .iter()
            .map(|&g| Some(wavelength(g)).filter(|w| w.is_finite()))
            .collect()
    }

    /// Pretty JSON.
    ///
    /// # Errors
    /// [`RopeError::Io`] if serialisation fails (non-finite norms).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| RopeError::Io {
            path: "<json>".into(),
            reason: e.to_string(),
        })
    }

    /// Writes [`to_json`](Self::to_json) to `path`.
    ///
    /// # Errors
    /// [`RopeError::Io`].
    pub fn save_json(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_json()?).map_err(|e| io(path, e))
    }

    /// Writes an SVG heatmap: rows = layers (0 at the top), columns = frequency slots (highest
    /// frequency on the left), colour = head-averaged mean chunk norm, normalised per layer
    /// (so each row shows which frequencies *that* layer uses).
    ///
    /// # Errors
    /// [`RopeError::Io`].
    #[cfg(feature = "plot")]
    pub fn write_svg_heatmap(&self, path: &Path, title: &str) -> Result<()> {
        let means = self.layer_means();
        let layers = means.len();
        let slots = means.first().map_or(0, Vec::len);
        let draw = || -> core::result::Result<(), Box<dyn std::error::Error>> {
            let root =
                SVGBackend::new(path, (900, 120 + 28 * layers.max(1) as u32)).into_drawing_area();
            root.fill(&WHITE)?;
            let mut chart = ChartBuilder::on(&root)
                .caption(title, ("sans-serif", 20))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(50)
                .build_cartesian_2d(0f64..slots.max(1) as f64, layers.max(1) as f64..0f64)?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc("frequency slot k (0 = highest frequency)")
                .y_desc("layer")
                .x_labels(slots.clamp(1, 32) + 1)
                .y_labels(layers.clamp(1, 32) + 1)
                .x_label_formatter(&|v| format!("{}", v.round() as i64))
                .y_label_formatter(&|v| format!("{}", v.round() as i64))
                .draw()?;
            for (l, row) in means.iter().enumerate() {
                let max = row.iter().copied().fold(0.0, f64::max);
                chart.draw_series(row.iter().enumerate().map(|(k, &v)| {
                    let t = if max > 0.0 { v / max } else { 0.0 };
                    Rectangle::new(
                        [(k as f64, l as f64), (k as f64 + 1.0, l as f64 + 1.0)],
                        heat(t).filled(),
                    )
                }))?;
            }
            root.present()?;
            Ok(())
        };
        draw().map_err(|e| RopeError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        })
    }
}

/// White → dark red.
#[cfg(feature = "plot")]
fn heat(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let c = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
    RGBColor(c(255.0, 140.0), c(255.0, 0.0), c(255.0, 20.0))
}

fn rows(t: Tensor<2>, h: usize, n: usize) -> Result<Vec<Vec<f64>>> {
    let v = t.try_into_vec_as::<f32>().map_err(RopeError::from)?;
    Ok((0..h)
        .map(|i| {
            v[i * n..(i + 1) * n]
                .iter()
                .map(|&x| f64::from(x))
                .collect()
        })
        .collect())
}

fn io(path: &Path, e: std::io::Error) -> RopeError {
    RopeError::Io {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

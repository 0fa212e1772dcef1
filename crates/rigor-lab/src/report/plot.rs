//! Line plots with mean ± std bands, drawn to SVG with plotters.

use std::path::Path;

use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{LabError, Result};

/// One line: a mean per x and, optionally, a standard deviation drawn as a shaded band.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// x values.
    pub x: Vec<f64>,
    /// Mean y per x.
    pub mean: Vec<f64>,
    /// Standard deviation per x (band `mean ± std`), if any.
    pub std: Option<Vec<f64>>,
}

/// A figure: title, axis labels, scale and series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinePlot {
    /// Title above the chart.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// Plot x on a log₂ axis (values must be > 0).
    pub log2_x: bool,
    /// Fixed y range; `None` fits the data (bands included).
    pub y_range: Option<(f64, f64)>,
    /// The lines.
    pub series: Vec<Series>,
    /// Draw points only (a scatter plot, x need not be sorted); `false`: lines through
    /// the points.
    #[serde(default)]
    pub scatter: bool,
}

impl LinePlot {
    /// An empty plot with a linear x axis.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            log2_x: false,
            y_range: None,
            series: Vec::new(),
            scatter: false,
        }
    }

    /// Draws points only (a scatter plot).
    pub fn scatter(mut self) -> Self {
        self.scatter = true;
        self
    }

    /// Uses a log₂ x axis.
    pub fn log2_x(mut self) -> Self {
        self.log2_x = true;
        self
    }

    /// Fixes the y range.
    pub fn y_range(mut self, lo: f64, hi: f64) -> Self {
        self.y_range = Some((lo, hi));
        self
    }

    /// Adds a series.
    pub fn with_series(mut self, series: Series) -> Self {
        self.series.push(series);
        self
    }

    /// Draws the plot as an SVG file at `path` (900 × 600).
    ///
    /// # Errors
    /// [`LabError::Plot`] if a series is malformed (lengths differ, x ≤ 0 on a log axis, no
    /// finite point) or plotters fails to write.
    pub fn write_svg(&self, path: &Path) -> Result<()> {
        let err = |message: String| LabError::Plot {
            path: path.to_path_buf(),
            message,
        };
        let tx = |x: f64| if self.log2_x { x.log2() } else { x };
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for s in &self.series {
            if s.x.len() != s.mean.len() || s.std.as_ref().is_some_and(|d| d.len() != s.x.len()) {
                return Err(err(format!(
                    "series `{}`: x/mean/std lengths differ",
                    s.name
                )));
            }
            if self.log2_x && s.x.iter().any(|&x| x <= 0.0) {
                return Err(err(format!("series `{}`: x ≤ 0 on a log axis", s.name)));
            }
            for (i, (&x, &m)) in s.x.iter().zip(&s.mean).enumerate() {
                let d = s.std.as_ref().map_or(0.0, |d| d[i]);
                if x.is_finite() && m.is_finite() {
                    xs.push(tx(x));
                    ys.extend([m - d, m + d]);
                }
            }
        }
        let finite = |v: &[f64]| {
            let lo = v
                .iter()
                .copied()
                .filter(|x| x.is_finite())
                .fold(f64::INFINITY, f64::min);
            let hi = v
                .iter()
                .copied()
                .filter(|x| x.is_finite())
                .fold(f64::NEG_INFINITY, f64::max);
            (lo <= hi).then_some((lo, if hi > lo { hi } else { lo + 1.0 }))
        };
        let (x0, x1) = finite(&xs).ok_or_else(|| err("no finite point".into()))?;
        let (y0, y1) = match self.y_range {
            Some(r) => r,
            None => {
                let (lo, hi) = finite(&ys).ok_or_else(|| err("no finite point".into()))?;
                let pad = 0.05 * (hi - lo);
                (lo - pad, hi + pad)
            }
        };

        let root = SVGBackend::new(path, (900, 600)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(|e| err(e.to_string()))?;
        let log2_x = self.log2_x;
        let x_fmt = move |v: &f64| {
            if log2_x {
                format!("{}", 2f64.powf(*v).round())
            } else {
                // rounded to 6 decimals: plotters' tick values carry float noise (0.7000000000000001)
                format!("{}", (v * 1e6).round() / 1e6)
            }
        };
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_label_formatter(&x_fmt)
            .x_labels(if log2_x {
                (x1 - x0).round() as usize + 1
            } else {
                10
            })
            .draw()
            .map_err(|e| err(e.to_string()))?;
        for (i, s) in self.series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let points: Vec<(f64, f64)> =
                s.x.iter()
                    .zip(&s.mean)
                    .filter(|(x, m)| x.is_finite() && m.is_finite())
                    .map(|(&x, &m)| (tx(x), m))
                    .collect();
            if let Some(std) = &s.std {
                let upper =
                    s.x.iter()
                        .zip(&s.mean)
                        .zip(std)
                        .map(|((&x, &m), &d)| (tx(x), m + d));
                let lower =
                    s.x.iter()
                        .zip(&s.mean)
                        .zip(std)
                        .map(|((&x, &m), &d)| (tx(x), m - d));
                let mut band: Vec<(f64, f64)> = upper.collect();
                band.extend(lower.rev());
                band.retain(|(x, y)| x.is_finite() && y.is_finite());
                chart
                    .draw_series(std::iter::once(Polygon::new(
                        band,
                        color.mix(0.18).filled(),
                    )))
                    .map_err(|e| err(e.to_string()))?;
            }
            if self.scatter {
                chart
                    .draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))
                    .map_err(|e| err(e.to_string()))?
                    .label(&s.name)
                    .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
            } else {
                chart
                    .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                    .map_err(|e| err(e.to_string()))?
                    .label(&s.name)
                    .legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                    });
                chart
                    .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                    .map_err(|e| err(e.to_string()))?;
            }
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(e.to_string()))?;
        root.present().map_err(|e| err(e.to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_an_svg_with_bands_on_a_log_axis() {
        let dir = std::env::temp_dir().join(format!("rigor-lab-plot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("p.svg");
        LinePlot::new("t", "n", "acc")
            .log2_x()
            .with_series(Series {
                name: "a".into(),
                x: vec![16.0, 64.0, 256.0],
                mean: vec![0.9, 0.8, 0.5],
                std: Some(vec![0.01, 0.05, 0.1]),
            })
            .write_svg(&path)
            .unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.contains("<svg") && svg.contains("polygon"));
        let bad = LinePlot::new("t", "n", "acc").log2_x().with_series(Series {
            name: "b".into(),
            x: vec![0.0],
            mean: vec![1.0],
            std: None,
        });
        assert!(bad.write_svg(&dir.join("bad.svg")).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}

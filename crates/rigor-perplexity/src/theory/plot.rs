//! Iso-perplexity plots as SVG: curves of constant $\operatorname{pplx}(a, \gamma)$ over
//! (confidence $1-\gamma$, accuracy $a$), with marked models.

use std::path::Path;

use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{PerplexityError, Result};
use crate::theory::iso::IsoCurve;

/// A model to mark on an iso-perplexity plot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Marker {
    /// Confidence $1 - \gamma$.
    pub confidence: f64,
    /// Accuracy $a$.
    pub accuracy: f64,
    /// Label drawn next to the point.
    pub label: String,
}

/// Writes an SVG line plot of `curves` (x: confidence, y: accuracy) with `markers`, to `path`.
///
/// The x range is the smallest interval holding every curve point and marker (at least
/// $[0.5, 1]$); y is $[0, 1]$.
///
/// # Errors
/// [`PerplexityError::Plot`] if the file cannot be written.
pub fn plot_iso_perplexity(
    path: &Path,
    title: &str,
    curves: &[IsoCurve],
    markers: &[Marker],
) -> Result<()> {
    draw(path, title, curves, markers).map_err(|e| PerplexityError::Plot(e.to_string()))
}

fn draw(
    path: &Path,
    title: &str,
    curves: &[IsoCurve],
    markers: &[Marker],
) -> core::result::Result<(), Box<dyn std::error::Error>> {
    let xs = curves
        .iter()
        .flat_map(|c| c.points.iter().map(|p| p.0))
        .chain(markers.iter().map(|m| m.confidence));
    let (x_lo, x_hi) = xs.fold((0.5f64, 1.0f64), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let root = SVGBackend::new(path, (900, 650)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(x_lo..x_hi, 0f64..1f64)?;
    chart
        .configure_mesh()
        .x_desc("confidence 1 − γ")
        .y_desc("accuracy a")
        .draw()?;
    for (i, c) in curves.iter().enumerate() {
        let style = Palette99::pick(i).stroke_width(2);
        chart
            .draw_series(LineSeries::new(c.points.clone(), style))?
            .label(format!("pplx = {:.3} nats", c.level))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style));
    }
    for m in markers {
        let p = (m.confidence, m.accuracy);
        chart.draw_series(std::iter::once(Circle::new(p, 5, BLACK.filled())))?;
        chart.draw_series(std::iter::once(Text::new(
            m.label.clone(),
            p,
            ("sans-serif", 14).into_font(),
        )))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

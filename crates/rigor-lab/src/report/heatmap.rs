//! Heat maps drawn to SVG with plotters: a grid of labelled panels (one per optimizer, one per
//! attention head, …), each cell coloured on a fixed scale and, when the cells are large
//! enough to read (≥ 22 px), annotated with its value.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::{Deserialize, Serialize};

use crate::error::{LabError, Result};

/// One panel: a matrix with row and column labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heatmap {
    /// Panel caption.
    pub title: String,
    /// One label per row (top to bottom).
    pub row_labels: Vec<String>,
    /// One label per column (left to right).
    pub col_labels: Vec<String>,
    /// `values[i][j]`: row `i`, column `j`.
    pub values: Vec<Vec<f64>>,
}

/// A figure of [`Heatmap`] panels sharing one colour scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeatmapGrid {
    /// Figure title.
    pub title: String,
    /// What the rows are (drawn left of each panel).
    pub row_axis: String,
    /// What the columns are (drawn under each panel).
    pub col_axis: String,
    /// Values mapped to the ends of the colour scale (clamped outside).
    pub range: (f64, f64),
    /// Panels, laid out row-major, at most three per row.
    pub panels: Vec<Heatmap>,
}

/// A perceptually ordered colour for `t ∈ [0, 1]` (linear interpolation through five viridis
/// anchors).
pub fn viridis(t: f64) -> RGBColor {
    const ANCHORS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = t * (ANCHORS.len() - 1) as f64;
    let i = (x.floor() as usize).min(ANCHORS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (ANCHORS[i], ANCHORS[i + 1]);
    let mix = |p: f64, q: f64| (p + f * (q - p)).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

impl HeatmapGrid {
    /// Draws the grid to an SVG file at `path` (360 × 360 pixels per panel).
    ///
    /// # Errors
    /// [`LabError::Plot`] for no panel, a ragged matrix, labels of the wrong length, an empty
    /// range, or a plotters failure.
    pub fn write_svg(&self, path: &Path) -> Result<()> {
        let err = |message: String| LabError::Plot {
            path: path.to_path_buf(),
            message,
        };
        if self.panels.is_empty() {
            return Err(err("no panel".into()));
        }
        let (lo, hi) = self.range;
        if !(lo.is_finite() && hi.is_finite() && hi > lo) {
            return Err(err(format!("colour range {lo}..{hi} is empty")));
        }
        for p in &self.panels {
            let cols = p.col_labels.len();
            if p.values.len() != p.row_labels.len() || p.values.iter().any(|r| r.len() != cols) {
                return Err(err(format!(
                    "panel `{}`: values must be {} × {}",
                    p.title,
                    p.row_labels.len(),
                    cols
                )));
            }
        }
        let per_row = self.panels.len().min(3);
        let rows = self.panels.len().div_ceil(per_row);
        let (pw, ph) = (360u32, 360u32);
        let root =
            SVGBackend::new(path, (pw * per_row as u32, ph * rows as u32 + 40)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        // Shrink the title until it fits the figure's width (≈ 0.55 em per character).
        let width = f64::from(pw * per_row as u32);
        let chars = self.title.chars().count().max(1) as f64;
        let size = (width / (0.55 * chars)).clamp(10.0, 22.0);
        let root = root
            .titled(&self.title, ("sans-serif", size))
            .map_err(|e| err(e.to_string()))?;
        let areas = root.split_evenly((rows, per_row));
        for (panel, area) in self.panels.iter().zip(areas.iter()) {
            self.draw_panel(panel, area).map_err(err)?;
        }
        root.present().map_err(|e| err(e.to_string()))?;
        Ok(())
    }

    fn draw_panel(
        &self,
        panel: &Heatmap,
        area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    ) -> std::result::Result<(), String> {
        let (w, h) = area.dim_in_pixel();
        let (w, h) = (w as i32, h as i32);
        let (nr, nc) = (panel.row_labels.len() as i32, panel.col_labels.len() as i32);
        if nr == 0 || nc == 0 {
            return Ok(());
        }
        let (top, left, bottom, right) = (30, 46, 40, 10);
        let cell = ((w - left - right) / nc)
            .min((h - top - bottom) / nr)
            .max(4);
        let centre = Pos::new(HPos::Center, VPos::Center);
        let font = |size: i32| ("sans-serif", size).into_font();
        let text = |s: &str, (x, y): (i32, i32), size: i32, color: RGBColor| {
            area.draw(&Text::new(
                s.to_string(),
                (x, y),
                font(size).color(&color).pos(centre),
            ))
            .map_err(|e| e.to_string())
        };
        text(&panel.title, (left + nc * cell / 2, 14), 15, BLACK)?;
        let (lo, hi) = self.range;
        let value_size = (cell / 3).clamp(7, 13);
        for (i, row) in panel.values.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                let (x0, y0) = (left + j as i32 * cell, top + i as i32 * cell);
                let t = (v - lo) / (hi - lo);
                let color = viridis(t);
                area.draw(&Rectangle::new(
                    [(x0, y0), (x0 + cell, y0 + cell)],
                    color.filled(),
                ))
                .map_err(|e| e.to_string())?;
                let ink = if t < 0.6 { WHITE } else { BLACK };
                if v.is_finite() && cell >= 22 {
                    text(
                        &format!("{v:.2}"),
                        (x0 + cell / 2, y0 + cell / 2),
                        value_size,
                        ink,
                    )?;
                }
            }
        }
        let label_size = (cell / 3).clamp(8, 12);
        for (i, l) in panel.row_labels.iter().enumerate() {
            text(
                l,
                (left - 12, top + i as i32 * cell + cell / 2),
                label_size,
                BLACK,
            )?;
        }
        for (j, l) in panel.col_labels.iter().enumerate() {
            text(
                l,
                (left + j as i32 * cell + cell / 2, top + nr * cell + 10),
                label_size,
                BLACK,
            )?;
        }
        text(
            &self.col_axis,
            (left + nc * cell / 2, top + nr * cell + 28),
            12,
            BLACK,
        )?;
        area.draw(&Text::new(
            self.row_axis.clone(),
            (8, top + nr * cell / 2),
            font(12)
                .transform(FontTransform::Rotate270)
                .color(&BLACK)
                .pos(centre),
        ))
        .map_err(|e| e.to_string())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_a_grid_and_rejects_ragged_panels() {
        let dir = std::env::temp_dir().join(format!("rigor-lab-heatmap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let panel = Heatmap {
            title: "p".into(),
            row_labels: vec!["a".into(), "b".into()],
            col_labels: vec!["x".into(), "y".into()],
            values: vec![vec![0.0, 0.5], vec![1.0, 0.25]],
        };
        let mut grid = HeatmapGrid {
            title: "t".into(),
            row_axis: "rows".into(),
            col_axis: "cols".into(),
            range: (0.0, 1.0),
            panels: vec![panel.clone(); 4],
        };
        grid.write_svg(&dir.join("h.svg")).unwrap();
        let svg = std::fs::read_to_string(dir.join("h.svg")).unwrap();
        assert!(svg.contains("<svg") && svg.contains("0.25"));
        grid.panels[1].values[0].pop();
        assert!(grid.write_svg(&dir.join("bad.svg")).is_err());
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        std::fs::remove_dir_all(&dir).ok();
    }
}

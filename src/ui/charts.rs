//! Charts drawn with plotters on a canvas: metric histories, scatter, contour and parallel
//! coordinates. Each is a component that redraws when its data signal changes.

use leptos::html::Canvas;
use leptos::prelude::*;
use plotters::prelude::*;
use plotters_canvas::CanvasBackend;

pub const PALETTE: [RGBColor; 8] = [
    RGBColor(11, 107, 203),
    RGBColor(230, 97, 0),
    RGBColor(26, 152, 80),
    RGBColor(197, 27, 125),
    RGBColor(118, 42, 131),
    RGBColor(140, 81, 10),
    RGBColor(1, 133, 113),
    RGBColor(90, 90, 90),
];

/// One named line or point set.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// The (step, value) points of a `metrics/get-history` answer.
pub fn history_points(answer: &serde_json::Value) -> Vec<(f64, f64)> {
    answer
        .get("metrics")
        .and_then(serde_json::Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|m| {
                    Some((
                        m.get("step")?.as_f64().unwrap_or(0.0),
                        m.get("value")?.as_f64()?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if (hi - lo).abs() < 1e-12 {
        return (lo - 0.5, hi + 0.5);
    }
    let pad = (hi - lo) * 0.05;
    (lo - pad, hi + pad)
}

fn backend(canvas: &NodeRef<Canvas>) -> Option<CanvasBackend> {
    canvas.get().and_then(CanvasBackend::with_canvas_object)
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn draw_lines(
    canvas: &NodeRef<Canvas>,
    series: &[Series],
    x_label: &str,
    y_label: &str,
    points_only: bool,
) -> DrawResult {
    let Some(backend) = backend(canvas) else {
        return Ok(());
    };
    let root = backend.into_drawing_area();
    root.fill(&WHITE)?;
    let (x0, x1) = range(series.iter().flat_map(|s| s.points.iter().map(|p| p.0)));
    let (y0, y1) = range(series.iter().flat_map(|s| s.points.iter().map(|p| p.1)));
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    for (i, s) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .copied()
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect();
        if points_only {
            chart
                .draw_series(pts.iter().map(|p| Circle::new(*p, 4, color.filled())))?
                .label(s.name.clone())
                .legend(move |(x, y)| Circle::new((x + 8, y), 4, color.filled()));
        } else {
            chart
                .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))?
                .label(s.name.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
            chart.draw_series(pts.iter().map(|p| Circle::new(*p, 2, color.filled())))?;
        }
    }
    if series.len() > 1 || !points_only {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

/// Lines of (x, y) per series: metric histories by step.
#[component]
pub fn LineChart(
    #[prop(into)] series: Signal<Vec<Series>>,
    #[prop(into)] x_label: String,
    #[prop(into)] y_label: Signal<String>,
    #[prop(into)] label: String,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let x_label2 = x_label.clone();
    Effect::new(move |_| {
        let s = series.get();
        let _ = draw_lines(&canvas, &s, &x_label2, &y_label.get(), false);
    });
    view! { <canvas class="chart" node_ref=canvas width="720" height="360" role="img" aria-label=label></canvas> }
}

/// Points per series: a scatter of two chosen run values.
#[component]
pub fn ScatterChart(
    #[prop(into)] series: Signal<Vec<Series>>,
    #[prop(into)] x_label: Signal<String>,
    #[prop(into)] y_label: Signal<String>,
    #[prop(into)] label: String,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let s = series.get();
        let _ = draw_lines(&canvas, &s, &x_label.get(), &y_label.get(), true);
    });
    view! { <canvas class="chart" node_ref=canvas width="720" height="360" role="img" aria-label=label></canvas> }
}

/// One axis of a parallel-coordinates plot: its name and one value per run (None = missing).
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

fn draw_parallel(
    canvas: &NodeRef<Canvas>,
    axes: &[Axis],
    runs: &[String],
    color_by: usize,
) -> DrawResult {
    let Some(backend) = backend(canvas) else {
        return Ok(());
    };
    let root = backend.into_drawing_area();
    root.fill(&WHITE)?;
    if axes.len() < 2 {
        root.draw(&Text::new(
            "Pick at least two axes",
            (20, 30),
            ("sans-serif", 16),
        ))?;
        return root.present().map_err(Into::into);
    }
    let (w, h) = root.dim_in_pixel();
    let (left, right, top, bottom) = (60i32, 60i32, 40i32, 40i32);
    let span = (w as i32 - left - right).max(1);
    let x_of = |i: usize| left + span * i as i32 / (axes.len() as i32 - 1);
    let y_of = |t: f64| top + ((1.0 - t) * f64::from(h as i32 - top - bottom)) as i32;
    let ranges: Vec<(f64, f64)> = axes
        .iter()
        .map(|a| range(a.values.iter().flatten().copied()))
        .collect();
    let norm = |axis: usize, v: f64| {
        let (lo, hi) = ranges[axis];
        (v - lo) / (hi - lo)
    };
    let color_range = ranges.get(color_by).copied().unwrap_or((0.0, 1.0));
    for (r, _) in runs.iter().enumerate() {
        let t = axes
            .get(color_by)
            .and_then(|a| a.values[r])
            .map(|v| (v - color_range.0) / (color_range.1 - color_range.0))
            .unwrap_or(0.5);
        let color = RGBColor(
            (40.0 + 200.0 * t) as u8,
            (90.0 + 40.0 * (1.0 - t)) as u8,
            (220.0 - 180.0 * t) as u8,
        );
        let pts: Vec<(i32, i32)> = axes
            .iter()
            .enumerate()
            .filter_map(|(i, a)| a.values[r].map(|v| (x_of(i), y_of(norm(i, v)))))
            .collect();
        root.draw(&PathElement::new(pts, color.stroke_width(2)))?;
    }
    for (i, a) in axes.iter().enumerate() {
        let x = x_of(i);
        root.draw(&PathElement::new(
            vec![(x, top), (x, h as i32 - bottom)],
            BLACK.stroke_width(1),
        ))?;
        let style = ("sans-serif", 13).into_font().color(&BLACK);
        root.draw(&Text::new(a.name.clone(), (x - 30, 12), style.clone()))?;
        let (lo, hi) = ranges[i];
        root.draw(&Text::new(format!("{hi:.3}"), (x + 4, top), style.clone()))?;
        root.draw(&Text::new(
            format!("{lo:.3}"),
            (x + 4, h as i32 - bottom - 12),
            style,
        ))?;
    }
    root.present()?;
    Ok(())
}

#[component]
pub fn ParallelCoordinates(
    #[prop(into)] axes: Signal<Vec<Axis>>,
    #[prop(into)] runs: Signal<Vec<String>>,
    #[prop(into)] label: String,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let a = axes.get();
        // Lines are coloured by the last axis: usually the metric being tuned.
        let _ = draw_parallel(&canvas, &a, &runs.get(), a.len().saturating_sub(1));
    });
    view! { <canvas class="chart" node_ref=canvas width="720" height="360" role="img" aria-label=label></canvas> }
}

/// z interpolated over (x, y) by inverse-distance weighting of the runs, drawn as filled cells
/// shaded by z, with the runs on top: how a metric varies across two parameters.
fn draw_contour(
    canvas: &NodeRef<Canvas>,
    pts: &[(f64, f64, f64)],
    labels: (&str, &str, &str),
) -> DrawResult {
    let Some(backend) = backend(canvas) else {
        return Ok(());
    };
    let root = backend.into_drawing_area();
    root.fill(&WHITE)?;
    let pts: Vec<(f64, f64, f64)> = pts
        .iter()
        .copied()
        .filter(|p| p.0.is_finite() && p.1.is_finite() && p.2.is_finite())
        .collect();
    if pts.len() < 3 {
        root.draw(&Text::new(
            "A contour needs at least three runs with all three values",
            (20, 30),
            ("sans-serif", 16),
        ))?;
        return root.present().map_err(Into::into);
    }
    let (x0, x1) = range(pts.iter().map(|p| p.0));
    let (y0, y1) = range(pts.iter().map(|p| p.1));
    let (z0, z1) = range(pts.iter().map(|p| p.2));
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .caption(
            format!("{} (dark = low, light = high)", labels.2),
            ("sans-serif", 14),
        )
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc(labels.0)
        .y_desc(labels.1)
        .draw()?;
    let n = 40;
    let (dx, dy) = ((x1 - x0) / n as f64, (y1 - y0) / n as f64);
    let mut cells = Vec::with_capacity(n * n);
    for i in 0..n {
        for j in 0..n {
            let (cx, cy) = (x0 + (i as f64 + 0.5) * dx, y0 + (j as f64 + 0.5) * dy);
            let (mut num, mut den) = (0.0, 0.0);
            for p in &pts {
                let d2 = ((p.0 - cx) / (x1 - x0)).powi(2) + ((p.1 - cy) / (y1 - y0)).powi(2) + 1e-9;
                num += p.2 / d2;
                den += 1.0 / d2;
            }
            let t = ((num / den - z0) / (z1 - z0)).clamp(0.0, 1.0);
            // Quantised into bands, so the cells read as contour levels.
            let band = (t * 8.0).floor() / 8.0;
            let color = RGBColor(
                (30.0 + 200.0 * band) as u8,
                (60.0 + 170.0 * band) as u8,
                (120.0 + 100.0 * band) as u8,
            );
            cells.push(Rectangle::new(
                [
                    (x0 + i as f64 * dx, y0 + j as f64 * dy),
                    (x0 + (i + 1) as f64 * dx, y0 + (j + 1) as f64 * dy),
                ],
                color.filled(),
            ));
        }
    }
    chart.draw_series(cells)?;
    chart.draw_series(
        pts.iter()
            .map(|p| Circle::new((p.0, p.1), 4, BLACK.filled())),
    )?;
    root.present()?;
    Ok(())
}

#[component]
pub fn ContourChart(
    #[prop(into)] points: Signal<Vec<(f64, f64, f64)>>,
    #[prop(into)] labels: Signal<(String, String, String)>,
    #[prop(into)] label: String,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        let p = points.get();
        let (a, b, c) = labels.get();
        let _ = draw_contour(&canvas, &p, (&a, &b, &c));
    });
    view! { <canvas class="chart" node_ref=canvas width="720" height="360" role="img" aria-label=label></canvas> }
}

fn draw_histogram(
    canvas: &NodeRef<Canvas>,
    h: &crate::ml::monitor::Histogram,
    x_label: &str,
) -> DrawResult {
    let Some(backend) = backend(canvas) else {
        return Ok(());
    };
    let root = backend.into_drawing_area();
    root.fill(&WHITE)?;
    let (x0, x1) = (
        h.edges.first().copied().unwrap_or(0.0),
        h.edges.last().copied().unwrap_or(1.0),
    );
    let top = h
        .reference
        .iter()
        .chain(&h.current)
        .copied()
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(x0..x1, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc("share of rows")
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    for (i, (name, shares)) in [("reference", &h.reference), ("current", &h.current)]
        .into_iter()
        .enumerate()
    {
        let color = PALETTE[i];
        let bars = shares.iter().enumerate().map(move |(b, share)| {
            Rectangle::new(
                [(h.edges[b], 0.0), (h.edges[b + 1], *share)],
                color.mix(0.45).filled(),
            )
        });
        chart.draw_series(bars)?.label(name).legend(move |(x, y)| {
            Rectangle::new([(x, y - 5), (x + 14, y + 5)], color.mix(0.45).filled())
        });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

/// Two distributions over shared bins (reference and current data), overlaid.
#[component]
pub fn HistogramChart(
    histogram: crate::ml::monitor::Histogram,
    #[prop(into)] x_label: String,
    #[prop(into)] label: String,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        if canvas.get().is_some() {
            let _ = draw_histogram(&canvas, &histogram, &x_label);
        }
    });
    view! { <canvas class="chart small" node_ref=canvas width="480" height="260" role="img" aria-label=label></canvas> }
}

//! The plots autolog logs as SVG artifacts: predicted vs actual and residuals (regression), the
//! confusion matrix (classification), and coefficients or feature importances. Plain SVG text, so
//! the same code runs natively and in the browser, and MLflow's UI previews it.

use super::data::Task;
use super::model::Saved;
use super::train::TrainSpec;

const W: f64 = 480.0;
const H: f64 = 360.0;
const PAD: f64 = 48.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn frame(title: &str, body: &str, x_label: &str, y_label: &str) -> String {
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">
<rect width="{W}" height="{H}" fill="#ffffff"/>
<text x="{cx}" y="20" text-anchor="middle" font-size="14">{title}</text>
<line x1="{PAD}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#333"/>
<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{bottom}" stroke="#333"/>
<text x="{cx}" y="{xl}" text-anchor="middle">{x_label}</text>
<text x="14" y="{cy}" text-anchor="middle" transform="rotate(-90 14 {cy})">{y_label}</text>
{body}</svg>
"##,
        cx = W / 2.0,
        cy = H / 2.0,
        bottom = H - PAD,
        right = W - 16.0,
        xl = H - 12.0,
        title = escape(title),
        x_label = escape(x_label),
        y_label = escape(y_label),
    )
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        (0.0, 1.0)
    } else if lo == hi {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo, hi)
    }
}

/// A scatter of (x, y) points, with the y = x line when `diagonal`.
pub fn scatter(
    title: &str,
    x_label: &str,
    y_label: &str,
    points: &[(f64, f64)],
    diagonal: bool,
) -> String {
    let (x0, x1) = range(points.iter().map(|p| p.0));
    let (y0, y1) = range(points.iter().map(|p| p.1));
    let (x0, x1, y0, y1) = if diagonal {
        (x0.min(y0), x1.max(y1), x0.min(y0), x1.max(y1))
    } else {
        (x0, x1, y0, y1)
    };
    let sx = |v: f64| PAD + (v - x0) / (x1 - x0) * (W - PAD - 24.0);
    let sy = |v: f64| H - PAD - (v - y0) / (y1 - y0) * (H - 2.0 * PAD);
    let mut body = String::new();
    if diagonal {
        body.push_str(&format!(
            r##"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999" stroke-dasharray="4 3"/>"##,
            sx(x0),
            sy(y0),
            sx(x1),
            sy(y1)
        ));
    }
    for (x, y) in points.iter().take(5000) {
        body.push_str(&format!(
            r##"<circle cx="{:.1}" cy="{:.1}" r="2.5" fill="#0b6bcb" fill-opacity="0.6"/>"##,
            sx(*x),
            sy(*y)
        ));
    }
    body.push_str(&format!(
        r##"<text x="{PAD}" y="{}" font-size="10">{x0:.3}</text><text x="{}" y="{}" font-size="10" text-anchor="end">{x1:.3}</text><text x="{}" y="{}" font-size="10" text-anchor="end">{y1:.3}</text>"##,
        H - PAD + 14.0,
        W - 16.0,
        H - PAD + 14.0,
        PAD - 4.0,
        PAD + 4.0
    ));
    frame(title, &body, x_label, y_label)
}

/// Horizontal bars, one per label.
pub fn bars(title: &str, labels: &[String], values: &[f64]) -> String {
    let max = values
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    let n = labels.len().max(1) as f64;
    let row = (H - 2.0 * PAD) / n;
    let mid = PAD + 110.0 + (W - PAD - 130.0) / 2.0;
    let half = (W - PAD - 130.0) / 2.0;
    let mut body = String::new();
    for (i, (label, v)) in labels.iter().zip(values).enumerate().take(40) {
        let y = PAD + i as f64 * row;
        let len = v.abs() / max * half;
        let x = if *v >= 0.0 { mid } else { mid - len };
        body.push_str(&format!(
            r##"<text x="{}" y="{:.1}" text-anchor="end" font-size="10">{}</text><rect x="{x:.1}" y="{:.1}" width="{len:.1}" height="{:.1}" fill="{}"/>"##,
            PAD + 104.0,
            y + row * 0.7,
            escape(label),
            y + row * 0.15,
            row * 0.7,
            if *v >= 0.0 { "#0b6bcb" } else { "#c0392b" }
        ));
    }
    frame(title, &body, "value", "")
}

/// A confusion matrix: counts of (true class, predicted class).
pub fn confusion(title: &str, classes: &[f64], truth: &[f64], pred: &[f64]) -> String {
    let k = classes.len().max(1);
    let mut counts = vec![vec![0usize; k]; k];
    for (t, p) in truth.iter().zip(pred) {
        if let (Some(i), Some(j)) = (
            classes.iter().position(|c| c == t),
            classes.iter().position(|c| c == p),
        ) {
            counts[i][j] += 1;
        }
    }
    let max = counts.iter().flatten().copied().max().unwrap_or(1).max(1) as f64;
    let cell = ((H - 2.0 * PAD) / k as f64).min((W - 2.0 * PAD) / k as f64);
    let mut body = String::new();
    for (i, row) in counts.iter().enumerate() {
        for (j, count) in row.iter().enumerate() {
            let shade = 255.0 - 200.0 * (*count as f64 / max);
            body.push_str(&format!(
                r##"<rect x="{:.1}" y="{:.1}" width="{cell:.1}" height="{cell:.1}" fill="rgb({shade:.0},{shade:.0},255)" stroke="#fff"/><text x="{:.1}" y="{:.1}" text-anchor="middle">{count}</text>"##,
                PAD + j as f64 * cell,
                PAD + i as f64 * cell,
                PAD + (j as f64 + 0.5) * cell,
                PAD + (i as f64 + 0.55) * cell,
            ));
        }
    }
    frame(title, &body, "predicted class", "true class")
}

/// The autolog plots of a fitted model, evaluated on its validation split.
pub fn for_run(spec: &TrainSpec, saved: &Saved) -> Result<Vec<(String, Vec<u8>)>, String> {
    let (_, valid) = spec.split()?;
    let set = spec.data.take(&valid);
    if set.nrows() == 0 {
        return Ok(Vec::new());
    }
    let x = saved.preprocessor.transform(&set.features)?;
    let pred = saved.model.predict(x.view())?;
    let mut out = Vec::new();
    match spec.estimator.task() {
        Task::Regression => {
            let points: Vec<(f64, f64)> = set
                .target
                .iter()
                .copied()
                .zip(pred.iter().copied())
                .collect();
            out.push((
                "plots/predicted_vs_actual.svg".to_string(),
                scatter(
                    "Predicted vs actual (validation)",
                    "actual",
                    "predicted",
                    &points,
                    true,
                ),
            ));
            let residuals: Vec<(f64, f64)> = pred
                .iter()
                .zip(&set.target)
                .map(|(p, t)| (*p, t - p))
                .collect();
            out.push((
                "plots/residuals.svg".to_string(),
                scatter(
                    "Residuals (validation)",
                    "predicted",
                    "actual - predicted",
                    &residuals,
                    false,
                ),
            ));
        }
        Task::Classification => {
            let classes = saved.model.classes().unwrap_or_default();
            out.push((
                "plots/confusion_matrix.svg".to_string(),
                confusion(
                    "Confusion matrix (validation)",
                    &classes,
                    &set.target,
                    &pred,
                ),
            ));
        }
    }
    if let Some(values) = saved.model.importances() {
        let names = saved.preprocessor.feature_names();
        let title = if matches!(
            saved.model,
            super::estimators::Model::Linear { .. }
                | super::estimators::Model::BinaryLogistic { .. }
        ) {
            "Coefficients"
        } else {
            "Feature importances"
        };
        out.push((
            "plots/feature_importance.svg".to_string(),
            bars(title, &names, &values),
        ));
    }
    Ok(out.into_iter().map(|(n, s)| (n, s.into_bytes())).collect())
}

//! Evaluation metrics as scikit-learn computes them, named as `mlflow.sklearn.autolog` names them
//! (`training_root_mean_squared_error`, … with the split's prefix).

/// Root of the mean squared error.
pub fn rmse(truth: &[f64], pred: &[f64]) -> f64 {
    mse(truth, pred).sqrt()
}

pub fn mse(truth: &[f64], pred: &[f64]) -> f64 {
    mean(truth.iter().zip(pred).map(|(t, p)| (t - p).powi(2)))
}

pub fn mae(truth: &[f64], pred: &[f64]) -> f64 {
    mean(truth.iter().zip(pred).map(|(t, p)| (t - p).abs()))
}

/// The coefficient of determination; 1.0 for a perfect fit, as sklearn (0.0 when y is constant
/// and the fit is not perfect).
pub fn r2(truth: &[f64], pred: &[f64]) -> f64 {
    let m = mean(truth.iter().copied());
    let total: f64 = truth.iter().map(|t| (t - m).powi(2)).sum();
    let residual: f64 = truth.iter().zip(pred).map(|(t, p)| (t - p).powi(2)).sum();
    match (total == 0.0, residual == 0.0) {
        (_, true) => 1.0,
        (true, false) => 0.0,
        _ => 1.0 - residual / total,
    }
}

pub fn accuracy(truth: &[f64], pred: &[f64]) -> f64 {
    mean(
        truth
            .iter()
            .zip(pred)
            .map(|(t, p)| f64::from(u8::from(t == p))),
    )
}

/// Precision, recall and F1, averaged over classes weighted by support (sklearn's `average="weighted"`,
/// which autolog uses); a class never predicted counts 0 precision, as sklearn's zero_division=0.
pub fn precision_recall_f1(truth: &[f64], pred: &[f64]) -> (f64, f64, f64) {
    let mut classes: Vec<f64> = truth.to_vec();
    classes.sort_by(f64::total_cmp);
    classes.dedup();
    let n = truth.len().max(1) as f64;
    let (mut p, mut r, mut f) = (0.0, 0.0, 0.0);
    for c in classes {
        let tp = truth
            .iter()
            .zip(pred)
            .filter(|(t, q)| **t == c && **q == c)
            .count() as f64;
        let predicted = pred.iter().filter(|q| **q == c).count() as f64;
        let support = truth.iter().filter(|t| **t == c).count() as f64;
        let precision = if predicted > 0.0 { tp / predicted } else { 0.0 };
        let recall = if support > 0.0 { tp / support } else { 0.0 };
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        let w = support / n;
        p += w * precision;
        r += w * recall;
        f += w * f1;
    }
    (p, r, f)
}

/// Cross-entropy of predicted class probabilities (columns in `classes` order), clipped as sklearn.
pub fn log_loss(truth: &[f64], proba: &ndarray::Array2<f64>, classes: &[f64]) -> f64 {
    let eps = f64::EPSILON;
    mean(truth.iter().enumerate().map(|(i, t)| {
        let k = classes.iter().position(|c| c == t);
        let p = k.map_or(eps, |k| proba[(i, k)]).clamp(eps, 1.0 - eps);
        -p.ln()
    }))
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        f64::NAN
    } else {
        sum / n as f64
    }
}

/// The metrics of one split, named as autolog names them with `prefix` (`training` or `val`).
pub fn regression(prefix: &str, truth: &[f64], pred: &[f64]) -> Vec<(String, f64)> {
    let r2 = r2(truth, pred);
    vec![
        (format!("{prefix}_mean_squared_error"), mse(truth, pred)),
        (
            format!("{prefix}_root_mean_squared_error"),
            rmse(truth, pred),
        ),
        (format!("{prefix}_mean_absolute_error"), mae(truth, pred)),
        (format!("{prefix}_r2_score"), r2),
        (format!("{prefix}_score"), r2),
    ]
}

pub fn classification(
    prefix: &str,
    truth: &[f64],
    pred: &[f64],
    proba: Option<(&ndarray::Array2<f64>, &[f64])>,
) -> Vec<(String, f64)> {
    let accuracy = accuracy(truth, pred);
    let (p, r, f) = precision_recall_f1(truth, pred);
    let mut out = vec![
        (format!("{prefix}_accuracy_score"), accuracy),
        (format!("{prefix}_precision_score"), p),
        (format!("{prefix}_recall_score"), r),
        (format!("{prefix}_f1_score"), f),
        (format!("{prefix}_score"), accuracy),
    ];
    if let Some((proba, classes)) = proba {
        out.push((
            format!("{prefix}_log_loss"),
            log_loss(truth, proba, classes),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values computed with scikit-learn 1.9.1:
    // mean_squared_error([3,-0.5,2,7],[2.5,0,2,8]) = 0.375, mean_absolute_error = 0.5, r2_score = 0.9486081370449679
    #[test]
    fn regression_metrics_match_sklearn() {
        let (t, p) = ([3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0]);
        assert_eq!(mse(&t, &p), 0.375);
        assert_eq!(mae(&t, &p), 0.5);
        assert!((r2(&t, &p) - 0.948_608_137_044_967_9).abs() < 1e-12);
        assert_eq!(rmse(&t, &p), 0.375f64.sqrt());
        assert_eq!(r2(&[1.0, 1.0], &[1.0, 1.0]), 1.0);
    }

    // precision_recall_fscore_support([0,1,2,0,1,2],[0,2,1,0,0,1], average="weighted", zero_division=0)
    //   = (0.2222222222222222, 0.3333333333333333, 0.26666666666666666)
    // log_loss([0,1],[[0.9,0.1],[0.2,0.8]]) = 0.164252033486018
    #[test]
    fn classification_metrics_match_sklearn() {
        let (t, p) = (
            [0.0, 1.0, 2.0, 0.0, 1.0, 2.0],
            [0.0, 2.0, 1.0, 0.0, 0.0, 1.0],
        );
        let (pr, rc, f1) = precision_recall_f1(&t, &p);
        assert!((pr - 0.222_222_222_222_222_2).abs() < 1e-12);
        assert!((rc - 1.0 / 3.0).abs() < 1e-12);
        assert!((f1 - 0.266_666_666_666_666_66).abs() < 1e-12);
        assert!((accuracy(&t, &p) - 1.0 / 3.0).abs() < 1e-12);
        let proba = ndarray::array![[0.9, 0.1], [0.2, 0.8]];
        assert!((log_loss(&[0.0, 1.0], &proba, &[0.0, 1.0]) - 0.164_252_033_486_018).abs() < 1e-12);
    }
}

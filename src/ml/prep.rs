//! Preparation: a seeded train/validation split, and the fitted preprocessor — categories one-hot
//! encoded as scikit-learn's `DictVectorizer` does (`PU_DO=7_41`), numbers passed through, optionally
//! standard-scaled. The preprocessor is logged with the model and applied again at prediction.

use super::data::{Column, Frame};
use ndarray::Array2;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

/// Row indices of a seeded shuffle split: (training, validation).
pub fn split(
    rows: usize,
    validation_fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>), String> {
    if !(0.0..1.0).contains(&validation_fraction) {
        return Err(format!(
            "the validation fraction must be in [0, 1), not {validation_fraction}"
        ));
    }
    let mut order: Vec<usize> = (0..rows).collect();
    order.shuffle(&mut Xoshiro256PlusPlus::seed_from_u64(seed));
    let valid = ((rows as f64) * validation_fraction).round() as usize;
    let (valid, train) = order.split_at(valid);
    if train.is_empty() {
        return Err(format!("{rows} rows leave nothing to train on"));
    }
    Ok((train.to_vec(), valid.to_vec()))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Encoding {
    Number,
    /// The categories seen in training, in sorted order (DictVectorizer's feature order).
    OneHot(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocessor {
    columns: Vec<(String, Encoding)>,
    /// Means and standard deviations of the output columns, when scaling.
    scaling: Option<(Vec<f64>, Vec<f64>)>,
}

impl Preprocessor {
    /// Learns the encoding (and scaling) from the training features.
    pub fn fit(frame: &Frame, scale: bool) -> Result<Preprocessor, String> {
        let mut columns = Vec::new();
        for (name, column) in frame.names.iter().zip(&frame.columns) {
            let encoding = match column {
                Column::Numeric(_) => Encoding::Number,
                Column::Text(values) => {
                    let mut seen: Vec<String> = values.clone();
                    seen.sort();
                    seen.dedup();
                    Encoding::OneHot(seen)
                }
            };
            columns.push((name.clone(), encoding));
        }
        let mut pre = Preprocessor {
            columns,
            scaling: None,
        };
        if scale {
            let x = pre.encode(frame)?;
            let n = x.nrows().max(1) as f64;
            let means: Vec<f64> = x.columns().into_iter().map(|c| c.sum() / n).collect();
            let stds = x
                .columns()
                .into_iter()
                .zip(&means)
                .map(|(c, m)| {
                    let sd = (c.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n).sqrt();
                    // As scikit-learn's StandardScaler: a constant column is left unscaled.
                    if sd == 0.0 {
                        1.0
                    } else {
                        sd
                    }
                })
                .collect();
            pre.scaling = Some((means, stds));
        }
        Ok(pre)
    }

    /// The output feature names (`distance`, `zone=7`, …), as DictVectorizer names them.
    pub fn feature_names(&self) -> Vec<String> {
        self.columns
            .iter()
            .flat_map(|(name, e)| match e {
                Encoding::Number => vec![name.clone()],
                Encoding::OneHot(cats) => cats.iter().map(|c| format!("{name}={c}")).collect(),
            })
            .collect()
    }

    pub fn input_names(&self) -> Vec<String> {
        self.columns.iter().map(|(n, _)| n.clone()).collect()
    }

    fn encode(&self, frame: &Frame) -> Result<Array2<f64>, String> {
        let width = self.feature_names().len();
        let mut x = Array2::zeros((frame.nrows(), width));
        let mut at = 0;
        for (name, encoding) in &self.columns {
            let column = frame
                .column(name)
                .ok_or_else(|| format!("the data has no column '{name}', which the model needs"))?;
            match (encoding, column) {
                (Encoding::Number, Column::Numeric(v)) => {
                    x.column_mut(at).assign(&ndarray::ArrayView1::from(v));
                    at += 1;
                }
                (Encoding::Number, Column::Text(v)) => {
                    for (i, s) in v.iter().enumerate() {
                        x[(i, at)] = s.parse().map_err(|_| {
                            format!("column '{name}' must be numeric: row {} holds '{s}'", i + 1)
                        })?;
                    }
                    at += 1;
                }
                (Encoding::OneHot(cats), column) => {
                    let values: Vec<String> = match column {
                        Column::Text(v) => v.clone(),
                        Column::Numeric(v) => v.iter().map(|n| n.to_string()).collect(),
                    };
                    // An unseen category encodes as all zeros, as DictVectorizer does.
                    for (i, s) in values.iter().enumerate() {
                        if let Ok(k) = cats.binary_search(s) {
                            x[(i, at + k)] = 1.0;
                        }
                    }
                    at += cats.len();
                }
            }
        }
        Ok(x)
    }

    /// The model's input matrix for these features.
    pub fn transform(&self, frame: &Frame) -> Result<Array2<f64>, String> {
        let mut x = self.encode(frame)?;
        if let Some((means, stds)) = &self.scaling {
            for (j, mut col) in x.columns_mut().into_iter().enumerate() {
                col.mapv_inplace(|v| (v - means[j]) / stds[j]);
            }
        }
        Ok(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_seeded_and_complete() {
        let (train, valid) = split(100, 0.25, 7).unwrap();
        assert_eq!((train.len(), valid.len()), (75, 25));
        assert_eq!(split(100, 0.25, 7).unwrap(), (train.clone(), valid.clone()));
        let mut all: Vec<usize> = train.iter().chain(&valid).copied().collect();
        all.sort();
        assert_eq!(all, (0..100).collect::<Vec<_>>());
        assert!(split(1, 0.99, 0).unwrap_err().contains("nothing to train"));
        assert!(split(10, 1.5, 0).is_err());
    }

    #[test]
    fn categories_are_one_hot_like_dictvectorizer_and_unseen_ones_are_zero() {
        let mut f = Frame::default();
        f.push(
            "PU_DO",
            Column::Text(vec!["7_41".into(), "41_7".into(), "7_41".into()]),
        );
        f.push("trip_distance", Column::Numeric(vec![1.0, 2.0, 3.0]));
        let pre = Preprocessor::fit(&f, false).unwrap();
        assert_eq!(
            pre.feature_names(),
            ["PU_DO=41_7", "PU_DO=7_41", "trip_distance"]
        );
        let x = pre.transform(&f).unwrap();
        assert_eq!(x.row(0).to_vec(), [0.0, 1.0, 1.0]);
        let mut g = Frame::default();
        g.push("PU_DO", Column::Text(vec!["1_2".into()]));
        g.push("trip_distance", Column::Numeric(vec![5.0]));
        assert_eq!(pre.transform(&g).unwrap().row(0).to_vec(), [0.0, 0.0, 5.0]);
        let scaled = Preprocessor::fit(&f, true).unwrap().transform(&f).unwrap();
        let col = scaled.column(2);
        assert!(col.sum().abs() < 1e-12);
        assert!(((col.iter().map(|v| v * v).sum::<f64>() / 3.0) - 1.0).abs() < 1e-12);
        let mut missing = Frame::default();
        missing.push("trip_distance", Column::Numeric(vec![1.0]));
        assert!(pre
            .transform(&missing)
            .unwrap_err()
            .contains("no column 'PU_DO'"));
    }
}

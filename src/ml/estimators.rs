//! Estimators with scikit-learn's names, parameter names and defaults, fitted with linfa (and with
//! [`super::trees`] where linfa has no equivalent). An [`Estimator`] is a name plus every parameter
//! as scikit-learn's `get_params()` would print it (what autolog logs); `fit` gives a [`Model`].

use super::data::Task;
use super::trees;
use linfa::prelude::*;
use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

/// How a parameter's text is read.
#[derive(Clone, Copy)]
enum Ty {
    Float,
    Int,
    Bool,
    OptInt,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// `None`, `sqrt`, `log2`, an int count or a float fraction (max_features).
    MaxFeatures,
    /// Accepted as scikit-learn's default only (it changes nothing here).
    Fixed,
}

type Spec = (&'static str, &'static str, Ty);

const LINEAR: &[Spec] = &[
    ("copy_X", "True", Ty::Fixed),
    ("fit_intercept", "True", Ty::Bool),
    ("n_jobs", "None", Ty::Fixed),
    ("positive", "False", Ty::Fixed),
    ("tol", "1e-06", Ty::Fixed),
];
const LASSO: &[Spec] = &[
    ("alpha", "1.0", Ty::Float),
    ("copy_X", "True", Ty::Fixed),
    ("fit_intercept", "True", Ty::Bool),
    ("max_iter", "1000", Ty::Int),
    ("positive", "False", Ty::Fixed),
    ("precompute", "False", Ty::Fixed),
    ("random_state", "None", Ty::Fixed),
    ("selection", "cyclic", Ty::Fixed),
    ("tol", "0.0001", Ty::Float),
    ("warm_start", "False", Ty::Fixed),
];
const RIDGE: &[Spec] = &[
    ("alpha", "1.0", Ty::Float),
    ("copy_X", "True", Ty::Fixed),
    ("fit_intercept", "True", Ty::Bool),
    ("max_iter", "None", Ty::Fixed),
    ("positive", "False", Ty::Fixed),
    ("random_state", "None", Ty::Fixed),
    ("solver", "auto", Ty::Choice(&["auto", "cholesky"])),
    ("tol", "0.0001", Ty::Fixed),
];
const ELASTIC_NET: &[Spec] = &[
    ("alpha", "1.0", Ty::Float),
    ("copy_X", "True", Ty::Fixed),
    ("fit_intercept", "True", Ty::Bool),
    ("l1_ratio", "0.5", Ty::Float),
    ("max_iter", "1000", Ty::Int),
    ("positive", "False", Ty::Fixed),
    ("precompute", "False", Ty::Fixed),
    ("random_state", "None", Ty::Fixed),
    ("selection", "cyclic", Ty::Fixed),
    ("tol", "0.0001", Ty::Float),
    ("warm_start", "False", Ty::Fixed),
];
const LOGISTIC: &[Spec] = &[
    ("C", "1.0", Ty::Float),
    ("class_weight", "None", Ty::Fixed),
    ("dual", "False", Ty::Fixed),
    ("fit_intercept", "True", Ty::Bool),
    ("intercept_scaling", "1", Ty::Fixed),
    ("l1_ratio", "0.0", Ty::Fixed),
    ("max_iter", "100", Ty::Int),
    ("n_jobs", "None", Ty::Fixed),
    ("penalty", "deprecated", Ty::Fixed),
    ("random_state", "None", Ty::Fixed),
    ("solver", "lbfgs", Ty::Choice(&["lbfgs"])),
    ("tol", "0.0001", Ty::Float),
    ("verbose", "0", Ty::Fixed),
    ("warm_start", "False", Ty::Fixed),
];
const TREE: &[Spec] = &[
    ("ccp_alpha", "0.0", Ty::Fixed),
    ("max_depth", "None", Ty::OptInt),
    ("max_features", "None", Ty::MaxFeatures),
    ("max_leaf_nodes", "None", Ty::Fixed),
    ("min_impurity_decrease", "0.0", Ty::Fixed),
    ("min_samples_leaf", "1", Ty::Int),
    ("min_samples_split", "2", Ty::Int),
    ("min_weight_fraction_leaf", "0.0", Ty::Fixed),
    ("monotonic_cst", "None", Ty::Fixed),
    ("random_state", "None", Ty::OptInt),
    ("splitter", "best", Ty::Fixed),
];
const FOREST: &[Spec] = &[
    ("bootstrap", "True", Ty::Bool),
    ("ccp_alpha", "0.0", Ty::Fixed),
    ("max_depth", "None", Ty::OptInt),
    ("max_leaf_nodes", "None", Ty::Fixed),
    ("max_samples", "None", Ty::Fixed),
    ("min_impurity_decrease", "0.0", Ty::Fixed),
    ("min_samples_leaf", "1", Ty::Int),
    ("min_samples_split", "2", Ty::Int),
    ("min_weight_fraction_leaf", "0.0", Ty::Fixed),
    ("monotonic_cst", "None", Ty::Fixed),
    ("n_estimators", "100", Ty::Int),
    ("n_jobs", "None", Ty::Fixed),
    ("oob_score", "False", Ty::Fixed),
    ("random_state", "None", Ty::OptInt),
    ("verbose", "0", Ty::Fixed),
    ("warm_start", "False", Ty::Fixed),
];
const GAUSSIAN_NB: &[Spec] = &[
    ("priors", "None", Ty::Fixed),
    ("var_smoothing", "1e-09", Ty::Float),
];
const KMEANS: &[Spec] = &[
    ("algorithm", "lloyd", Ty::Fixed),
    ("copy_x", "True", Ty::Fixed),
    ("init", "k-means++", Ty::Fixed),
    ("max_iter", "300", Ty::Int),
    ("n_clusters", "8", Ty::Int),
    ("n_init", "auto", Ty::Fixed),
    ("random_state", "None", Ty::OptInt),
    ("tol", "0.0001", Ty::Float),
    ("verbose", "0", Ty::Fixed),
];

/// The parameters every tree and forest shares, read from an estimator's text parameters.
macro_rules! tree_params {
    ($e:expr, $params:ty, $forest:expr) => {
        <$params>::default()
            .max_depth($e.opt_int("max_depth"))
            .min_samples_split($e.int("min_samples_split"))
            .min_samples_leaf($e.int("min_samples_leaf"))
            .max_features($e.max_features($forest))
            .random_state($e.opt_int("random_state").map(|s| s as u64))
    };
}

/// The estimators, by scikit-learn class name.
pub const NAMES: [&str; 11] = [
    "LinearRegression",
    "Lasso",
    "Ridge",
    "ElasticNet",
    "LogisticRegression",
    "DecisionTreeRegressor",
    "DecisionTreeClassifier",
    "RandomForestRegressor",
    "RandomForestClassifier",
    "GaussianNB",
    "KMeans",
];

fn specs(name: &str) -> Option<(&'static [Spec], Task, &'static str)> {
    Some(match name {
        "LinearRegression" => (LINEAR, Task::Regression, "linear_model"),
        "Lasso" => (LASSO, Task::Regression, "linear_model"),
        "Ridge" => (RIDGE, Task::Regression, "linear_model"),
        "ElasticNet" => (ELASTIC_NET, Task::Regression, "linear_model"),
        "LogisticRegression" => (LOGISTIC, Task::Classification, "linear_model"),
        "DecisionTreeRegressor" => (TREE, Task::Regression, "tree"),
        "DecisionTreeClassifier" => (TREE, Task::Classification, "tree"),
        "RandomForestRegressor" => (FOREST, Task::Regression, "ensemble"),
        "RandomForestClassifier" => (FOREST, Task::Classification, "ensemble"),
        "GaussianNB" => (GAUSSIAN_NB, Task::Classification, "naive_bayes"),
        "KMeans" => (KMEANS, Task::Regression, "cluster"),
        _ => return None,
    })
}

/// A scikit-learn estimator: its class name and every parameter, as text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimator {
    pub name: String,
    params: Vec<(String, String)>,
}

fn canonical(ty: Ty, name: &str, value: &str) -> Result<String, String> {
    let bad = |what: &str| format!("parameter {name}={value} is not {what}");
    let v = value.trim();
    match ty {
        Ty::Float => v
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|f| {
                if f == f.trunc() && f.abs() < 1e16 {
                    format!("{f:.1}")
                } else {
                    format!("{f:?}")
                }
            })
            .ok_or_else(|| bad("a number")),
        Ty::Int => v
            .parse::<i64>()
            .map(|i| i.to_string())
            .map_err(|_| bad("a whole number")),
        Ty::OptInt if v == "None" => Ok("None".into()),
        Ty::OptInt => v
            .parse::<i64>()
            .map(|i| i.to_string())
            .map_err(|_| bad("a whole number or None")),
        Ty::Bool => match v {
            "True" | "true" | "1" => Ok("True".into()),
            "False" | "false" | "0" => Ok("False".into()),
            _ => Err(bad("True or False")),
        },
        Ty::Choice(words) => words
            .iter()
            .find(|w| **w == v.trim_matches('\''))
            .map(|w| w.to_string())
            .ok_or_else(|| bad(&format!("one of {}", words.join(", ")))),
        Ty::MaxFeatures => match v.trim_matches('\'') {
            "None" | "sqrt" | "log2" => Ok(v.trim_matches('\'').to_string()),
            other if other.parse::<i64>().is_ok() => Ok(other.to_string()),
            other => other
                .parse::<f64>()
                .ok()
                .filter(|f| *f > 0.0 && *f <= 1.0)
                .map(|f| format!("{f:?}"))
                .ok_or_else(|| bad("None, sqrt, log2, a count or a fraction in (0, 1]")),
        },
        Ty::Fixed => Ok(v.to_string()),
    }
}

impl Estimator {
    /// An estimator with scikit-learn's defaults.
    pub fn new(name: &str) -> Result<Estimator, String> {
        let (specs, ..) = specs(name).ok_or_else(|| {
            format!(
                "unknown model '{name}': expected one of {}",
                NAMES.join(", ")
            )
        })?;
        Ok(Estimator {
            name: name.to_string(),
            params: specs
                .iter()
                .map(|(k, v, _)| (k.to_string(), v.to_string()))
                .collect(),
        })
    }

    /// Sets one parameter by scikit-learn's name, refusing unknown names and bad values.
    pub fn set(mut self, key: &str, value: &str) -> Result<Estimator, String> {
        let (specs, ..) = specs(&self.name).ok_or("unknown model")?;
        let (_, default, ty) = specs.iter().find(|(k, ..)| *k == key).ok_or_else(|| {
            format!(
                "{} has no parameter '{key}' (its parameters: {})",
                self.name,
                specs.iter().map(|s| s.0).collect::<Vec<_>>().join(", ")
            )
        })?;
        let value = canonical(*ty, key, value)?;
        if matches!(ty, Ty::Fixed) && value != *default {
            return Err(format!(
                "{}: only {key}={default} (scikit-learn's default) is supported",
                self.name
            ));
        }
        if let Some(p) = self.params.iter_mut().find(|(k, _)| k == key) {
            p.1 = value;
        }
        Ok(self)
    }

    pub fn has_param(&self, key: &str) -> bool {
        self.params.iter().any(|(k, _)| k == key)
    }

    /// Every parameter, as `mlflow.sklearn.autolog` logs them.
    pub fn params(&self) -> &[(String, String)] {
        &self.params
    }

    pub fn task(&self) -> Task {
        specs(&self.name).map_or(Task::Regression, |s| s.1)
    }

    /// The scikit-learn class path (`sklearn.linear_model.Lasso`), for tags.
    pub fn class_path(&self) -> String {
        let module = specs(&self.name).map_or("", |s| s.2);
        format!(
            "sklearn.{module}._{}.{}",
            module_file(&self.name),
            self.name
        )
    }

    fn get(&self, key: &str) -> &str {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }

    fn float(&self, key: &str) -> f64 {
        self.get(key).parse().unwrap_or(f64::NAN)
    }

    fn int(&self, key: &str) -> usize {
        self.get(key).parse().unwrap_or(0)
    }

    fn opt_int(&self, key: &str) -> Option<usize> {
        self.get(key).parse().ok()
    }

    fn flag(&self, key: &str) -> bool {
        self.get(key) == "True"
    }

    fn max_features(&self, default_all: bool) -> trees::MaxFeatures {
        match self.get("max_features") {
            "sqrt" => trees::MaxFeatures::Sqrt,
            "log2" => trees::MaxFeatures::Log2,
            "None" => trees::MaxFeatures::All,
            v => match (v.parse::<usize>(), v.parse::<f64>()) {
                (Ok(n), _) => trees::MaxFeatures::Count(n),
                (_, Ok(f)) if f == 1.0 && default_all => trees::MaxFeatures::All,
                (_, Ok(f)) => trees::MaxFeatures::Fraction(f),
                _ => trees::MaxFeatures::All,
            },
        }
    }

    /// Fits the model; `y` holds class labels (as numbers) for classifiers, and is ignored by KMeans.
    pub fn fit(&self, x: ArrayView2<f64>, y: &[f64]) -> Result<Model, String> {
        if x.nrows() == 0 || x.ncols() == 0 {
            return Err("there is no data to fit".into());
        }
        if x.nrows() != y.len() {
            return Err(format!(
                "{} rows of features but {} targets",
                x.nrows(),
                y.len()
            ));
        }
        if x.iter().chain(y).any(|v| !v.is_finite()) {
            return Err("the data holds NaN or infinite values".into());
        }
        let fit_error =
            |e: &dyn std::fmt::Display| format!("{} could not be fitted: {e}", self.name);
        let target = Array1::from(y.to_vec());
        let model = match self.name.as_str() {
            "LinearRegression" => {
                least_squares(x, y, self.flag("fit_intercept")).map_err(|e| fit_error(&e))?
            }
            "Lasso" | "ElasticNet" => {
                let l1_ratio = if self.name == "Lasso" {
                    1.0
                } else {
                    self.float("l1_ratio")
                };
                // linfa-elasticnet centres only `y` for the intercept; scikit-learn centres `X`
                // too (`_preprocess_data`), which is what makes the intercept right on data whose
                // columns do not have mean 0. So centre both here and fit without an intercept.
                let (x_mean, y_mean) = means(x, &target, self.flag("fit_intercept"));
                let data = linfa::Dataset::new(&x - &x_mean, &target - y_mean);
                let fitted = linfa_elasticnet::ElasticNet::params()
                    .penalty(self.float("alpha"))
                    .l1_ratio(l1_ratio)
                    .with_intercept(false)
                    .max_iterations(self.int("max_iter").clamp(1, u32::MAX as usize) as u32)
                    .tolerance(self.float("tol"))
                    .fit(&data)
                    .map_err(|e| fit_error(&e))?;
                let coef = fitted.hyperplane().to_vec();
                let intercept = y_mean - x_mean.iter().zip(&coef).map(|(m, w)| m * w).sum::<f64>();
                Model::Linear { coef, intercept }
            }
            "Ridge" => ridge(x, y, self.float("alpha"), self.flag("fit_intercept"))?,
            "LogisticRegression" => logistic(self, x, y).map_err(|e| fit_error(&e))?,
            "GaussianNB" => gaussian_nb(x, y, self.float("var_smoothing"))?,
            "KMeans" => {
                use rand::SeedableRng;
                let seed = self.opt_int("random_state").unwrap_or(0) as u64;
                let rng = rand_xoshiro::Xoshiro256Plus::seed_from_u64(seed);
                let data = linfa::DatasetBase::from(x.to_owned());
                let fitted = linfa_clustering::KMeans::params_with_rng(self.int("n_clusters"), rng)
                    .max_n_iterations(self.int("max_iter") as u64)
                    .tolerance(self.float("tol"))
                    .fit(&data)
                    .map_err(|e| fit_error(&e))?;
                Model::KMeans {
                    centroids: fitted.centroids().clone(),
                }
            }
            "DecisionTreeRegressor" => Model::TreeRegressor(
                tree_params!(self, trees::DecisionTreeRegressorParams, false)
                    .fit(x, target.view())?,
            ),
            "DecisionTreeClassifier" => Model::TreeClassifier(
                tree_params!(self, trees::DecisionTreeClassifierParams, false)
                    .fit(x, target.view())?,
            ),
            "RandomForestRegressor" => Model::ForestRegressor(
                tree_params!(self, trees::RandomForestRegressorParams, true)
                    .n_estimators(self.int("n_estimators"))
                    .bootstrap(self.flag("bootstrap"))
                    .fit(x, target.view())?,
            ),
            "RandomForestClassifier" => Model::ForestClassifier(
                tree_params!(self, trees::RandomForestClassifierParams, true)
                    .n_estimators(self.int("n_estimators"))
                    .bootstrap(self.flag("bootstrap"))
                    .fit(x, target.view())?,
            ),
            other => return Err(format!("unknown model '{other}'")),
        };
        Ok(model)
    }
}

fn module_file(name: &str) -> &'static str {
    match name {
        "LinearRegression" => "base",
        "Lasso" | "ElasticNet" => "coordinate_descent",
        "Ridge" => "ridge",
        "LogisticRegression" => "logistic",
        "DecisionTreeRegressor" | "DecisionTreeClassifier" => "classes",
        "RandomForestRegressor" | "RandomForestClassifier" => "forest",
        "GaussianNB" => "naive_bayes",
        _ => "kmeans",
    }
}

/// Sorted distinct labels, and each row's index among them.
fn classes_of(y: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut classes = y.to_vec();
    classes.sort_by(f64::total_cmp);
    classes.dedup();
    let index = y
        .iter()
        .map(|v| classes.iter().position(|c| c == v).unwrap_or(0))
        .collect();
    (classes, index)
}

/// Ridge as scikit-learn's `cholesky` solver: (XᵀX + αI) w = Xᵀy on centred data.
fn ridge(x: ArrayView2<f64>, y: &[f64], alpha: f64, fit_intercept: bool) -> Result<Model, String> {
    if alpha < 0.0 {
        return Err(format!("Ridge needs alpha >= 0, not {alpha}"));
    }
    centred_ridge(x, y, alpha, fit_intercept, false)
}

/// Ordinary least squares as scikit-learn's `LinearRegression` answers it: the minimum-norm
/// solution, so one-hot columns that sum to a constant (rank-deficient data, as `PU_DO` gives)
/// still fit, where the plain normal equations blow up. A ridge term 1e-12 below the data's
/// scale selects the minimum-norm solution and leaves full-rank fits unchanged to many digits.
fn least_squares(x: ArrayView2<f64>, y: &[f64], fit_intercept: bool) -> Result<Model, String> {
    centred_ridge(x, y, 0.0, fit_intercept, true)
}

/// The column means of `x` and the mean of `y` that a fit with an intercept centres by (zeros
/// without one), as scikit-learn's `_preprocess_data`.
fn means(x: ArrayView2<f64>, y: &Array1<f64>, fit_intercept: bool) -> (Array1<f64>, f64) {
    if fit_intercept {
        (
            x.mean_axis(Axis(0))
                .unwrap_or_else(|| Array1::zeros(x.ncols())),
            y.mean().unwrap_or(0.0),
        )
    } else {
        (Array1::zeros(x.ncols()), 0.0)
    }
}

fn centred_ridge(
    x: ArrayView2<f64>,
    y: &[f64],
    alpha: f64,
    fit_intercept: bool,
    minimum_norm: bool,
) -> Result<Model, String> {
    let y = Array1::from(y.to_vec());
    let (x_mean, y_mean) = means(x, &y, fit_intercept);
    let xc = &x - &x_mean;
    let yc = &y - y_mean;
    let mut a = xc.t().dot(&xc);
    // Minimum norm (alpha 0 in OLS): a ridge term far below the data's scale, see least_squares.
    let alpha = if minimum_norm {
        (0..a.nrows()).map(|i| a[(i, i)]).fold(0.0, f64::max) * 1e-12
    } else {
        alpha
    };
    for i in 0..a.nrows() {
        a[(i, i)] += alpha;
    }
    let b = xc.t().dot(&yc);
    let coef = cholesky_solve(a, b).ok_or("the system is singular (try Ridge with alpha > 0)")?;
    let intercept = y_mean - x_mean.dot(&coef);
    Ok(Model::Linear {
        coef: coef.to_vec(),
        intercept,
    })
}

/// Solves A w = b for a symmetric positive definite A; None when it is not.
fn cholesky_solve(a: Array2<f64>, b: Array1<f64>) -> Option<Array1<f64>> {
    let n = a.nrows();
    let mut l = Array2::<f64>::zeros((n, n));
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[(i, k)] * l[(j, k)]).sum();
            if i == j {
                let d = a[(i, i)] - s;
                if d <= 0.0 {
                    return None;
                }
                l[(i, i)] = d.sqrt();
            } else {
                l[(i, j)] = (a[(i, j)] - s) / l[(j, j)];
            }
        }
    }
    let mut z = Array1::<f64>::zeros(n);
    for i in 0..n {
        z[i] = (b[i] - (0..i).map(|k| l[(i, k)] * z[k]).sum::<f64>()) / l[(i, i)];
    }
    let mut w = Array1::<f64>::zeros(n);
    for i in (0..n).rev() {
        w[i] = (z[i] - (i + 1..n).map(|k| l[(k, i)] * w[k]).sum::<f64>()) / l[(i, i)];
    }
    Some(w)
}

/// Logistic regression as scikit-learn's lbfgs: C·Σ log-loss + ½‖w‖², which is linfa's
/// Σ log-loss + α/2‖w‖² with α = 1/C; binary for two classes, multinomial otherwise.
fn logistic(e: &Estimator, x: ArrayView2<f64>, y: &[f64]) -> Result<Model, String> {
    let c = e.float("C");
    if c <= 0.0 {
        return Err(format!("C must be positive, not {c}"));
    }
    let (classes, index) = classes_of(y);
    if classes.len() < 2 {
        return Err("LogisticRegression needs at least two classes in the target".into());
    }
    let max_iter = e.int("max_iter").max(1) as u64;
    if classes.len() == 2 {
        let data = linfa::Dataset::new(x.to_owned(), Array1::from(index));
        let fitted = linfa_logistic::LogisticRegression::default()
            .alpha(1.0 / c)
            .with_intercept(e.flag("fit_intercept"))
            .max_iterations(max_iter)
            .gradient_tolerance(e.float("tol"))
            .fit(&data)
            .map_err(|err| err.to_string())?;
        let positive = fitted.labels().pos.class;
        Ok(Model::BinaryLogistic {
            coef: fitted.params().to_vec(),
            intercept: fitted.intercept(),
            positive: classes[positive],
            negative: classes[1 - positive],
        })
    } else {
        let data = linfa::Dataset::new(x.to_owned(), Array1::from(index));
        let fitted = linfa_logistic::MultiLogisticRegression::default()
            .alpha(1.0 / c)
            .with_intercept(e.flag("fit_intercept"))
            .max_iterations(max_iter)
            .gradient_tolerance(e.float("tol"))
            .fit(&data)
            .map_err(|err| err.to_string())?;
        // linfa's columns follow its own class order: map each back to our label.
        let order: Vec<f64> = fitted.classes().iter().map(|&k| classes[k]).collect();
        Ok(Model::MultiLogistic {
            coef: fitted.params().clone(),
            intercept: fitted.intercept().to_vec(),
            classes: order,
        })
    }
}

/// Gaussian naive Bayes as scikit-learn's: per-class means and variances, every variance widened by
/// `var_smoothing` × the largest feature variance, priors from class frequencies.
fn gaussian_nb(x: ArrayView2<f64>, y: &[f64], var_smoothing: f64) -> Result<Model, String> {
    let (classes, index) = classes_of(y);
    let epsilon = var_smoothing
        * x.var_axis(Axis(0), 0.0)
            .iter()
            .fold(0.0f64, |m, v| m.max(*v));
    let (k, p) = (classes.len(), x.ncols());
    let mut means = Array2::zeros((k, p));
    let mut vars = Array2::zeros((k, p));
    let mut priors = vec![0.0; k];
    for (c, prior) in priors.iter_mut().enumerate() {
        let rows: Vec<usize> = (0..y.len()).filter(|&i| index[i] == c).collect();
        let sub = x.select(Axis(0), &rows);
        means
            .row_mut(c)
            .assign(&sub.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(p)));
        vars.row_mut(c)
            .assign(&(sub.var_axis(Axis(0), 0.0) + epsilon));
        *prior = rows.len() as f64 / y.len() as f64;
    }
    Ok(Model::GaussianNb {
        classes,
        means,
        vars,
        priors,
    })
}

/// A fitted model. Serialized as JSON inside the model's MLmodel folder (the `flowbook` flavor).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Model {
    Linear {
        coef: Vec<f64>,
        intercept: f64,
    },
    BinaryLogistic {
        coef: Vec<f64>,
        intercept: f64,
        positive: f64,
        negative: f64,
    },
    MultiLogistic {
        coef: Array2<f64>,
        intercept: Vec<f64>,
        classes: Vec<f64>,
    },
    GaussianNb {
        classes: Vec<f64>,
        means: Array2<f64>,
        vars: Array2<f64>,
        priors: Vec<f64>,
    },
    KMeans {
        centroids: Array2<f64>,
    },
    TreeRegressor(trees::DecisionTreeRegressor),
    TreeClassifier(trees::DecisionTreeClassifier),
    ForestRegressor(trees::RandomForestRegressor),
    ForestClassifier(trees::RandomForestClassifier),
}

fn softmax_rows(mut z: Array2<f64>) -> Array2<f64> {
    for mut row in z.rows_mut() {
        let m = row.fold(f64::NEG_INFINITY, |a, b| a.max(*b));
        row.mapv_inplace(|v| (v - m).exp());
        let s = row.sum();
        row.mapv_inplace(|v| v / s);
    }
    z
}

impl Model {
    /// The number of input columns the model was fitted on.
    pub fn n_features(&self) -> Option<usize> {
        match self {
            Model::Linear { coef, .. } | Model::BinaryLogistic { coef, .. } => Some(coef.len()),
            Model::MultiLogistic { coef, .. } => Some(coef.nrows()),
            Model::GaussianNb { means, .. } => Some(means.ncols()),
            Model::KMeans { centroids } => Some(centroids.ncols()),
            _ => None,
        }
    }

    /// Class probabilities (columns in `classes()` order), for classifiers.
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Option<Array2<f64>> {
        Some(match self {
            Model::BinaryLogistic {
                coef,
                intercept,
                positive,
                negative,
            } => {
                let z = x.dot(&Array1::from(coef.clone())) + *intercept;
                let p_pos = z.mapv(|v| 1.0 / (1.0 + (-v).exp()));
                let mut out = Array2::zeros((x.nrows(), 2));
                // Columns in ascending label order.
                let (pos_col, neg_col) = if positive > negative { (1, 0) } else { (0, 1) };
                out.column_mut(pos_col).assign(&p_pos);
                out.column_mut(neg_col).assign(&p_pos.mapv(|p| 1.0 - p));
                out
            }
            Model::MultiLogistic {
                coef,
                intercept,
                classes,
            } => {
                let z = x.dot(coef) + &Array1::from(intercept.clone());
                let proba = softmax_rows(z);
                // Reorder columns to ascending labels.
                let mut order: Vec<usize> = (0..classes.len()).collect();
                order.sort_by(|a, b| classes[*a].total_cmp(&classes[*b]));
                proba.select(Axis(1), &order)
            }
            Model::GaussianNb {
                means,
                vars,
                priors,
                ..
            } => {
                let mut z = Array2::zeros((x.nrows(), priors.len()));
                for (c, prior) in priors.iter().enumerate() {
                    let (m, v) = (means.row(c), vars.row(c));
                    let norm: f64 = v
                        .iter()
                        .map(|v| (2.0 * std::f64::consts::PI * v).ln())
                        .sum();
                    for (i, row) in x.rows().into_iter().enumerate() {
                        let quad: f64 = row
                            .iter()
                            .zip(m.iter().zip(v.iter()))
                            .map(|(xv, (mv, vv))| (xv - mv).powi(2) / vv)
                            .sum();
                        z[(i, c)] = prior.ln() - 0.5 * (norm + quad);
                    }
                }
                softmax_rows(z)
            }
            Model::TreeClassifier(t) => t.predict_proba(x),
            Model::ForestClassifier(f) => f.predict_proba(x),
            _ => return None,
        })
    }

    /// The class labels, in the order of `predict_proba`'s columns.
    pub fn classes(&self) -> Option<Vec<f64>> {
        let mut c = match self {
            Model::BinaryLogistic {
                positive, negative, ..
            } => vec![*positive, *negative],
            Model::MultiLogistic { classes, .. } | Model::GaussianNb { classes, .. } => {
                classes.clone()
            }
            Model::TreeClassifier(t) => t.classes().to_vec(),
            Model::ForestClassifier(f) => f.classes().to_vec(),
            _ => return None,
        };
        c.sort_by(f64::total_cmp);
        Some(c)
    }

    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Vec<f64>, String> {
        if let Some(n) = self.n_features() {
            if x.ncols() != n {
                return Err(format!(
                    "the model takes {n} input columns, the data has {}",
                    x.ncols()
                ));
            }
        }
        Ok(match self {
            Model::Linear { coef, intercept } => {
                (x.dot(&Array1::from(coef.clone())) + *intercept).to_vec()
            }
            Model::KMeans { centroids } => x
                .rows()
                .into_iter()
                .map(|row| {
                    (0..centroids.nrows())
                        .map(|c| {
                            let d: f64 = row
                                .iter()
                                .zip(centroids.row(c))
                                .map(|(a, b)| (a - b).powi(2))
                                .sum();
                            (c, d)
                        })
                        .min_by(|a, b| a.1.total_cmp(&b.1))
                        .map_or(0.0, |(c, _)| c as f64)
                })
                .collect(),
            Model::TreeRegressor(t) => t.predict(x).to_vec(),
            Model::ForestRegressor(f) => f.predict(x).to_vec(),
            _ => {
                let proba = self.predict_proba(x).ok_or("no probabilities")?;
                let classes = self.classes().unwrap_or_default();
                proba
                    .rows()
                    .into_iter()
                    .map(|row| {
                        let best = row
                            .iter()
                            .enumerate()
                            .max_by(|a, b| a.1.total_cmp(b.1))
                            .map_or(0, |(i, _)| i);
                        classes.get(best).copied().unwrap_or(f64::NAN)
                    })
                    .collect()
            }
        })
    }

    /// Coefficients or feature importances, one per input column, when the model has them.
    pub fn importances(&self) -> Option<Vec<f64>> {
        match self {
            Model::Linear { coef, .. } | Model::BinaryLogistic { coef, .. } => Some(coef.clone()),
            Model::TreeRegressor(t) => Some(t.feature_importances().to_vec()),
            Model::TreeClassifier(t) => Some(t.feature_importances().to_vec()),
            Model::ForestRegressor(f) => Some(f.feature_importances().to_vec()),
            Model::ForestClassifier(f) => Some(f.feature_importances().to_vec()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod least_squares_tests {
    use super::*;

    #[test]
    fn one_hot_columns_that_sum_to_one_still_fit() {
        // Two one-hot columns (collinear with the intercept) and a numeric one: y = 3·a + 2·d + 1.
        let rows: Vec<[f64; 3]> = (0..40)
            .map(|i| {
                let a = f64::from(i % 2);
                [a, 1.0 - a, f64::from(i) * 0.5]
            })
            .collect();
        let x = Array2::from_shape_fn((40, 3), |(i, j)| rows[i][j]);
        let y = Array1::from_iter(rows.iter().map(|r| 3.0 * r[0] + 2.0 * r[2] + 1.0));
        let Model::Linear { coef, intercept } =
            least_squares(x.view(), y.as_slice().unwrap(), true).unwrap()
        else {
            panic!("a linear model")
        };
        for (r, want) in rows.iter().zip(&y) {
            let got = intercept + coef.iter().zip(r).map(|(c, v)| c * v).sum::<f64>();
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
        assert!((coef[2] - 2.0).abs() < 1e-9);
        // The minimum-norm split of the one-hot effect, as scikit-learn's lstsq answers it.
        assert!(
            (coef[0] - 1.5).abs() < 1e-6 && (coef[1] + 1.5).abs() < 1e-6,
            "{coef:?}"
        );
    }
}

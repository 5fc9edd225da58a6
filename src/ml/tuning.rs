//! Hyperparameter search as hyperopt does it: a search space of `uniform`, `quniform`,
//! `loguniform` and `choice` expressions, random search or TPE (Tree-structured Parzen Estimator:
//! startup trials, then candidates drawn from the good trials' density l(x) and ranked by
//! l(x)/g(x), the good trials being the best γ·√n), each trial a nested run under one parent run,
//! the best trial tagged, progress reported, cancellable, and reproducible from a seed.

use super::data::Task;
use super::train::{self, TrainSpec};
use crate::api::{ApiError, ApiResult};
use crate::tracking::{KeyValue, Metric, Store};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde_json::Value;

/// One parameter's prior, as hyperopt's `hp.*` expressions.
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    Uniform {
        low: f64,
        high: f64,
    },
    QUniform {
        low: f64,
        high: f64,
        q: f64,
    },
    /// `exp(uniform(low, high))`: `low` and `high` are natural logs, as in hyperopt.
    LogUniform {
        low: f64,
        high: f64,
    },
    Choice(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Algo {
    Random,
    Tpe {
        startup: usize,
        gamma: f64,
        candidates: usize,
    },
}

impl Algo {
    /// hyperopt's defaults: 20 startup trials, γ = 0.25, 24 EI candidates.
    pub fn tpe() -> Algo {
        Algo::Tpe {
            startup: 20,
            gamma: 0.25,
            candidates: 24,
        }
    }

    pub fn parse(name: &str) -> Result<Algo, String> {
        match name {
            "random" => Ok(Algo::Random),
            "tpe" => Ok(Algo::tpe()),
            other => Err(format!("unknown search '{other}': expected random or tpe")),
        }
    }
}

fn number(v: &Value, what: &str) -> Result<f64, String> {
    v.as_f64().ok_or_else(|| format!("{what} must be a number"))
}

/// A space written as JSON: `{"alpha": {"type": "loguniform", "low": -5, "high": 0}, "fit_intercept":
/// {"type": "choice", "options": ["True", "False"]}}`, or hyperopt's positional form
/// `{"alpha": ["loguniform", -5, 0], "max_depth": ["quniform", 1, 20, 1]}`.
pub fn parse_space(json: &Value) -> Result<Vec<(String, Dist)>, String> {
    let map = json
        .as_object()
        .ok_or("the search space must be a JSON object of parameter: expression")?;
    if map.is_empty() {
        return Err("the search space is empty".into());
    }
    let mut out = Vec::new();
    for (name, expr) in map {
        let what = |field: &str| format!("{name}: {field}");
        let (kind, args): (String, Vec<Value>) = match expr {
            Value::Array(items) => (
                items
                    .first()
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                items.iter().skip(1).cloned().collect(),
            ),
            Value::Object(o) => {
                let kind = o
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let args = match kind.as_str() {
                    "choice" => vec![o.get("options").cloned().unwrap_or(Value::Null)],
                    _ => ["low", "high", "q"]
                        .iter()
                        .filter_map(|k| o.get(*k).cloned())
                        .collect(),
                };
                (kind, args)
            }
            _ => return Err(format!("{name}: an expression is an object or an array")),
        };
        let dist = match kind.as_str() {
            "uniform" | "loguniform" | "quniform" => {
                let low = number(args.first().unwrap_or(&Value::Null), &what("low"))?;
                let high = number(args.get(1).unwrap_or(&Value::Null), &what("high"))?;
                if low >= high || low.is_nan() || high.is_nan() {
                    return Err(format!("{name}: low ({low}) must be below high ({high})"));
                }
                match kind.as_str() {
                    "uniform" => Dist::Uniform { low, high },
                    "loguniform" => Dist::LogUniform { low, high },
                    _ => {
                        let q = number(args.get(2).unwrap_or(&Value::Null), &what("q"))?;
                        if q <= 0.0 {
                            return Err(format!("{name}: q must be positive"));
                        }
                        Dist::QUniform { low, high, q }
                    }
                }
            }
            "choice" => {
                let options: Vec<String> = match args.as_slice() {
                    [Value::Array(options)] => options.iter().map(text).collect(),
                    other => other.iter().map(text).collect(),
                };
                if options.is_empty() {
                    return Err(format!("{name}: choice needs options"));
                }
                Dist::Choice(options)
            }
            other => {
                return Err(format!(
                    "{name}: unknown expression '{other}' (expected uniform, quniform, loguniform or choice)"
                ))
            }
        };
        out.push((name.clone(), dist));
    }
    Ok(out)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        other => other.to_string(),
    }
}

/// A value of a numeric prior in the space TPE models it in (log space for loguniform).
fn internal(d: &Dist, v: f64) -> f64 {
    match d {
        Dist::LogUniform { .. } => v.ln(),
        _ => v,
    }
}

fn bounds(d: &Dist) -> (f64, f64) {
    match d {
        Dist::Uniform { low, high }
        | Dist::QUniform { low, high, .. }
        | Dist::LogUniform { low, high } => (*low, *high),
        Dist::Choice(o) => (0.0, o.len() as f64),
    }
}

fn external(d: &Dist, v: f64) -> f64 {
    match d {
        Dist::LogUniform { .. } => v.exp(),
        Dist::QUniform { q, .. } => (v / q).round() * q,
        _ => v,
    }
}

/// A parameter value as the estimator reads it (integers without a fraction).
fn render(d: &Dist, v: f64) -> String {
    match d {
        Dist::QUniform { q, .. } if q.fract() == 0.0 => format!("{}", v.round() as i64),
        _ => format!("{v}"),
    }
}

fn normal(rng: &mut Xoshiro256PlusPlus) -> f64 {
    let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// A Parzen estimator over one numeric dimension: the prior (centre of the range, σ = its width)
/// plus one Gaussian per observation, σ = the larger gap to its neighbours, clipped as hyperopt does.
struct Parzen {
    mus: Vec<f64>,
    sigmas: Vec<f64>,
    low: f64,
    high: f64,
}

impl Parzen {
    fn new(obs: &[f64], low: f64, high: f64) -> Parzen {
        let prior_mu = (low + high) / 2.0;
        let prior_sigma = high - low;
        let mut mus: Vec<f64> = obs.to_vec();
        mus.push(prior_mu);
        let mut order: Vec<usize> = (0..mus.len()).collect();
        order.sort_by(|a, b| mus[*a].total_cmp(&mus[*b]));
        let mut sigmas = vec![prior_sigma; mus.len()];
        let min_sigma = prior_sigma / (100.0f64).min(1.0 + mus.len() as f64);
        for (rank, &i) in order.iter().enumerate() {
            let left = if rank > 0 {
                mus[i] - mus[order[rank - 1]]
            } else {
                mus[i] - low
            };
            let right = if rank + 1 < order.len() {
                mus[order[rank + 1]] - mus[i]
            } else {
                high - mus[i]
            };
            sigmas[i] = left.max(right).clamp(min_sigma, prior_sigma);
        }
        let prior_index = mus.len() - 1;
        sigmas[prior_index] = prior_sigma;
        Parzen {
            mus,
            sigmas,
            low,
            high,
        }
    }

    fn sample(&self, rng: &mut Xoshiro256PlusPlus) -> f64 {
        for _ in 0..100 {
            let k = rng.gen_range(0..self.mus.len());
            let v = self.mus[k] + self.sigmas[k] * normal(rng);
            if (self.low..=self.high).contains(&v) {
                return v;
            }
        }
        rng.gen_range(self.low..self.high)
    }

    fn log_density(&self, v: f64) -> f64 {
        let n = self.mus.len() as f64;
        let density: f64 = self
            .mus
            .iter()
            .zip(&self.sigmas)
            .map(|(m, s)| {
                (-0.5 * ((v - m) / s).powi(2)).exp() / (s * (2.0 * std::f64::consts::PI).sqrt())
            })
            .sum::<f64>()
            / n;
        density.max(f64::MIN_POSITIVE).ln()
    }
}

/// A trial's parameter values, as text for the estimator and as numbers for TPE.
type Point = Vec<(String, f64)>;

fn sample_prior(space: &[(String, Dist)], rng: &mut Xoshiro256PlusPlus) -> Point {
    space
        .iter()
        .map(|(name, d)| {
            let v = match d {
                Dist::Choice(o) => rng.gen_range(0..o.len()) as f64,
                _ => {
                    let (lo, hi) = bounds(d);
                    external(d, rng.gen_range(lo..hi))
                }
            };
            (name.clone(), v)
        })
        .collect()
}

fn suggest_tpe(
    space: &[(String, Dist)],
    history: &[(Point, f64)],
    gamma: f64,
    candidates: usize,
    rng: &mut Xoshiro256PlusPlus,
) -> Point {
    let mut ranked: Vec<&(Point, f64)> = history.iter().collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
    let n_below = ((gamma * (history.len() as f64).sqrt()).ceil() as usize).clamp(1, history.len());
    let (below, above) = ranked.split_at(n_below);
    space
        .iter()
        .enumerate()
        .map(|(i, (name, d))| {
            let values = |set: &[&(Point, f64)]| -> Vec<f64> {
                set.iter().map(|(p, _)| internal(d, p[i].1)).collect()
            };
            let v = match d {
                Dist::Choice(options) => {
                    // Categorical Parzen estimators: counts plus a prior weight of one per option.
                    let weights = |set: &[&(Point, f64)]| {
                        let mut w = vec![1.0; options.len()];
                        for (p, _) in set {
                            if let Some(x) = w.get_mut(p[i].1 as usize) {
                                *x += 1.0;
                            }
                        }
                        let total: f64 = w.iter().sum();
                        w.into_iter().map(|x| x / total).collect::<Vec<f64>>()
                    };
                    let (l, g) = (weights(below), weights(above));
                    (0..candidates.max(1))
                        .map(|_| {
                            let mut r = rng.gen::<f64>();
                            let mut k = 0;
                            while k + 1 < l.len() && r > l[k] {
                                r -= l[k];
                                k += 1;
                            }
                            k
                        })
                        .max_by(|a, b| (l[*a] / g[*a]).total_cmp(&(l[*b] / g[*b])))
                        .unwrap_or(0) as f64
                }
                _ => {
                    let (lo, hi) = bounds(d);
                    let l = Parzen::new(&values(below), lo, hi);
                    let g = Parzen::new(&values(above), lo, hi);
                    let best = (0..candidates.max(1))
                        .map(|_| l.sample(rng))
                        .max_by(|a, b| {
                            (l.log_density(*a) - g.log_density(*a))
                                .total_cmp(&(l.log_density(*b) - g.log_density(*b)))
                        })
                        .unwrap_or((lo + hi) / 2.0);
                    external(d, best)
                }
            };
            (name.clone(), v)
        })
        .collect()
}

/// What to search: a base training spec, the space, the algorithm and the budget.
#[derive(Debug, Clone)]
pub struct SearchSpec {
    pub base: TrainSpec,
    pub space: Vec<(String, Dist)>,
    pub algo: Algo,
    pub max_evals: usize,
    pub seed: u64,
}

#[derive(Debug, Clone)]
pub struct Trial {
    pub run_id: String,
    pub params: Vec<(String, String)>,
    pub loss: f64,
}

#[derive(Debug, Clone)]
pub struct SearchOutcome {
    pub parent_run_id: String,
    pub trials: Vec<Trial>,
    pub best: Option<Trial>,
    /// The loss minimized: validation RMSE for regressors, 1 − accuracy for classifiers.
    pub loss_metric: String,
    pub cancelled: bool,
}

/// A search under way, one trial per [`Searcher::step`], so that a host (the browser's worker)
/// can report progress and take a cancel between trials.
pub struct Searcher {
    spec: SearchSpec,
    parent_id: String,
    loss_metric: &'static str,
    rng: Xoshiro256PlusPlus,
    history: Vec<(Point, f64)>,
    trials: Vec<Trial>,
}

impl Searcher {
    /// Checks the space against the estimator and opens the parent run.
    pub fn start(store: &mut Store, spec: &SearchSpec) -> ApiResult<Searcher> {
        if spec.max_evals == 0 {
            return Err(ApiError::invalid("max_evals must be at least 1"));
        }
        for (name, _) in &spec.space {
            if !spec.base.estimator.has_param(name) {
                return Err(ApiError::invalid(format!(
                    "the search space names '{name}', which {} has no parameter of",
                    spec.base.estimator.name
                )));
            }
        }
        let experiment_id = train::experiment_id(store, &spec.base.experiment)?;
        let algo_name = match spec.algo {
            Algo::Random => "random",
            Algo::Tpe { .. } => "tpe",
        };
        let parent = store.create_run(
            &experiment_id,
            "learner",
            Some(crate::clock::now_ms()),
            Some(
                spec.base
                    .run_name
                    .as_deref()
                    .unwrap_or(&format!("{algo_name}-search")),
            ),
            &[
                KeyValue::new("mlflow.source.name", "flowbook"),
                KeyValue::new("mlflow.user", "learner"),
                KeyValue::new("search_algorithm", algo_name),
                KeyValue::new("model", &spec.base.estimator.name),
            ],
        )?;
        let mut search_params = vec![
            KeyValue::new("max_evals", spec.max_evals.to_string()),
            KeyValue::new("seed", spec.seed.to_string()),
            KeyValue::new("algo", algo_name),
        ];
        if let Algo::Tpe {
            startup,
            gamma,
            candidates,
        } = spec.algo
        {
            search_params.push(KeyValue::new("n_startup_jobs", startup.to_string()));
            search_params.push(KeyValue::new("gamma", gamma.to_string()));
            search_params.push(KeyValue::new("n_EI_candidates", candidates.to_string()));
        }
        store.log_batch(&parent.info.run_id, &[], &search_params, &[])?;
        Ok(Searcher {
            loss_metric: match spec.base.estimator.task() {
                Task::Regression => "val_root_mean_squared_error",
                Task::Classification => "val_accuracy_score",
            },
            parent_id: parent.info.run_id,
            rng: Xoshiro256PlusPlus::seed_from_u64(spec.seed),
            history: Vec::new(),
            trials: Vec::new(),
            spec: spec.clone(),
        })
    }

    pub fn parent_run_id(&self) -> &str {
        &self.parent_id
    }

    /// Trials run so far.
    pub fn done(&self) -> usize {
        self.history.len()
    }

    pub fn total(&self) -> usize {
        self.spec.max_evals
    }

    /// Runs the next trial as a nested run; false when the budget is spent.
    pub fn step(&mut self, store: &mut Store) -> ApiResult<bool> {
        if self.done() >= self.total() {
            return Ok(false);
        }
        let spec = &self.spec;
        let point = match spec.algo {
            Algo::Tpe {
                startup,
                gamma,
                candidates,
            } if self.history.len() >= startup.max(1) => {
                suggest_tpe(&spec.space, &self.history, gamma, candidates, &mut self.rng)
            }
            _ => sample_prior(&spec.space, &mut self.rng),
        };
        let params: Vec<(String, String)> = spec
            .space
            .iter()
            .zip(&point)
            .map(|((name, d), (_, v))| {
                let text = match d {
                    Dist::Choice(o) => o[*v as usize].clone(),
                    _ => render(d, *v),
                };
                (name.clone(), text)
            })
            .collect();
        let mut estimator = spec.base.estimator.clone();
        for (k, v) in &params {
            estimator = estimator.set(k, v).map_err(ApiError::invalid)?;
        }
        let mut trial = spec.base.clone();
        trial.estimator = estimator;
        trial.explicit_params = params.clone();
        trial.run_name = Some(format!("trial-{}", self.done()));
        trial.parent_run_id = Some(self.parent_id.clone());
        trial.log_model = false;
        let classifier = spec.base.estimator.task() == Task::Classification;
        let loss = match train::train(store, &trial) {
            Ok(t) => {
                let value = t
                    .metrics
                    .iter()
                    .find(|(k, _)| k == self.loss_metric)
                    .map_or(f64::INFINITY, |(_, v)| *v);
                let loss = if classifier { 1.0 - value } else { value };
                self.trials.push(Trial {
                    run_id: t.run_id,
                    params,
                    loss,
                });
                loss
            }
            // A trial that fails (a bad mix of parameters) is a FAILED run with the worst loss.
            Err(_) => f64::INFINITY,
        };
        self.history.push((point, loss));
        Ok(self.done() < self.total())
    }

    /// Tags the best trial, records it on the parent, and closes the parent run
    /// (KILLED when cancelled before the budget was spent).
    pub fn finish(self, store: &mut Store) -> ApiResult<SearchOutcome> {
        let cancelled = self.done() < self.total();
        let best = self
            .trials
            .iter()
            .filter(|t| t.loss.is_finite())
            .min_by(|a, b| a.loss.total_cmp(&b.loss))
            .cloned();
        if let Some(b) = &best {
            store.set_tag(&b.run_id, "best_trial", "true")?;
            let mut tags = vec![KeyValue::new("best_run_id", &b.run_id)];
            tags.extend(
                b.params
                    .iter()
                    .map(|(k, v)| KeyValue::new(format!("best_{k}"), v)),
            );
            let classifier = self.spec.base.estimator.task() == Task::Classification;
            store.log_batch(
                &self.parent_id,
                &[Metric {
                    key: format!("best_{}", self.loss_metric),
                    value: if classifier { 1.0 - b.loss } else { b.loss },
                    timestamp: crate::clock::now_ms(),
                    step: 0,
                }],
                &[],
                &tags,
            )?;
        }
        store.update_run(
            &self.parent_id,
            Some(if cancelled { "KILLED" } else { "FINISHED" }),
            Some(crate::clock::now_ms()),
            None,
        )?;
        Ok(SearchOutcome {
            parent_run_id: self.parent_id,
            trials: self.trials,
            best,
            loss_metric: self.loss_metric.to_string(),
            cancelled,
        })
    }
}

/// Runs a whole search. `progress(done, total)` is called after each trial; returning false cancels
/// the remaining trials (the parent run is then KILLED, the finished trials kept).
pub fn search(
    store: &mut Store,
    spec: &SearchSpec,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> ApiResult<SearchOutcome> {
    let mut searcher = Searcher::start(store, spec)?;
    while searcher.step(store)? {
        if !progress(searcher.done(), searcher.total()) {
            return searcher.finish(store);
        }
    }
    progress(searcher.done(), searcher.total());
    searcher.finish(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_parse_in_both_forms_and_errors_name_the_parameter() {
        let s = parse_space(&serde_json::json!({
            "alpha": ["loguniform", -5, 0],
            "max_iter": {"type": "quniform", "low": 100, "high": 1000, "q": 100},
            "fit_intercept": {"type": "choice", "options": [true, false]}
        }))
        .unwrap();
        assert_eq!(s.len(), 3);
        assert!(s.contains(&(
            "fit_intercept".into(),
            Dist::Choice(vec!["True".into(), "False".into()])
        )));
        let e = parse_space(&serde_json::json!({"alpha": ["uniform", 2, 1]})).unwrap_err();
        assert!(e.contains("alpha: low (2) must be below high (1)"), "{e}");
        assert!(parse_space(&serde_json::json!({"a": ["normal", 0, 1]}))
            .unwrap_err()
            .contains("unknown expression 'normal'"));
    }

    #[test]
    fn tpe_concentrates_near_the_optimum() {
        // Minimise (x - 2)^2 over uniform(-10, 10): after startup, TPE's suggestions cluster near 2.
        let space = vec![(
            "x".to_string(),
            Dist::Uniform {
                low: -10.0,
                high: 10.0,
            },
        )];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut history: Vec<(Point, f64)> = Vec::new();
        for i in 0..60 {
            let p = if i < 20 {
                sample_prior(&space, &mut rng)
            } else {
                suggest_tpe(&space, &history, 0.25, 24, &mut rng)
            };
            let loss = (p[0].1 - 2.0).powi(2);
            history.push((p, loss));
        }
        let late: f64 = history[40..].iter().map(|(_, l)| l).sum::<f64>() / 20.0;
        let early: f64 = history[..20].iter().map(|(_, l)| l).sum::<f64>() / 20.0;
        assert!(
            late < early * 0.75,
            "TPE's late trials ({late}) should beat random ones ({early})"
        );
        let best = history
            .iter()
            .map(|(p, _)| p[0].1)
            .min_by(|a, b| (a - 2.0).abs().total_cmp(&(b - 2.0).abs()))
            .unwrap();
        assert!(
            (best - 2.0).abs() < 0.25,
            "the best trial ({best}) lands near the optimum"
        );
    }
}

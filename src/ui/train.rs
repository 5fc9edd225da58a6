//! Train: a data set, a model with scikit-learn's parameters, autolog, and an optional random or
//! TPE search — run in the worker with a progress bar and a cancel button; each run (each trial)
//! lands in the experiment as it finishes.

use super::client::Client;
use super::controls::{strings, LabelledSelect, Progress, ProgressBar};
use super::router::Route;
use crate::ml::{data, estimators};
use leptos::prelude::*;
use serde_json::{json, Value};

/// A starting search space for a model, as hyperopt expressions.
fn default_space(model: &str) -> &'static str {
    match model {
        "Lasso" | "Ridge" => r#"{"alpha": ["loguniform", -7, 1]}"#,
        "ElasticNet" => r#"{"alpha": ["loguniform", -7, 1], "l1_ratio": ["uniform", 0.05, 1]}"#,
        "LogisticRegression" => r#"{"C": ["loguniform", -4, 4]}"#,
        "DecisionTreeRegressor" | "DecisionTreeClassifier" => {
            r#"{"max_depth": ["quniform", 1, 12, 1], "min_samples_leaf": ["quniform", 1, 20, 1]}"#
        }
        "RandomForestRegressor" | "RandomForestClassifier" => {
            r#"{"max_depth": ["quniform", 2, 12, 1], "n_estimators": ["quniform", 10, 60, 10]}"#
        }
        "KMeans" => r#"{"n_clusters": ["quniform", 2, 10, 1]}"#,
        "GaussianNB" => r#"{"var_smoothing": ["loguniform", -20, -5]}"#,
        _ => "{}",
    }
}

/// `alpha=0.1, max_iter=2000` as a JSON object; a malformed pair is named.
fn parse_params(text: &str) -> Result<Value, String> {
    let mut map = serde_json::Map::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("'{pair}' is not name=value"))?;
        map.insert(k.trim().to_string(), Value::String(v.trim().to_string()));
    }
    Ok(Value::Object(map))
}

#[component]
pub fn TrainPage() -> impl IntoView {
    let client = expect_context::<Client>();
    let experiment = RwSignal::new("course".to_string());
    let dataset = RwSignal::new("taxi-trips".to_string());
    let model = RwSignal::new("Lasso".to_string());
    let params = RwSignal::new("alpha=0.1".to_string());
    let run_name = RwSignal::new(String::new());
    let autolog = RwSignal::new(true);
    let search = RwSignal::new("none".to_string());
    let max_evals = RwSignal::new("20".to_string());
    let space = RwSignal::new(default_space("Lasso").to_string());
    Effect::new(move |_| space.set(default_space(&model.get()).to_string()));
    let (progress, set_progress) = signal(None::<Progress>);
    let (outcome, set_outcome) = signal(None::<Result<Value, String>>);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        set_outcome.set(None);
        let request = (|| -> Result<Value, String> {
            let mut r = json!({
                "experiment": experiment.get_untracked(),
                "dataset": dataset.get_untracked(),
                "model": model.get_untracked(),
                "params": parse_params(&params.get_untracked())?,
                "autolog": autolog.get_untracked(),
                "run_name": run_name.get_untracked(),
            });
            let algo = search.get_untracked();
            if algo != "none" {
                let space: Value = serde_json::from_str(&space.get_untracked())
                    .map_err(|e| format!("the search space is not JSON: {e}"))?;
                let evals: u64 = max_evals
                    .get_untracked()
                    .trim()
                    .parse()
                    .map_err(|_| "the number of trials must be a whole number".to_string())?;
                r["tune"] = json!({"algo": algo, "max_evals": evals, "space": space});
            }
            Ok(r)
        })();
        let request = match request {
            Ok(r) => r,
            Err(e) => return set_outcome.set(Some(Err(e))),
        };
        set_progress.set(Some(Progress { done: 0, total: 1 }));
        leptos::task::spawn_local(async move {
            let report = move |done: usize, total: usize| {
                set_progress.set(Some(Progress { done, total }));
                // Finished trials appear in the experiment's runs as they land.
                client.revision.update(|r| *r += 1);
            };
            let result = client
                .train(request, Box::new(report))
                .await
                .map_err(|e| e.message);
            set_outcome.set(Some(result));
            set_progress.set(None);
        });
    };
    let busy = move || progress.get().is_some();

    view! {
        <section class="panel" aria-labelledby="train-heading">
            <h2 id="train-heading">"Train a model"</h2>
            <p>"Everything runs here, in your browser: the model is fitted by the engine in its worker and tracked as
               an MLflow run. Parameters use scikit-learn's names; autolog logs every parameter (defaults included),
               training and validation metrics, the model, the data set and plots."</p>
            <form class="train-form" on:submit=submit>
                <div class="field">
                    <label for="train-experiment">"Experiment"</label>
                    <input id="train-experiment" type="text" prop:value=experiment on:input=move |ev| experiment.set(event_target_value(&ev))/>
                </div>
                <div class="field"><LabelledSelect id="train-dataset" label="Data set" options=strings(&data::BUILTIN) value=dataset/></div>
                <div class="field"><LabelledSelect id="train-model" label="Model" options=strings(&estimators::NAMES) value=model/></div>
                <div class="field">
                    <label for="train-params">"Parameters"</label>
                    <input id="train-params" type="text" placeholder="alpha=0.1, max_iter=1000" prop:value=params on:input=move |ev| params.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="train-run-name">"Run name"</label>
                    <input id="train-run-name" type="text" placeholder="(a random name)" prop:value=run_name on:input=move |ev| run_name.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <input id="train-autolog" type="checkbox" prop:checked=autolog on:change=move |ev| autolog.set(event_target_checked(&ev))/>
                    <label for="train-autolog">"Autolog"</label>
                </div>
                <div class="field"><LabelledSelect id="train-search" label="Hyperparameter search" options=strings(&["none", "random", "tpe"]) value=search/></div>
                {move || (search.get() != "none").then(|| view! {
                    <div class="field">
                        <label for="train-evals">"Trials"</label>
                        <input id="train-evals" type="text" inputmode="numeric" prop:value=max_evals on:input=move |ev| max_evals.set(event_target_value(&ev))/>
                    </div>
                    <div class="field wide">
                        <label for="train-space">"Search space (hyperopt expressions)"</label>
                        <textarea id="train-space" rows="3" prop:value=space on:input=move |ev| space.set(event_target_value(&ev))></textarea>
                    </div>
                })}
                <div class="field wide">
                    <button type="submit" disabled=busy>"Train"</button>
                    " "
                    <button type="button" class="secondary" disabled=move || !busy() on:click=move |_| client.cancel()>"Cancel"</button>
                </div>
            </form>
            <ProgressBar label="Training" progress=progress/>
            {move || outcome.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Ok(v) => {
                    let experiment_id = v["experiment_id"].as_str().unwrap_or("0").to_string();
                    let link = |run: &str| Route::Run { experiment_id: experiment_id.clone(), run_id: run.to_string() }.href();
                    let runs = Route::Runs { experiment_id: experiment_id.clone() }.href();
                    if let Some(parent) = v["parent_run_id"].as_str() {
                        let best = v["best_run_id"].as_str().unwrap_or("").to_string();
                        let summary = format!(
                            "{} trials{}; best {} = {:.4}",
                            v["trials"], if v["cancelled"] == true { " (cancelled)" } else { "" },
                            v["loss_metric"].as_str().unwrap_or("loss"),
                            v["best_loss"].as_f64().unwrap_or(f64::NAN)
                        );
                        view! {
                            <div class="notice" role="status">
                                <p>"Search finished: " {summary}</p>
                                <p><a href=link(parent)>"The search run"</a>" · "<a href=link(&best)>"the best trial"</a>" · "<a href=runs>"all runs"</a></p>
                            </div>
                        }.into_any()
                    } else {
                        let run = v["run_id"].as_str().unwrap_or("").to_string();
                        let shown: Vec<String> = v["metrics"].as_array().into_iter().flatten()
                            .filter_map(|m| Some((m[0].as_str()?.to_string(), m[1].as_f64()?)))
                            .filter(|(k, _)| k.starts_with("val_"))
                            .map(|(k, x)| format!("{k} = {x:.4}"))
                            .collect();
                        view! {
                            <div class="notice" role="status">
                                <p>"Run finished: " {shown.join(", ")}</p>
                                <p><a href=link(&run)>"Open the run"</a>" · "<a href=runs>"all runs"</a></p>
                            </div>
                        }.into_any()
                    }
                }
            })}
        </section>
    }
}

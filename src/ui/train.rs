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
pub(super) fn default_space(model: &str) -> &'static str {
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

/// The data set choice that means "the file I pick".
const YOUR_CSV: &str = "your CSV file…";

/// A CSV the learner picked: its text, its columns, and the choices made about them.
#[derive(Clone)]
struct UserCsv {
    name: String,
    text: String,
    /// Each column's name and whether all its values are numbers.
    columns: Vec<(String, bool)>,
    rows: usize,
    target: RwSignal<String>,
    categorical: RwSignal<Vec<String>>,
}

/// Reads a picked file and its columns; the engine's CSV reader names what is wrong with it.
async fn read_csv(file: web_sys::File) -> Result<UserCsv, String> {
    let name = file.name();
    let text = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .ok()
        .and_then(|t| t.as_string())
        .ok_or_else(|| format!("{name} cannot be read as text"))?;
    let frame = data::parse_table(&text).map_err(|e| format!("{name}: {e}"))?;
    let columns: Vec<(String, bool)> = frame
        .names
        .iter()
        .zip(&frame.columns)
        .map(|(n, c)| (n.clone(), matches!(c, data::Column::Numeric(_))))
        .collect();
    let target = columns
        .iter()
        .rev()
        .find(|(_, numeric)| *numeric)
        .map(|(n, _)| n.clone())
        .ok_or_else(|| format!("{name}: no column is numeric, so none can be the target"))?;
    let categorical = columns
        .iter()
        .filter(|(n, numeric)| !numeric && *n != target)
        .map(|(n, _)| n.clone())
        .collect();
    Ok(UserCsv {
        name,
        text,
        rows: frame.nrows(),
        columns,
        target: RwSignal::new(target),
        categorical: RwSignal::new(categorical),
    })
}

/// The picked CSV's columns: which one is the target, which are categories.
#[component]
fn CsvColumns(csv: UserCsv) -> impl IntoView {
    let names: Vec<String> = csv.columns.iter().map(|(n, _)| n.clone()).collect();
    let summary = format!("{}: {} rows, {} columns", csv.name, csv.rows, names.len());
    let (target, categorical) = (csv.target, csv.categorical);
    view! {
        <p class="hint">{summary}</p>
        <LabelledSelect id="train-csv-target" label="Target column" options=names value=target/>
        <fieldset class="csv-columns">
            <legend>"Categorical columns (one-hot encoded)"</legend>
            {csv.columns.into_iter().map(|(name, numeric)| {
                let id = format!("train-csv-cat-{name}");
                let n1 = name.clone();
                let n2 = name.clone();
                let label = name.clone();
                view! {
                    <span class="check">
                        <input id=id.clone() type="checkbox"
                            prop:checked=move || categorical.get().contains(&n1)
                            disabled=move || !numeric || target.get() == n2
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                categorical.update(|c| { c.retain(|x| *x != name); if on { c.push(name.clone()); } });
                            }/>
                        <label for=id>{label}</label>
                    </span>
                }
            }).collect_view()}
        </fieldset>
    }
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
    let csv = RwSignal::new(None::<UserCsv>);
    let (csv_error, set_csv_error) = signal(None::<String>);
    let mut datasets = strings(&data::BUILTIN);
    datasets.push(YOUR_CSV.to_string());

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        set_outcome.set(None);
        let request = (|| -> Result<Value, String> {
            let chosen = dataset.get_untracked();
            let mut r = json!({
                "experiment": experiment.get_untracked(),
                "dataset": chosen,
                "model": model.get_untracked(),
                "params": parse_params(&params.get_untracked())?,
                "autolog": autolog.get_untracked(),
                "run_name": run_name.get_untracked(),
            });
            if chosen == YOUR_CSV {
                let c = csv.get_untracked().ok_or("choose a CSV file first")?;
                r["csv"] = json!({"name": c.name, "text": c.text, "target": c.target.get_untracked(),
                                  "categorical": c.categorical.get_untracked()});
            }
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
                <div class="field"><LabelledSelect id="train-dataset" label="Data set" options=datasets value=dataset/></div>
                {move || (dataset.get() == YOUR_CSV).then(|| view! {
                    <div class="field wide csv-picker">
                        <label for="train-csv">"CSV file (a header row, then one row per example)"</label>
                        <input id="train-csv" type="file" accept=".csv,text/csv" on:change=move |ev| {
                            let input: web_sys::HtmlInputElement = event_target(&ev);
                            let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
                            leptos::task::spawn_local(async move {
                                match read_csv(file).await {
                                    Ok(c) => { set_csv_error.set(None); csv.set(Some(c)); }
                                    Err(e) => { csv.set(None); set_csv_error.set(Some(e)); }
                                }
                            });
                        }/>
                        {move || csv_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                        {move || csv.get().map(|c| view! { <CsvColumns csv=c/> })}
                    </div>
                })}
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

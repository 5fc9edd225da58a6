//! Monitor: score a registered model on reference and current data — the shift in its error shows
//! concept drift, and each feature's KS test and PSI show data drift. Each evaluation is a run.

use super::charts::HistogramChart;
use super::client::Client;
use super::controls::{strings, LabelledSelect};
use super::router::Route;
use crate::ml::data;
use crate::ml::monitor::{Histogram, RESIDUALS};
use leptos::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn number(v: &Value) -> String {
    v.as_f64().map_or_else(|| "—".into(), |x| format!("{x:.4}"))
}

#[component]
pub fn MonitorPage() -> impl IntoView {
    let client = expect_context::<Client>();
    let model_uri = RwSignal::new("models:/linear-model@champion".to_string());
    let experiment = RwSignal::new("monitoring".to_string());
    let reference = RwSignal::new("linear".to_string());
    let current = RwSignal::new("linear-data-drift".to_string());
    let (busy, set_busy) = signal(false);
    let (outcome, set_outcome) = signal(None::<Result<Value, String>>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        set_busy.set(true);
        set_outcome.set(None);
        let request = json!({
            "experiment": experiment.get_untracked(),
            "model_uri": model_uri.get_untracked(),
            "reference": {"dataset": reference.get_untracked(), "rows": 500, "seed": 1},
            "current": {"dataset": current.get_untracked(), "rows": 500, "seed": 2},
        });
        leptos::task::spawn_local(async move {
            set_outcome.set(Some(client.evaluate(request).await.map_err(|e| e.message)));
            set_busy.set(false);
        });
    };
    view! {
        <section class="panel" aria-labelledby="monitor-heading">
            <h2 id="monitor-heading">"Monitor a model"</h2>
            <p>"Score a model on the data it was trained on (reference) and on new data (current). Data drift: the
               inputs' distribution moves (Kolmogorov–Smirnov test, population stability index). Concept drift: the
               inputs look the same but the model's error grows."</p>
            <form class="train-form" on:submit=submit>
                <div class="field">
                    <label for="monitor-uri">"Model URI"</label>
                    <input id="monitor-uri" type="text" prop:value=model_uri on:input=move |ev| model_uri.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="monitor-experiment">"Experiment for the evaluation run"</label>
                    <input id="monitor-experiment" type="text" prop:value=experiment on:input=move |ev| experiment.set(event_target_value(&ev))/>
                </div>
                <div class="field"><LabelledSelect id="monitor-reference" label="Reference data" options=strings(&data::BUILTIN) value=reference/></div>
                <div class="field"><LabelledSelect id="monitor-current" label="Current data" options=strings(&data::BUILTIN) value=current/></div>
                <div class="field wide"><button type="submit" disabled=busy>"Evaluate"</button></div>
            </form>
            {move || busy.get().then(|| view! { <progress aria-label="Evaluating"></progress> })}
            {move || outcome.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Ok(v) => {
                    let e = &v["evaluation"];
                    let shift = e["error_shift"].as_f64().unwrap_or(0.0);
                    let run = Route::Run {
                        experiment_id: v["experiment_id"].as_str().unwrap_or("0").to_string(),
                        run_id: e["run_id"].as_str().unwrap_or("").to_string(),
                    }.href();
                    let metrics: Vec<(String, String, String)> = e["reference"].as_array().into_iter().flatten()
                        .zip(e["current"].as_array().into_iter().flatten())
                        .map(|(a, b)| (
                            a[0].as_str().unwrap_or("").trim_start_matches("reference_").to_string(),
                            number(&a[1]),
                            number(&b[1]),
                        ))
                        .collect();
                    let histograms: BTreeMap<String, Histogram> = serde_json::from_value(e["histograms"].clone()).unwrap_or_default();
                    let residuals = histograms.get(RESIDUALS).cloned();
                    let feature_charts: Vec<(String, Histogram)> = histograms.into_iter().filter(|(k, _)| k != RESIDUALS).collect();
                    let columns: Vec<(String, Value)> = e["drift"].as_object().map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default();
                    view! {
                        <div role="status">
                            <p class="notice">{format!("Error shift (current − reference): {shift:+.4}")}
                                {(shift.abs() > 1.0).then_some(" — the model's error moved: concept drift?")}
                                " · " <a href=run>"The evaluation run"</a></p>
                            <h3>"The model's metrics"</h3>
                            <table class="grid">
                                <thead><tr><th scope="col">"metric"</th><th scope="col">"reference"</th><th scope="col">"current"</th></tr></thead>
                                <tbody>{metrics.into_iter().map(|(k, a, b)| view! { <tr><th scope="row">{k}</th><td>{a}</td><td>{b}</td></tr> }).collect_view()}</tbody>
                            </table>
                            {residuals.map(|h| view! {
                                <h3>"The model's errors"</h3>
                                <p class="hint">"Residuals (actual − predicted) on both data sets: a shifted hump is concept drift."</p>
                                <HistogramChart histogram=h x_label="residual" label="Residuals, reference against current"/>
                            })}
                            <h3>"Data drift per feature"</h3>
                            <table class="grid">
                                <thead><tr><th scope="col">"feature"</th><th scope="col">"KS statistic"</th><th scope="col">"KS p-value"</th><th scope="col">"PSI"</th><th scope="col">"drift"</th></tr></thead>
                                <tbody>{columns.into_iter().map(|(name, d)| {
                                    let p = d["ks_pvalue"].as_f64().unwrap_or(1.0);
                                    let psi = d["psi"].as_f64().unwrap_or(0.0);
                                    let drifted = p < 0.05 || psi > 0.2;
                                    view! { <tr>
                                        <th scope="row">{name}</th>
                                        <td><meter min="0" max="1" value=d["ks_statistic"].as_f64().unwrap_or(0.0)></meter>" "{number(&d["ks_statistic"])}</td>
                                        <td>{format!("{p:.3e}")}</td>
                                        <td>{number(&d["psi"])}</td>
                                        <td>{if drifted { "yes" } else { "no" }}</td>
                                    </tr> }
                                }).collect_view()}</tbody>
                            </table>
                            <div class="chart-grid">
                                {feature_charts.into_iter().map(|(name, h)| view! {
                                    <figure>
                                        <HistogramChart histogram=h x_label=name.clone() label=format!("Distribution of {name}, reference against current")/>
                                        <figcaption>{name.clone()}</figcaption>
                                    </figure>
                                }).collect_view()}
                            </div>
                        </div>
                    }.into_any()
                }
            })}
        </section>
    }
}

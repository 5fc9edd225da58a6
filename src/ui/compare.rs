//! Compare runs: a diff of their parameters and metrics, and parallel coordinates, scatter,
//! contour and metric-history charts over the axes the user picks.

use super::charts::{
    history_points, Axis, ContourChart, LineChart, ParallelCoordinates, ScatterChart, Series,
};
use super::client::Client;
use super::controls::LabelledSelect;
use super::fmt_metric;
use super::router::Route;
use crate::tracking::Run;
use leptos::prelude::*;
use serde_json::json;
use std::collections::BTreeSet;

/// A run value a chart can use: a metric, or a parameter that parses as a number.
fn numeric(run: &Run, key: &str) -> Option<f64> {
    if let Some(m) = key.strip_prefix("metrics.") {
        return run.metric(m);
    }
    key.strip_prefix("params.")
        .and_then(|p| run.param(p))
        .and_then(|v| v.parse().ok())
}

#[component]
pub fn ComparePage(experiment_id: String, run_ids: Vec<String>) -> impl IntoView {
    let client = expect_context::<Client>();
    let ids = run_ids.clone();
    let runs = LocalResource::new(move || {
        let ids = ids.clone();
        async move {
            let mut out = Vec::new();
            for id in ids {
                let v = client
                    .call("GET", "runs/get", json!({"run_id": id}))
                    .await?;
                if let Ok(r) = serde_json::from_value::<Run>(v["run"].clone()) {
                    out.push(r);
                }
            }
            Ok::<_, crate::api::ApiError>(out)
        }
    });
    let exp = experiment_id.clone();
    view! {
        <section class="panel">
            <p class="crumbs"><a href=Route::Experiments.href()>"Experiments"</a>" / "
                <a href=Route::Runs { experiment_id: exp.clone() }.href()>"Runs"</a>" / "</p>
            <h2>{format!("Compare {} runs", run_ids.len())}</h2>
            {move || match runs.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                Some(Ok(list)) => view! { <CompareBody runs=list/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn CompareBody(runs: Vec<Run>) -> impl IntoView {
    let client = expect_context::<Client>();
    let params: BTreeSet<String> = runs
        .iter()
        .flat_map(|r| r.data.params.iter().map(|p| p.key.clone()))
        .collect();
    let metrics: BTreeSet<String> = runs
        .iter()
        .flat_map(|r| r.data.metrics.iter().map(|m| m.key.clone()))
        .collect();
    let mut numeric_keys: Vec<String> = params
        .iter()
        .filter(|p| {
            runs.iter()
                .any(|r| r.param(p).is_some_and(|v| v.parse::<f64>().is_ok()))
        })
        .map(|p| format!("params.{p}"))
        .collect();
    numeric_keys.extend(metrics.iter().map(|m| format!("metrics.{m}")));
    let pick = |i: usize| {
        RwSignal::new(
            numeric_keys
                .get(i.min(numeric_keys.len().saturating_sub(1)))
                .cloned()
                .unwrap_or_default(),
        )
    };
    let (x, y) = (pick(0), pick(numeric_keys.len().saturating_sub(1)));
    let z = pick(numeric_keys.len().saturating_sub(1));
    let x2 = pick(1);
    let history_metric = RwSignal::new(metrics.iter().next().cloned().unwrap_or_default());
    let runs = StoredValue::new(runs);
    let names = Signal::derive(move || {
        runs.with_value(|rs| {
            rs.iter()
                .map(|r| r.info.run_name.clone())
                .collect::<Vec<_>>()
        })
    });
    let all_axes = numeric_keys.clone();
    let axes = Signal::derive(move || {
        runs.with_value(|rs| {
            all_axes
                .iter()
                .map(|k| Axis {
                    name: k.clone(),
                    values: rs.iter().map(|r| numeric(r, k)).collect(),
                })
                .collect::<Vec<_>>()
        })
    });
    let scatter = Signal::derive(move || {
        runs.with_value(|rs| {
            rs.iter()
                .filter_map(|r| {
                    Some(Series {
                        name: r.info.run_name.clone(),
                        points: vec![(numeric(r, &x.get())?, numeric(r, &y.get())?)],
                    })
                })
                .collect::<Vec<_>>()
        })
    });
    let contour = Signal::derive(move || {
        runs.with_value(|rs| {
            rs.iter()
                .filter_map(|r| {
                    Some((
                        numeric(r, &x.get())?,
                        numeric(r, &x2.get())?,
                        numeric(r, &z.get())?,
                    ))
                })
                .collect::<Vec<_>>()
        })
    });
    let histories = LocalResource::new(move || {
        let key = history_metric.get();
        let ids: Vec<(String, String)> = runs.with_value(|rs| {
            rs.iter()
                .map(|r| (r.info.run_id.clone(), r.info.run_name.clone()))
                .collect()
        });
        async move {
            let mut series = Vec::new();
            for (id, name) in ids {
                if let Ok(v) = client
                    .call(
                        "GET",
                        "metrics/get-history",
                        json!({"run_id": id, "metric_key": key}),
                    )
                    .await
                {
                    let points = history_points(&v);
                    series.push(Series { name, points });
                }
            }
            series
        }
    });
    let history_series = Signal::derive(move || histories.get().unwrap_or_default());
    let diff_rows = runs.with_value(|rs| {
        let mut rows = Vec::new();
        for p in &params {
            let values: Vec<String> = rs
                .iter()
                .map(|r| r.param(p).unwrap_or("—").to_string())
                .collect();
            let differs = values.windows(2).any(|w| w[0] != w[1]);
            rows.push((format!("param {p}"), values, differs));
        }
        for m in &metrics {
            let values: Vec<String> = rs
                .iter()
                .map(|r| r.metric(m).map(fmt_metric).unwrap_or_else(|| "—".into()))
                .collect();
            let differs = values.windows(2).any(|w| w[0] != w[1]);
            rows.push((format!("metric {m}"), values, differs));
        }
        rows
    });
    let opts = numeric_keys.clone();
    view! {
        <h3>"Parameters and metrics"</h3>
        <div class="table-scroll"><table class="grid diff">
            <thead><tr><th scope="col">"Key"</th>{move || names.get().into_iter().map(|n| view! { <th scope="col">{n}</th> }).collect_view()}</tr></thead>
            <tbody>{diff_rows.into_iter().map(|(k, vals, differs)| view! {
                <tr class:differs=differs><th scope="row">{k}</th>{vals.into_iter().map(|v| view! { <td>{v}</td> }).collect_view()}</tr>
            }).collect_view()}</tbody>
        </table></div>
        <h3>"Parallel coordinates"</h3>
        <ParallelCoordinates axes runs=names label="Parallel coordinates of the runs' parameters and metrics"/>
        <h3>"Scatter"</h3>
        <div class="inline-form">
            <LabelledSelect id="scatter-x" label="X" options=opts.clone() value=x/>
            <LabelledSelect id="scatter-y" label="Y" options=opts.clone() value=y/>
        </div>
        <ScatterChart series=scatter x_label=Signal::derive(move || x.get()) y_label=Signal::derive(move || y.get()) label="Scatter of two run values"/>
        <h3>"Contour"</h3>
        <div class="inline-form">
            <LabelledSelect id="contour-y" label="Y" options=opts.clone() value=x2/>
            <LabelledSelect id="contour-z" label="Z" options=opts.clone() value=z/>
            <span class="muted">"(X as in the scatter)"</span>
        </div>
        <ContourChart points=contour labels=Signal::derive(move || (x.get(), x2.get(), z.get())) label="Contour of a metric over two parameters"/>
        <h3>"Metric history"</h3>
        <LabelledSelect id="history-metric" label="Metric" options=metrics.into_iter().collect() value=history_metric/>
        <LineChart series=history_series x_label="step" y_label=Signal::derive(move || history_metric.get()) label="Metric history of each run"/>
    }
}

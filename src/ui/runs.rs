//! The runs table of one experiment: MLflow's filter box (errors inline), param/metric/tag columns
//! the user picks, sort by any column (MLflow's `order_by`), selection, delete/restore, compare.
//! Rows are virtualized and windowed: the worker answers the count and the rows in view (sorted and
//! filtered in SQL), and only those rows are in the DOM, so 10,000 runs stay fast.

use super::client::Client;
use super::controls::{TagEditor, TagOwner};
use super::router::{navigate, Route};
use super::{fmt_metric, fmt_time};
use crate::tracking::{Experiment, Run};
use leptos::prelude::*;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashSet};

const ROW_HEIGHT: f64 = 34.0;
const VIEWPORT_ROWS: usize = 16;
/// Rows drawn beyond the viewport on each side, so a short scroll shows drawn rows.
const OVERSCAN_ROWS: usize = 4;
/// The window of runs held: it starts at a multiple of `WINDOW_STEP` and covers every row drawn
/// until the view moves past the next step.
const WINDOW_STEP: usize = 30;
const WINDOW_ROWS: usize = 2 * WINDOW_STEP;

fn visible_first(scroll_top: f64) -> usize {
    ((scroll_top / ROW_HEIGHT) as usize).saturating_sub(OVERSCAN_ROWS)
}

/// One answer for the table: how many runs match, and the window of them held.
#[derive(Clone)]
struct Window {
    total: usize,
    start: usize,
    runs: Vec<Run>,
}

#[derive(Clone, PartialEq)]
enum Shown {
    Loading,
    Failed(String),
    Table,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    Metric(String),
    Param(String),
    Tag(String),
}

impl Column {
    fn label(&self) -> String {
        match self {
            Column::Metric(k) | Column::Param(k) | Column::Tag(k) => k.clone(),
        }
    }
    fn order_key(&self) -> String {
        match self {
            Column::Metric(k) => format!("metrics.`{k}`"),
            Column::Param(k) => format!("params.`{k}`"),
            Column::Tag(k) => format!("tags.`{k}`"),
        }
    }
    fn value(&self, run: &Run) -> String {
        match self {
            Column::Metric(k) => run.metric(k).map(fmt_metric).unwrap_or_default(),
            Column::Param(k) => run.param(k).unwrap_or_default().to_string(),
            Column::Tag(k) => run.tag(k).unwrap_or_default().to_string(),
        }
    }
}

#[component]
pub fn RunsPage(experiment_id: String) -> impl IntoView {
    let client = expect_context::<Client>();
    let (filter, set_filter) = signal(String::new());
    let (draft, set_draft) = signal(String::new());
    let (order, set_order) = signal(vec!["attributes.start_time DESC".to_string()]);
    let experiment_id_q = experiment_id.clone();
    let (view_type, set_view_type) = signal("ACTIVE_ONLY".to_string());
    let (selected, set_selected) = signal(HashSet::<String>::new());
    let (columns, set_columns) = signal(Vec::<Column>::new());
    let (scroll_top, set_scroll_top) = signal(0.0f64);
    let (action_error, set_action_error) = signal(None::<String>);
    // Kept across re-reads of the experiment, so the tag editor stays open while it is used.
    let tags_open = RwSignal::new(false);
    let exp_id = experiment_id.clone();
    let experiment = LocalResource::new(move || {
        client.revision.get();
        let id = exp_id.clone();
        async move {
            client
                .call("GET", "experiments/get", json!({"experiment_id": id}))
                .await
                .map(|v| serde_json::from_value::<Experiment>(v["experiment"].clone()).ok())
        }
    });
    // The table asks the worker for the count and for the rows in view only; sort and filter
    // stay in SQL, so 10,000 runs cost what 80 do. The count and the rows arrive as one answer,
    // so a new filter never shows its count over the old rows; a scroll reuses the count.
    let query = move || {
        json!({
            "experiment_ids": [experiment_id_q.clone()],
            "filter": filter.get(),
            "run_view_type": view_type.get(),
        })
    };
    let counted = StoredValue::new(None::<(Value, u64, usize)>);
    let window_start =
        Memo::new(move |_| (visible_first(scroll_top.get()) / WINDOW_STEP) * WINDOW_STEP);
    let window = LocalResource::new(move || {
        let revision = client.revision.get();
        let start = window_start.get();
        let count_body = query();
        let mut body = count_body.clone();
        body["order_by"] = json!(order.get());
        body["max_results"] = json!(WINDOW_ROWS);
        if start > 0 {
            body["page_token"] = json!(crate::tracking::paging::page_token(start as i64));
        }
        let known = counted.with_value(|c| match c {
            Some((q, r, n)) if *q == count_body && *r == revision => Some(*n),
            _ => None,
        });
        // Both requests are in the worker's queue before either answer is awaited.
        let count = known
            .is_none()
            .then(|| client.call("POST", "flowbook/runs/count", count_body.clone()));
        let search = client.call("POST", "runs/search", body);
        async move {
            let total = match (known, count) {
                (Some(n), _) => n,
                (None, Some(count)) => {
                    let n = count.await?["count"].as_u64().unwrap_or(0) as usize;
                    counted.set_value(Some((count_body, revision, n)));
                    n
                }
                (None, None) => 0,
            };
            let v = search.await?;
            let runs = serde_json::from_value::<Vec<Run>>(
                v.get("runs").cloned().unwrap_or(Value::Array(vec![])),
            )
            .unwrap_or_default();
            Ok::<_, crate::api::ApiError>(Window { total, start, runs })
        }
    });
    // What the table shows changes only when the answer does; while a new one is asked for,
    // the last one stays on screen.
    let shown = Memo::new(move |_| {
        window.with(|w| match w {
            None => Shown::Loading,
            Some(Err(e)) => Shown::Failed(e.to_string()),
            Some(Ok(_)) => Shown::Table,
        })
    });
    let total = Memo::new(move |_| {
        window.with(|w| match w {
            Some(Ok(w)) => w.total,
            _ => 0,
        })
    });
    // The keys the experiment's runs carry, offered as columns; the first metrics are shown by default.
    let exp_id = experiment_id.clone();
    let keys_of_runs = LocalResource::new(move || {
        client.revision.get();
        let body = json!({"experiment_ids": [exp_id.clone()], "run_view_type": "ALL"});
        async move { client.call("POST", "flowbook/runs/keys", body).await }
    });
    let keys = Memo::new(move |_| {
        let list = |v: &Value, name: &str| -> BTreeSet<String> {
            v[name]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .filter(|k| !(name == "tags" && k.starts_with("mlflow.")))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        match keys_of_runs.get() {
            Some(Ok(v)) => (list(&v, "metrics"), list(&v, "params"), list(&v, "tags")),
            _ => Default::default(),
        }
    });
    Effect::new(move |_| {
        let (metrics, params, _) = keys.get();
        if columns.get_untracked().is_empty() && (!metrics.is_empty() || !params.is_empty()) {
            let mut cols: Vec<Column> = metrics
                .iter()
                .take(4)
                .cloned()
                .map(Column::Metric)
                .collect();
            cols.extend(params.iter().take(4).cloned().map(Column::Param));
            set_columns.set(cols);
        }
    });
    let toggle_column = move |c: Column| {
        set_columns.update(|cols| match cols.iter().position(|x| *x == c) {
            Some(i) => {
                cols.remove(i);
            }
            None => cols.push(c),
        })
    };
    let sort_by = move |key: String| {
        set_order.update(|o| {
            let desc = format!("{key} DESC");
            let asc = format!("{key} ASC");
            *o = vec![if o.first() == Some(&desc) { asc } else { desc }];
        })
    };
    let sort_mark = move |key: String| {
        let o = order.get();
        if o.first() == Some(&format!("{key} DESC")) {
            " ▼"
        } else if o.first() == Some(&format!("{key} ASC")) {
            " ▲"
        } else {
            ""
        }
    };
    let lifecycle = move |endpoint: &'static str| {
        let ids: Vec<String> = selected.get_untracked().into_iter().collect();
        leptos::task::spawn_local(async move {
            for id in ids {
                if let Err(e) = client.write("POST", endpoint, json!({"run_id": id})).await {
                    set_action_error.set(Some(e.to_string()));
                    return;
                }
            }
            set_action_error.set(None);
            set_selected.set(HashSet::new());
        });
    };
    let exp_for_compare = experiment_id.clone();
    let compare = move |_| {
        let ids: Vec<String> = selected.get_untracked().into_iter().collect();
        navigate(&Route::Compare {
            experiment_id: exp_for_compare.clone(),
            run_ids: ids,
        });
    };
    let exp_for_rows = experiment_id.clone();
    view! {
        <section class="panel" aria-labelledby="runs-heading">
            <p class="crumbs"><a href=Route::Experiments.href()>"Experiments"</a>" / "</p>
            <h2 id="runs-heading">{move || match experiment.get() {
                Some(Ok(Some(e))) => format!("{} — runs", e.name),
                _ => "Runs".to_string(),
            }}</h2>
            {move || match experiment.get() {
                Some(Ok(Some(e))) => {
                    let summary = format!("Experiment tags ({})", e.tags.iter().filter(|t| !t.key.starts_with("mlflow.")).count());
                    view! {
                        <details class="experiment-tags" prop:open=move || tags_open.get()
                            on:toggle=move |ev| {
                                use wasm_bindgen::JsCast;
                                if let Some(d) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlDetailsElement>().ok()) {
                                    tags_open.set(d.open());
                                }
                            }>
                            <summary>{summary}</summary>
                            <TagEditor owner=TagOwner::Experiment(e.experiment_id.clone()) tags=e.tags.clone()/>
                        </details>
                    }.into_any()
                }
                _ => ().into_any(),
            }}
            <form class="filter" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); set_filter.set(draft.get_untracked()); }>
                <label for="run-filter">"Filter"</label>
                <input id="run-filter" type="text" class="filter-input" spellcheck="false"
                    placeholder="metrics.rmse < 0.5 and params.alpha = '0.1' and tags.model LIKE 'xg%'"
                    prop:value=draft on:input=move |ev| set_draft.set(event_target_value(&ev))/>
                <button type="submit">"Search"</button>
                <label for="view-type" class="sr-only">"Lifecycle"</label>
                <select id="view-type" on:change=move |ev| set_view_type.set(event_target_value(&ev))>
                    <option value="ACTIVE_ONLY">"Active"</option>
                    <option value="DELETED_ONLY">"Deleted"</option>
                    <option value="ALL">"All"</option>
                </select>
            </form>
            <details class="columns">
                <summary>"Columns"</summary>
                {move || {
                    let (metrics, params, tags) = keys.get();
                    let group = move |title: &'static str, items: Vec<Column>| view! {
                        <fieldset><legend>{title}</legend>
                            {items.into_iter().map(|c| {
                                let c2 = c.clone();
                                let c3 = c.clone();
                                view! { <label class="check"><input type="checkbox"
                                    prop:checked=move || columns.get().contains(&c2)
                                    on:change=move |_| toggle_column(c3.clone())/>{c.label()}</label> }
                            }).collect_view()}
                        </fieldset>
                    };
                    view! {
                        {group("Metrics", metrics.into_iter().map(Column::Metric).collect())}
                        {group("Parameters", params.into_iter().map(Column::Param).collect())}
                        {group("Tags", tags.into_iter().map(Column::Tag).collect())}
                    }
                }}
            </details>
            <div class="toolbar">
                <button class="secondary" disabled=move || selected.get().len() < 2 on:click=compare>"Compare"</button>
                <button class="secondary danger" disabled=move || selected.get().is_empty() on:click=move |_| lifecycle("runs/delete")>"Delete"</button>
                <button class="secondary" disabled=move || selected.get().is_empty() on:click=move |_| lifecycle("runs/restore")>"Restore"</button>
                <span class="muted">{move || format!("{} selected", selected.get().len())}</span>
            </div>
            {move || action_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || match shown.get() {
                Shown::Loading => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Shown::Failed(e) => view! { <p class="error filter-error" role="alert">{e}</p> }.into_any(),
                Shown::Table => {
                    let exp_id = exp_for_rows.clone();
                    view! {
                        <p class="muted" aria-live="polite">{move || format!("{} runs", total.get())}</p>
                        <div class="table-scroll" role="region" aria-label="Runs" tabindex="0"
                            on:scroll=move |ev| set_scroll_top.set(event_target::<web_sys::HtmlElement>(&ev).scroll_top() as f64)>
                            <table class="grid runs" aria-rowcount=move || total.get() + 1>
                                <thead><tr>
                                    <th scope="col"><span class="sr-only">"Select"</span></th>
                                    <th scope="col"><button class="sort" on:click=move |_| sort_by("attributes.run_name".into())>"Run name"{move || sort_mark("attributes.run_name".into())}</button></th>
                                    <th scope="col"><button class="sort" on:click=move |_| sort_by("attributes.start_time".into())>"Created"{move || sort_mark("attributes.start_time".into())}</button></th>
                                    <th scope="col">"Status"</th>
                                    {move || columns.get().into_iter().map(|c| {
                                        let key = c.order_key();
                                        let key2 = key.clone();
                                        let kind = match c { Column::Metric(_) => "metric", Column::Param(_) => "param", Column::Tag(_) => "tag" };
                                        view! { <th scope="col" class=kind><button class="sort" on:click=move |_| sort_by(key.clone())>{c.label()}{move || sort_mark(key2.clone())}</button></th> }
                                    }).collect_view()}
                                </tr></thead>
                                <tbody>
                                    {move || {
                                        let total = total.get();
                                        let first = visible_first(scroll_top.get()).min(total);
                                        let last = (first + VIEWPORT_ROWS + 2 * OVERSCAN_ROWS).min(total);
                                        let cols = columns.get();
                                        let span = 4 + cols.len();
                                        let exp_id = exp_id.clone();
                                        // Spacer rows stand for the rows out of view, sized by an SVG's height
                                        // attribute: the CSP forbids style attributes.
                                        let top_px = (first as f64 * ROW_HEIGHT).to_string();
                                        let bottom_px = ((total - last) as f64 * ROW_HEIGHT).to_string();
                                        // Until the window that holds them arrives, rows in view are drawn empty
                                        // (the last window stays meanwhile, so a short scroll shows no gap).
                                        let rows: Vec<(usize, Option<Run>)> = window.with(|w| {
                                            let held = match w {
                                                Some(Ok(w)) => Some(w),
                                                _ => None,
                                            };
                                            (first..last)
                                                .map(|i| (i, held.and_then(|w| i.checked_sub(w.start).and_then(|j| w.runs.get(j))).cloned()))
                                                .collect()
                                        });
                                        view! {
                                            <tr class="spacer"><td colspan={span}><svg class="spacer-fill" width="1" height=top_px aria-hidden="true"></svg></td></tr>
                                            {rows.into_iter().map(|(i, run)| match run {
                                                None => view! {
                                                    <tr aria-rowindex=i + 2 class="pending"><td colspan={span}><span class="sr-only">"Loading"</span></td></tr>
                                                }.into_any(),
                                                Some(run) => {
                                                    let id = run.info.run_id.clone();
                                                    let (id_check, id_toggle) = (id.clone(), id.clone());
                                                    let href = Route::Run { experiment_id: exp_id.clone(), run_id: id.clone() }.href();
                                                    let cells = cols.iter().map(|c| view! { <td>{c.value(&run)}</td> }).collect_view();
                                                    view! {
                                                        <tr aria-rowindex=i + 2 class:deleted=run.info.lifecycle_stage == "deleted">
                                                            <td><input type="checkbox" aria-label=format!("Select {}", run.info.run_name)
                                                                prop:checked=move || selected.get().contains(&id_check)
                                                                on:change=move |_| set_selected.update(|s| { if !s.remove(&id_toggle) { s.insert(id_toggle.clone()); } })/></td>
                                                            <td><a href=href>{run.info.run_name.clone()}</a></td>
                                                            <td>{fmt_time(run.info.start_time)}</td>
                                                            <td>{run.info.status.clone()}</td>
                                                            {cells}
                                                        </tr>
                                                    }.into_any()
                                                }
                                            }).collect_view()}
                                            <tr class="spacer"><td colspan={span}><svg class="spacer-fill" width="1" height=bottom_px aria-hidden="true"></svg></td></tr>
                                        }
                                    }}
                                </tbody>
                            </table>
                        </div>
                    }.into_any()
                }
            }}
        </section>
    }
}

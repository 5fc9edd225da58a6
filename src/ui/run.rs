//! One run: overview, parameters, metrics with history charts, tags (editable), the markdown note,
//! parent and child runs, dataset inputs, the model URIs, and the artifacts with previews.

use super::charts::{history_points, LineChart, Series};
use super::client::Client;
use super::controls::{TagEditor, TagOwner};
use super::markdown::Markdown;
use super::router::Route;
use super::{fmt_metric, fmt_time};
use crate::tracking::Run;
use leptos::prelude::*;
use serde_json::{json, Value};

const NOTE_TAG: &str = "mlflow.note.content";
const PARENT_TAG: &str = "mlflow.parentRunId";

#[component]
pub fn RunPage(experiment_id: String, run_id: String) -> impl IntoView {
    let client = expect_context::<Client>();
    provide_context(super::models::RegisterOutcome(RwSignal::new(None)));
    let id = run_id.clone();
    let run = LocalResource::new(move || {
        client.revision.get();
        let id = id.clone();
        async move {
            client
                .call("GET", "runs/get", json!({"run_id": id}))
                .await
                .and_then(|v| {
                    serde_json::from_value::<Run>(v["run"].clone())
                        .map_err(|e| crate::api::ApiError::internal(e.to_string()))
                })
        }
    });
    let (exp, rid) = (experiment_id.clone(), run_id.clone());
    let children = LocalResource::new(move || {
        client.revision.get();
        let body = json!({"experiment_ids": [exp.clone()], "filter": format!("tags.`{PARENT_TAG}` = '{rid}'"), "max_results": 1000});
        async move {
            client.call("POST", "runs/search", body).await.map(|v| {
                serde_json::from_value::<Vec<Run>>(
                    v.get("runs").cloned().unwrap_or(Value::Array(vec![])),
                )
                .unwrap_or_default()
            })
        }
    });
    let exp = experiment_id.clone();
    view! {
        <section class="panel">
            <p class="crumbs">
                <a href=Route::Experiments.href()>"Experiments"</a>" / "
                <a href=Route::Runs { experiment_id: exp.clone() }.href()>"Runs"</a>" / "
            </p>
            {move || match run.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                Some(Ok(r)) => {
                    let exp = exp.clone();
                    let kids = children.get().and_then(Result::ok).unwrap_or_default();
                    view! { <RunDetails run=r experiment_id=exp children=kids/> }.into_any()
                }
            }}
        </section>
    }
}

#[component]
fn RunDetails(run: Run, experiment_id: String, children: Vec<Run>) -> impl IntoView {
    let info = run.info.clone();
    let duration = info
        .end_time
        .map(|e| format!("{:.1} s", (e - info.start_time) as f64 / 1000.0))
        .unwrap_or_else(|| "—".into());
    let parent = run.tag(PARENT_TAG).map(str::to_string);
    let note = run.tag(NOTE_TAG).unwrap_or("").to_string();
    let params = run.data.params.clone();
    let metrics = run.data.metrics.clone();
    let tags: Vec<_> = run
        .data
        .tags
        .iter()
        .filter(|t| t.key != NOTE_TAG)
        .cloned()
        .collect();
    let datasets = run.inputs.dataset_inputs.clone();
    let outputs = run.outputs.model_outputs.clone();
    let exp = experiment_id.clone();
    let first_metric = metrics.first().map(|m| m.key.clone());
    view! {
        <h2>{info.run_name.clone()}</h2>
        <dl class="overview">
            <dt>"Run ID"</dt><dd><code>{info.run_id.clone()}</code></dd>
            <dt>"Status"</dt><dd>{info.status.clone()}</dd>
            <dt>"Lifecycle"</dt><dd>{info.lifecycle_stage.clone()}</dd>
            <dt>"Started"</dt><dd>{fmt_time(info.start_time)}</dd>
            <dt>"Duration"</dt><dd>{duration}</dd>
            <dt>"User"</dt><dd>{info.user_id.clone()}</dd>
            <dt>"Artifact URI"</dt><dd><code>{info.artifact_uri.clone()}</code></dd>
            {parent.map(|p| {
                let href = Route::Run { experiment_id: exp.clone(), run_id: p.clone() }.href();
                view! { <dt>"Parent run"</dt><dd><a href=href>{p}</a></dd> }
            })}
        </dl>
        {(!children.is_empty()).then(|| {
            let exp = experiment_id.clone();
            view! {
                <h3>"Child runs"</h3>
                <ul class="plain">{children.into_iter().map(|c| {
                    let href = Route::Run { experiment_id: exp.clone(), run_id: c.info.run_id.clone() }.href();
                    view! { <li><a href=href>{c.info.run_name.clone()}</a></li> }
                }).collect_view()}</ul>
            }
        })}
        <NoteEditor run_id=info.run_id.clone() note/>
        <div class="columns-2">
            <div>
                <h3>"Parameters"</h3>
                <table class="grid kv"><tbody>
                    {params.into_iter().map(|p| view! { <tr><th scope="row">{p.key}</th><td>{p.value}</td></tr> }).collect_view()}
                </tbody></table>
            </div>
            <div>
                <h3>"Metrics"</h3>
                <table class="grid kv"><tbody>
                    {metrics.iter().cloned().map(|m| view! { <tr><th scope="row">{m.key}</th><td>{fmt_metric(m.value)}</td></tr> }).collect_view()}
                </tbody></table>
            </div>
        </div>
        {first_metric.map(|m| view! { <MetricHistory run_id=info.run_id.clone() keys=metrics.iter().map(|m| m.key.clone()).collect() initial=m/> })}
        <TagEditor owner=TagOwner::Run(info.run_id.clone()) tags/>
        {(!datasets.is_empty()).then(|| view! {
            <h3>"Dataset inputs"</h3>
            <table class="grid"><thead><tr><th scope="col">"Name"</th><th scope="col">"Digest"</th><th scope="col">"Source type"</th><th scope="col">"Context"</th></tr></thead>
            <tbody>{datasets.into_iter().map(|d| {
                let context = d.tags.iter().find(|t| t.key == "mlflow.data.context").map(|t| t.value.clone()).unwrap_or_default();
                view! { <tr><td>{d.dataset.name}</td><td><code>{d.dataset.digest}</code></td><td>{d.dataset.source_type}</td><td>{context}</td></tr> }
            }).collect_view()}</tbody></table>
        })}
        {(!outputs.is_empty()).then(|| view! {
            <h3>"Models"</h3>
            <ul class="plain">{outputs.iter().map(|o| view! { <li><code>{format!("models:/{}", o.model_id)}</code></li> }).collect_view()}</ul>
            <super::models::RegisterModel run_id=info.run_id.clone() model_uri=format!("models:/{}", outputs[0].model_id)/>
        })}
        <Artifacts run_id=info.run_id.clone()/>
    }
}

#[component]
fn MetricHistory(run_id: String, keys: Vec<String>, initial: String) -> impl IntoView {
    let client = expect_context::<Client>();
    let (key, set_key) = signal(initial);
    let history = LocalResource::new(move || {
        let body = json!({"run_id": run_id.clone(), "metric_key": key.get()});
        async move { client.call("GET", "metrics/get-history", body).await }
    });
    let series = Signal::derive(move || {
        let points = history
            .get()
            .and_then(Result::ok)
            .map(|v| history_points(&v))
            .unwrap_or_default();
        vec![Series {
            name: key.get(),
            points,
        }]
    });
    view! {
        <h3>"Metric history"</h3>
        <label for="history-key">"Metric "</label>
        <select id="history-key" on:change=move |ev| set_key.set(event_target_value(&ev))>
            {keys.into_iter().map(|k| view! { <option value=k.clone()>{k.clone()}</option> }).collect_view()}
        </select>
        <LineChart series x_label="step" y_label=Signal::derive(move || key.get()) label="Metric history by step"/>
    }
}

#[component]
fn NoteEditor(run_id: String, note: String) -> impl IntoView {
    let client = expect_context::<Client>();
    let (editing, set_editing) = signal(false);
    let (draft, set_draft) = signal(note.clone());
    let (error, set_error) = signal(None::<String>);
    let save = move |_| {
        let body =
            json!({"run_id": run_id.clone(), "key": NOTE_TAG, "value": draft.get_untracked()});
        leptos::task::spawn_local(async move {
            match client.write("POST", "runs/set-tag", body).await {
                Ok(_) => set_editing.set(false),
                Err(e) => set_error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <h3>"Description"</h3>
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        {move || if editing.get() {
            view! {
                <label for="note" class="sr-only">"Description (Markdown)"</label>
                <textarea id="note" rows="6" prop:value=draft on:input=move |ev| set_draft.set(event_target_value(&ev))></textarea>
                <div class="toolbar"><button on:click=save.clone()>"Save"</button>
                <button class="secondary" on:click=move |_| set_editing.set(false)>"Cancel"</button></div>
            }.into_any()
        } else {
            let text = draft.get();
            view! {
                {if text.is_empty() { view! { <p class="muted">"No description."</p> }.into_any() } else { view! { <Markdown source=text/> }.into_any() }}
                <button class="secondary" on:click=move |_| set_editing.set(true)>"Edit description"</button>
            }.into_any()
        }}
    }
}

/// How an artifact is previewed: text-like files as text (HTML and SVG too: never rendered),
/// raster images as images (from a blob URL), anything else as its size.
fn preview_kind(path: &str) -> &'static str {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or("");
    if name == "mlmodel"
        || [
            ".txt", ".json", ".yaml", ".yml", ".md", ".csv", ".py", ".html", ".svg", ".log",
            ".toml",
        ]
        .iter()
        .any(|e| name.ends_with(e))
    {
        "text"
    } else if [".png", ".jpg", ".jpeg", ".gif", ".webp"]
        .iter()
        .any(|e| name.ends_with(e))
    {
        "image"
    } else {
        "binary"
    }
}

#[component]
fn Artifacts(run_id: String) -> impl IntoView {
    let client = expect_context::<Client>();
    let (dir, set_dir) = signal(String::new());
    let (preview, set_preview) = signal(None::<(String, Result<AnyViewHolder, String>)>);
    let rid = run_id.clone();
    let listing = LocalResource::new(move || {
        let body = json!({"run_id": rid.clone(), "path": dir.get()});
        async move { client.call("GET", "artifacts/list", body).await }
    });
    let open = move |root: String, path: String, is_dir: bool| {
        if is_dir {
            set_dir.set(path);
            return;
        }
        let key = format!(
            "{}/{}",
            root.trim_start_matches("mlflow-artifacts:")
                .trim_start_matches('/'),
            path
        );
        leptos::task::spawn_local(async move {
            let result = client
                .raw(
                    "GET",
                    &format!("/api/2.0/mlflow-artifacts/artifacts/{key}"),
                    json!({}),
                )
                .await;
            let shown = match result {
                Err(e) => Err(e.to_string()),
                Ok(r) => Ok(AnyViewHolder::new(&path, r.bytes)),
            };
            set_preview.set(Some((path, shown)));
        });
    };
    view! {
        <h3>"Artifacts"</h3>
        <div class="artifacts">
            <div>
                {move || (!dir.get().is_empty()).then(|| {
                    let up = dir.get().rsplit_once('/').map(|(a, _)| a.to_string()).unwrap_or_default();
                    view! { <button class="secondary" on:click=move |_| set_dir.set(up.clone())>"↑ Up"</button> }
                })}
                {move || match listing.get() {
                    None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
                    Some(Ok(v)) => {
                        let root = v.get("root_uri").and_then(Value::as_str).unwrap_or("").to_string();
                        let files = v.get("files").and_then(Value::as_array).cloned().unwrap_or_default();
                        if files.is_empty() {
                            return view! { <p class="muted">"No artifacts."</p> }.into_any();
                        }
                        view! { <ul class="plain files">{files.into_iter().map(|f| {
                            let path = f.get("path").and_then(Value::as_str).unwrap_or("").to_string();
                            let is_dir = f.get("is_dir").and_then(Value::as_bool).unwrap_or(false);
                            let size = f.get("file_size").and_then(Value::as_i64);
                            let name = path.rsplit('/').next().unwrap_or("").to_string();
                            let root = root.clone();
                            let label = if is_dir { format!("📁 {name}") } else { format!("{name} ({} B)", size.unwrap_or(0)) };
                            view! { <li><button class="link" on:click=move |_| open(root.clone(), path.clone(), is_dir)>{label}</button></li> }
                        }).collect_view()}</ul> }.into_any()
                    }
                }}
            </div>
            <div class="preview" aria-live="polite">
                {move || preview.get().map(|(path, shown)| match shown {
                    Err(e) => view! { <p class="error">{e}</p> }.into_any(),
                    Ok(holder) => view! { <h4>{path}</h4>{holder.view()} }.into_any(),
                })}
            </div>
        </div>
    }
}

/// The bytes of a previewed artifact and how to show them (kept as data: views are built on demand).
#[derive(Clone)]
struct AnyViewHolder {
    kind: &'static str,
    text: String,
    url: Option<String>,
    size: usize,
}

impl AnyViewHolder {
    fn new(path: &str, bytes: Vec<u8>) -> Self {
        let kind = preview_kind(path);
        let mut text = String::new();
        let mut url = None;
        match kind {
            "text" => {
                text = String::from_utf8_lossy(&bytes).into_owned();
                if path.to_ascii_lowercase().ends_with(".json") {
                    if let Ok(v) = serde_json::from_str::<Value>(&text) {
                        text = serde_json::to_string_pretty(&v).unwrap_or(text);
                    }
                }
            }
            "image" => {
                let array = js_sys::Uint8Array::from(&bytes[..]);
                let parts = js_sys::Array::of1(&array);
                url = web_sys::Blob::new_with_u8_array_sequence(&parts)
                    .ok()
                    .and_then(|b| web_sys::Url::create_object_url_with_blob(&b).ok());
            }
            _ => {}
        }
        AnyViewHolder {
            kind,
            text,
            url,
            size: bytes.len(),
        }
    }

    fn view(&self) -> AnyView {
        match (self.kind, &self.url) {
            ("text", _) => view! { <pre class="artifact-text">{self.text.clone()}</pre> }.into_any(),
            ("image", Some(url)) => view! { <img class="artifact-image" src=url.clone() alt="artifact preview"/> }.into_any(),
            _ => view! { <p class="muted">{format!("Binary file, {} bytes: no preview.", self.size)}</p> }.into_any(),
        }
    }
}

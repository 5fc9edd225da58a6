//! Sync: push this browser's experiments, runs, models and registry to a real MLflow tracking
//! server through its REST API, or pull an experiment back. The worker does the talking (fetch);
//! the server must allow this page's origin (CORS).

use super::client::Client;
use super::controls::{Progress, ProgressBar};
use crate::tracking::Experiment;
use leptos::prelude::*;
use serde_json::{json, Value};

fn page_origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// The job's one-line summary and its notes.
fn summary_view(result: Result<Value, String>) -> AnyView {
    match result {
        Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
        Ok(v) => {
            let notes: Vec<String> = v["notes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect();
            view! {
                <div class="notice" role="status">
                    <p>{v["summary"].as_str().unwrap_or("Done.").to_string()}</p>
                    {(!notes.is_empty()).then(|| view! {
                        <ul class="notes">{notes.into_iter().map(|n| view! { <li>{n}</li> }).collect_view()}</ul>
                    })}
                </div>
            }
            .into_any()
        }
    }
}

/// A labelled text input bound to `value`.
#[component]
fn TextField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "")] placeholder: &'static str,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id type=kind autocomplete="off" placeholder=placeholder prop:value=value
                on:input=move |ev| value.set(event_target_value(&ev))/>
        </div>
    }
}

#[component]
pub fn SyncPage() -> impl IntoView {
    let client = expect_context::<Client>();
    let url = RwSignal::new("http://127.0.0.1:5000".to_string());
    let token = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<String>::new());
    let pull_experiment = RwSignal::new(String::new());
    let pull_filter = RwSignal::new(String::new());
    let (progress, set_progress) = signal(None::<Progress>);
    let (outcome, set_outcome) = signal(None::<Result<Value, String>>);
    let experiments = LocalResource::new(move || {
        client.revision.get();
        async move {
            client
                .call("POST", "experiments/search", json!({"max_results": 1000}))
                .await
                .map(|v| {
                    serde_json::from_value::<Vec<Experiment>>(v["experiments"].clone())
                        .unwrap_or_default()
                })
        }
    });
    let run = move |job: &'static str, request: Value| {
        set_outcome.set(None);
        set_progress.set(Some(Progress { done: 0, total: 1 }));
        leptos::task::spawn_local(async move {
            let report = move |done, total| set_progress.set(Some(Progress { done, total }));
            let result = client
                .sync(job, request, Box::new(report))
                .await
                .map_err(|e| e.message);
            set_outcome.set(Some(result));
            set_progress.set(None);
        });
    };
    let push = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        run(
            "push",
            json!({"url": url.get_untracked(), "token": token.get_untracked(),
                   "experiments": chosen.get_untracked()}),
        );
    };
    let pull = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        run(
            "pull",
            json!({"url": url.get_untracked(), "token": token.get_untracked(),
                   "experiment": pull_experiment.get_untracked(), "filter": pull_filter.get_untracked()}),
        );
    };
    let busy = move || progress.get().is_some();
    let origin = page_origin();
    view! {
        <section class="panel" aria-labelledby="sync-heading">
            <h2 id="sync-heading">"Sync with an MLflow server"</h2>
            <p>"When a class or a team outgrows one browser, hand the work to a shared MLflow tracking server — or
               bring an experiment from it into this browser. Pushing again sends only what is new, and a push that
               stopped half-way resumes where it stopped."</p>
            <p>"The server must allow this page's origin (CORS), and serve artifacts (its default): start it with "
               <code>{format!("mlflow server --cors-allowed-origins {origin}")}</code>
               " — reached by a name other than localhost, add "<code>"--allowed-hosts HOST"</code>" too. "
               "If the browser cannot reach it, the message below says so."</p>
            <div class="train-form">
                <TextField id="sync-url" label="Tracking server URL" kind="url" value=url/>
                <TextField id="sync-token" label="Token (optional, sent as a Bearer token)" kind="password" value=token/>
            </div>
            <form on:submit=push>
                <h3>"Push"</h3>
                <fieldset class="csv-columns">
                    <legend>"Experiments to push (none chosen: all)"</legend>
                    {move || experiments.get().and_then(Result::ok).map(|list| list.into_iter().map(|e| {
                        let id = format!("sync-exp-{}", e.experiment_id);
                        let name = e.name.clone();
                        let n2 = name.clone();
                        view! {
                            <span class="check">
                                <input id=id.clone() type="checkbox" prop:checked=move || chosen.get().contains(&n2)
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        chosen.update(|c| { c.retain(|x| *x != name); if on { c.push(name.clone()); } });
                                    }/>
                                <label for=id>{e.name.clone()}</label>
                            </span>
                        }
                    }).collect_view())}
                </fieldset>
                <button type="submit" disabled=busy>"Push to the server"</button>
            </form>
            <form on:submit=pull>
                <h3>"Pull"</h3>
                <div class="train-form">
                    <TextField id="sync-pull-experiment" label="Experiment on the server" value=pull_experiment/>
                    <TextField id="sync-pull-filter" label="Only runs matching (MLflow filter, optional)" value=pull_filter placeholder="metrics.rmse < 6"/>
                </div>
                <button type="submit" disabled=busy>"Pull into this browser"</button>
            </form>
            <ProgressBar label="Syncing" progress=progress/>
            {move || outcome.get().map(summary_view)}
        </section>
    }
}

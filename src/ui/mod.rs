//! The Leptos app: a thin reactive client of the engine's API (MLflow REST shapes), which runs in
//! a Web Worker (`crate::worker`) over SQLite on OPFS. Views read through [`client::Client`].

pub mod client;

use crate::tracking::Experiment;
use client::{Client, StoreStatus};
use leptos::prelude::*;
use serde_json::{json, Value};

pub fn mount() {
    console_error_panic_hook::set_once();
    register_service_worker();
    leptos::mount::mount_to_body(App);
}

/// The service worker (dist/sw.js, made by scripts/postbuild.mjs) lets the page open offline.
/// Its URL is relative, so it works, and is scoped, under any sub-path.
fn register_service_worker() {
    if let Some(window) = web_sys::window() {
        let container = window.navigator().service_worker();
        // Rejections (e.g. a file:// page) are harmless: the app runs without offline support.
        let _ = container.register("./sw.js");
    }
}

#[component]
fn App() -> impl IntoView {
    let client = Client::start();
    provide_context(client);
    view! {
        <header class="topbar">
            <h1>"Flowbook"</h1>
            <p class="tagline">"MLflow in a browser tab"</p>
            <StoreBadge/>
        </header>
        <main>
            <StoreNotice/>
            <Experiments/>
        </main>
    }
}

/// The storage the store lives on, in the top bar.
#[component]
fn StoreBadge() -> impl IntoView {
    let client = expect_context::<Client>();
    move || match client.status.get() {
        StoreStatus::Ready { storage, .. } => {
            let label = if storage == "opfs" {
                "Saved in this browser"
            } else {
                "In memory only"
            };
            view! { <span class="badge" data-storage=storage>{label}</span> }.into_any()
        }
        StoreStatus::Starting => {
            view! { <span class="badge">"Opening the store…"</span> }.into_any()
        }
        _ => view! { <span class="badge badge-warn">"Store unavailable"</span> }.into_any(),
    }
}

/// Notices about the store: in-memory fallback, another tab holding it, failures.
#[component]
fn StoreNotice() -> impl IntoView {
    let client = expect_context::<Client>();
    move || match client.status.get() {
        StoreStatus::Ready {
            notice: Some(n), ..
        } => view! { <p class="notice" role="status">{n}</p> }.into_any(),
        StoreStatus::Locked(n) => view! {
            <div class="notice" role="alert">
                <p>{n}</p>
                <button on:click=move |_| client.take_over()>"Use the store in this tab"</button>
            </div>
        }
        .into_any(),
        StoreStatus::TakenOver(n) => view! {
            <div class="notice" role="alert"><p>{n}" Reload this page to take it back."</p></div>
        }
        .into_any(),
        StoreStatus::Failed(n) => view! { <p class="error" role="alert">{n}</p> }.into_any(),
        _ => ().into_any(),
    }
}

fn experiments_from(v: &Value) -> Vec<Experiment> {
    let list = v
        .get("experiments")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    list.into_iter()
        .filter_map(|e| {
            Some(Experiment {
                experiment_id: e.get("experiment_id")?.as_str()?.to_string(),
                name: e.get("name")?.as_str()?.to_string(),
                artifact_location: e
                    .get("artifact_location")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                lifecycle_stage: e
                    .get("lifecycle_stage")
                    .and_then(Value::as_str)
                    .unwrap_or("active")
                    .to_string(),
                last_update_time: e.get("last_update_time").and_then(Value::as_i64),
                creation_time: e.get("creation_time").and_then(Value::as_i64),
                tags: Vec::new(),
            })
        })
        .collect()
}

#[component]
fn Experiments() -> impl IntoView {
    let client = expect_context::<Client>();
    let (name, set_name) = signal(String::new());
    let (error, set_error) = signal(None::<String>);
    let experiments = LocalResource::new(move || {
        client.revision.get();
        async move {
            client
                .call(
                    "POST",
                    "experiments/search",
                    json!({"view_type": "ALL", "order_by": ["experiment_id"]}),
                )
                .await
                .map(|v| experiments_from(&v))
        }
    });
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = json!({"name": name.get_untracked()});
        leptos::task::spawn_local(async move {
            match client.write("POST", "experiments/create", body).await {
                Ok(_) => {
                    set_error.set(None);
                    set_name.set(String::new());
                }
                Err(e) => set_error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <section class="panel" aria-labelledby="experiments-heading">
            <h2 id="experiments-heading">"Experiments"</h2>
            <form class="inline-form" on:submit=create>
                <label for="new-experiment">"New experiment"</label>
                <input id="new-experiment" type="text" placeholder="nyc-taxi-experiment"
                    prop:value=name on:input=move |ev| set_name.set(event_target_value(&ev))/>
                <button type="submit">"Create"</button>
            </form>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || match experiments.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <table class="grid">
                        <thead><tr><th scope="col">"ID"</th><th scope="col">"Name"</th><th scope="col">"Stage"</th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|e| view! {
                                <tr><td>{e.experiment_id}</td><td>{e.name}</td><td>{e.lifecycle_stage}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
            }}
        </section>
    }
}

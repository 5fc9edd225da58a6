//! The Leptos app: a thin reactive client of the engine's API (MLflow REST shapes).
//! For now the engine runs in-page over SQLite in memory; the Web Worker with OPFS replaces that.

use crate::api::{self, ApiError};
use crate::tracking::{Experiment, Store};
use leptos::prelude::*;
use serde_json::{json, Value};
use std::cell::RefCell;

thread_local! {
    static STORE: RefCell<Option<Store>> = const { RefCell::new(None) };
}

/// The engine handle the views share (the store itself lives in a thread-local: the page has one
/// thread). All access goes through MLflow's API dispatcher.
#[derive(Clone, Copy)]
pub struct Engine;

impl Engine {
    fn open() -> Result<Engine, ApiError> {
        let store = Store::open_in_memory()?;
        STORE.with(|s| *s.borrow_mut() = Some(store));
        Ok(Engine)
    }

    pub fn call(&self, method: &str, endpoint: &str, body: Value) -> Result<Value, ApiError> {
        STORE.with(|s| match s.borrow_mut().as_mut() {
            Some(store) => api::call(store, method, endpoint, body),
            None => Err(ApiError::internal("the store is not open")),
        })
    }
}

pub fn mount() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let engine = Engine::open();
    view! {
        <header class="topbar">
            <h1>"Flowbook"</h1>
            <p class="tagline">"MLflow in a browser tab"</p>
        </header>
        <main>
            {match engine {
                Ok(engine) => view! { <Experiments engine/> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{format!("The store could not open: {e}")}</p> }.into_any(),
            }}
        </main>
    }
}

fn list_experiments(engine: &Engine) -> Result<Vec<Experiment>, ApiError> {
    let v = engine.call("POST", "experiments/search", json!({"view_type": "ALL"}))?;
    let list = v
        .get("experiments")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok(list
        .into_iter()
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
        .collect())
}

#[component]
fn Experiments(engine: Engine) -> impl IntoView {
    let (version, set_version) = signal(0u32);
    let (name, set_name) = signal(String::new());
    let (error, set_error) = signal(None::<String>);
    let experiments = move || {
        version.get();
        list_experiments(&engine)
    };
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match engine.call(
            "POST",
            "experiments/create",
            json!({"name": name.get_untracked()}),
        ) {
            Ok(_) => {
                set_error.set(None);
                set_name.set(String::new());
                set_version.update(|v| *v += 1);
            }
            Err(e) => set_error.set(Some(e.to_string())),
        }
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
            {move || match experiments() {
                Ok(list) => view! {
                    <table class="grid">
                        <thead><tr><th scope="col">"ID"</th><th scope="col">"Name"</th><th scope="col">"Stage"</th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|e| view! {
                                <tr><td>{e.experiment_id}</td><td>{e.name}</td><td>{e.lifecycle_stage}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
            }}
        </section>
    }
}

//! The model registry: registered models, their versions, aliases, tags, descriptions and stage
//! transitions, and lineage back to the run each version came from. MLflow's REST shapes throughout.

use super::client::Client;
use super::fmt_time;
use super::router::Route;
use leptos::prelude::*;
use serde_json::{json, Value};

const STAGES: [&str; 4] = ["None", "Staging", "Production", "Archived"];

fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

#[component]
pub fn ModelsPage() -> impl IntoView {
    let client = expect_context::<Client>();
    let (filter, set_filter) = signal(String::new());
    let (draft, set_draft) = signal(String::new());
    let models = LocalResource::new(move || {
        client.revision.get();
        let body = json!({"filter": filter.get(), "max_results": 1000, "order_by": ["name"]});
        async move { client.call("GET", "registered-models/search", body).await }
    });
    view! {
        <section class="panel" aria-labelledby="models-heading">
            <h2 id="models-heading">"Registered models"</h2>
            <form class="filter" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); set_filter.set(draft.get_untracked()); }>
                <label for="model-filter">"Filter"</label>
                <input id="model-filter" class="filter-input" type="text" placeholder="name LIKE 'nyc%'"
                    prop:value=draft on:input=move |ev| set_draft.set(event_target_value(&ev))/>
                <button type="submit">"Search"</button>
            </form>
            {move || match models.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                Some(Ok(v)) => {
                    let list = v.get("registered_models").and_then(Value::as_array).cloned().unwrap_or_default();
                    if list.is_empty() {
                        return view! { <p class="muted">"No registered models yet. Register a run's model from its run page."</p> }.into_any();
                    }
                    view! { <table class="grid">
                        <thead><tr><th scope="col">"Name"</th><th scope="col">"Latest version"</th><th scope="col">"Aliases"</th><th scope="col">"Updated"</th></tr></thead>
                        <tbody>{list.into_iter().map(|m| {
                            let name = text(&m, "name");
                            let latest = m.get("latest_versions").and_then(Value::as_array).and_then(|l| l.iter().filter_map(|v| v.get("version").and_then(Value::as_str).and_then(|s| s.parse::<i64>().ok())).max()).map(|v| v.to_string()).unwrap_or_default();
                            let aliases = m.get("aliases").and_then(Value::as_array).map(|a| a.iter().map(|x| format!("@{} → v{}", text(x, "alias"), text(x, "version"))).collect::<Vec<_>>().join(", ")).unwrap_or_default();
                            let updated = m.get("last_updated_timestamp").and_then(Value::as_i64).map(fmt_time).unwrap_or_default();
                            let href = Route::Model { name: name.clone() }.href();
                            view! { <tr><td><a href=href>{name}</a></td><td>{latest}</td><td>{aliases}</td><td>{updated}</td></tr> }
                        }).collect_view()}</tbody>
                    </table> }.into_any()
                }
            }}
        </section>
    }
}

#[component]
pub fn ModelPage(name: String) -> impl IntoView {
    let client = expect_context::<Client>();
    let (error, set_error) = signal(None::<String>);
    let model_name = name.clone();
    let model = LocalResource::new(move || {
        client.revision.get();
        let body = json!({"name": model_name.clone()});
        async move { client.call("GET", "registered-models/get", body).await }
    });
    let versions_name = name.clone();
    let versions = LocalResource::new(move || {
        client.revision.get();
        let body = json!({"filter": format!("name = '{}'", versions_name.replace('\'', "\\'")), "max_results": 1000, "order_by": ["version_number DESC"]});
        async move { client.call("GET", "model-versions/search", body).await }
    });
    let write = move |method: &'static str, endpoint: &'static str, body: Value| {
        leptos::task::spawn_local(async move {
            match client.write(method, endpoint, body).await {
                Ok(_) => set_error.set(None),
                Err(e) => set_error.set(Some(e.to_string())),
            }
        });
    };
    let (alias, set_alias) = signal(String::new());
    let (alias_version, set_alias_version) = signal(String::new());
    let name_alias = name.clone();
    let set_alias_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        write(
            "POST",
            "registered-models/alias",
            json!({"name": name_alias.clone(), "alias": alias.get_untracked(), "version": alias_version.get_untracked()}),
        );
    };
    let name_desc = name.clone();
    let (desc, set_desc) = signal(String::new());
    view! {
        <section class="panel">
            <p class="crumbs"><a href=Route::Models.href()>"Models"</a>" / "</p>
            <h2>{name.clone()}</h2>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || match model.get() {
                Some(Ok(v)) => {
                    let m = v.get("registered_model").cloned().unwrap_or(Value::Null);
                    set_desc.set(text(&m, "description"));
                    let tags = m.get("tags").and_then(Value::as_array).map(|t| t.iter().map(|x| format!("{}={}", text(x, "key"), text(x, "value"))).collect::<Vec<_>>().join(", ")).unwrap_or_default();
                    let aliases = m.get("aliases").and_then(Value::as_array).cloned().unwrap_or_default();
                    let n = text(&m, "name");
                    view! {
                        <p class="muted">{format!("Tags: {}", if tags.is_empty() { "none".into() } else { tags })}</p>
                        <h3>"Aliases"</h3>
                        <ul class="plain">{aliases.into_iter().map(|a| {
                            let (al, n) = (text(&a, "alias"), n.clone());
                            let al2 = al.clone();
                            view! { <li><strong>{format!("@{al}")}</strong>{format!(" → version {}", text(&a, "version"))}
                                " "<button class="secondary danger" aria-label=format!("Remove alias {al}") on:click=move |_| write("DELETE", "registered-models/alias", json!({"name": n.clone(), "alias": al2.clone()}))>"Remove"</button></li> }
                        }).collect_view()}</ul>
                    }.into_any()
                }
                Some(Err(e)) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
            }}
            <form class="inline-form" on:submit=set_alias_submit>
                <label for="alias-name">"Alias"</label>
                <input id="alias-name" type="text" placeholder="champion" prop:value=alias on:input=move |ev| set_alias.set(event_target_value(&ev))/>
                <label for="alias-version">"Version"</label>
                <input id="alias-version" type="text" placeholder="1" prop:value=alias_version on:input=move |ev| set_alias_version.set(event_target_value(&ev))/>
                <button type="submit">"Set alias"</button>
            </form>
            <h3>"Description"</h3>
            <form class="inline-form" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); write("PATCH", "registered-models/update", json!({"name": name_desc.clone(), "description": desc.get_untracked()})); }>
                <label for="model-desc" class="sr-only">"Description"</label>
                <input id="model-desc" type="text" prop:value=desc on:input=move |ev| set_desc.set(event_target_value(&ev))/>
                <button type="submit">"Save description"</button>
            </form>
            <h3>"Versions"</h3>
            {move || match versions.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                Some(Ok(v)) => {
                    let list = v.get("model_versions").and_then(Value::as_array).cloned().unwrap_or_default();
                    // As in MLflow, a version search carries no aliases: they come with the model.
                    let model_aliases = model.get().and_then(Result::ok).and_then(|m| m["registered_model"]["aliases"].as_array().cloned()).unwrap_or_default();
                    view! { <table class="grid">
                        <thead><tr><th scope="col">"Version"</th><th scope="col">"Stage"</th><th scope="col">"Aliases"</th><th scope="col">"Tags"</th><th scope="col">"Source run"</th><th scope="col">"Transition"</th></tr></thead>
                        <tbody>{list.into_iter().map(|mv| {
                            let version = text(&mv, "version");
                            let n = text(&mv, "name");
                            let stage = text(&mv, "current_stage");
                            let aliases = model_aliases.iter().filter(|a| text(a, "version") == version).map(|a| format!("@{}", text(a, "alias"))).collect::<Vec<_>>().join(" ");
                            let tags = mv.get("tags").and_then(Value::as_array).map(|t| t.iter().map(|x| format!("{}={}", text(x, "key"), text(x, "value"))).collect::<Vec<_>>().join(", ")).unwrap_or_default();
                            let run_id = text(&mv, "run_id");
                            let (n2, v2) = (n.clone(), version.clone());
                            let select_id = format!("stage-{version}");
                            view! { <tr>
                                <td>{version.clone()}</td><td>{stage.clone()}</td><td>{aliases}</td><td>{tags}</td>
                                <td>{(!run_id.is_empty()).then(|| view! { <RunLink run_id=run_id.clone()/> })}</td>
                                <td>
                                    <label class="sr-only" for=select_id.clone()>{format!("Stage of version {version}")}</label>
                                    <select id=select_id on:change=move |ev| {
                                        let to = event_target_value(&ev);
                                        write("POST", "model-versions/transition-stage", json!({"name": n2.clone(), "version": v2.clone(), "stage": to, "archive_existing_versions": false}));
                                    }>
                                        {STAGES.iter().map(|s| view! { <option value=*s selected=*s == stage>{*s}</option> }).collect_view()}
                                    </select>
                                </td>
                            </tr> }
                        }).collect_view()}</tbody>
                    </table> }.into_any()
                }
            }}
        </section>
    }
}

/// A link to the run a version came from (its experiment is looked up first).
#[component]
fn RunLink(run_id: String) -> impl IntoView {
    let client = expect_context::<Client>();
    let id = run_id.clone();
    let run = LocalResource::new(move || {
        let body = json!({"run_id": id.clone()});
        async move { client.call("GET", "runs/get", body).await }
    });
    move || {
        let short = run_id.chars().take(8).collect::<String>();
        match run.get() {
            Some(Ok(v)) => {
                let exp = text(&v["run"]["info"], "experiment_id");
                let name = text(&v["run"]["info"], "run_name");
                let href = Route::Run {
                    experiment_id: exp,
                    run_id: run_id.clone(),
                }
                .href();
                view! { <a href=href>{format!("{name} ({short})")}</a> }.into_any()
            }
            _ => view! { <code>{short}</code> }.into_any(),
        }
    }
}

/// Where a registration's outcome is kept: above the run's details, which re-render after every
/// write (so a message kept inside them would vanish with the write that produced it).
#[derive(Clone, Copy)]
pub struct RegisterOutcome(pub RwSignal<Option<Result<String, String>>>);

/// Register a run's model (from its run page): creates the registered model when it is new.
#[component]
pub fn RegisterModel(run_id: String, model_uri: String) -> impl IntoView {
    let client = expect_context::<Client>();
    let (name, set_name) = signal(String::new());
    let outcome = use_context::<RegisterOutcome>()
        .map(|o| o.0)
        .unwrap_or_else(|| RwSignal::new(None));
    let (result, set_result) = (outcome.read_only(), outcome.write_only());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (name, run_id, source) = (name.get_untracked(), run_id.clone(), model_uri.clone());
        leptos::task::spawn_local(async move {
            let created = client
                .write("POST", "registered-models/create", json!({"name": name}))
                .await;
            if let Err(e) = &created {
                if e.error_code != crate::api::ErrorCode::ResourceAlreadyExists {
                    return set_result.set(Some(Err(e.to_string())));
                }
            }
            // A logged model's source (`models:/m-…`) must name its model_id, as MLflow requires.
            let model_id = source
                .strip_prefix("models:/")
                .filter(|m| m.starts_with("m-"));
            let body =
                json!({"name": name, "source": source, "run_id": run_id, "model_id": model_id});
            match client.write("POST", "model-versions/create", body).await {
                Ok(v) => set_result.set(Some(Ok(format!(
                    "Registered {} version {}",
                    name,
                    text(&v["model_version"], "version")
                )))),
                Err(e) => set_result.set(Some(Err(e.to_string()))),
            }
        });
    };
    view! {
        <form class="inline-form" on:submit=submit>
            <label for="register-name">"Register as"</label>
            <input id="register-name" type="text" placeholder="nyc-taxi-regressor" prop:value=name on:input=move |ev| set_name.set(event_target_value(&ev))/>
            <button type="submit">"Register model"</button>
        </form>
        {move || result.get().map(|r| match r {
            Ok(m) => view! { <p class="notice" role="status">{m}</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
        })}
    }
}

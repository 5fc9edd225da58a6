//! The experiments list: create, rename, delete/restore, tags.

use super::client::Client;
use super::router::Route;
use crate::tracking::Experiment;
use leptos::prelude::*;
use serde_json::{json, Value};

pub fn experiments_from(v: &Value) -> Vec<Experiment> {
    serde_json::from_value(
        v.get("experiments")
            .cloned()
            .unwrap_or(Value::Array(vec![])),
    )
    .unwrap_or_default()
}

#[component]
pub fn ExperimentsPage() -> impl IntoView {
    let client = expect_context::<Client>();
    let (name, set_name) = signal(String::new());
    let (error, set_error) = signal(None::<String>);
    let (show_deleted, set_show_deleted) = signal(false);
    let experiments = LocalResource::new(move || {
        client.revision.get();
        let view_type = if show_deleted.get() {
            "ALL"
        } else {
            "ACTIVE_ONLY"
        };
        async move {
            client
                .call(
                    "POST",
                    "experiments/search",
                    json!({"view_type": view_type, "order_by": ["experiment_id"]}),
                )
                .await
                .map(|v| experiments_from(&v))
        }
    });
    let act = move |endpoint: &'static str, body: Value| {
        leptos::task::spawn_local(async move {
            match client.write("POST", endpoint, body).await {
                Ok(_) => set_error.set(None),
                Err(e) => set_error.set(Some(e.to_string())),
            }
        });
    };
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
                <label class="check">
                    <input type="checkbox" prop:checked=show_deleted
                        on:change=move |ev| set_show_deleted.set(event_target_checked(&ev))/>
                    "Show deleted"
                </label>
            </form>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            {move || match experiments.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <table class="grid">
                        <thead><tr>
                            <th scope="col">"ID"</th><th scope="col">"Name"</th><th scope="col">"Tags"</th>
                            <th scope="col">"Stage"</th><th scope="col"><span class="sr-only">"Actions"</span></th>
                        </tr></thead>
                        <tbody>
                            {list.into_iter().map(|e| view! { <ExperimentRow experiment=e act/> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ExperimentRow(
    experiment: Experiment,
    act: impl Fn(&'static str, Value) + Copy + Send + 'static,
) -> impl IntoView {
    let id = experiment.experiment_id.clone();
    let deleted = experiment.lifecycle_stage == "deleted";
    let (renaming, set_renaming) = signal(false);
    let (new_name, set_new_name) = signal(experiment.name.clone());
    let href = Route::Runs {
        experiment_id: id.clone(),
    }
    .href();
    let tags = experiment
        .tags
        .iter()
        .map(|t| format!("{}={}", t.key, t.value))
        .collect::<Vec<_>>()
        .join(", ");
    let (id_rename, id_delete, id_restore) = (id.clone(), id.clone(), id.clone());
    let name = experiment.name.clone();
    view! {
        <tr class:deleted=deleted>
            <td>{id.clone()}</td>
            <td>
                {move || if renaming.get() {
                    let id = id_rename.clone();
                    view! {
                        <form class="inline-form" on:submit=move |ev: leptos::ev::SubmitEvent| {
                            ev.prevent_default();
                            act("experiments/update", json!({"experiment_id": id, "new_name": new_name.get_untracked()}));
                            set_renaming.set(false);
                        }>
                            <label class="sr-only" for=format!("rename-{}", id_rename)>"New name"</label>
                            <input id=format!("rename-{}", id_rename) type="text" prop:value=new_name
                                on:input=move |ev| set_new_name.set(event_target_value(&ev))/>
                            <button type="submit">"Save"</button>
                        </form>
                    }.into_any()
                } else {
                    view! { <a href=href.clone()>{name.clone()}</a> }.into_any()
                }}
            </td>
            <td class="muted">{tags}</td>
            <td>{experiment.lifecycle_stage.clone()}</td>
            <td class="actions">
                {if deleted {
                    view! { <button class="secondary" on:click=move |_| act("experiments/restore", json!({"experiment_id": id_restore.clone()}))>"Restore"</button> }.into_any()
                } else {
                    view! {
                        <button class="secondary" on:click=move |_| set_renaming.update(|r| *r = !*r)>"Rename"</button>
                        <button class="secondary danger" on:click=move |_| act("experiments/delete", json!({"experiment_id": id_delete.clone()}))>"Delete"</button>
                    }.into_any()
                }}
            </td>
        </tr>
    }
}

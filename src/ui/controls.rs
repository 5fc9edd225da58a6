//! Small controls the views share: a labelled choice, the progress bar of long worker jobs
//! (bundle import and export, training and search), and the tag editor of runs and experiments.

use super::client::Client;
use leptos::prelude::*;
use serde_json::{json, Value};

/// A job's progress, as the bar shows it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

#[component]
pub fn ProgressBar(label: &'static str, progress: ReadSignal<Option<Progress>>) -> impl IntoView {
    move || {
        progress.get().map(|p| {
            let percent = p.done * 100 / p.total.max(1);
            view! {
                <div class="progress">
                    <progress aria-label=label max=p.total.max(1) value=p.done></progress>
                    <span aria-hidden="true">{format!("{percent}%")}</span>
                </div>
            }
        })
    }
}

/// A labelled `<select>` bound to a signal.
#[component]
pub fn LabelledSelect(
    id: &'static str,
    label: &'static str,
    options: Vec<String>,
    value: RwSignal<String>,
) -> impl IntoView {
    view! {
        <label for=id>{label}</label>
        <select id=id on:change=move |ev| value.set(event_target_value(&ev))>
            {options.into_iter().map(|o| {
                let (option, text) = (o.clone(), o.clone());
                view! { <option value=o selected=move || value.get() == option>{text}</option> }
            }).collect_view()}
        </select>
    }
}

/// Owned option texts from a list of names.
pub fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

/// What tags belong to: a run or an experiment (MLflow has an endpoint pair for each).
#[derive(Clone)]
pub enum TagOwner {
    Run(String),
    Experiment(String),
}

impl TagOwner {
    fn endpoints(&self) -> (&'static str, &'static str) {
        match self {
            TagOwner::Run(_) => ("runs/set-tag", "runs/delete-tag"),
            TagOwner::Experiment(_) => (
                "experiments/set-experiment-tag",
                "experiments/delete-experiment-tag",
            ),
        }
    }
    fn body(&self, fields: Value) -> Value {
        let mut body = fields;
        match self {
            TagOwner::Run(id) => body["run_id"] = json!(id),
            TagOwner::Experiment(id) => body["experiment_id"] = json!(id),
        }
        body
    }
}

/// A tag list with delete buttons (MLflow's own `mlflow.*` tags excepted) and a set-tag form.
#[component]
pub fn TagEditor(owner: TagOwner, tags: Vec<crate::tracking::KeyValue>) -> impl IntoView {
    let client = expect_context::<Client>();
    let (key, set_key) = signal(String::new());
    let (value, set_value) = signal(String::new());
    let (error, set_error) = signal(None::<String>);
    let (set_endpoint, delete_endpoint) = owner.endpoints();
    let owner2 = owner.clone();
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = owner2.body(json!({"key": key.get_untracked(), "value": value.get_untracked()}));
        leptos::task::spawn_local(async move {
            match client.write("POST", set_endpoint, body).await {
                Ok(_) => {
                    set_error.set(None);
                    set_key.set(String::new());
                    set_value.set(String::new());
                }
                Err(e) => set_error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        <h3>"Tags"</h3>
        <table class="grid kv"><tbody>
            {tags.into_iter().map(|t| {
                let body = owner.body(json!({"key": t.key.clone()}));
                let system = t.key.starts_with("mlflow.");
                view! { <tr><th scope="row">{t.key.clone()}</th><td>{t.value}</td><td class="actions">
                    {(!system).then(|| view! { <button class="secondary danger" aria-label=format!("Delete tag {}", t.key)
                        on:click=move |_| { let body = body.clone(); leptos::task::spawn_local(async move {
                            if let Err(e) = client.write("POST", delete_endpoint, body).await { set_error.set(Some(e.to_string())); }
                        }); }>"Delete"</button> })}
                </td></tr> }
            }).collect_view()}
        </tbody></table>
        <form class="inline-form" on:submit=add>
            <label for="tag-key">"Tag"</label>
            <input id="tag-key" type="text" prop:value=key on:input=move |ev| set_key.set(event_target_value(&ev))/>
            <label for="tag-value">"Value"</label>
            <input id="tag-value" type="text" prop:value=value on:input=move |ev| set_value.set(event_target_value(&ev))/>
            <button type="submit">"Set tag"</button>
        </form>
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
    }
}

//! Small controls the views share: a labelled choice, and the progress bar of long worker jobs
//! (bundle import and export, training and search).

use leptos::prelude::*;

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

//! The progress bar of long worker jobs (bundle import and export, training and search).

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

//! Lessons: the course's MLflow chapters as notebook cells. Each cell is an explanation, the real
//! Python MLflow code of the step, and a Run button that performs the same step in Flowbook (see
//! [`steps`]); what it did is kept in the store as the learner's progress and links to its view.

mod steps;

use super::charts::HistogramChart;
use super::client::Client;
use super::markdown::Markdown;
use super::router::Route;
use crate::lessons::{Cell, Lesson};
use leptos::prelude::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::rc::Rc;
use steps::Outcome;

/// Done cells by (lesson slug, cell index), as the store keeps them.
type Done = HashMap<(String, usize), Outcome>;

fn done_cells(answer: &Value) -> Done {
    answer["cells"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| {
            let outcome = serde_json::from_value(c["result"].clone()).ok()?;
            Some((
                (
                    c["lesson"].as_str()?.to_string(),
                    c["cell"].as_u64()? as usize,
                ),
                outcome,
            ))
        })
        .collect()
}

fn progress_resource(
    client: Client,
    reload: ReadSignal<u32>,
) -> LocalResource<Result<Done, String>> {
    LocalResource::new(move || {
        reload.get();
        async move {
            client
                .call("GET", "flowbook/lessons/progress", json!({}))
                .await
                .map(|v| done_cells(&v))
                .map_err(|e| e.message)
        }
    })
}

#[component]
pub fn LessonsPage() -> impl IntoView {
    let client = expect_context::<Client>();
    let (reload, _) = signal(0u32);
    let progress = progress_resource(client, reload);
    let lessons = crate::lessons::all();
    view! {
        <section class="panel" aria-labelledby="lessons-heading">
            <h2 id="lessons-heading">"Lessons"</h2>
            <p>"The MLflow chapters of an MLOps course, as notebook cells. Each cell shows the Python code you would
               run in a notebook with real MLflow, and a Run button that does the same step here, in your browser."</p>
            {match lessons {
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Ok(lessons) => view! {
                    <ol class="lesson-list">{lessons.into_iter().map(|l| {
                        let slug = l.slug.clone();
                        let cells = l.cells.len();
                        let count = move || progress.get().and_then(Result::ok)
                            .map(|done| done.keys().filter(|(s, _)| *s == slug).count())
                            .unwrap_or(0);
                        let href = Route::Lesson { slug: l.slug.clone() }.href();
                        view! {
                            <li>
                                <a href=href>{l.title.clone()}</a>
                                <span class="muted">{move || format!(" · {} of {cells} cells done", count())}</span>
                                <Markdown source=l.summary.clone()/>
                            </li>
                        }
                    }).collect_view()}</ol>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
pub fn LessonPage(slug: String) -> impl IntoView {
    let client = expect_context::<Client>();
    let (reload, set_reload) = signal(0u32);
    let progress = progress_resource(client, reload);
    let lesson: Result<Lesson, String> = crate::lessons::all().and_then(|all| {
        all.into_iter()
            .find(|l| l.slug == slug)
            .ok_or_else(|| format!("there is no lesson '{slug}'"))
    });
    let lesson = match lesson {
        Err(e) => {
            return view! { <section class="panel"><p class="error" role="alert">{e}</p></section> }
                .into_any()
        }
        Ok(l) => l,
    };
    let title = lesson.title.clone();
    let slug2 = lesson.slug.clone();
    let reset = move |_| {
        let slug = slug2.clone();
        leptos::task::spawn_local(async move {
            let _ = client
                .call("POST", "flowbook/lessons/reset", json!({"lesson": slug}))
                .await;
            set_reload.update(|r| *r += 1);
        });
    };
    let lesson = std::sync::Arc::new(lesson);
    view! {
        <section class="panel lesson" aria-labelledby="lesson-heading">
            <p><a href=Route::Lessons.href()>"All lessons"</a></p>
            <h2 id="lesson-heading">{title}</h2>
            <Markdown source=lesson.summary.clone()/>
            <button type="button" class="secondary" on:click=reset>"Reset this lesson"</button>
            {move || {
                let lesson = lesson.clone();
                progress.get().map(move |p| match p {
                    Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                    Ok(done) => lesson.cells.iter().enumerate().map(|(i, cell)| {
                        let stored = done.get(&(lesson.slug.clone(), i)).cloned();
                        view! { <LessonCell slug=lesson.slug.clone() index=i cell=cell.clone() stored=stored/> }
                    }).collect_view().into_any(),
                })
            }}
        </section>
    }
    .into_any()
}

/// Where a cell's result lives, by the cell's `view:` and what its step did.
fn view_link(view: &str, outcome: &Outcome) -> Option<(String, String)> {
    let exp = outcome.experiment_id.clone();
    let route = match view {
        "experiments" => Route::Experiments,
        "runs" => Route::Runs {
            experiment_id: exp?,
        },
        "run" => Route::Run {
            experiment_id: exp?,
            run_id: outcome.run_id.clone()?,
        },
        "compare" => Route::Compare {
            experiment_id: exp?,
            run_ids: outcome.run_ids.clone(),
        },
        "models" => Route::Models,
        "model" => Route::Model {
            name: outcome.model_name.clone()?,
        },
        "monitor" => Route::Monitor,
        "transfer" => Route::Transfer,
        "train" => Route::Train,
        "features" => Route::Features,
        _ => return None,
    };
    let label = match view {
        "runs" => "See the runs table",
        "run" => "Open the run",
        "compare" => "Compare the runs",
        "model" | "models" => "See it in the registry",
        "features" => "See the feature tables",
        "monitor" => "Open the Monitor view",
        "transfer" => "Open Import / export",
        "train" => "Open the Train view",
        _ => "See the experiments",
    };
    Some((label.to_string(), route.href()))
}

#[component]
fn LessonCell(slug: String, index: usize, cell: Cell, stored: Option<Outcome>) -> impl IntoView {
    let client = expect_context::<Client>();
    let result = RwSignal::new(stored.map(Ok::<Outcome, String>));
    let (progress, set_progress) = signal(None::<super::controls::Progress>);
    let step = cell.step.clone();
    let has_step = step.is_some();
    let view_name = cell.view.clone().unwrap_or_default();
    let run = move |_| {
        let step = step.clone();
        let slug = slug.clone();
        result.set(None);
        set_progress.set(Some(super::controls::Progress { done: 0, total: 1 }));
        leptos::task::spawn_local(async move {
            let outcome = match step {
                Some(step) => {
                    let report: steps::Reporter = Rc::new(move |done, total| {
                        set_progress.set(Some(super::controls::Progress { done, total }))
                    });
                    steps::run(client, step, report).await
                }
                None => Ok(Outcome {
                    summary: "Read.".into(),
                    ..Outcome::default()
                }),
            };
            if let Ok(o) = &outcome {
                let body = json!({"lesson": slug, "cell": index, "result": o});
                if let Err(e) = client
                    .call("POST", "flowbook/lessons/progress/set", body)
                    .await
                {
                    result.set(Some(Err(format!(
                        "done, but the progress was not saved: {}",
                        e.message
                    ))));
                    set_progress.set(None);
                    return;
                }
            }
            result.set(Some(outcome));
            set_progress.set(None);
        });
    };
    let heading = format!("cell-{index}");
    let labelled_by = heading.clone();
    view! {
        <article class="cell" aria-labelledby=labelled_by>
            <h3 id=heading>{cell.title.clone()}
                {move || matches!(result.get(), Some(Ok(_))).then(|| view! { <span class="done" role="img" aria-label="done">" ✓"</span> })}
            </h3>
            <Markdown source=cell.markdown.clone()/>
            <figure class="code">
                <figcaption>"In a notebook, with MLflow 3.x"</figcaption>
                <pre><code class="python">{cell.python.clone()}</code></pre>
            </figure>
            {cell.bash.clone().map(|b| view! {
                <figure class="code">
                    <figcaption>"In a terminal"</figcaption>
                    <pre><code class="bash">{b}</code></pre>
                </figure>
            })}
            <button type="button" on:click=run disabled=move || progress.get().is_some()>
                {if has_step { "Run this step in Flowbook" } else { "Mark as read" }}
            </button>
            <super::controls::ProgressBar label="Running the step" progress=progress/>
            {move || result.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Ok(o) => view! { <CellOutcome outcome=o view=view_name.clone()/> }.into_any(),
            })}
        </article>
    }
}

#[component]
fn CellOutcome(outcome: Outcome, view: String) -> impl IntoView {
    let run_link = match (&outcome.experiment_id, &outcome.run_id) {
        (Some(e), Some(r)) if view != "run" => Some(
            Route::Run {
                experiment_id: e.clone(),
                run_id: r.clone(),
            }
            .href(),
        ),
        _ => None,
    };
    let link = view_link(&view, &outcome);
    view! {
        <div class="outcome" role="status">
            <p>{outcome.summary.clone()}</p>
            {outcome.tables.iter().map(|t| view! {
                <table class="grid">
                    <caption>{t.caption.clone()}</caption>
                    <thead><tr>{t.columns.iter().map(|c| view! { <th scope="col">{c.clone()}</th> }).collect_view()}</tr></thead>
                    <tbody>{t.rows.iter().map(|r| view! {
                        <tr>{r.iter().map(|c| view! { <td>{c.clone()}</td> }).collect_view()}</tr>
                    }).collect_view()}</tbody>
                </table>
            }).collect_view()}
            {outcome.text.clone().map(|t| view! { <pre class="output">{t}</pre> })}
            {outcome.histogram.clone().map(|(name, h)| view! {
                <HistogramChart histogram=h x_label=name.clone() label=format!("{name}, reference against current")/>
            })}
            {outcome.download.clone().map(|(url, name)| view! {
                <p><a href=url download=name.clone()>{format!("Save {name}")}</a></p>
            })}
            <p class="links">
                {run_link.map(|href| view! { <a href=href>"Open the run"</a>" " })}
                {link.map(|(label, href)| view! { <a href=href>{label}</a> })}
            </p>
        </div>
    }
}

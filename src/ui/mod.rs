//! The Leptos app: a thin reactive client of the engine's API (MLflow REST shapes), which runs in
//! a Web Worker (`crate::worker`) over SQLite on OPFS. Views read through [`client::Client`].

mod charts;
pub mod client;
mod compare;
mod controls;
mod experiments;
mod features;
mod lessons;
mod markdown;
mod models;
mod monitor;
pub mod router;
mod run;
mod runs;
mod sync;
mod train;
mod transfer;

use client::{Client, StoreStatus};
use leptos::prelude::*;
use router::Route;

/// A metric as MLflow's UI shows it: up to 6 significant decimals, NaN and infinities spelled out.
pub fn fmt_metric(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() || v.abs() >= 1e300 {
        if v > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else if v == v.trunc() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Epoch milliseconds as local date and time.
pub fn fmt_time(ms: i64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds()
    )
}

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
    let route = router::provide_route();
    view! {
        <a class="skip" href="#content">"Skip to content"</a>
        <header class="topbar">
            <h1>"Flowbook"</h1>
            <p class="tagline">"MLflow in a browser tab"</p>
            <nav aria-label="Main">
                <a href=Route::Lessons.href() aria-current=move || matches!(route.get(), Route::Lessons | Route::Lesson { .. }).then_some("page")>"Lessons"</a>
                <a href=Route::Experiments.href() aria-current=move || matches!(route.get(), Route::Experiments | Route::Runs { .. } | Route::Run { .. } | Route::Compare { .. }).then_some("page")>"Experiments"</a>
                <a href=Route::Train.href() aria-current=move || matches!(route.get(), Route::Train).then_some("page")>"Train"</a>
                <a href=Route::Models.href() aria-current=move || matches!(route.get(), Route::Models | Route::Model { .. }).then_some("page")>"Models"</a>
                <a href=Route::Monitor.href() aria-current=move || matches!(route.get(), Route::Monitor).then_some("page")>"Monitor"</a>
                <a href=Route::Transfer.href() aria-current=move || matches!(route.get(), Route::Transfer).then_some("page")>"Import / export"</a>
                <a href=Route::Sync.href() aria-current=move || matches!(route.get(), Route::Sync).then_some("page")>"Sync"</a>
            </nav>
            <StoreBadge/>
        </header>
        <main id="content">
            <StoreNotice/>
            {move || match route.get() {
                Route::Experiments => view! { <experiments::ExperimentsPage/> }.into_any(),
                Route::Runs { experiment_id } => view! { <runs::RunsPage experiment_id/> }.into_any(),
                Route::Run { experiment_id, run_id } => view! { <run::RunPage experiment_id run_id/> }.into_any(),
                Route::Compare { experiment_id, run_ids } => view! { <compare::ComparePage experiment_id run_ids/> }.into_any(),
                Route::Models => view! { <models::ModelsPage/> }.into_any(),
                Route::Transfer => view! { <transfer::TransferPage/> }.into_any(),
                Route::Train => view! { <train::TrainPage/> }.into_any(),
                Route::Monitor => view! { <monitor::MonitorPage/> }.into_any(),
                Route::Model { name } => view! { <models::ModelPage name/> }.into_any(),
                Route::Lessons => view! { <lessons::LessonsPage/> }.into_any(),
                Route::Lesson { slug } => view! { <lessons::LessonPage slug/> }.into_any(),
                Route::Features => view! { <features::FeaturesPage/> }.into_any(),
                Route::Sync => view! { <sync::SyncPage/> }.into_any(),
                Route::NotFound(path) => view! {
                    <section class="panel"><h2>"Not found"</h2><p>"No page at "<code>{path}</code>"."</p>
                    <p><a href=Route::Experiments.href()>"Back to the experiments"</a></p></section>
                }.into_any(),
            }}
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

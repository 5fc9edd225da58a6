//! Hash routes (`#/experiments/1/runs/<id>`, as MLflow's own UI uses): deep links that work on any
//! static host and under any sub-path, with no server rewrite rules.

use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    Experiments,
    Runs {
        experiment_id: String,
    },
    Run {
        experiment_id: String,
        run_id: String,
    },
    Compare {
        experiment_id: String,
        run_ids: Vec<String>,
    },
    Models,
    Transfer,
    Train,
    Monitor,
    Model {
        name: String,
    },
    Lessons,
    Lesson {
        slug: String,
    },
    Features,
    Sync,
    NotFound(String),
}

impl Route {
    pub fn parse(hash: &str) -> Route {
        let path = hash.trim_start_matches('#').trim_start_matches('/');
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        match parts.as_slice() {
            [] | ["experiments"] => Route::Experiments,
            ["experiments", id] => Route::Runs {
                experiment_id: id.to_string(),
            },
            ["experiments", id, "runs", run] => Route::Run {
                experiment_id: id.to_string(),
                run_id: run.to_string(),
            },
            ["experiments", id, "compare"] => Route::Compare {
                experiment_id: id.to_string(),
                run_ids: query
                    .split('&')
                    .filter_map(|kv| kv.strip_prefix("runs="))
                    .flat_map(|v| v.split(','))
                    .filter(|r| !r.is_empty())
                    .map(str::to_string)
                    .collect(),
            },
            ["models"] => Route::Models,
            ["transfer"] => Route::Transfer,
            ["train"] => Route::Train,
            ["monitor"] => Route::Monitor,
            ["lessons"] => Route::Lessons,
            ["lessons", slug] => Route::Lesson {
                slug: slug.to_string(),
            },
            ["features"] => Route::Features,
            ["sync"] => Route::Sync,
            ["models", name] => Route::Model {
                name: crate::api::percent_decode(name),
            },
            _ => Route::NotFound(path.to_string()),
        }
    }

    pub fn href(&self) -> String {
        match self {
            Route::Experiments => "#/experiments".into(),
            Route::Runs { experiment_id } => format!("#/experiments/{experiment_id}"),
            Route::Run {
                experiment_id,
                run_id,
            } => format!("#/experiments/{experiment_id}/runs/{run_id}"),
            Route::Compare {
                experiment_id,
                run_ids,
            } => {
                format!(
                    "#/experiments/{experiment_id}/compare?runs={}",
                    run_ids.join(",")
                )
            }
            Route::Models => "#/models".into(),
            Route::Train => "#/train".into(),
            Route::Monitor => "#/monitor".into(),
            Route::Transfer => "#/transfer".into(),
            Route::Model { name } => format!("#/models/{}", encode(name)),
            Route::Lessons => "#/lessons".into(),
            Route::Lesson { slug } => format!("#/lessons/{}", encode(slug)),
            Route::Features => "#/features".into(),
            Route::Sync => "#/sync".into(),
            Route::NotFound(p) => format!("#/{p}"),
        }
    }
}

/// Percent-encodes what cannot stand in a hash path segment.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn current_hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// The current route as a signal, kept in step with `location.hash`.
pub fn provide_route() -> ReadSignal<Route> {
    let (route, set_route) = signal(Route::parse(&current_hash()));
    let on_change =
        Closure::<dyn FnMut()>::new(move || set_route.set(Route::parse(&current_hash())));
    if let Some(w) = web_sys::window() {
        w.set_onhashchange(Some(on_change.as_ref().unchecked_ref()));
    }
    on_change.forget();
    provide_context(route);
    route
}

pub fn navigate(route: &Route) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_hash(&route.href());
    }
}

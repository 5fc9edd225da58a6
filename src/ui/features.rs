//! Feature tables: what the store holds for feature lookup (a table of features per key), each
//! with its schema and rows.

use super::client::Client;
use super::fmt_time;
use leptos::prelude::*;
use serde_json::{json, Value};

fn cell(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

#[component]
pub fn FeaturesPage() -> impl IntoView {
    let client = expect_context::<Client>();
    let tables = LocalResource::new(move || {
        client.revision.get();
        async move {
            let list = client
                .call("GET", "flowbook/feature-tables/list", json!({}))
                .await?;
            let mut full = Vec::new();
            for t in list["feature_tables"].as_array().into_iter().flatten() {
                let got = client
                    .call(
                        "GET",
                        "flowbook/feature-tables/get",
                        json!({"name": t["name"]}),
                    )
                    .await?;
                full.push(got["feature_table"].clone());
            }
            Ok::<_, crate::api::ApiError>(full)
        }
    });
    view! {
        <section class="panel" aria-labelledby="features-heading">
            <h2 id="features-heading">"Feature tables"</h2>
            <p>"Features kept by key. A model logged with a lookup spec is given only the key at prediction time and
               joins these features itself (the Feature lookup lesson makes one)."</p>
            {move || match tables.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! { <p class="muted">"No feature tables yet."</p> }.into_any(),
                Some(Ok(list)) => list.into_iter().map(|t| {
                    let columns: Vec<String> = t["columns"].as_array().into_iter().flatten()
                        .map(|c| format!("{} ({})", cell(&c["name"]), cell(&c["type"]))).collect();
                    let rows: Vec<Vec<String>> = t["rows"].as_array().into_iter().flatten().take(50)
                        .map(|r| r.as_array().into_iter().flatten().map(cell).collect()).collect();
                    let caption = format!("{} — key {}, {} rows, updated {}", cell(&t["name"]), cell(&t["primary_key"]),
                        t["num_rows"], t["last_updated_time"].as_i64().map(fmt_time).unwrap_or_default());
                    view! {
                        <h3>{cell(&t["name"])}</h3>
                        <p>{cell(&t["description"])}</p>
                        <table class="grid">
                            <caption>{caption}</caption>
                            <thead><tr>{columns.into_iter().map(|c| view! { <th scope="col">{c}</th> }).collect_view()}</tr></thead>
                            <tbody>{rows.into_iter().map(|r| view! { <tr>{r.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}</tr> }).collect_view()}</tbody>
                        </table>
                    }
                }).collect_view().into_any(),
            }}
        </section>
    }
}

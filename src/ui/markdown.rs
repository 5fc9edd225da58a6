//! A small Markdown renderer for run notes that builds views, never HTML strings: headings,
//! paragraphs, lists, code blocks, `code`, *emphasis* and **strong**. Whatever the note says is
//! rendered as text, so nothing in it can run or inject markup.

use leptos::prelude::*;

fn inline(text: &str) -> AnyView {
    // Split on backticks first (code spans win), then on ** and * for emphasis.
    let mut parts: Vec<AnyView> = Vec::new();
    for (i, chunk) in text.split('`').enumerate() {
        if i % 2 == 1 {
            parts.push(view! { <code>{chunk.to_string()}</code> }.into_any());
            continue;
        }
        for (j, strong) in chunk.split("**").enumerate() {
            if j % 2 == 1 {
                parts.push(view! { <strong>{strong.to_string()}</strong> }.into_any());
                continue;
            }
            for (k, em) in strong.split('*').enumerate() {
                if k % 2 == 1 {
                    parts.push(view! { <em>{em.to_string()}</em> }.into_any());
                } else if !em.is_empty() {
                    parts.push(em.to_string().into_any());
                }
            }
        }
    }
    parts.into_iter().collect_view().into_any()
}

#[component]
pub fn Markdown(source: String) -> impl IntoView {
    let mut blocks: Vec<AnyView> = Vec::new();
    let mut paragraph: Vec<String> = Vec::new();
    let mut list: Vec<String> = Vec::new();
    let mut code: Option<Vec<String>> = None;
    let flush = |blocks: &mut Vec<AnyView>, paragraph: &mut Vec<String>, list: &mut Vec<String>| {
        if !paragraph.is_empty() {
            let text = paragraph.join(" ");
            blocks.push(view! { <p>{inline(&text)}</p> }.into_any());
            paragraph.clear();
        }
        if !list.is_empty() {
            let items = list
                .drain(..)
                .map(|i| view! { <li>{inline(&i)}</li> })
                .collect_view();
            blocks.push(view! { <ul>{items}</ul> }.into_any());
        }
    };
    for line in source.lines() {
        if line.trim_start().starts_with("```") {
            match code.take() {
                Some(lines) => {
                    blocks.push(view! { <pre><code>{lines.join("\n")}</code></pre> }.into_any())
                }
                None => {
                    flush(&mut blocks, &mut paragraph, &mut list);
                    code = Some(Vec::new());
                }
            }
            continue;
        }
        if let Some(lines) = code.as_mut() {
            lines.push(line.to_string());
            continue;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() {
            flush(&mut blocks, &mut paragraph, &mut list);
        } else if let Some(h) = trimmed.strip_prefix("### ") {
            flush(&mut blocks, &mut paragraph, &mut list);
            blocks.push(view! { <h5>{inline(h)}</h5> }.into_any());
        } else if let Some(h) = trimmed.strip_prefix("## ") {
            flush(&mut blocks, &mut paragraph, &mut list);
            blocks.push(view! { <h4>{inline(h)}</h4> }.into_any());
        } else if let Some(h) = trimmed.strip_prefix("# ") {
            flush(&mut blocks, &mut paragraph, &mut list);
            blocks.push(view! { <h3>{inline(h)}</h3> }.into_any());
        } else if let Some(item) = trimmed
            .strip_prefix("- ")
            .or_else(|| trimmed.strip_prefix("* "))
        {
            if !paragraph.is_empty() {
                flush(&mut blocks, &mut paragraph, &mut list);
            }
            list.push(item.to_string());
        } else {
            paragraph.push(trimmed.to_string());
        }
    }
    if let Some(lines) = code.take() {
        blocks.push(view! { <pre><code>{lines.join("\n")}</code></pre> }.into_any());
    }
    flush(&mut blocks, &mut paragraph, &mut list);
    view! { <div class="markdown">{blocks}</div> }
}

//! The YAML of MLflow's `meta.yaml` files: what PyYAML's `safe_dump` writes (block style), read
//! back as PyYAML's `safe_load` reads it, and written so that `safe_load` returns the same data.
//! Not a general YAML parser: anchors, tags and multi-document streams are refused with a message.

#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    pub fn get(&self, key: &str) -> Option<&Yaml> {
        match self {
            Yaml::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Yaml::Str(s) => Some(s),
            _ => None,
        }
    }

    /// An integer, or a string holding one (MLflow writes ids as `'123'`).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Yaml::Int(i) => Some(*i),
            Yaml::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Yaml::Null)
    }
}

/// One source line: its number (1-based), indentation and the text after it.
struct Line<'a> {
    number: usize,
    indent: usize,
    text: &'a str,
}

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
}

fn err(line: usize, why: impl std::fmt::Display) -> String {
    format!("line {line}: {why}")
}

/// Parses one document of the block style PyYAML's `safe_dump` writes.
pub fn parse(text: &str) -> Result<Yaml, String> {
    let mut lines = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let number = i + 1;
        let body = raw.trim_start_matches(' ');
        if body.starts_with('\t') {
            return Err(err(number, "tabs cannot indent YAML"));
        }
        let trimmed = body.trim_end();
        if trimmed == "---" || trimmed == "..." {
            if lines.is_empty() || trimmed == "..." {
                continue;
            }
            return Err(err(number, "only one YAML document is read"));
        }
        lines.push(Line {
            number,
            indent: raw.len() - body.len(),
            text: body.trim_end_matches(['\r', ' ']),
        });
    }
    let mut p = Parser { lines, pos: 0 };
    p.skip_blank();
    if p.pos >= p.lines.len() {
        return Ok(Yaml::Null);
    }
    let indent = p.lines[p.pos].indent;
    let value = p.node(indent)?;
    p.skip_blank();
    if let Some(line) = p.lines.get(p.pos) {
        return Err(err(line.number, "unexpected text after the document"));
    }
    Ok(value)
}

fn is_blank(text: &str) -> bool {
    text.is_empty() || text.starts_with('#')
}

impl<'a> Parser<'a> {
    fn skip_blank(&mut self) {
        while self.lines.get(self.pos).is_some_and(|l| is_blank(l.text)) {
            self.pos += 1;
        }
    }

    /// A block node whose first line is at `self.pos` with indentation `indent`.
    fn node(&mut self, indent: usize) -> Result<Yaml, String> {
        let line = &self.lines[self.pos];
        if line.text == "-" || line.text.starts_with("- ") {
            self.sequence(indent)
        } else if split_key(line.text).is_some() {
            self.mapping(indent)
        } else {
            let number = line.number;
            let (value, _) = self.scalar_lines(line.text, indent, number)?;
            Ok(value)
        }
    }

    fn mapping(&mut self, indent: usize) -> Result<Yaml, String> {
        let mut entries: Vec<(String, Yaml)> = Vec::new();
        loop {
            self.skip_blank();
            let Some(line) = self.lines.get(self.pos) else {
                break;
            };
            if line.indent < indent {
                break;
            }
            let number = line.number;
            if line.indent > indent {
                return Err(err(number, "bad indentation"));
            }
            let Some((raw_key, rest)) = split_key(line.text) else {
                return Err(err(
                    number,
                    format!("expected 'key: value', found '{}'", line.text),
                ));
            };
            let key = match scalar(raw_key, number)? {
                Yaml::Str(s) => s,
                Yaml::Null => return Err(err(number, "a key is empty")),
                other => display_key(&other),
            };
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(err(number, format!("duplicate key '{key}'")));
            }
            self.pos += 1;
            let value = self.value_after(rest, indent, number, true)?;
            entries.push((key, value));
        }
        Ok(Yaml::Map(entries))
    }

    fn sequence(&mut self, indent: usize) -> Result<Yaml, String> {
        let mut items = Vec::new();
        loop {
            self.skip_blank();
            let Some(line) = self.lines.get(self.pos) else {
                break;
            };
            if line.indent < indent {
                break;
            }
            let number = line.number;
            if line.indent > indent {
                return Err(err(number, "bad indentation"));
            }
            let rest = if line.text == "-" {
                ""
            } else if let Some(rest) = line.text.strip_prefix("- ") {
                rest.trim_start()
            } else {
                break;
            };
            if !rest.is_empty() && (split_key(rest).is_some() || rest.starts_with("- ")) {
                // `- key: value`: a nested block whose indentation is the text's column.
                let column = indent + (line.text.len() - rest.len());
                let line = &mut self.lines[self.pos];
                line.indent = column;
                line.text = rest;
                items.push(self.node(column)?);
                continue;
            }
            self.pos += 1;
            items.push(self.value_after(rest, indent, number, false)?);
        }
        Ok(Yaml::Seq(items))
    }

    /// The value after `key:` or `- `: inline text, or a block on the following lines.
    fn value_after(
        &mut self,
        rest: &'a str,
        indent: usize,
        number: usize,
        in_mapping: bool,
    ) -> Result<Yaml, String> {
        let rest = strip_comment(rest);
        if rest.starts_with('|') || rest.starts_with('>') {
            return self.block_scalar(rest, indent, number);
        }
        if rest.starts_with('&') || rest.starts_with('*') || rest.starts_with('!') {
            return Err(err(number, "anchors, aliases and tags are not supported"));
        }
        if !rest.is_empty() {
            self.pos -= 1;
            let (value, _) = self.scalar_lines(rest, indent, number)?;
            return Ok(value);
        }
        self.skip_blank();
        match self.lines.get(self.pos) {
            Some(next) if next.indent > indent => {
                let child = next.indent;
                self.node(child)
            }
            // PyYAML writes a mapping's sequence at the key's own indentation.
            Some(next)
                if in_mapping
                    && next.indent == indent
                    && (next.text == "-" || next.text.starts_with("- ")) =>
            {
                self.sequence(indent)
            }
            _ => Ok(Yaml::Null),
        }
    }

    /// A scalar starting with `first` on line `self.pos`, continued on more-indented lines
    /// (plain and quoted scalars fold line breaks into spaces).
    fn scalar_lines(
        &mut self,
        first: &'a str,
        indent: usize,
        number: usize,
    ) -> Result<(Yaml, usize), String> {
        self.pos += 1;
        let quote = first.chars().next().filter(|c| *c == '\'' || *c == '"');
        let mut text = first.to_string();
        if let Some(q) = quote {
            while !quoted_closed(&text, q) {
                let Some(line) = self.lines.get(self.pos) else {
                    return Err(err(number, "a quoted value is never closed"));
                };
                text.push('\n');
                text.push_str(line.text);
                self.pos += 1;
            }
        } else if !first.starts_with('[') && !first.starts_with('{') {
            let stripped = strip_comment(first);
            text = stripped.to_string();
            while let Some(line) = self.lines.get(self.pos) {
                if line.indent <= indent || is_blank(line.text) || split_key(line.text).is_some() {
                    break;
                }
                text.push(' ');
                text.push_str(strip_comment(line.text));
                self.pos += 1;
            }
        }
        Ok((scalar(&text, number)?, self.pos))
    }

    fn block_scalar(&mut self, header: &str, indent: usize, number: usize) -> Result<Yaml, String> {
        let folded = header.starts_with('>');
        let chomp = header[1..].trim();
        if !matches!(chomp, "" | "-" | "+") {
            return Err(err(
                number,
                format!("unsupported block scalar header '{header}'"),
            ));
        }
        let mut body: Vec<&str> = Vec::new();
        let mut block_indent = None;
        while let Some(line) = self.lines.get(self.pos) {
            if !line.text.is_empty() {
                if line.indent <= indent {
                    break;
                }
                let at = *block_indent.get_or_insert(line.indent);
                if line.indent < at {
                    break;
                }
            }
            body.push(line.text);
            self.pos += 1;
        }
        let at = block_indent.unwrap_or(indent + 1);
        let lines: Vec<String> = body
            .iter()
            .zip(self.lines[self.pos - body.len()..self.pos].iter())
            .map(|(t, l)| {
                if t.is_empty() {
                    String::new()
                } else {
                    format!("{}{t}", " ".repeat(l.indent.saturating_sub(at)))
                }
            })
            .collect();
        let mut text = if folded {
            let mut out = String::new();
            for (i, l) in lines.iter().enumerate() {
                if i > 0 {
                    let prev_empty = lines[i - 1].is_empty();
                    out.push(if l.is_empty() || prev_empty || l.starts_with(' ') {
                        '\n'
                    } else {
                        ' '
                    });
                }
                out.push_str(l);
            }
            out
        } else {
            lines.join("\n")
        };
        match chomp {
            "-" => text = text.trim_end_matches('\n').to_string(),
            "+" => text.push('\n'),
            _ => {
                text = text.trim_end_matches('\n').to_string();
                if !text.is_empty() {
                    text.push('\n');
                }
            }
        }
        Ok(Yaml::Str(text))
    }
}

fn display_key(v: &Yaml) -> String {
    match v {
        Yaml::Bool(b) => b.to_string(),
        Yaml::Int(i) => i.to_string(),
        Yaml::Float(f) => f.to_string(),
        _ => String::new(),
    }
}

/// Splits `key: rest` (or `key:`), respecting a quoted key; None when the line is not one.
fn split_key(text: &str) -> Option<(&str, &str)> {
    let bytes = text.as_bytes();
    if let Some(&q) = bytes.first().filter(|b| **b == b'\'' || **b == b'"') {
        let mut i = 1;
        while i < bytes.len() {
            if bytes[i] == b'\\' && q == b'"' {
                i += 2;
                continue;
            }
            if bytes[i] == q {
                if q == b'\'' && bytes.get(i + 1) == Some(&b'\'') {
                    i += 2;
                    continue;
                }
                break;
            }
            i += 1;
        }
        i += 1;
        let after = text.get(i..)?;
        let rest = after.strip_prefix(':')?;
        return (rest.is_empty() || rest.starts_with(' ')).then(|| (&text[..i], rest.trim_start()));
    }
    if text.starts_with("- ")
        || text.starts_with('[')
        || text.starts_with('{')
        || text.starts_with('#')
    {
        return None;
    }
    let at = text
        .match_indices(':')
        .map(|(i, _)| i)
        .find(|&i| i + 1 == text.len() || text.as_bytes()[i + 1] == b' ')?;
    let key = &text[..at];
    if key.is_empty() || key.contains(" #") {
        return None;
    }
    Some((key.trim_end(), text[at + 1..].trim_start()))
}

fn strip_comment(text: &str) -> &str {
    if text.starts_with('\'') || text.starts_with('"') {
        return text;
    }
    if text.starts_with('#') {
        return "";
    }
    match text.find(" #") {
        Some(i) => text[..i].trim_end(),
        None => text,
    }
}

fn quoted_closed(text: &str, q: char) -> bool {
    let mut chars = text.chars().skip(1).peekable();
    while let Some(c) = chars.next() {
        if q == '"' && c == '\\' {
            chars.next();
        } else if c == q {
            if q == '\'' && chars.peek() == Some(&'\'') {
                chars.next();
            } else {
                return true;
            }
        }
    }
    false
}

/// Where a single-quoted body ends (its closing quote; `''` is an escaped quote).
fn closing_quote(body: &str) -> Option<usize> {
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            if bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Folds the line breaks of a quoted or plain scalar: one break is a space, n breaks are n-1 newlines.
fn fold(text: &str) -> String {
    let mut out = String::new();
    let mut breaks = 0;
    for (i, part) in text.split('\n').enumerate() {
        let part = if i > 0 { part.trim_start() } else { part };
        if i > 0 {
            if part.is_empty() {
                breaks += 1;
                continue;
            }
            if breaks == 0 {
                out = out.trim_end_matches(' ').to_string();
                out.push(' ');
            } else {
                out = out.trim_end_matches(' ').to_string();
                out.push_str(&"\n".repeat(breaks));
            }
            breaks = 0;
        }
        out.push_str(part);
    }
    if breaks > 0 {
        out = out.trim_end_matches(' ').to_string();
        out.push_str(&"\n".repeat(breaks));
    }
    out
}

/// One scalar (or a flow collection) as PyYAML's SafeLoader resolves it.
fn scalar(text: &str, number: usize) -> Result<Yaml, String> {
    let text = text.trim();
    if let Some(body) = text.strip_prefix('\'') {
        let end =
            closing_quote(body).ok_or_else(|| err(number, "a quoted value is never closed"))?;
        if !strip_comment(body[end + 1..].trim()).is_empty() {
            return Err(err(number, "text after a quoted value"));
        }
        return Ok(Yaml::Str(fold(&body[..end]).replace("''", "'")));
    }
    if text.starts_with('"') {
        return double_quoted(text, number).map(Yaml::Str);
    }
    if text.starts_with('[') || text.starts_with('{') {
        return flow(text, number);
    }
    if text.starts_with('&') || text.starts_with('*') || text.starts_with('!') {
        return Err(err(number, "anchors, aliases and tags are not supported"));
    }
    if text.starts_with('@') || text.starts_with('`') || text.starts_with('%') {
        return Err(err(number, format!("'{text}' cannot start a plain value")));
    }
    Ok(resolve(text))
}

/// A plain scalar's type, by YAML 1.1's rules as PyYAML applies them.
fn resolve(text: &str) -> Yaml {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Yaml::Null,
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            return Yaml::Bool(true)
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            return Yaml::Bool(false)
        }
        ".nan" | ".NaN" | ".NAN" => return Yaml::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Yaml::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Yaml::Float(f64::NEG_INFINITY),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let is_int = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        && digits.bytes().next().is_some_and(|b| b.is_ascii_digit());
    if is_int {
        let clean = text.replace('_', "");
        return match clean.parse::<i64>() {
            Ok(i) => Yaml::Int(i),
            Err(_) => clean
                .parse()
                .map(Yaml::Float)
                .unwrap_or(Yaml::Str(text.into())),
        };
    }
    // PyYAML's float: digits with a dot, optional exponent (`1.0e+5`, `.5`, `1.`).
    let is_float = digits.contains('.')
        && digits
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'.')
        && {
            let (mantissa, exponent) = match digits.find(['e', 'E']) {
                Some(i) => (&digits[..i], Some(&digits[i + 1..])),
                None => (digits, None),
            };
            mantissa
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'_')
                && mantissa.matches('.').count() == 1
                && mantissa.bytes().any(|b| b.is_ascii_digit())
                && exponent.is_none_or(|e| {
                    let e = e.strip_prefix(['-', '+']).unwrap_or(e);
                    !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
                })
        };
    if is_float {
        if let Ok(f) = text.replace('_', "").parse::<f64>() {
            return Yaml::Float(f);
        }
    }
    Yaml::Str(text.to_string())
}

fn double_quoted(text: &str, number: usize) -> Result<String, String> {
    let body = &text[1..];
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    let mut closed = false;
    let mut pending = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                closed = true;
                break;
            }
            '\\' => {
                let Some(e) = chars.next() else { break };
                let hex = |n: usize, chars: &mut std::iter::Peekable<std::str::Chars>| {
                    let code: String = chars.by_ref().take(n).collect();
                    u32::from_str_radix(&code, 16)
                        .ok()
                        .and_then(char::from_u32)
                        .ok_or_else(|| err(number, format!("bad escape '\\{e}{code}'")))
                };
                out.push_str(&fold(&std::mem::take(&mut pending)));
                match e {
                    'n' => out.push('\n'),
                    't' | '\t' => out.push('\t'),
                    'r' => out.push('\r'),
                    '0' => out.push('\0'),
                    'a' => out.push('\x07'),
                    'b' => out.push('\x08'),
                    'e' => out.push('\x1b'),
                    'f' => out.push('\x0c'),
                    'v' => out.push('\x0b'),
                    ' ' => out.push(' '),
                    '"' => out.push('"'),
                    '/' => out.push('/'),
                    '\\' => out.push('\\'),
                    'N' => out.push('\u{85}'),
                    '_' => out.push('\u{a0}'),
                    'L' => out.push('\u{2028}'),
                    'P' => out.push('\u{2029}'),
                    'x' => out.push(hex(2, &mut chars)?),
                    'u' => out.push(hex(4, &mut chars)?),
                    'U' => out.push(hex(8, &mut chars)?),
                    '\n' => {
                        // An escaped line break joins the lines with nothing between.
                        while chars.peek() == Some(&' ') {
                            chars.next();
                        }
                    }
                    other => return Err(err(number, format!("bad escape '\\{other}'"))),
                }
            }
            c => pending.push(c),
        }
    }
    if !closed {
        return Err(err(number, "a quoted value is never closed"));
    }
    let rest: String = chars.collect();
    if !strip_comment(rest.trim()).is_empty() {
        return Err(err(number, "text after a quoted value"));
    }
    out.push_str(&fold(&pending));
    Ok(out)
}

/// A one-line flow collection: `[a, 'b']`, `{k: v}`, `{}`, `[]`.
fn flow(text: &str, number: usize) -> Result<Yaml, String> {
    let (open, close) = if text.starts_with('[') {
        ('[', ']')
    } else {
        ('{', '}')
    };
    let inner = text
        .strip_prefix(open)
        .and_then(|t| strip_comment(t).trim_end().strip_suffix(close))
        .ok_or_else(|| err(number, format!("'{text}' is not a closed flow collection")))?;
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0usize);
    for (i, c) in inner.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[' | '{') => depth += 1,
            (None, ']' | '}') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 || quote.is_some() {
        return Err(err(
            number,
            format!("'{text}' is not a closed flow collection"),
        ));
    }
    if !inner[start..].trim().is_empty() {
        parts.push(&inner[start..]);
    }
    if open == '[' {
        return parts
            .iter()
            .map(|p| scalar(p, number))
            .collect::<Result<_, _>>()
            .map(Yaml::Seq);
    }
    let mut entries: Vec<(String, Yaml)> = Vec::new();
    for p in parts {
        let p = p.trim();
        let (k, v) = split_key(p).unwrap_or((p, ""));
        let key = match scalar(k, number)? {
            Yaml::Str(s) => s,
            other => display_key(&other),
        };
        if entries.iter().any(|(e, _)| *e == key) {
            return Err(err(number, format!("duplicate key '{key}'")));
        }
        entries.push((key, scalar(v, number)?));
    }
    Ok(Yaml::Map(entries))
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// Whether a string can be written plain and still read back as this same string.
fn plain_is_safe(s: &str) -> bool {
    if s.is_empty() || s != s.trim() || !matches!(resolve(s), Yaml::Str(_)) {
        return false;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    !(s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
        || s.chars().any(|c| {
            c.is_control() || c == '\u{85}' || c == '\u{2028}' || c == '\u{2029}' || c == '\u{feff}'
        }))
}

fn quote(s: &str) -> String {
    let printable = |c: char| {
        matches!(c, '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
            && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
    };
    if s.chars().all(printable) {
        return format!("'{}'", s.replace('\'', "''"));
    }
    // A JSON string is a valid YAML double-quoted scalar; YAML also breaks lines at these three.
    serde_json::to_string(s)
        .unwrap_or_default()
        .replace('\u{85}', "\\u0085")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
        .replace('\u{feff}', "\\ufeff")
}

fn inline(v: &Yaml) -> Option<String> {
    Some(match v {
        Yaml::Null => "null".into(),
        Yaml::Bool(b) => if *b { "true" } else { "false" }.into(),
        Yaml::Int(i) => i.to_string(),
        Yaml::Float(f) if f.is_nan() => ".nan".into(),
        Yaml::Float(f) if f.is_infinite() => if *f > 0.0 { ".inf" } else { "-.inf" }.into(),
        Yaml::Float(f) => {
            let s = format!("{f:?}");
            if s.contains('.') {
                s
            } else {
                format!("{f:.1}")
            }
        }
        Yaml::Str(s) if plain_is_safe(s) => s.clone(),
        Yaml::Str(s) => quote(s),
        Yaml::Seq(items) if items.is_empty() => "[]".into(),
        Yaml::Map(entries) if entries.is_empty() => "{}".into(),
        _ => return None,
    })
}

fn write_node(out: &mut String, v: &Yaml, indent: usize) {
    let pad = " ".repeat(indent);
    match v {
        Yaml::Map(entries) if !entries.is_empty() => {
            for (k, child) in entries {
                let key = inline(&Yaml::Str(k.clone())).unwrap_or_default();
                match inline(child) {
                    Some(text) => out.push_str(&format!("{pad}{key}: {text}\n")),
                    None => {
                        out.push_str(&format!("{pad}{key}:\n"));
                        // Sequences sit at the key's indentation, maps two deeper, as PyYAML writes.
                        let deeper = if matches!(child, Yaml::Seq(_)) {
                            indent
                        } else {
                            indent + 2
                        };
                        write_node(out, child, deeper);
                    }
                }
            }
        }
        Yaml::Seq(items) if !items.is_empty() => {
            for item in items {
                match inline(item) {
                    Some(text) => out.push_str(&format!("{pad}- {text}\n")),
                    None => {
                        let mut nested = String::new();
                        write_node(&mut nested, item, indent + 2);
                        out.push_str(&format!("{pad}- {}", &nested[indent + 2..]));
                    }
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", inline(other).unwrap_or_default())),
    }
}

/// Writes a value in PyYAML's block style (keys in the order given).
pub fn dump(value: &Yaml) -> String {
    let mut out = String::new();
    write_node(&mut out, value, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Yaml {
        Yaml::Str(v.to_string())
    }

    #[test]
    fn mlflows_meta_files_parse() {
        let exp = parse("artifact_location: file:///home/l/mlruns/0\ncreation_time: 1795478946456\neffective_trace_archival_retention: null\nexperiment_id: '0'\nlifecycle_stage: active\nname: Default\ntags: {}\n").unwrap();
        assert_eq!(
            exp.get("artifact_location"),
            Some(&s("file:///home/l/mlruns/0"))
        );
        assert_eq!(exp.get("creation_time"), Some(&Yaml::Int(1795478946456)));
        assert_eq!(exp.get("experiment_id"), Some(&s("0")));
        assert_eq!(
            exp.get("effective_trace_archival_retention"),
            Some(&Yaml::Null)
        );
        assert_eq!(exp.get("tags"), Some(&Yaml::Map(vec![])));
        let ds = parse("digest: 09bf69a1\nname: train-split\nprofile: '{\"features_shape\": [300, 3], \"features_size\": 900,\n  \"targets_shape\": [300]}'\nschema: '{\"a\": \"[{\\\"type\\\": \\\"tensor\\\",\n  \\\"x\\\": 1}]\"}'\nsource_type: code\n").unwrap();
        assert_eq!(ds.get("digest"), Some(&s("09bf69a1")));
        assert_eq!(
            ds.get("profile"),
            Some(&s(
                "{\"features_shape\": [300, 3], \"features_size\": 900, \"targets_shape\": [300]}"
            ))
        );
        assert_eq!(
            ds.get("schema"),
            Some(&s(
                "{\"a\": \"[{\\\"type\\\": \\\"tensor\\\", \\\"x\\\": 1}]\"}"
            ))
        );
        let v = parse("aliases:\n- champion\n- best\ndescription: null\ntags:\n  mlflow.data.context: training\nversion: 1\nrun_link: ''\n").unwrap();
        assert_eq!(
            v.get("aliases"),
            Some(&Yaml::Seq(vec![s("champion"), s("best")]))
        );
        assert_eq!(
            v.get("tags"),
            Some(&Yaml::Map(vec![(
                "mlflow.data.context".into(),
                s("training")
            )]))
        );
        assert_eq!(v.get("version").and_then(Yaml::as_i64), Some(1));
        assert_eq!(v.get("run_link"), Some(&s("")));
        let m = parse("aliases:\n  champion: '1'\nname: m\n").unwrap();
        assert_eq!(
            m.get("aliases").and_then(|a| a.get("champion")),
            Some(&s("1"))
        );
    }

    #[test]
    fn plain_scalars_resolve_as_pyyaml_does() {
        let v =
            parse("a: yes\nb: 1.5\nc: 1e5\nd: -3\ne: .nan\nf: ~\ng: 0.1.2\nh: 12abc\n").unwrap();
        assert_eq!(v.get("a"), Some(&Yaml::Bool(true)));
        assert_eq!(v.get("b"), Some(&Yaml::Float(1.5)));
        assert_eq!(v.get("c"), Some(&s("1e5")), "PyYAML needs a dot in a float");
        assert_eq!(v.get("d"), Some(&Yaml::Int(-3)));
        assert!(matches!(v.get("e"), Some(Yaml::Float(f)) if f.is_nan()));
        assert_eq!(v.get("f"), Some(&Yaml::Null));
        assert_eq!(v.get("g"), Some(&s("0.1.2")));
        assert_eq!(v.get("h"), Some(&s("12abc")));
        let block = parse("a: |-\n  one\n  two\nb: >\n  folded\n  text\n").unwrap();
        assert_eq!(block.get("a"), Some(&s("one\ntwo")));
        assert_eq!(block.get("b"), Some(&s("folded text\n")));
        assert_eq!(
            parse("a: \"x\\ty\\u00e9\\\n  z\"\n").unwrap().get("a"),
            Some(&s("x\tyéz"))
        );
    }

    fn tricky() -> Vec<String> {
        let mut out: Vec<String> = [
            "0",
            "'0'",
            "yes",
            "null",
            "",
            "a: b",
            "# x",
            "it's",
            "two\nlines",
            "trail\n",
            "ünï©ødé",
            " lead",
            "trail ",
            "-",
            "- x",
            "@x",
            "1.5",
            ".inf",
            "key:",
            "a #b",
            "tab\there",
            "\"q\"",
            "x\u{1}y",
            "[1]",
            "{a}",
            "~",
            "back\\slash",
            "%x",
            "a  b",
            "\n",
            "  ",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        out.push("x".repeat(5000));
        out.push(format!("{} {}", "word".repeat(30), "more ".repeat(40)));
        out
    }

    #[test]
    fn dump_then_parse_returns_the_same_strings() {
        for t in tricky() {
            let doc = Yaml::Map(vec![
                ("k".into(), s(&t)),
                ("list".into(), Yaml::Seq(vec![s(&t)])),
            ]);
            let text = dump(&doc);
            assert_eq!(parse(&text), Ok(doc), "{t:?} → {text:?}");
        }
        // A deterministic walk over many generated strings.
        let alphabet: Vec<char> = " ab:#-'\"\\\n\t{}[],&*!|>%@`01.yYn~é".chars().collect();
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..600 {
            let len = (seed % 12) as usize;
            let mut text = String::new();
            for _ in 0..len {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.push(alphabet[(seed % alphabet.len() as u64) as usize]);
            }
            seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let doc = Yaml::Map(vec![("v".into(), s(&text))]);
            let written = dump(&doc);
            assert_eq!(parse(&written), Ok(doc), "{text:?} → {written:?}");
        }
        let nested = Yaml::Map(vec![
            (
                "aliases".into(),
                Yaml::Map(vec![("champion".into(), s("1"))]),
            ),
            ("empty".into(), Yaml::Seq(vec![])),
            ("n".into(), Yaml::Int(-4)),
            ("f".into(), Yaml::Float(0.25)),
            ("none".into(), Yaml::Null),
        ]);
        assert_eq!(parse(&dump(&nested)), Ok(nested));
    }

    #[test]
    fn malformed_yaml_is_refused_with_its_line() {
        for (text, why) in [
            ("a: 'unterminated\nb: 1\n", "never closed"),
            ("a: 'closed' early'\n", "text after a quoted value"),
            ("a:\n\tb: 1\n", "tabs"),
            ("a: 1\na: 2\n", "duplicate key 'a'"),
            ("a: 1\n  b: 2\n", "line"),
            ("- [\n", "flow collection"),
            ("a: &x 1\n", "anchors"),
            ("a: \"bad \\q escape\"\n", "bad escape"),
            ("a: 1\n---\nb: 2\n", "one YAML document"),
        ] {
            let e = parse(text).unwrap_err();
            assert!(e.starts_with("line ") && e.contains(why), "{text:?}: {e}");
        }
    }
}

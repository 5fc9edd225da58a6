//! The YAML of the `meta.yaml` files in MLflow's `mlruns` file store.
//!
//! MLflow writes them with PyYAML (`safe_dump`, block style) and reads them with `safe_load`.
//! [`parse`] reads that block style, plus what a person editing such a file by hand may write
//! (flow collections, block scalars, comments), and types plain scalars as PyYAML's SafeLoader
//! does (YAML 1.1). [`dump`] writes data that `safe_load` reads back unchanged.
//! Anchors, aliases, tags, keys that are not scalars and multi-document streams are refused.

use std::collections::HashSet;

/// A YAML value. Maps keep their keys in document order.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Yaml>),
    /// A plain key that PyYAML would type (`1:`, `true:`) is kept as written.
    Map(Vec<(String, Yaml)>),
}

impl Yaml {
    /// The value of `key` in a map; None for a missing key or a value that is not a map.
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
            Yaml::Str(s) => s.parse().ok(),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Yaml::Null)
    }
}

/// Deeper nesting is refused rather than risking the stack on hostile input.
const MAX_DEPTH: usize = 100;

/// YAML's in-line whitespace (other Unicode spaces are content).
const WS: [char; 2] = [' ', '\t'];

fn err(line: usize, why: impl std::fmt::Display) -> String {
    format!("line {line}: {why}")
}

/// The start of `s`, short enough for an error message.
fn excerpt(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

fn leading_spaces(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// Empty, whitespace only, or a comment.
fn is_blank(text: &str) -> bool {
    let t = text.trim_start_matches(WS);
    t.is_empty() || t.starts_with('#')
}

/// `---` or `...` at the start of a line, alone or followed by whitespace.
fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(WS))
}

/// `c` alone or followed by whitespace: the `-`, `?` and `:` indicators of block collections.
fn is_indicator(text: &str, c: char) -> bool {
    text.strip_prefix(c)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(WS))
}

/// `- item` or a lone `-`.
fn is_seq_entry(text: &str) -> bool {
    is_indicator(text, '-')
}

/// What follows a one-character indicator starting `text` in column `col`, and its column.
fn after_indicator(text: &str, col: usize) -> (&str, usize) {
    let rest = text.get(1..).unwrap_or("").trim_start_matches(WS);
    (rest, col + (text.len() - rest.len()))
}

/// A mapping's first line: `key: ...` or an explicit `? key`.
fn starts_mapping(text: &str, line: usize) -> Result<bool, String> {
    Ok(is_indicator(text, '?') || split_key(text, line)?.is_some())
}

/// Splits off a comment: a `#` at the start or after whitespace. True when there was one.
fn cut_comment(text: &str) -> (&str, bool) {
    let mut after_space = true;
    for (i, c) in text.char_indices() {
        if c == '#' && after_space {
            return (text.get(..i).unwrap_or(text), true);
        }
        after_space = WS.contains(&c);
    }
    (text, false)
}

/// A `: ` inside a plain scalar, which PyYAML refuses ("mapping values are not allowed here").
fn has_value_indicator(text: &str) -> bool {
    text.ends_with(':') || text.contains(": ") || text.contains(":\t")
}

/// Refuses what cannot start a plain scalar. In flow context a flow indicator also ends `- `,
/// `? ` and `: `.
fn check_plain_start(text: &str, line: usize, flow: bool) -> Result<(), String> {
    let mut chars = text.chars();
    let (first, second) = (chars.next(), chars.next());
    let spaced = second.is_none_or(|c| WS.contains(&c) || (flow && ",[]{}".contains(c)));
    match first {
        Some('?') if spaced => Err(err(line, "a '? ' key is not supported here")),
        Some(c @ ('-' | ':')) if spaced => Err(err(
            line,
            format!("'{c}' followed by a space cannot start a value here (quote it)"),
        )),
        Some('&' | '*' | '!') => Err(err(line, "anchors, aliases and tags are not supported")),
        Some(c) if ",[]{}#|>'\"%@`".contains(c) => Err(err(
            line,
            format!("'{c}' cannot start a plain value (quote it)"),
        )),
        _ => Ok(()),
    }
}

/// If `text` starts with a key (`key: ...` or `key:`), the key and what follows its colon.
/// A key is on one line; a quoted text that does not close on it is no key.
fn split_key(text: &str, line: usize) -> Result<Option<(String, &str)>, String> {
    if is_seq_entry(text) {
        return Ok(None);
    }
    match text.chars().next() {
        None | Some('#' | '[' | '{' | '|' | '>') => return Ok(None),
        Some('\'' | '"') => {
            let lines = Lines {
                text: vec![text],
                breaks: vec![None],
                end: 1,
            };
            let mut cur = Cursor {
                lines: &lines,
                line: 0,
                off: 0,
            };
            let Ok(key) = quoted(&mut cur) else {
                return Ok(None);
            };
            let after = cur.rest().trim_start_matches(WS);
            let rest = after
                .strip_prefix(':')
                .filter(|r| r.is_empty() || r.starts_with(WS));
            return Ok(rest.map(|r| (key, r)));
        }
        Some(_) => {}
    }
    let mut after_space = false;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '#' && after_space {
            return Ok(None);
        }
        let next = chars.peek().map(|&(_, n)| n);
        if c == ':' && next.is_none_or(|n| WS.contains(&n)) {
            let (key, rest) = text.split_at(i);
            let key = key.trim_end_matches(WS);
            if key.is_empty() {
                return Err(err(line, "a key is empty"));
            }
            check_plain_start(text, line, false)?;
            return Ok(Some((key.to_string(), rest.get(1..).unwrap_or(""))));
        }
        after_space = WS.contains(&c);
    }
    Ok(None)
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// Parses one YAML document of the block style PyYAML's `safe_dump` writes.
/// Errors name the line: `"line 3: ..."`.
pub fn parse(text: &str) -> Result<Yaml, String> {
    let mut lines = Lines::split(text.strip_prefix('\u{feff}').unwrap_or(text));

    // Directives and `---` before the content; `--- value` puts content on the marker's line.
    let mut start = 0;
    let mut col = None;
    let mut directive = None;
    while let Some(line) = lines.get(start) {
        if line.starts_with('%') {
            directive.get_or_insert(start + 1);
        } else if is_marker(line, "---") {
            directive = None;
            let after = line.get(3..).unwrap_or("").trim_start_matches(WS);
            if !is_blank(after) {
                col = Some(line.len() - after.len());
            } else {
                start += 1;
            }
            break;
        } else if !is_blank(line) && !is_marker(line, "...") {
            break;
        }
        start += 1;
    }
    if let Some(line) = directive {
        return Err(err(line, "a directive ('%') must be followed by '---'"));
    }

    // The document ends at the next marker; after it may come only comments and `...`.
    let first_body_line = if col.is_some() { start + 1 } else { start };
    let end = (first_body_line..lines.end)
        .find(|&j| {
            lines
                .get(j)
                .is_some_and(|l| is_marker(l, "---") || is_marker(l, "..."))
        })
        .unwrap_or(lines.end);
    for (j, line) in lines.text.iter().enumerate().skip(end) {
        if is_marker(line, "---") {
            return Err(err(
                j + 1,
                "only one YAML document is read; '---' starts another",
            ));
        }
        let rest = line.strip_prefix("...").unwrap_or(line);
        if !is_blank(rest) {
            return Err(err(j + 1, "text after the end of the document ('...')"));
        }
    }

    lines.end = end;
    let mut parser = Parser {
        lines,
        i: start,
        col,
        depth: 0,
    };
    let value = parser.node(0, false)?;
    if parser.next_content()?.is_some() {
        return Err(err(
            parser.number(),
            "this line does not continue the document above it (check its indentation)",
        ));
    }
    Ok(value)
}

/// A text's lines, without their line breaks.
struct Lines<'a> {
    text: Vec<&'a str>,
    /// The break ending each line as YAML reads it: `\n` (also for `\r\n`, `\r` and U+0085),
    /// U+2028 or U+2029; None for the last line.
    breaks: Vec<Option<char>>,
    /// The document is the lines before this one (a `---` or `...` ends it).
    end: usize,
}

impl<'a> Lines<'a> {
    fn split(text: &'a str) -> Lines<'a> {
        let (mut lines, mut breaks) = (Vec::new(), Vec::new());
        let mut start = 0;
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let line_break = match c {
                '\n' | '\u{85}' => '\n',
                '\r' => {
                    chars.next_if(|&(_, n)| n == '\n');
                    '\n'
                }
                '\u{2028}' | '\u{2029}' => c,
                _ => continue,
            };
            lines.push(text.get(start..i).unwrap_or(""));
            breaks.push(Some(line_break));
            start = chars.peek().map_or(text.len(), |&(j, _)| j);
        }
        lines.push(text.get(start..).unwrap_or(""));
        breaks.push(None);
        Lines {
            end: lines.len(),
            text: lines,
            breaks,
        }
    }

    fn get(&self, i: usize) -> Option<&'a str> {
        if i < self.end {
            self.text.get(i).copied()
        } else {
            None
        }
    }

    fn break_after(&self, i: usize) -> Option<char> {
        self.breaks.get(i).copied().flatten()
    }
}

/// Folds the line breaks inside a flow or plain scalar as YAML does: `first` ended a line of
/// text, `more` the empty lines after it. A lone `\n` becomes a space; otherwise the breaks
/// after the first are kept. U+2028 and U+2029 are always kept.
fn fold_breaks(out: &mut String, first: char, more: &[char]) {
    if first != '\n' {
        out.push(first);
    } else if more.is_empty() {
        out.push(' ');
    }
    out.extend(more);
}

struct Parser<'a> {
    lines: Lines<'a>,
    /// The current line.
    i: usize,
    /// Where the current line's content starts when that is not its indentation (after `- `).
    col: Option<usize>,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn line(&self, i: usize) -> Option<&'a str> {
        self.lines.get(i)
    }

    fn number(&self) -> usize {
        self.i + 1
    }

    fn advance(&mut self) {
        self.i += 1;
        self.col = None;
    }

    /// Skips blank and comment lines; then the current line's content column and text.
    fn next_content(&mut self) -> Result<Option<(usize, &'a str)>, String> {
        while let Some(line) = self.line(self.i) {
            if let Some(col) = self.col {
                return Ok(Some((col, line.get(col..).unwrap_or(""))));
            }
            if is_blank(line) {
                self.advance();
                continue;
            }
            let col = leading_spaces(line);
            let text = line.get(col..).unwrap_or("");
            if text.starts_with('\t') {
                return Err(err(
                    self.number(),
                    "a tab indents this line; YAML indents with spaces",
                ));
            }
            return Ok(Some((col, text)));
        }
        Ok(None)
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(self.number(), "the document nests too deeply"));
        }
        Ok(())
    }

    /// A block node whose lines are indented at least `min`: a mapping, a sequence or a scalar;
    /// Null when no such line comes. A mapping's value may be a sequence at the key's own
    /// indentation (`in_map_value`), as PyYAML writes it.
    fn node(&mut self, min: usize, in_map_value: bool) -> Result<Yaml, String> {
        let Some((col, text)) = self.next_content()? else {
            return Ok(Yaml::Null);
        };
        if is_seq_entry(text) && (col >= min || (in_map_value && col + 1 == min)) {
            return self.sequence(col);
        }
        if col < min {
            return Ok(Yaml::Null);
        }
        if starts_mapping(text, self.number())? {
            return self.mapping(col);
        }
        self.scalar(text, min)
    }

    /// The node after `- `, `? ` or `: ` (`rest`, starting in column `col`): a sequence or
    /// mapping opened on that line in that column, or a value.
    fn compact(
        &mut self,
        rest: &'a str,
        col: usize,
        min: usize,
        in_map_value: bool,
    ) -> Result<Yaml, String> {
        if is_seq_entry(rest) {
            self.col = Some(col);
            return self.sequence(col);
        }
        if starts_mapping(rest, self.number())? {
            self.col = Some(col);
            return self.mapping(col);
        }
        self.value(rest, min, in_map_value)
    }

    fn mapping(&mut self, indent: usize) -> Result<Yaml, String> {
        self.enter()?;
        let mut entries: Vec<(String, Yaml)> = Vec::new();
        let mut seen = HashSet::new();
        while let Some((col, text)) = self.next_content()? {
            if col < indent {
                break;
            }
            let line = self.number();
            if col > indent {
                return Err(err(
                    line,
                    format!(
                        "bad indentation: a key was expected in column {}",
                        indent + 1
                    ),
                ));
            }
            let (key, value) = if is_indicator(text, '?') {
                // PyYAML writes `? key` for long, empty and multi-line keys; the value follows
                // on a `: ` line in the same column.
                let (rest, key_col) = after_indicator(text, col);
                let Yaml::Str(key) = self.compact(rest, key_col, indent + 1, false)? else {
                    return Err(err(line, "a '? ' key must be a string"));
                };
                let value = match self.next_content()? {
                    Some((c, t)) if c == indent && is_indicator(t, ':') => {
                        let (rest, value_col) = after_indicator(t, c);
                        self.compact(rest, value_col, indent + 1, true)?
                    }
                    _ => Yaml::Null,
                };
                (key, value)
            } else {
                let Some((key, rest)) = split_key(text, line)? else {
                    let why = if is_seq_entry(text) {
                        "a list item where a key was expected".to_string()
                    } else {
                        format!("expected 'key: value', found '{}'", excerpt(text))
                    };
                    return Err(err(line, why));
                };
                (key, self.value(rest, indent + 1, true)?)
            };
            if !seen.insert(key.clone()) {
                return Err(err(line, format!("duplicate key '{}'", excerpt(&key))));
            }
            entries.push((key, value));
        }
        self.depth -= 1;
        Ok(Yaml::Map(entries))
    }

    fn sequence(&mut self, indent: usize) -> Result<Yaml, String> {
        self.enter()?;
        let mut items = Vec::new();
        while let Some((col, text)) = self.next_content()? {
            if col < indent {
                break;
            }
            let line = self.number();
            if col > indent {
                return Err(err(
                    line,
                    format!(
                        "bad indentation: '- ' was expected in column {}",
                        indent + 1
                    ),
                ));
            }
            if !is_seq_entry(text) {
                // A key after a sequence written at its key's indentation.
                break;
            }
            let (rest, content_col) = after_indicator(text, col);
            items.push(self.compact(rest, content_col, indent + 1, false)?);
        }
        self.depth -= 1;
        Ok(Yaml::Seq(items))
    }

    /// The value after `key:` or `- `: `rest` of the current line, or the lines below.
    fn value(&mut self, rest: &'a str, min: usize, in_map_value: bool) -> Result<Yaml, String> {
        let text = rest.trim_start_matches(WS);
        if is_blank(text) {
            self.advance();
            return self.node(min, in_map_value);
        }
        let line = self.number();
        if is_seq_entry(text) {
            return Err(err(line, "a list cannot start on its key's line"));
        }
        if starts_mapping(text, line)? {
            return Err(err(
                line,
                "a value cannot hold 'key: value' (quote it, or put the mapping on the next lines)",
            ));
        }
        self.scalar(text, min)
    }

    /// A scalar or flow collection starting with `text` (the end of the current line); its
    /// continuation lines are indented at least `min`.
    fn scalar(&mut self, text: &'a str, min: usize) -> Result<Yaml, String> {
        let line = self.number();
        match text.chars().next() {
            Some(c @ ('\'' | '"' | '[' | '{')) => {
                let full = self.line(self.i).unwrap_or("");
                let mut cur = Cursor {
                    lines: &self.lines,
                    line: self.i,
                    off: full.len().saturating_sub(text.len()),
                };
                let value = if c == '\'' || c == '"' {
                    Yaml::Str(quoted(&mut cur)?)
                } else {
                    flow_node(&mut cur, self.depth)?
                };
                let after = cur.rest().trim_start_matches(WS);
                if !after.is_empty() && !after.starts_with('#') {
                    return Err(err(
                        cur.number(),
                        format!("unexpected '{}' after a value", excerpt(after)),
                    ));
                }
                self.i = cur.line;
                self.advance();
                Ok(value)
            }
            Some('|' | '>') => {
                self.advance();
                self.block_scalar(text, min, line)
            }
            _ => self.plain(text, min),
        }
    }

    /// A plain scalar: its lines are folded, one line break into a space, n into n-1 newlines.
    fn plain(&mut self, text: &'a str, min: usize) -> Result<Yaml, String> {
        let line = self.number();
        check_plain_start(text, line, false)?;
        let (first, mut ended) = cut_comment(text);
        let first = first.trim_end_matches(WS);
        if has_value_indicator(first) {
            return Err(err(
                line,
                "a plain value cannot hold ': ' (quote it, or check the indentation)",
            ));
        }
        let mut out = first.to_string();
        let mut last = self.i;
        self.advance();
        let mut j = self.i;
        let mut more = Vec::new();
        while !ended {
            let Some(next) = self.line(j) else { break };
            let body = next.trim_start_matches(' ');
            let content = body.trim_start_matches(WS);
            if content.is_empty() {
                more.extend(self.lines.break_after(j));
                j += 1;
                continue;
            }
            if content.starts_with('#') || next.len() - body.len() < min {
                break;
            }
            if body.starts_with('\t') {
                return Err(err(
                    j + 1,
                    "a tab indents this line; YAML indents with spaces",
                ));
            }
            let (part, comment) = cut_comment(body);
            let part = part.trim_end_matches(WS);
            if has_value_indicator(part) {
                return Err(err(
                    j + 1,
                    "a plain value cannot hold ': ' (quote it, or check the indentation)",
                ));
            }
            fold_breaks(
                &mut out,
                self.lines.break_after(last).unwrap_or('\n'),
                &more,
            );
            more.clear();
            out.push_str(part);
            ended = comment;
            last = j;
            j += 1;
            self.i = j;
        }
        Ok(resolve(&out))
    }

    /// A `|` (literal) or `>` (folded) block scalar; `header` is its first line's text.
    fn block_scalar(&mut self, header: &str, min: usize, line: usize) -> Result<Yaml, String> {
        let mut chars = header.chars();
        let folded = chars.next() == Some('>');
        let (mut chomp, mut explicit) = (None, None);
        let mut rest = chars.as_str();
        for _ in 0..2 {
            let mut it = rest.chars();
            match it.next() {
                Some(c @ ('+' | '-')) if chomp.is_none() => chomp = Some(c),
                Some(c @ '1'..='9') if explicit.is_none() => explicit = c.to_digit(10),
                _ => break,
            }
            rest = it.as_str();
        }
        let tail = rest.trim_start_matches(WS);
        let comment = tail.starts_with('#') && tail.len() < rest.len();
        if !tail.is_empty() && !comment {
            return Err(err(
                line,
                format!("bad block scalar header '{}'", excerpt(header)),
            ));
        }
        // As PyYAML: even at the top, block scalar lines are indented at least 1.
        let min = min.max(1);
        let indent = match explicit {
            Some(m) => min + m as usize - 1,
            None => {
                let mut widest = 0;
                let mut j = self.i;
                while let Some(l) = self.line(j) {
                    let spaces = leading_spaces(l);
                    widest = widest.max(spaces);
                    if spaces < l.len() {
                        break;
                    }
                    j += 1;
                }
                min.max(widest)
            }
        };
        // Each line's text (None for an empty line) and the break ending it.
        let mut body: Vec<(Option<&str>, Option<char>)> = Vec::new();
        while let Some(l) = self.line(self.i) {
            let spaces = leading_spaces(l);
            let text = if spaces == l.len() && spaces <= indent {
                None
            } else if spaces >= indent {
                Some(l.get(indent..).unwrap_or(""))
            } else {
                break;
            };
            body.push((text, self.lines.break_after(self.i)));
            self.i += 1;
        }
        self.col = None;

        let mut out = String::new();
        // The breaks of the empty lines since the last line of text.
        let mut pending: Vec<char> = Vec::new();
        let mut prev: Option<(&str, Option<char>)> = None;
        for (part, line_break) in body {
            let Some(text) = part else {
                pending.extend(line_break);
                continue;
            };
            if let Some((p, p_break)) = prev {
                let p_break = p_break.unwrap_or('\n');
                // Folding joins lines with a space, except around more-indented lines.
                if folded && p_break == '\n' && !p.starts_with(WS) && !text.starts_with(WS) {
                    if pending.is_empty() {
                        out.push(' ');
                    }
                } else {
                    out.push(p_break);
                }
            }
            out.extend(pending.drain(..));
            out.push_str(text);
            prev = Some((text, line_break));
        }
        if chomp != Some('-') {
            out.extend(prev.and_then(|(_, b)| b));
            if chomp == Some('+') {
                out.extend(pending);
            }
        }
        Ok(Yaml::Str(out))
    }
}

/// A position in the document's lines, for scalars and collections that may span lines.
struct Cursor<'c, 'a> {
    lines: &'c Lines<'a>,
    line: usize,
    /// A byte offset into the line, always at a character boundary.
    off: usize,
}

impl<'a> Cursor<'_, 'a> {
    fn rest(&self) -> &'a str {
        self.lines
            .get(self.line)
            .and_then(|l| l.get(self.off..))
            .unwrap_or("")
    }

    /// The next character; None at the end of the line.
    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.off += c.len_utf8();
        }
    }

    /// Moves to the start of the next line; false at the end of the document.
    fn next_line(&mut self) -> bool {
        if self.line + 1 >= self.lines.end {
            return false;
        }
        self.line += 1;
        self.off = 0;
        true
    }

    /// Moves past the next line's leading whitespace.
    fn skip_indentation(&mut self) {
        let text = self.rest();
        self.off += text.len() - text.trim_start_matches(WS).len();
    }

    /// From a line's end, moves to the next line with text, past its indentation. Returns the
    /// break that ended the line and those of the empty lines crossed; None at the document's end.
    fn line_breaks(&mut self) -> Option<(char, Vec<char>)> {
        let first = self.lines.break_after(self.line).unwrap_or('\n');
        let mut more = Vec::new();
        loop {
            if !self.next_line() {
                return None;
            }
            self.skip_indentation();
            if self.peek().is_some() {
                return Some((first, more));
            }
            more.push(self.lines.break_after(self.line).unwrap_or('\n'));
        }
    }

    fn number(&self) -> usize {
        self.line + 1
    }
}

/// A single- or double-quoted scalar at the cursor; the cursor ends after the closing quote.
fn quoted(cur: &mut Cursor) -> Result<String, String> {
    let start = cur.number();
    let double = cur.peek() == Some('"');
    cur.bump();
    let mut out = String::new();
    // Whitespace is kept only if its line goes on.
    let mut spaces = String::new();
    loop {
        let Some(c) = cur.peek() else {
            spaces.clear();
            let (first, more) = cur.line_breaks().ok_or_else(|| unclosed(start))?;
            fold_breaks(&mut out, first, &more);
            continue;
        };
        cur.bump();
        if c == ' ' || c == '\t' {
            spaces.push(c);
            continue;
        }
        out.push_str(&spaces);
        spaces.clear();
        match c {
            '\'' if !double => {
                if cur.peek() != Some('\'') {
                    return Ok(out);
                }
                cur.bump();
                out.push('\'');
            }
            '"' if double => return Ok(out),
            '\\' if double => match cur.peek() {
                // An escaped line break joins the lines with nothing between them.
                None => {
                    let (_, more) = cur.line_breaks().ok_or_else(|| unclosed(start))?;
                    out.extend(more);
                }
                Some(e) => {
                    cur.bump();
                    out.push(unescape(e, cur)?);
                }
            },
            c => out.push(c),
        }
    }
}

fn unclosed(line: usize) -> String {
    err(line, "a quoted value is never closed")
}

/// The character a double-quoted `\e` escape stands for; `\x`, `\u` and `\U` read hex digits.
fn unescape(e: char, cur: &mut Cursor) -> Result<char, String> {
    let digits = match e {
        '0' => return Ok('\0'),
        'a' => return Ok('\u{7}'),
        'b' => return Ok('\u{8}'),
        't' | '\t' => return Ok('\t'),
        'n' => return Ok('\n'),
        'v' => return Ok('\u{b}'),
        'f' => return Ok('\u{c}'),
        'r' => return Ok('\r'),
        'e' => return Ok('\u{1b}'),
        ' ' | '"' | '/' | '\\' => return Ok(e),
        'N' => return Ok('\u{85}'),
        '_' => return Ok('\u{a0}'),
        'L' => return Ok('\u{2028}'),
        'P' => return Ok('\u{2029}'),
        'x' => 2,
        'u' => 4,
        'U' => 8,
        other => return Err(err(cur.number(), format!("unknown escape '\\{other}'"))),
    };
    let mut code = 0u32;
    for _ in 0..digits {
        let digit = cur
            .peek()
            .and_then(|c| c.to_digit(16))
            .ok_or_else(|| err(cur.number(), format!("'\\{e}' needs {digits} hex digits")))?;
        cur.bump();
        code = code * 16 + digit;
    }
    char::from_u32(code)
        .ok_or_else(|| err(cur.number(), format!("'\\{e}{code:x}' is not a character")))
}

/// Skips whitespace, line breaks and comments between flow tokens.
fn skip_flow_space(cur: &mut Cursor) {
    loop {
        match cur.peek() {
            Some(' ' | '\t') => cur.bump(),
            Some('#') => cur.off += cur.rest().len(),
            None => {
                if !cur.next_line() {
                    return;
                }
            }
            Some(_) => return,
        }
    }
}

/// A flow node at the cursor: `[...]`, `{...}` (either may span lines), a quoted or plain scalar.
fn flow_node(cur: &mut Cursor, depth: usize) -> Result<Yaml, String> {
    if depth > MAX_DEPTH {
        return Err(err(cur.number(), "the document nests too deeply"));
    }
    let start = cur.number();
    let open = cur.peek();
    match open {
        Some('[' | '{') => {
            cur.bump();
            let close = if open == Some('[') { ']' } else { '}' };
            let unclosed = || {
                err(
                    start,
                    format!("a '{}' is never closed", open.unwrap_or('[')),
                )
            };
            let mut items = Vec::new();
            let mut entries: Vec<(String, Yaml)> = Vec::new();
            let mut seen = HashSet::new();
            loop {
                skip_flow_space(cur);
                match cur.peek() {
                    None => return Err(unclosed()),
                    Some(c) if c == close => break,
                    Some(_) => {}
                }
                let line = cur.number();
                if close == ']' {
                    items.push(flow_node(cur, depth + 1)?);
                    skip_flow_space(cur);
                    if cur.peek() == Some(':') {
                        return Err(err(line, "a 'key: value' inside '[...]' is not supported"));
                    }
                } else {
                    let key = flow_key(cur)?;
                    skip_flow_space(cur);
                    let mut value = Yaml::Null;
                    if cur.peek() == Some(':') {
                        cur.bump();
                        skip_flow_space(cur);
                        match cur.peek() {
                            Some(',' | '}') => {}
                            None => return Err(unclosed()),
                            Some(_) => value = flow_node(cur, depth + 1)?,
                        }
                    }
                    if !seen.insert(key.clone()) {
                        return Err(err(line, format!("duplicate key '{}'", excerpt(&key))));
                    }
                    entries.push((key, value));
                }
                skip_flow_space(cur);
                match cur.peek() {
                    Some(',') => cur.bump(),
                    Some(c) if c == close => {}
                    None => return Err(unclosed()),
                    Some(c) => {
                        return Err(err(
                            cur.number(),
                            format!("expected ',' or '{close}', found '{c}'"),
                        ))
                    }
                }
            }
            cur.bump();
            Ok(if close == ']' {
                Yaml::Seq(items)
            } else {
                Yaml::Map(entries)
            })
        }
        Some('\'' | '"') => quoted(cur).map(Yaml::Str),
        None => Err(err(start, "a value is missing")),
        Some(_) => Ok(resolve(&flow_plain(cur)?)),
    }
}

/// A key in `{...}`: quoted, or plain as written.
fn flow_key(cur: &mut Cursor) -> Result<String, String> {
    // PyYAML writes `{? key : value}` for the keys it writes explicitly in block style.
    if cur.peek() == Some('?') && cur.peek_second().is_none_or(|c| WS.contains(&c)) {
        cur.bump();
        skip_flow_space(cur);
    }
    match cur.peek() {
        Some('\'' | '"') => quoted(cur),
        Some('[' | '{') => Err(err(cur.number(), "a collection as a key is not supported")),
        Some(':') if cur.peek_second().is_none_or(|c| " \t,[]{}".contains(c)) => {
            Err(err(cur.number(), "a key is empty"))
        }
        _ => flow_plain(cur),
    }
}

/// Whether a plain scalar in flow context ends at `c`.
fn ends_flow_plain(c: char, next: Option<char>, after_space: bool) -> bool {
    match c {
        ',' | '[' | ']' | '{' | '}' => true,
        ':' => next.is_none_or(|n| " \t,[]{}".contains(n)),
        '#' => after_space,
        _ => false,
    }
}

/// A plain scalar in flow context, as written (not yet typed); it may go on over lines.
fn flow_plain(cur: &mut Cursor) -> Result<String, String> {
    check_plain_start(cur.rest(), cur.number(), true)?;
    let mut out = String::new();
    loop {
        let rest = cur.rest();
        let mut stop = None;
        let mut after_space = false;
        let mut chars = rest.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if ends_flow_plain(c, chars.peek().map(|&(_, n)| n), after_space) {
                stop = Some(i);
                break;
            }
            after_space = WS.contains(&c);
        }
        let len = stop.unwrap_or(rest.len());
        out.push_str(rest.get(..len).unwrap_or("").trim_end_matches(WS));
        cur.off += len;
        if stop.is_some() {
            return Ok(out);
        }
        // The line ended: the scalar goes on unless the next text ends it.
        let (line, off) = (cur.line, cur.off);
        match cur.line_breaks() {
            Some((first, more))
                if cur
                    .peek()
                    .is_some_and(|c| !ends_flow_plain(c, cur.peek_second(), true)) =>
            {
                fold_breaks(&mut out, first, &more);
            }
            _ => {
                (cur.line, cur.off) = (line, off);
                return Ok(out);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Typing plain scalars as PyYAML's SafeLoader does (its resolver's regular expressions)
// ---------------------------------------------------------------------------------------------

/// The value of a plain scalar. Timestamps stay strings.
fn resolve(text: &str) -> Yaml {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Yaml::Null,
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => {
            return Yaml::Bool(true)
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => {
            return Yaml::Bool(false)
        }
        _ => {}
    }
    let typed = if is_int(text) {
        int_value(text)
    } else if is_float(text) {
        float_value(text).map(Yaml::Float)
    } else {
        None
    };
    typed.unwrap_or_else(|| Yaml::Str(text.to_string()))
}

fn unsigned(text: &str) -> (bool, &str) {
    match text.strip_prefix(['-', '+']) {
        Some(rest) => (text.starts_with('-'), rest),
        None => (false, text),
    }
}

fn digits_or_underscores(text: &str, radix: u32) -> bool {
    text.chars().all(|c| c == '_' || c.is_digit(radix))
}

/// `[0-5]?[0-9]`, a base-60 digit.
fn is_sexagesimal_digit(part: &str) -> bool {
    match part.as_bytes() {
        [d] => d.is_ascii_digit(),
        [t, d] => (b'0'..=b'5').contains(t) && d.is_ascii_digit(),
        _ => false,
    }
}

/// `[-+]?` then `0b[01_]+`, `0[0-7_]+`, `0`, `[1-9][0-9_]*`, `0x[0-9a-fA-F_]+` or
/// `[1-9][0-9_]*(:[0-5]?[0-9])+`.
fn is_int(text: &str) -> bool {
    let (_, body) = unsigned(text);
    if let Some(bits) = body.strip_prefix("0b") {
        return !bits.is_empty() && digits_or_underscores(bits, 2);
    }
    if let Some(hex) = body.strip_prefix("0x") {
        return !hex.is_empty() && digits_or_underscores(hex, 16);
    }
    if let Some(octal) = body.strip_prefix('0') {
        return digits_or_underscores(octal, 8);
    }
    let mut parts = body.split(':');
    let head = parts.next().unwrap_or("");
    head.starts_with(|c: char| c.is_ascii_digit())
        && digits_or_underscores(head, 10)
        && parts.all(is_sexagesimal_digit)
}

/// `[-+]?[0-9][0-9_]*\.[0-9_]*([eE][-+][0-9]+)?`, `\.[0-9][0-9_]*([eE][-+][0-9]+)?`,
/// `[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+\.[0-9_]*`, `[-+]?\.inf` or `\.nan` (three case forms).
fn is_float(text: &str) -> bool {
    if matches!(text, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let (_, body) = unsigned(text);
    if matches!(body, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    let (mantissa, exponent) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (body, None),
    };
    if let Some(e) = exponent {
        let digits = e.strip_prefix(['-', '+']).unwrap_or("");
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    let Some((whole, fraction)) = mantissa.split_once('.') else {
        return false;
    };
    if !digits_or_underscores(fraction, 10) {
        return false;
    }
    let starts_with_digit = |s: &str| s.starts_with(|c: char| c.is_ascii_digit());
    if starts_with_digit(whole) && digits_or_underscores(whole, 10) {
        return true;
    }
    if whole.is_empty() {
        return body.len() == text.len() && starts_with_digit(fraction);
    }
    let mut parts = whole.split(':');
    let head = parts.next().unwrap_or("");
    exponent.is_none()
        && whole.contains(':')
        && starts_with_digit(head)
        && digits_or_underscores(head, 10)
        && parts.all(is_sexagesimal_digit)
}

/// An integer's value, as PyYAML's constructor reads it; beyond i64 a Float. None when there
/// are no digits (`0b_`, which PyYAML cannot read either).
fn int_value(text: &str) -> Option<Yaml> {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let (negative, body) = unsigned(&clean);
    let (radix, digits): (u32, Vec<&str>) = if body == "0" {
        (10, vec![body])
    } else if let Some(bits) = body.strip_prefix("0b") {
        (2, vec![bits])
    } else if let Some(hex) = body.strip_prefix("0x") {
        (16, vec![hex])
    } else if let Some(octal) = body.strip_prefix('0') {
        (8, vec![octal])
    } else {
        (10, body.split(':').collect())
    };
    // Base-60 parts (`1:30`) are decimal numbers, each a digit of the whole.
    let mut exact: Option<i128> = Some(0);
    let mut approx = 0f64;
    for part in digits {
        let (mut part_exact, mut part_approx) = (Some(0i128), 0f64);
        if part.is_empty() {
            return None;
        }
        for c in part.chars() {
            let d = c.to_digit(radix)?;
            part_exact =
                part_exact.and_then(|v| v.checked_mul(radix.into())?.checked_add(d.into()));
            part_approx = part_approx * f64::from(radix) + f64::from(d);
        }
        exact = exact.and_then(|v| v.checked_mul(60)?.checked_add(part_exact?));
        approx = approx * 60.0 + part_approx;
    }
    let signed = exact.map(|v| if negative { -v } else { v });
    Some(match signed {
        Some(v) => i64::try_from(v).map_or(Yaml::Float(v as f64), Yaml::Int),
        None => Yaml::Float(if negative { -approx } else { approx }),
    })
}

fn float_value(text: &str) -> Option<f64> {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let clean = clean.to_ascii_lowercase();
    let (negative, body) = unsigned(&clean);
    let value = match body {
        ".inf" => f64::INFINITY,
        ".nan" => f64::NAN,
        _ if body.contains(':') => body.split(':').try_fold(0f64, |acc, part| {
            Some(acc * 60.0 + part.parse::<f64>().ok()?)
        })?,
        _ => body.parse().ok()?,
    };
    Some(if negative { -value } else { value })
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// Characters written as they are; the rest is escaped in double quotes. Line breaks (also
/// U+0085, U+2028, U+2029) are escaped so that no scalar spans lines.
fn is_printable(c: char) -> bool {
    matches!(c, ' '..='~' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
}

/// Whether PyYAML's SafeLoader would read `text` unquoted as something else than this string
/// (including timestamps, `=` and `<<`, which this parser keeps as strings).
fn reads_as_other_type(text: &str) -> bool {
    let timestamp_like = text.len() > 4
        && text.bytes().take(4).all(|b| b.is_ascii_digit())
        && text.as_bytes().get(4) == Some(&b'-');
    !matches!(resolve(text), Yaml::Str(_))
        || is_int(text)
        || is_float(text)
        || timestamp_like
        || text == "="
        || text == "<<"
}

/// Whether `text` can be written unquoted and read back as the same string.
fn plain_is_safe(text: &str) -> bool {
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let spaced = chars.next().is_none_or(|c| c == ' ');
    !(text.starts_with(' ')
        || text.ends_with(' ')
        || text.starts_with("---")
        || text.starts_with("...")
        || ",[]{}#&*!|>'\"%@`".contains(first)
        || ("-?:".contains(first) && spaced)
        || has_value_indicator(text)
        || text.contains(" #")
        || !text.chars().all(is_printable)
        || reads_as_other_type(text))
}

/// `text` in single quotes, or in double quotes with escapes when it holds unprintable
/// characters or line breaks.
fn quote(text: &str) -> String {
    if text.chars().all(is_printable) {
        return format!("'{}'", text.replace('\'', "''"));
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if is_printable(c) => out.push(c),
            c if u32::from(c) <= 0xff => out.push_str(&format!("\\x{:02X}", u32::from(c))),
            c if u32::from(c) <= 0xffff => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push_str(&format!("\\U{:08X}", u32::from(c))),
        }
    }
    out.push('"');
    out
}

fn string_text(text: &str) -> String {
    if plain_is_safe(text) {
        text.to_string()
    } else {
        quote(text)
    }
}

/// As Python's `repr`, with the `.0` and exponent sign PyYAML's float pattern requires.
fn float_text(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let repr = format!("{f:?}");
    let (mantissa, exponent) = match repr.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (repr.as_str(), None),
    };
    let mantissa = if mantissa.contains('.') {
        mantissa.to_string()
    } else {
        format!("{mantissa}.0")
    };
    match exponent {
        Some(e) if e.starts_with('-') => format!("{mantissa}e{e}"),
        Some(e) => format!("{mantissa}e+{e}"),
        None => mantissa,
    }
}

/// A value that fits on its key's line: a scalar, `[]` or `{}`.
fn inline_text(value: &Yaml) -> Option<String> {
    Some(match value {
        Yaml::Null => "null".into(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Int(i) => i.to_string(),
        Yaml::Float(f) => float_text(*f),
        Yaml::Str(s) => string_text(s),
        Yaml::Seq(items) if items.is_empty() => "[]".into(),
        Yaml::Map(entries) if entries.is_empty() => "{}".into(),
        Yaml::Seq(_) | Yaml::Map(_) => return None,
    })
}

/// A non-empty collection whose lines are indented `indent`, except the first, which starts
/// with `lead` (the indentation, or the `- ` of the sequence holding it).
fn write_block(out: &mut String, value: &Yaml, indent: usize, lead: &str) {
    let pad = " ".repeat(indent);
    let mut prefix = lead.to_string();
    match value {
        Yaml::Map(entries) => {
            for (key, child) in entries {
                // PyYAML's rule for when a key cannot be a simple `key:`; its reader also
                // refuses simple keys over 1024 characters.
                let explicit = key.is_empty()
                    || key.chars().count() >= 128
                    || key.contains(['\n', '\u{85}', '\u{2028}', '\u{2029}']);
                let key = string_text(key);
                match (explicit, inline_text(child)) {
                    (true, Some(text)) => {
                        out.push_str(&format!("{prefix}? {key}\n{pad}: {text}\n"))
                    }
                    (true, None) => {
                        out.push_str(&format!("{prefix}? {key}\n"));
                        write_block(out, child, indent + 2, &format!("{pad}: "));
                    }
                    (false, Some(text)) => out.push_str(&format!("{prefix}{key}: {text}\n")),
                    (false, None) => {
                        out.push_str(&format!("{prefix}{key}:\n"));
                        // PyYAML writes a mapping's list at the key's indentation.
                        let inner = match child {
                            Yaml::Seq(_) => indent,
                            _ => indent + 2,
                        };
                        write_block(out, child, inner, &" ".repeat(inner));
                    }
                }
                prefix.clone_from(&pad);
            }
        }
        Yaml::Seq(items) => {
            for item in items {
                match inline_text(item) {
                    Some(text) => out.push_str(&format!("{prefix}- {text}\n")),
                    None => write_block(out, item, indent + 2, &format!("{prefix}- ")),
                }
                prefix.clone_from(&pad);
            }
        }
        _ => {}
    }
}

/// Writes a value as PyYAML's `safe_dump(default_flow_style=False)` does (keys in the given
/// order, block style, `{}`/`[]` for empty collections, lists at their key's indentation), such
/// that `safe_load` returns the same data. Strings are quoted only when they must be: single
/// quotes on one line, or double quotes with escapes for line breaks and control characters.
/// Lines are not wrapped.
pub fn dump(value: &Yaml) -> String {
    let mut out = String::new();
    match inline_text(value) {
        Some(text) => {
            out.push_str(&text);
            out.push('\n');
        }
        None => write_block(&mut out, value, 0, ""),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Yaml {
        Yaml::Str(text.to_string())
    }

    fn map(entries: &[(&str, Yaml)]) -> Yaml {
        Yaml::Map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    fn value(doc: &str) -> Yaml {
        parse(&format!("v: {doc}\n"))
            .unwrap_or_else(|e| panic!("{doc:?}: {e}"))
            .get("v")
            .cloned()
            .unwrap_or(Yaml::Str("<missing>".into()))
    }

    /// xorshift64*: deterministic, no crate needed.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<'t, T>(&mut self, items: &'t [T]) -> &'t T {
            &items[self.below(items.len())]
        }
    }

    #[test]
    fn reads_an_experiment_meta() {
        let text = "artifact_location: file:///home/learner/course/fx1/mlruns/0
creation_time: 1795478946456
effective_trace_archival_retention: null
experiment_id: '0'
lifecycle_stage: active
name: Default
tags: {}
";
        let expected = map(&[
            (
                "artifact_location",
                s("file:///home/learner/course/fx1/mlruns/0"),
            ),
            ("creation_time", Yaml::Int(1795478946456)),
            ("effective_trace_archival_retention", Yaml::Null),
            ("experiment_id", s("0")),
            ("lifecycle_stage", s("active")),
            ("name", s("Default")),
            ("tags", Yaml::Map(vec![])),
        ]);
        let doc = parse(text).unwrap();
        assert_eq!(doc, expected);
        assert_eq!(doc.get("experiment_id").and_then(Yaml::as_i64), Some(0));
        assert!(doc
            .get("effective_trace_archival_retention")
            .is_some_and(Yaml::is_null));
        assert_eq!(doc.get("name").and_then(Yaml::as_str), Some("Default"));
        assert_eq!(doc.get("missing"), None);
        assert_eq!(s("x").get("x"), None);
    }

    #[test]
    fn reads_a_dataset_meta_with_folded_single_quotes() {
        let text = r##"digest: 09bf69a1
name: train-split
profile: '{"features_shape": [300, 3], "features_size": 900, "features_nbytes": 7200,
  "targets_shape": [300], "targets_size": 300, "targets_nbytes": 2400}'
schema: '{"mlflow_tensorspec": {"features": "[{\"type\": \"tensor\", \"tensor-spec\":
  {\"dtype\": \"float64\", \"shape\": [-1, 3]}}]"}}'
source_type: code
"##;
        let expected = map(&[
            ("digest", s("09bf69a1")),
            ("name", s("train-split")),
            (
                "profile",
                s(
                    r#"{"features_shape": [300, 3], "features_size": 900, "features_nbytes": 7200, "targets_shape": [300], "targets_size": 300, "targets_nbytes": 2400}"#,
                ),
            ),
            (
                "schema",
                s(
                    r#"{"mlflow_tensorspec": {"features": "[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float64\", \"shape\": [-1, 3]}}]"}}"#,
                ),
            ),
            ("source_type", s("code")),
        ]);
        assert_eq!(parse(text).unwrap(), expected);
    }

    #[test]
    fn reads_registry_and_run_metas() {
        let version = "aliases:\n- champion\ndescription: null\ntags:\n  mlflow.data.context: training\nversion: 1\n";
        let expected = map(&[
            ("aliases", Yaml::Seq(vec![s("champion")])),
            ("description", Yaml::Null),
            ("tags", map(&[("mlflow.data.context", s("training"))])),
            ("version", Yaml::Int(1)),
        ]);
        assert_eq!(parse(version).unwrap(), expected);

        let model = "aliases:\n  champion: '1'\ncreation_timestamp: 1795478963433\nname: nyc-taxi-regressor\n";
        let doc = parse(model).unwrap();
        assert_eq!(doc.get("aliases"), Some(&map(&[("champion", s("1"))])));
        assert_eq!(
            doc.get("creation_timestamp").and_then(Yaml::as_i64),
            Some(1795478963433)
        );

        let run = "artifact_uri: file:///m/1/2/artifacts\nend_time: 1795478963403\nentry_point_name: ''\nexperiment_id: '618102403399022786'\nsource_type: 4\nstatus: 3\ntags: []\nuser_id: root\n";
        let doc = parse(run).unwrap();
        assert_eq!(doc.get("entry_point_name"), Some(&s("")));
        assert_eq!(
            doc.get("experiment_id").and_then(Yaml::as_i64),
            Some(618102403399022786)
        );
        assert_eq!(doc.get("tags"), Some(&Yaml::Seq(vec![])));
        assert_eq!(doc.get("status"), Some(&Yaml::Int(3)));
    }

    #[test]
    fn plain_scalars_are_typed_as_pyyaml_safe_load_types_them() {
        for (text, expected) in [
            ("null", Yaml::Null),
            ("Null", Yaml::Null),
            ("NULL", Yaml::Null),
            ("~", Yaml::Null),
            ("", Yaml::Null),
            ("nULL", s("nULL")),
            ("true", Yaml::Bool(true)),
            ("True", Yaml::Bool(true)),
            ("TRUE", Yaml::Bool(true)),
            ("yes", Yaml::Bool(true)),
            ("On", Yaml::Bool(true)),
            ("no", Yaml::Bool(false)),
            ("OFF", Yaml::Bool(false)),
            ("False", Yaml::Bool(false)),
            ("tRUE", s("tRUE")),
            ("y", s("y")),
            ("0", Yaml::Int(0)),
            ("-17", Yaml::Int(-17)),
            ("+17", Yaml::Int(17)),
            ("1_000", Yaml::Int(1000)),
            ("017", Yaml::Int(15)),
            ("0x1F", Yaml::Int(31)),
            ("0b101", Yaml::Int(5)),
            ("1:30", Yaml::Int(90)),
            ("09", s("09")),
            ("9223372036854775807", Yaml::Int(i64::MAX)),
            ("-9223372036854775808", Yaml::Int(i64::MIN)),
            ("99999999999999999999", Yaml::Float(1e20)),
            ("1.5", Yaml::Float(1.5)),
            ("-1.5", Yaml::Float(-1.5)),
            ("1.", Yaml::Float(1.0)),
            (".5", Yaml::Float(0.5)),
            ("-.5", s("-.5")),
            ("1.0e+5", Yaml::Float(1e5)),
            ("1.e-2", Yaml::Float(0.01)),
            ("1e5", s("1e5")),
            ("1.0e5", s("1.0e5")),
            ("1_0.2_5", Yaml::Float(10.25)),
            ("1:30.5", Yaml::Float(90.5)),
            (".inf", Yaml::Float(f64::INFINITY)),
            ("-.Inf", Yaml::Float(f64::NEG_INFINITY)),
            ("+.INF", Yaml::Float(f64::INFINITY)),
            ("0.1.2", s("0.1.2")),
            ("12abc", s("12abc")),
            ("2024-01-02", s("2024-01-02")),
            ("0b_", s("0b_")),
            ("a b  c", s("a b  c")),
            ("http://x:1/y#z", s("http://x:1/y#z")),
        ] {
            assert_eq!(value(text), expected, "{text:?}");
        }
        assert!(matches!(value(".nan"), Yaml::Float(f) if f.is_nan()));
        assert!(matches!(value(".NaN"), Yaml::Float(f) if f.is_nan()));
        for quoted in ["'1'", "\"true\"", "'null'", "''", "'~'"] {
            assert!(matches!(value(quoted), Yaml::Str(_)), "{quoted}");
        }
        assert_eq!(value("'123'").as_i64(), Some(123));
        assert_eq!(value("'x'").as_i64(), None);
        assert_eq!(Yaml::Float(1.0).as_i64(), None);
    }

    #[test]
    fn plain_scalars_fold_over_lines_and_stop_at_comments() {
        let doc = parse("a: one\n  two\n\n  three\n\n\n  four # note\nb: x #c\nc: x#y\n").unwrap();
        assert_eq!(doc.get("a"), Some(&s("one two\nthree\n\nfour")));
        assert_eq!(doc.get("b"), Some(&s("x")));
        assert_eq!(doc.get("c"), Some(&s("x#y")));
        assert_eq!(parse("plain\ntext\n").unwrap(), s("plain text"));
        assert_eq!(
            parse("- a\n  b\n- c\n").unwrap(),
            Yaml::Seq(vec![s("a b"), s("c")])
        );
    }

    #[test]
    fn quoted_scalars_unescape_and_fold() {
        assert_eq!(value("'it''s'"), s("it's"));
        assert_eq!(value("'a\n  b\n\n  c\n\n\n  d  '"), s("a b\nc\n\nd  "));
        assert_eq!(value("'  lead and trail  '"), s("  lead and trail  "));
        assert_eq!(value("'# not a comment'"), s("# not a comment"));
        assert_eq!(value("'x' # comment"), s("x"));
        assert_eq!(
            value(r#""a\tb\nc \"q\" \\ \/ \0 \x41 \u00e9 \U0001F600 \e \N \_ \L \P""#),
            s("a\tb\nc \"q\" \\ / \0 A é 😀 \u{1b} \u{85} \u{a0} \u{2028} \u{2029}")
        );
        // An escaped line break joins with nothing; whitespace before it stays.
        assert_eq!(value("\"abc \\\n    def\""), s("abc def"));
        assert_eq!(value("\"abc\\\n\n  def\""), s("abc\ndef"));
        assert_eq!(value("\"one\n  two   \n\n  three\""), s("one two\nthree"));
        assert_eq!(value("\"trailing\\t\n  x\""), s("trailing\t x"));
        assert_eq!(
            parse("'quoted key': 1\n\"k\\x21\": 2\n").unwrap(),
            map(&[("quoted key", Yaml::Int(1)), ("k!", Yaml::Int(2))])
        );
    }

    #[test]
    fn block_scalars_keep_or_fold_lines() {
        let text = "lit: |\n  one\n    two\n\n  three\n\nkeep: |+\n  x\n\n\nstrip: |-\n  x\n\nfold: >\n  a\n  b\n\n  c\n    d\n  e\nfold_strip: >-\n  a\n  b\nexplicit: |2\n    four spaces\n  two\nempty: |\nnext: 1\n";
        let doc = parse(text).unwrap();
        assert_eq!(doc.get("lit"), Some(&s("one\n  two\n\nthree\n")));
        assert_eq!(doc.get("keep"), Some(&s("x\n\n\n")));
        assert_eq!(doc.get("strip"), Some(&s("x")));
        assert_eq!(doc.get("fold"), Some(&s("a b\nc\n  d\ne\n")));
        assert_eq!(doc.get("fold_strip"), Some(&s("a b")));
        assert_eq!(doc.get("explicit"), Some(&s("  four spaces\ntwo\n")));
        assert_eq!(doc.get("empty"), Some(&s("")));
        assert_eq!(doc.get("next"), Some(&Yaml::Int(1)));
        assert_eq!(
            parse("- |\n  a\n  b\n- >-\n  c\n").unwrap(),
            Yaml::Seq(vec![s("a\nb\n"), s("c")])
        );
        assert_eq!(
            parse("k: | # comment\n  tab\there\n").unwrap().get("k"),
            Some(&s("tab\there\n"))
        );
    }

    #[test]
    fn flow_collections() {
        assert_eq!(value("[]"), Yaml::Seq(vec![]));
        assert_eq!(value("{}"), Yaml::Map(vec![]));
        assert_eq!(
            value("[a, 'b, c', \"d\", 1, null, [x], {k: v}]"),
            Yaml::Seq(vec![
                s("a"),
                s("b, c"),
                s("d"),
                Yaml::Int(1),
                Yaml::Null,
                Yaml::Seq(vec![s("x")]),
                map(&[("k", s("v"))]),
            ])
        );
        assert_eq!(
            value("{a: 1, 'b': two words, \"c\":3, d, e: , }"),
            map(&[
                ("a", Yaml::Int(1)),
                ("b", s("two words")),
                ("c", Yaml::Int(3)),
                ("d", Yaml::Null),
                ("e", Yaml::Null),
            ])
        );
        assert_eq!(
            value("[a, # comment\n  b,\n  c d\n  e]"),
            Yaml::Seq(vec![s("a"), s("b"), s("c d e")])
        );
        assert_eq!(
            value("[http://x:1/y, a:b]"),
            Yaml::Seq(vec![s("http://x:1/y"), s("a:b")])
        );
    }

    #[test]
    fn block_collections_nest_by_indentation() {
        let text = "top:\n  list:\n  - a\n  - b: 1\n    c:\n    - x\n    d: {}\n  -   - deep\n      - er\n  - \n    - under\n  indented:\n      - i\nafter: 2\n";
        let expected = map(&[
            (
                "top",
                map(&[
                    (
                        "list",
                        Yaml::Seq(vec![
                            s("a"),
                            map(&[
                                ("b", Yaml::Int(1)),
                                ("c", Yaml::Seq(vec![s("x")])),
                                ("d", Yaml::Map(vec![])),
                            ]),
                            Yaml::Seq(vec![s("deep"), s("er")]),
                            Yaml::Seq(vec![s("under")]),
                        ]),
                    ),
                    ("indented", Yaml::Seq(vec![s("i")])),
                ]),
            ),
            ("after", Yaml::Int(2)),
        ]);
        assert_eq!(parse(text).unwrap(), expected);
        assert_eq!(
            parse("a:\nb:\n").unwrap(),
            map(&[("a", Yaml::Null), ("b", Yaml::Null)])
        );
        assert_eq!(
            parse("- \n- x\n").unwrap(),
            Yaml::Seq(vec![Yaml::Null, s("x")])
        );
        assert_eq!(
            parse("1: one\ntrue: yes\n-x: y\n").unwrap(),
            map(&[("1", s("one")), ("true", Yaml::Bool(true)), ("-x", s("y"))])
        );
    }

    #[test]
    fn comments_markers_and_line_endings() {
        let text = "\u{feff}%YAML 1.1\n# leading comment\n--- # start\na: 1 # trailing\n  # indented comment\n\nb: 'x'\r\n...\n# after\n";
        assert_eq!(
            parse(text).unwrap(),
            map(&[("a", Yaml::Int(1)), ("b", s("x"))])
        );
        assert_eq!(parse("--- plain\n").unwrap(), s("plain"));
        assert_eq!(parse("--- |\n  text\n").unwrap(), s("text\n"));
        assert_eq!(parse("").unwrap(), Yaml::Null);
        assert_eq!(parse("# only a comment\n").unwrap(), Yaml::Null);
        assert_eq!(parse("'0'\n").unwrap(), s("0"));
    }

    #[test]
    fn explicit_keys_as_pyyaml_writes_them() {
        let text = "? ''\n: empty\n? 'long\n\n  key'\n: - a\n  - b\n? k\n: n: 1\n  ? m\n  : 2\nflow: {? x : 1, y: 2}\nlast:\n";
        let expected = map(&[
            ("", s("empty")),
            ("long\nkey", Yaml::Seq(vec![s("a"), s("b")])),
            ("k", map(&[("n", Yaml::Int(1)), ("m", Yaml::Int(2))])),
            ("flow", map(&[("x", Yaml::Int(1)), ("y", Yaml::Int(2))])),
            ("last", Yaml::Null),
        ]);
        assert_eq!(parse(text).unwrap(), expected);
        let long = "k".repeat(200);
        let doc = map(&[
            (&long, s("v")),
            ("short", map(&[(&long, map(&[("a", Yaml::Int(1))]))])),
        ]);
        let written = dump(&doc);
        assert_eq!(
            written,
            format!("? {long}\n: v\nshort:\n  ? {long}\n  : a: 1\n")
        );
        assert_eq!(parse(&written), Ok(doc));
    }

    #[test]
    fn unicode_line_breaks_and_crlf_break_lines() {
        // PyYAML writes U+2028 unescaped (allow_unicode) and reads it as a break that is kept.
        assert_eq!(value("'a\u{2028}  b'"), s("a\u{2028}b"));
        assert_eq!(value("'a\u{85}  b'"), s("a b"));
        assert_eq!(value("plain\u{2028}  more"), s("plain\u{2028}more"));
        assert_eq!(value(">\n  a\u{2028}  b\n  c\n"), s("a\u{2028}b c\n"));
        assert_eq!(
            parse("a: 1\r\nb: |\r\n  x\r\n  y\r\n").unwrap(),
            map(&[("a", Yaml::Int(1)), ("b", s("x\ny\n"))])
        );
        assert_eq!(parse("b: |\n  x").unwrap().get("b"), Some(&s("x")));
    }

    #[test]
    fn dump_writes_pyyaml_block_style() {
        let doc = map(&[
            ("aliases", Yaml::Seq(vec![s("champion"), s("1")])),
            ("creation_time", Yaml::Int(1795478946456)),
            ("description", Yaml::Null),
            ("experiment_id", s("0")),
            ("f", Yaml::Float(1e17)),
            ("g", Yaml::Float(-2.5e-7)),
            ("h", Yaml::Float(3.0)),
            ("flag", Yaml::Bool(false)),
            (
                "nested",
                map(&[("k", s("v")), ("inner", map(&[("x", Yaml::Int(1))]))]),
            ),
            (
                "items",
                Yaml::Seq(vec![
                    map(&[("a", Yaml::Int(1)), ("b", Yaml::Seq(vec![s("c")]))]),
                    Yaml::Seq(vec![s("d"), s("e")]),
                ]),
            ),
            ("tags", Yaml::Map(vec![])),
            ("list", Yaml::Seq(vec![])),
            ("text", s("line one\nline two")),
            ("quote", s("it's")),
            ("json", s("{\"a\": [1, 2]}")),
            ("url", s("file:///tmp/mlruns/0")),
            ("", s("empty key")),
        ]);
        let expected = "aliases:
- champion
- '1'
creation_time: 1795478946456
description: null
experiment_id: '0'
f: 1.0e+17
g: -2.5e-7
h: 3.0
flag: false
nested:
  k: v
  inner:
    x: 1
items:
- a: 1
  b:
  - c
- - d
  - e
tags: {}
list: []
text: \"line one\\nline two\"
quote: it's
json: '{\"a\": [1, 2]}'
url: file:///tmp/mlruns/0
? ''
: empty key
";
        assert_eq!(dump(&doc), expected);
        assert_eq!(parse(expected).unwrap(), doc);
        assert_eq!(dump(&s("yes")), "'yes'\n");
        assert_eq!(dump(&Yaml::Null), "null\n");
        assert_eq!(dump(&Yaml::Float(f64::NEG_INFINITY)), "-.inf\n");
    }

    fn tricky_strings() -> Vec<String> {
        let mut out: Vec<String> = [
            "0",
            "'0'",
            "123",
            "-1",
            "1.5",
            "1e5",
            "1.0e+5",
            ".inf",
            ".nan",
            "0x1F",
            "0o7",
            "1:30",
            "2024-01-02",
            "=",
            "<<",
            "~",
            "yes",
            "No",
            "on",
            "null",
            "NULL",
            "",
            " ",
            "  ",
            "a: b",
            "a:",
            "key:value",
            "# x",
            "a #b",
            "a#b",
            "it's",
            "\"q\"",
            "'",
            "''",
            "two\nlines",
            "trailing\n",
            "\n",
            "\n\n",
            "a\n\nb",
            " lead",
            "trail ",
            "tab\there",
            "\t",
            "\r\n",
            "ünïcødé ✓ 😀",
            "\u{a0}nbsp",
            "\u{85}",
            "\u{2028}",
            "\u{feff}bom",
            "\u{1}\u{7f}\u{9f}",
            "-",
            "- x",
            "-x",
            "?",
            "? x",
            "?x",
            ":",
            ":x",
            "@x",
            "`x",
            "%x",
            "!x",
            "&x",
            "*x",
            "|",
            ">",
            "[1]",
            "{a}",
            "{}",
            "[]",
            ",",
            "---",
            "...",
            "--- x",
            "back\\slash",
            "a  b",
            "http://x:1/y",
            "C:\\path",
            "\\n",
        ]
        .iter()
        .map(|t| t.to_string())
        .collect();
        out.push("x".repeat(5000));
        out.push(format!("{} {}", "word ".repeat(300), "a'b\"c".repeat(100)));
        out
    }

    #[test]
    fn dump_then_parse_keeps_tricky_strings() {
        for text in tricky_strings() {
            let doc = Yaml::Map(vec![
                (text.clone(), s(&text)),
                (
                    "list".into(),
                    Yaml::Seq(vec![s(&text), map(&[("k", s(&text))])]),
                ),
            ]);
            let written = dump(&doc);
            assert_eq!(
                parse(&written),
                Ok(doc),
                "{text:?} was written as {written:?}"
            );
            assert_eq!(parse(&dump(&s(&text))), Ok(s(&text)), "{text:?} alone");
        }
    }

    fn random_string(rng: &mut Rng) -> String {
        const PIECES: &[&str] = &[
            "a", "b", "Z", "0", "1", "9", ".", "e", "+", "-", "_", " ", "  ", ":", ": ", "#", " #",
            "'", "''", "\"", "\\", "\n", "\n\n", "\t", "\r", "{", "}", "[", "]", ",", "&", "*",
            "!", "|", ">", "%", "@", "`", "?", "~", "é", "😀", "\u{85}", "\u{2028}", "\u{feff}",
            "\u{0}", "\u{1b}", "\u{7f}", "yes", "null", "true", "---", "...", "x: y", "- ",
        ];
        let len = rng.below(9);
        (0..len).map(|_| *rng.pick(PIECES)).collect()
    }

    fn random_value(rng: &mut Rng, depth: usize) -> Yaml {
        let kinds = if depth >= 3 { 6 } else { 8 };
        match rng.below(kinds) {
            0 => Yaml::Null,
            1 => Yaml::Bool(rng.below(2) == 1),
            2 => Yaml::Int(rng.next() as i64 >> rng.below(64)),
            3 => {
                let f = f64::from_bits(rng.next());
                Yaml::Float(if f.is_nan() { 0.5 } else { f })
            }
            4 | 5 => Yaml::Str(random_string(rng)),
            6 => Yaml::Seq(
                (0..rng.below(4))
                    .map(|_| random_value(rng, depth + 1))
                    .collect(),
            ),
            _ => {
                let mut entries: Vec<(String, Yaml)> = Vec::new();
                for _ in 0..rng.below(4) {
                    let key = random_string(rng);
                    if !entries.iter().any(|(k, _)| *k == key) {
                        entries.push((key, random_value(rng, depth + 1)));
                    }
                }
                Yaml::Map(entries)
            }
        }
    }

    #[test]
    fn dump_then_parse_keeps_generated_strings_and_documents() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..600 {
            let text = random_string(&mut rng);
            let doc = map(&[("v", s(&text)), ("w", Yaml::Seq(vec![s(&text)]))]);
            let written = dump(&doc);
            assert_eq!(
                parse(&written),
                Ok(doc),
                "{text:?} was written as {written:?}"
            );
        }
        for _ in 0..300 {
            let doc = random_value(&mut rng, 0);
            let written = dump(&doc);
            assert_eq!(parse(&written), Ok(doc), "written as {written:?}");
        }
    }

    #[test]
    fn malformed_documents_are_refused_with_their_line() {
        for (text, line, why) in [
            ("a: 'unterminated\nb: 1\n", 1, "never closed"),
            ("a: \"unterminated\n", 1, "never closed"),
            ("a: 'closed' early'\n", 1, "after a value"),
            ("a:\n\tb: 1\n", 2, "tab"),
            ("a: 1\n\tb: 2\n", 2, "tab"),
            ("a: 1\nb: 2\na: 3\n", 3, "duplicate key 'a'"),
            ("a: {x: 1, x: 2}\n", 1, "duplicate key 'x'"),
            (": : :\n", 1, "empty"),
            ("- [\n", 1, "never closed"),
            ("a: [1, 2\n", 1, "never closed"),
            ("a: [1, 2\nb: 3\n", 1, "not supported"),
            ("a: [1 2] x\n", 1, "after a value"),
            ("a: {b: 1]\n", 1, "expected ','"),
            ("a: 1\n  b: 2\n", 2, "indentation"),
            ("  a: 1\nb: 2\n", 2, "indentation"),
            ("a: 1\njust text\n", 2, "expected 'key: value'"),
            ("a: 1\n- b\n", 2, "list item"),
            ("a: b: c\n", 1, "key: value"),
            ("a: b\n  c: d\n", 2, "': '"),
            ("a: - b\n", 1, "list"),
            ("a: &x 1\n", 1, "anchors"),
            ("a: *x\n", 1, "anchors"),
            ("a: !!str 1\n", 1, "tags"),
            ("a: [? b]\n", 1, "'? '"),
            ("? [a]\n: b\n", 1, "must be a string"),
            ("a: @x\n", 1, "cannot start"),
            ("a: \"bad \\q escape\"\n", 1, "unknown escape"),
            ("a: \"\\x4\"\n", 1, "hex digits"),
            ("a: \"\\uD800\"\n", 1, "not a character"),
            ("a: |x\n  b\n", 1, "block scalar header"),
            ("a: 1\n---\nb: 2\n", 2, "one YAML document"),
            ("a: 1\n...\nb: 2\n", 3, "after the end"),
            ("%YAML 1.1\na: 1\n", 1, "directive"),
        ] {
            let e = parse(text).expect_err(text);
            assert!(
                e.starts_with(&format!("line {line}: ")) && e.contains(why),
                "{text:?} gave {e:?}"
            );
        }
        let deep = format!("{}1{}", "[".repeat(500), "]".repeat(500));
        assert!(parse(&deep).unwrap_err().contains("too deeply"));
        let nested: String = (0..500).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert!(parse(&nested).unwrap_err().contains("too deeply"));
    }

    #[test]
    fn arbitrary_input_never_panics() {
        const PIECES: &[&str] = &[
            "a", "k: ", ":", " ", "  ", "\n", "\n  ", "- ", "-", "'", "\"", "\\", "\\x", "\\u0",
            "[", "]", "{", "}", ",", "#", " #", "|", ">", "|-", ">+2", "\t", "é", "😀", "---",
            "...", "?", "&", "*", "!", "%", "1", ".5", "\r", "\u{feff}", "~", "\\\n",
        ];
        let mut rng = Rng(42);
        for _ in 0..5000 {
            let text: String = (0..rng.below(30)).map(|_| *rng.pick(PIECES)).collect();
            if let Err(e) = parse(&text) {
                assert!(e.starts_with("line "), "{text:?} gave {e:?}");
            }
        }
        // Every prefix of a real document, cut at any character.
        let real = "a: 'x\n  y'\nb:\n- \"q\\u00e9\"\n- {k: [1, 2]}\nc: |-\n  t\nd: plain\n  more\n";
        for (i, _) in real.char_indices() {
            let _ = parse(real.get(..i).unwrap_or(""));
        }
    }
}

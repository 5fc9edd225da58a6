//! MLflow's page tokens: base64 of `{"offset": N}`. Opaque to clients, but the same bytes MLflow
//! writes, so a token from either server means the same thing.

use crate::api::{ApiError, ApiResult};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

pub fn page_token(offset: i64) -> String {
    encode(format!("{{\"offset\": {offset}}}").as_bytes())
}

/// The offset a token names; no token means the first page.
pub fn parse_page_token(token: Option<&str>) -> ApiResult<i64> {
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Ok(0);
    };
    let bad = || {
        ApiError::invalid(format!(
            "Invalid page token, could not base64-decode: '{token}'"
        ))
    };
    let bytes = decode(token).ok_or_else(bad)?;
    let json: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| {
        ApiError::invalid(format!(
            "Invalid page token, decoded value={}",
            String::from_utf8_lossy(&bytes)
        ))
    })?;
    let offset = json
        .get("offset")
        .ok_or_else(|| ApiError::invalid(format!("Invalid page token, parsed value={json}")))?;
    offset.as_i64().filter(|o| *o >= 0).ok_or_else(|| {
        ApiError::invalid(format!(
            "Invalid page token, offset {offset} is not a non-negative integer"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_mlflow_bytes_and_round_trip() {
        // base64.b64encode(json.dumps({"offset": 1000}).encode()) in Python:
        assert_eq!(page_token(1000), "eyJvZmZzZXQiOiAxMDAwfQ==");
        for n in [0, 1, 2, 99, 12345, i64::MAX] {
            assert_eq!(parse_page_token(Some(&page_token(n))).unwrap(), n);
        }
        assert_eq!(parse_page_token(None).unwrap(), 0);
        assert!(parse_page_token(Some("!!!")).is_err());
        assert!(parse_page_token(Some("e30=")).is_err()); // "{}"
    }
}

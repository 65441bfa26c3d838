//! Triton's binary tensor extension of the Open Inference Protocol: a request's JSON is
//! followed by raw tensors (its length in `Inference-Header-Content-Length`), each input that
//! has one saying its size in `parameters.binary_data_size`; outputs asked for as binary come
//! back the same way. Numbers are little-endian; each element of a `BYTES` tensor is its
//! length (4 bytes, little-endian) then its bytes.

use feather_service::exec::tensors::DataType;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};

/// The header that says how long the JSON part of a body is.
pub const HEADER: &str = "inference-header-content-length";

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::bad_request(message)
}

/// The body's JSON part and the binary part after it.
pub fn split<'b>(body: &'b [u8], json_len: Option<&str>) -> ApiResult<(&'b [u8], &'b [u8])> {
    let Some(len) = json_len else {
        return Ok((body, &[]));
    };
    let len: usize = len
        .trim()
        .parse()
        .map_err(|_| bad(format!("{HEADER} must be a number of bytes")))?;
    if len > body.len() {
        return Err(bad(format!(
            "{HEADER} says {len} bytes of JSON, but the body has {}",
            body.len()
        )));
    }
    Ok(body.split_at(len))
}

/// Element size of a fixed-size type.
fn width(t: DataType) -> Option<usize> {
    match t {
        DataType::Bool => Some(1),
        DataType::Int32 | DataType::Fp32 => Some(4),
        DataType::Int64 | DataType::Fp64 => Some(8),
        DataType::Bytes => None,
    }
}

/// Decodes one input's raw bytes into values.
pub fn decode(name: &str, t: DataType, raw: &[u8]) -> ApiResult<Vec<Value>> {
    let wrong = || {
        bad(format!(
            "the binary data of {name:?} does not fit {}",
            t.as_str()
        ))
    };
    if let Some(w) = width(t) {
        if !raw.len().is_multiple_of(w) {
            return Err(wrong());
        }
        return Ok(raw
            .chunks_exact(w)
            .map(|c| match t {
                DataType::Bool => Value::Bool(c[0] != 0),
                DataType::Int32 => Value::from(i32::from_le_bytes(c.try_into().expect("4 bytes"))),
                DataType::Int64 => Value::from(i64::from_le_bytes(c.try_into().expect("8 bytes"))),
                DataType::Fp32 => Value::from(f64::from(f32::from_le_bytes(
                    c.try_into().expect("4 bytes"),
                ))),
                DataType::Fp64 => Value::from(f64::from_le_bytes(c.try_into().expect("8 bytes"))),
                DataType::Bytes => unreachable!("no fixed width"),
            })
            .collect());
    }
    let mut out = Vec::new();
    let mut rest = raw;
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err(wrong());
        }
        let (len, tail) = rest.split_at(4);
        let len = u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
        if tail.len() < len {
            return Err(wrong());
        }
        let (text, tail) = tail.split_at(len);
        let text = std::str::from_utf8(text)
            .map_err(|_| bad(format!("an element of {name:?} is not UTF-8 text")))?;
        out.push(Value::String(text.to_owned()));
        rest = tail;
    }
    Ok(out)
}

/// Encodes an output's values as raw bytes.
pub fn encode(t: DataType, data: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in data {
        match t {
            DataType::Bool => out.push(u8::from(v.as_bool().unwrap_or(false))),
            DataType::Int32 => out.extend((v.as_i64().unwrap_or(0) as i32).to_le_bytes()),
            DataType::Int64 => out.extend(v.as_i64().unwrap_or(0).to_le_bytes()),
            DataType::Fp32 => out.extend((v.as_f64().unwrap_or(0.0) as f32).to_le_bytes()),
            DataType::Fp64 => out.extend(v.as_f64().unwrap_or(0.0).to_le_bytes()),
            DataType::Bytes => {
                let text = v
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string());
                out.extend((text.len() as u32).to_le_bytes());
                out.extend(text.as_bytes());
            }
        }
    }
    out
}

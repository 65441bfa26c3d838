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

/// Decodes one input's raw bytes into values.
pub fn decode(name: &str, t: DataType, raw: &[u8]) -> ApiResult<Vec<Value>> {
    let wrong = || {
        bad(format!(
            "the binary data of {name:?} does not fit {}",
            t.as_str()
        ))
    };
    if let Some(w) = t.width() {
        if !raw.len().is_multiple_of(w) {
            return Err(wrong());
        }
        return Ok(raw.chunks_exact(w).map(|c| element(t, c)).collect());
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

/// One little-endian element of a fixed-size type.
fn element(t: DataType, c: &[u8]) -> Value {
    macro_rules! le {
        ($t:ty) => {
            <$t>::from_le_bytes(c.try_into().expect("the type's width"))
        };
    }
    match t {
        DataType::Bool => Value::Bool(c[0] != 0),
        DataType::Uint8 => Value::from(c[0]),
        DataType::Int8 => Value::from(le!(i8)),
        DataType::Uint16 => Value::from(le!(u16)),
        DataType::Int16 => Value::from(le!(i16)),
        DataType::Uint32 => Value::from(le!(u32)),
        DataType::Int32 => Value::from(le!(i32)),
        DataType::Uint64 => Value::from(le!(u64)),
        DataType::Int64 => Value::from(le!(i64)),
        DataType::Fp32 => Value::from(f64::from(le!(f32))),
        DataType::Fp64 => Value::from(le!(f64)),
        DataType::Bytes => unreachable!("no fixed width"),
    }
}

/// Encodes an output's values as raw bytes.
pub fn encode(t: DataType, data: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in data {
        match t {
            DataType::Bool => out.push(u8::from(v.as_bool().unwrap_or(false))),
            DataType::Uint8 => out.push(v.as_u64().unwrap_or(0) as u8),
            DataType::Int8 => out.extend((v.as_i64().unwrap_or(0) as i8).to_le_bytes()),
            DataType::Uint16 => out.extend((v.as_u64().unwrap_or(0) as u16).to_le_bytes()),
            DataType::Int16 => out.extend((v.as_i64().unwrap_or(0) as i16).to_le_bytes()),
            DataType::Uint32 => out.extend((v.as_u64().unwrap_or(0) as u32).to_le_bytes()),
            DataType::Int32 => out.extend((v.as_i64().unwrap_or(0) as i32).to_le_bytes()),
            DataType::Uint64 => out.extend(v.as_u64().unwrap_or(0).to_le_bytes()),
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

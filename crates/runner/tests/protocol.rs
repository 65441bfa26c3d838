//! Golden frames of every message, read by the Python worker's tests too.
//! `FEATHER_UPDATE_VECTORS=1` rewrites them.

use bytes::Bytes;
use feather_runner::protocol::{BatchItem, Frame, Message, ProtocolError};
use serde_json::{Value, json};

fn samples() -> Vec<(&'static str, Frame)> {
    let part = |s: &[u8]| Bytes::copy_from_slice(s);
    vec![
        (
            "hello",
            Frame::new(Message::Hello {
                protocol: 2,
                sdk: "0.1.0".into(),
                pid: 4242,
                model: "digits".into(),
                steps: vec!["classify".into()],
            }),
        ),
        (
            "fatal",
            Frame::new(Message::Fatal {
                error: "ModuleNotFoundError: No module named 'sklearn'".into(),
                traceback: "Traceback (most recent call last):\n  ...".into(),
            }),
        ),
        (
            "run",
            Frame {
                message: Message::Run {
                    id: 7,
                    step: "classify".into(),
                    index: 0,
                    inputs: json!({"image": {"part": 0, "name": "seven.png", "type": "image/png"}, "threshold": 0.5}),
                    components: json!([{"id": "image", "type": "Image.Upload", "types": ["image/*"], "max_size": 10485760, "required": true}]),
                    state: Value::Null,
                },
                parts: vec![part(b"\x89PNG\r\n\x1a\n")],
            },
        ),
        (
            "run_with_state",
            Frame {
                message: Message::Run {
                    id: 8,
                    step: "summarise".into(),
                    index: 1,
                    inputs: json!({"labels": ["7", "1"]}),
                    components: json!([]),
                    state: json!({"part": 0}),
                },
                parts: vec![part(b"\x80\x05K*.")],
            },
        ),
        (
            "result",
            Frame {
                message: Message::Result {
                    id: 7,
                    outputs: json!([{"id": "label", "type": "Label", "confidences": {"7": 0.9, "1": 0.1}, "required": true},
                                {"id": "report", "type": "File.Download", "files": [{"part": 1, "name": "r.csv", "type": "text/csv"}], "required": true}]),
                    state: json!({"part": 0}),
                },
                parts: vec![part(b"\x80\x05]\x94."), part(b"a,b\n1,2\n")],
            },
        ),
        (
            "error",
            Frame::new(Message::Error {
                id: 7,
                error: "ZeroDivisionError: division by zero".into(),
                traceback: "Traceback ...".into(),
                limit: None,
            }),
        ),
        (
            "error_at_a_limit",
            Frame::new(Message::Error {
                id: 7,
                error: "MemoryError".into(),
                traceback: "Traceback ...".into(),
                limit: Some(feather_runner::protocol::LimitKind::Memory),
            }),
        ),
        (
            "chunk",
            Frame {
                message: Message::Chunk {
                    file: 0,
                    end: false,
                },
                parts: vec![part(b"\x00\x01\x02\x03")],
            },
        ),
        (
            "chunk_end",
            Frame::new(Message::Chunk { file: 0, end: true }),
        ),
        ("shutdown", Frame::new(Message::Shutdown)),
    ]
}

/// A batch of the two run samples, as the pool sends it.
fn batch() -> (Vec<u8>, Frame) {
    let all = samples();
    let runs: Vec<&Frame> = all
        .iter()
        .filter(|(n, _)| n.starts_with("run"))
        .map(|(_, f)| f)
        .collect();
    let bytes = Frame::encode_batch(&runs);
    let mut items = Vec::new();
    let mut parts = Vec::new();
    for f in runs {
        items.push(BatchItem {
            run: f.message.clone(),
            part_count: f.parts.len(),
        });
        parts.extend(f.parts.iter().cloned());
    }
    let frame = Frame {
        message: Message::Batch { items },
        parts,
    };
    (bytes, frame)
}

#[test]
fn a_batch_carries_each_run_with_its_own_parts() {
    let (bytes, frame) = batch();
    assert_eq!(Frame::decode(&bytes).unwrap(), frame);
    assert_eq!(bytes, frame.encode());
}

fn dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/protocol")
}

#[test]
fn frames_match_their_golden_files() {
    let update = std::env::var_os("FEATHER_UPDATE_VECTORS").is_some();
    for (name, frame) in samples().into_iter().chain([("batch", batch().1)]) {
        let bytes = frame.encode();
        let path = dir().join(format!("{name}.json"));
        let header_len = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
        let golden = json!({
            "header": serde_json::from_slice::<Value>(&bytes[8..8 + header_len]).unwrap(),
            "parts": frame.parts.iter().map(hex::encode).collect::<Vec<_>>(),
            "frame": hex::encode(&bytes),
        });
        if update {
            std::fs::write(&path, serde_json::to_string_pretty(&golden).unwrap() + "\n").unwrap();
        }
        let stored: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(stored, golden, "{name}");
        let decoded =
            Frame::decode(&hex::decode(stored["frame"].as_str().unwrap()).unwrap()).unwrap();
        assert_eq!(decoded, frame, "{name}");
    }
}

#[tokio::test]
async fn a_frame_sent_byte_by_byte_is_read_whole() {
    let (mut a, mut b) = tokio::io::duplex(1);
    let frame = samples().remove(4).1;
    let sent = frame.clone();
    tokio::spawn(async move { sent.write(&mut a).await.unwrap() });
    assert_eq!(Frame::read(&mut b, 1 << 20).await.unwrap(), frame);
}

#[tokio::test]
async fn oversized_and_malformed_frames_are_refused() {
    let mut big = Vec::new();
    big.extend_from_slice(&10u32.to_be_bytes());
    big.extend_from_slice(&(2u32 << 20).to_be_bytes());
    let err = Frame::read(&mut &big[..], 1 << 20).await.unwrap_err();
    assert!(
        matches!(err, ProtocolError::TooLarge { what: "body", .. }),
        "{err}"
    );
    let mut bad = Vec::new();
    bad.extend_from_slice(&4u32.to_be_bytes());
    bad.extend_from_slice(&0u32.to_be_bytes());
    bad.extend_from_slice(b"nope");
    assert!(matches!(
        Frame::read(&mut &bad[..], 1 << 20).await.unwrap_err(),
        ProtocolError::Malformed(_)
    ));
    let cut = &samples().remove(0).1.encode()[..12];
    assert!(Frame::read(&mut &cut[..], 1 << 20).await.is_err());
    assert!(matches!(
        Frame::read(&mut &b""[..], 1 << 20).await.unwrap_err(),
        ProtocolError::Closed
    ));
}

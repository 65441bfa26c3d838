//! The OpenAPI document the portal's types are generated from is the one the server serves.

/// `web/src/api/openapi.json` is committed so that the portal builds before the server does
/// (the server embeds the portal); this keeps it the server's own.
#[test]
fn the_portals_copy_of_the_document_is_current() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../web/src/api/openapi.json"
    );
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("web/src/api/openapi.json"))
            .expect("JSON");
    let served = serde_json::to_value(feather_server::openapi::document()).unwrap();
    assert!(
        committed == served,
        "web/src/api/openapi.json is not the server's document; write it again with \
         `cargo run -p feather-cli -- schema openapi > web/src/api/openapi.json`"
    );
}

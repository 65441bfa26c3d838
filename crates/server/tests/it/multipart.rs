//! Step inputs as multipart/form-data: files as parts, named after their inputs or by number.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::context::{Server, Tar, assert_error, files_below, read};
use crate::runs::{FILES_APP, manifest};

fn csv(name: &str, body: &str) -> Part {
    Part::bytes(body.as_bytes().to_vec())
        .file_name(name.to_owned())
        .mime_str("text/csv")
        .unwrap()
}

async fn send(s: &Server, form: Form) -> (StatusCode, Value) {
    let res = s
        .http
        .post(s.api("/models/alice/files/predict?inline=true"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    read(res).await
}

/// The report the files app writes: one `name,type,size` line per file.
fn report(out: &(StatusCode, Value)) -> String {
    assert_eq!(out.0, StatusCode::OK, "{}", out.1);
    let url = out.1["outputs"][0]["files"][0]["data"].as_str().unwrap();
    let b64 = url.split_once(",").unwrap().1;
    use base64::Engine;
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn files_go_in_as_multipart_parts() {
    let s = Server::start().await;
    let m = manifest(
        "files",
        json!([{"id": "files", "type": "File.Upload", "types": [".csv", "text/plain"], "max_files": 2, "max_size": 100}]),
        &["count"],
    );
    s.publish_app(&m, FILES_APP).await;

    // Parts named after the input, as `curl -F files=@a.csv -F files=@b.csv` sends them.
    let form = Form::new()
        .part("files", csv("a.csv", "a,b\n"))
        .part("files", csv("b.csv", "1,2,3\n"));
    assert_eq!(
        report(&send(&s, form).await),
        "a.csv,text/csv,4\nb.csv,text/csv,6"
    );

    // Or named by number from the inputs, which may rename them.
    let form = Form::new()
        .text(
            "inputs",
            r#"{"files": [{"part": 0, "name": "renamed.csv"}]}"#,
        )
        .part("upload", csv("x.csv", "x\n"));
    assert_eq!(report(&send(&s, form).await), "renamed.csv,text/csv,2");

    let blobs = files_below(&s.data.path().join("blobs")).len();
    let cases = [
        (
            Form::new().part("photo", csv("a.csv", "a\n")),
            "/parts/0",
            "answers no file input",
        ),
        (
            Form::new().part("files", csv("big.csv", &"x".repeat(200))),
            "/inputs/files/0",
            "over the limit of 100",
        ),
        (
            Form::new()
                .text("inputs", r#"{"files": []}"#)
                .part("files", csv("a.csv", "a\n")),
            "/inputs/files",
            "both in the inputs and as a file part",
        ),
        (
            Form::new().text("inputs", r#"{"files": [{"part": 3}]}"#),
            "/inputs/files/0",
            "names file part 3, but the request has 0",
        ),
    ];
    for (form, path, reason) in cases {
        let e = assert_error(
            &send(&s, form).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_inputs",
        );
        let problem = &e["details"]["problems"][0];
        assert_eq!(problem["path"], path, "{e}");
        assert!(problem["reason"].as_str().unwrap().contains(reason), "{e}");
    }
    let bad = Form::new().text("inputs", "[1, 2]");
    assert_error(&send(&s, bad).await, StatusCode::BAD_REQUEST, "bad_request");
    assert_eq!(
        files_below(&s.data.path().join("blobs")).len(),
        blobs,
        "a refused request stores no file"
    );
}

const IMAGE_APP: &str = r#"
import feather as ftr


@ftr.step
def size(photo):
    return ftr.Text.View(id="out", text=f"{photo.type} {len(photo.read())}")


ftr.build("photo", init=[ftr.Image.Upload(id="photo", types=["image/png", "image/gif"])], steps=[size])
"#;

#[tokio::test]
async fn an_image_input_takes_image_bytes_whatever_the_file_is_called() {
    let s = Server::start().await;
    let m = manifest(
        "photo",
        json!([{"id": "photo", "type": "Image.Upload", "types": ["image/png", "image/gif"]}]),
        &["size"],
    );
    s.publish_app(&m, IMAGE_APP).await;
    let part = |bytes: &[u8], name: &str, mime: &str| {
        Form::new().part(
            "photo",
            Part::bytes(bytes.to_vec())
                .file_name(name.to_owned())
                .mime_str(mime)
                .unwrap(),
        )
    };
    let predict = |form: Form| async {
        let res = s
            .http
            .post(s.api("/models/alice/photo/predict"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        read(res).await
    };
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    let (status, out) = predict(part(png, "pixel.png", "image/png")).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["outputs"][0]["text"], "image/png 16");

    // Text renamed .png: refused before the model, at the input's path.
    let got = predict(part(b"hello, not an image", "notes.png", "image/png")).await;
    let e = assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_inputs");
    assert_eq!(e["details"]["problems"][0]["path"], "/inputs/photo");
    assert!(
        e["message"].as_str().unwrap().contains("is not an image"),
        "{e}"
    );

    // A GIF sent as PNG is taken for what it is; a JPEG called PNG is not one of the types.
    let (status, out) = predict(part(b"GIF89a\x01\0\x01\0", "a.png", "image/png")).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["outputs"][0]["text"], "image/gif 10");
    let got = predict(part(b"\xff\xd8\xff\xe0 jpeg", "b.png", "image/png")).await;
    let e = assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_inputs");
    assert!(e["message"].as_str().unwrap().contains("image/jpeg"), "{e}");
}

#[tokio::test]
async fn an_example_gives_files_of_the_bundle_and_a_request_may_name_them() {
    let s = Server::start().await;
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    let mut m = manifest(
        "photo",
        json!([{"id": "photo", "type": "Image.Upload", "types": ["image/png", "image/gif"]}]),
        &["size"],
    );
    m["examples"] = json!([{"photo": {"path": "samples/dot.png"}}]);

    // An example naming a file the bundle lacks is refused, and nothing is kept.
    let blobs = files_below(&s.data.path().join("blobs")).len();
    let got = s
        .publish(&m, Tar::new().file("app.py", IMAGE_APP.as_bytes()).gz())
        .await;
    let e = assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_manifest");
    assert_eq!(
        e["details"]["problems"][0]["path"], "/examples/0/photo/path",
        "{e}"
    );
    assert!(
        e["message"].as_str().unwrap().contains("samples/dot.png"),
        "{e}"
    );
    assert_eq!(files_below(&s.data.path().join("blobs")).len(), blobs);

    let files = Tar::new()
        .file("app.py", IMAGE_APP.as_bytes())
        .file("samples/dot.png", png)
        .file("samples/notes.png", b"hello, not an image");
    s.publish_files(&m, files).await;
    let (_, detail) = s.get("/models/alice/photo/versions/1").await;
    assert_eq!(detail["manifest"]["examples"], m["examples"], "{detail}");

    // The example runs as it is written: its file comes from the version's bundle.
    let s = &s;
    let predict = |inputs: Value| async move {
        s.post(
            "/models/alice/photo/predict",
            json!({"inputs": inputs}),
            None,
        )
        .await
    };
    let (status, out) = predict(json!({"photo": {"path": "samples/dot.png"}})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["outputs"][0]["text"], "image/png 16");

    let refused = [
        (
            json!({"path": "samples/missing.png"}),
            "/inputs/photo",
            "is not a file of this version's bundle",
        ),
        (
            json!({"path": "samples/notes.png"}),
            "/inputs/photo",
            "is not an image",
        ),
        (
            json!({"path": "../manifest.json"}),
            "/inputs/photo/path",
            "relative path inside the bundle",
        ),
    ];
    for (photo, path, reason) in refused {
        let got = predict(json!({"photo": photo})).await;
        let e = assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_inputs");
        assert_eq!(e["details"]["problems"][0]["path"], path, "{e}");
        assert!(e["message"].as_str().unwrap().contains(reason), "{e}");
    }
}

#[tokio::test]
async fn a_view_naming_a_file_the_bundle_lacks_is_refused() {
    let s = Server::start().await;
    let m = manifest(
        "shown",
        json!([{"id": "cat", "type": "Image.View", "images": [{"path": "cat.png"}]}, {"id": "text", "type": "Text.In"}]),
        &["size"],
    );
    let got = s
        .publish(&m, Tar::new().file("app.py", IMAGE_APP.as_bytes()).gz())
        .await;
    let e = assert_error(&got, StatusCode::UNPROCESSABLE_ENTITY, "invalid_manifest");
    assert_eq!(
        e["details"]["problems"][0]["path"], "/init/0/images/0/path",
        "{e}"
    );
}

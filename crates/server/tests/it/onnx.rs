//! Models in the ONNX format: published as they are, read and checked at publish, run by ONNX
//! Runtime inside the server with queued requests batched into one session run.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::context::{Server, Tar, assert_error};

use feather_testkit::{DOUBLE_ONNX as DOUBLE, onnxruntime_library as library};

/// A model the repository's .venv makes: `script` writes it to the path in `sys.argv[1]`.
pub(crate) fn make_model(script: &str) -> Vec<u8> {
    make_model_with(script, &[])
}

fn make_model_with(script: &str, args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model.onnx");
    feather_testkit::onnx_model(script, &out, args);
    std::fs::read(out).unwrap()
}

pub(crate) const IRIS: &str = r#"
import sys
import numpy as np
from skl2onnx import to_onnx
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
x, y = load_iris(return_X_y=True)
m = LogisticRegression(max_iter=1000).fit(x.astype(np.float32), y)
onx = to_onnx(m, x[:1].astype(np.float32), target_opset=17)
p = onx.metadata_props.add()
p.key, p.value = "feature_names", "sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)"
open(sys.argv[1], "wb").write(onx.SerializeToString())
"#;

/// Half-precision floats: an element type JSON cannot carry to ONNX Runtime here.
const HALF_INPUT: &str = r#"
import sys
from onnx import TensorProto, helper
a = helper.make_tensor_value_info("a", TensorProto.FLOAT16, [None, 3])
c = helper.make_tensor_value_info("c", TensorProto.FLOAT16, [None, 3])
g = helper.make_graph([helper.make_node("Identity", ["a"], ["c"])], "half", [a], [c])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
open(sys.argv[1], "wb").write(m.SerializeToString())
"#;

/// A regressor as skl2onnx writes one: `[batch, features]` in, `[batch, 1]` out.
const REGRESSOR: &str = r#"
import sys
import numpy as np
from skl2onnx import to_onnx
from sklearn.linear_model import LinearRegression
x = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]], dtype=np.float32)
m = LinearRegression().fit(x, x[:, 0] * 3 + x[:, 1] + 0.5)
open(sys.argv[1], "wb").write(to_onnx(m, x[:1], target_opset=17).SerializeToString())
"#;

/// A graph whose weight is "stored outside the model" at the path in `sys.argv[2]`: ONNX's
/// external data, which would make the server read a file of its machine.
const EXTERNAL: &str = r#"
import sys
from onnx import TensorProto, helper
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4])
w = TensorProto()
w.name, w.data_type = "w", TensorProto.FLOAT
w.dims.extend([4])
w.data_location = TensorProto.EXTERNAL
for k, v in (("location", sys.argv[2]), ("offset", "0"), ("length", "16")):
    e = w.external_data.add()
    e.key, e.value = k, v
g = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "ext", [x], [y], [w])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
open(sys.argv[1], "wb").write(m.SerializeToString())
"#;

pub(crate) async fn onnx_server() -> Server {
    Server::start_with_runner(|mut c| {
        c.onnx.library = Some(library());
        c.onnx.sessions = 2;
        c
    })
    .await
}

pub(crate) fn manifest(name: &str, extra: Value) -> Value {
    let mut runtime = json!({"kind": "onnx", "file": "model.onnx"});
    if let Value::Object(more) = extra {
        runtime.as_object_mut().unwrap().extend(more);
    }
    json!({
        "schema": "feather.manifest/v1",
        "name": name,
        "runtime": runtime,
        "steps": [{"name": "predict"}],
        "provenance": {"sdk": "test", "platform": "linux-x86_64"},
    })
}

async fn predict(s: &Server, model: &str, inputs: Value) -> (StatusCode, Value) {
    s.post(
        &format!("/models/alice/{model}/predict"),
        json!({ "inputs": inputs }),
        None,
    )
    .await
}

fn flower(i: usize) -> (Value, &'static str) {
    if i.is_multiple_of(2) {
        (
            json!({"sepal_length_cm": 5.1, "sepal_width_cm": 3.5, "petal_length_cm": 1.4, "petal_width_cm": 0.2}),
            "setosa",
        )
    } else {
        (
            json!({"sepal_length_cm": 6.7, "sepal_width_cm": 3.0, "petal_length_cm": 5.2, "petal_width_cm": 2.3}),
            "virginica",
        )
    }
}

#[tokio::test]
async fn an_onnx_classifier_is_read_at_publish_and_answers_each_request_its_own_row() {
    let s = onnx_server().await;
    let bundle = Tar::new().file("model.onnx", &make_model(IRIS)).gz();
    let labels = json!({"labels": ["setosa", "versicolor", "virginica"]});
    let (status, body) = s.publish(&manifest("iris", labels), bundle).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // The signature is the model's own, and the page's fields come from its feature names.
    let (_, v) = s.get("/models/alice/iris/versions/1").await;
    let rt = &v["manifest"]["runtime"];
    assert_eq!(
        rt["signature"]["inputs"],
        json!([{"name": "X", "type": "float32", "shape": [-1, 4]}])
    );
    assert_eq!(
        rt["signature"]["outputs"][1]["type"],
        "seq(map(int64,float32))"
    );
    let init = v["manifest"]["init"].as_array().unwrap();
    let ids: Vec<&str> = init.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "sepal_length_cm",
            "sepal_width_cm",
            "petal_length_cm",
            "petal_width_cm"
        ]
    );
    assert_eq!(init[0]["title"], "sepal length (cm)");
    assert_eq!(init[0]["type"], "Number.In");

    let (status, out) = predict(&s, "iris", flower(1).0).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let label = &out["outputs"][0];
    assert_eq!(
        (label["type"].as_str(), label["label"].as_str()),
        (Some("Label"), Some("virginica"))
    );
    let p: f64 = label["confidences"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_f64().unwrap())
        .sum();
    assert!((p - 1.0).abs() < 1e-4, "probabilities sum to {p}");

    // Many at once are batched into few runs, and each gets the answer for its own flower.
    let calls = (0..48).map(|i| {
        let s = &s;
        async move { (i, predict(s, "iris", flower(i).0).await) }
    });
    for (i, (status, out)) in futures::future::join_all(calls).await {
        assert_eq!(status, StatusCode::OK, "{out}");
        assert_eq!(out["outputs"][0]["label"], flower(i).1, "request {i}");
    }

    let missing = predict(&s, "iris", json!({"sepal_length_cm": 1.0})).await;
    let e = assert_error(&missing, StatusCode::UNPROCESSABLE_ENTITY, "invalid_inputs");
    assert!(e["message"].as_str().unwrap().contains("required"), "{e}");
    let (_, env) = s.get("/models/alice/iris/versions/1/environment").await;
    assert_eq!(
        (env["key"].as_str(), env["status"].as_str()),
        (Some("onnxruntime-1.31.1"), Some("ready"))
    );

    assert_eq!(
        s.delete("/models/alice/iris/versions/1", Some(&s.token))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &predict(&s, "iris", flower(0).0).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

#[tokio::test]
async fn a_regressor_s_one_number_a_row_is_shown_as_a_number() {
    let s = onnx_server().await;
    let bundle = Tar::new().file("model.onnx", &make_model(REGRESSOR)).gz();
    let (status, body) = s.publish(&manifest("price", json!({})), bundle).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let calls = [(1.0, 2.0, 5.5), (0.0, 0.0, 0.5), (2.0, -1.0, 5.5)].map(|(a, b, want)| {
        let s = &s;
        async move { (want, predict(s, "price", json!({"x0": a, "x1": b})).await) }
    });
    for (want, (status, out)) in futures::future::join_all(calls).await {
        assert_eq!(status, StatusCode::OK, "{out}");
        let shown = &out["outputs"][0];
        assert_eq!(shown["type"], "Number.View", "{out}");
        assert_eq!(shown["title"], "variable", "{out}");
        assert!(
            (shown["value"].as_f64().unwrap() - want).abs() < 1e-4,
            "{out}"
        );
    }
}

#[tokio::test]
async fn other_outputs_are_shown_as_json_one_row_each() {
    let s = onnx_server().await;
    let bundle = Tar::new().file("model.onnx", &make_model(DOUBLE)).gz();
    let init = json!([
        {"id": "a", "type": "Number.In", "title": "A"},
        {"id": "b", "type": "Number.In"},
        {"id": "c", "type": "Number.In"},
    ]);
    let mut m = manifest("double", json!({}));
    m["init"] = init;
    let (status, body) = s.publish(&m, bundle).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, out) = predict(&s, "double", json!({"a": 1, "b": 2.5, "c": -3})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["outputs"][0]["type"], "Json.View");
    assert_eq!(out["outputs"][0]["data"], json!([2.0, 5.0, -6.0]));
}

#[tokio::test]
async fn models_that_cannot_be_served_are_refused_at_publish_with_the_reason() {
    let s = onnx_server().await;
    let reason = |body: &Value| {
        body["details"]["problems"][0]["reason"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };

    let junk = Tar::new().file("model.onnx", b"not a model at all").gz();
    let (status, body) = s.publish(&manifest("junk", json!({})), junk).await;
    let e = assert_error(
        &(status, body),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_manifest",
    );
    assert!(
        reason(&e).contains("ONNX Runtime cannot load the model"),
        "{e}"
    );
    assert_eq!(e["details"]["problems"][0]["path"], "/runtime/file");

    // A model newer than the runtime is refused now, not at its first call.
    let newer = make_model(&DOUBLE.replace("ir_version=9", "ir_version=99"));
    let (status, body) = s
        .publish(
            &manifest("newer", json!({})),
            Tar::new().file("model.onnx", &newer).gz(),
        )
        .await;
    let e = assert_error(
        &(status, body),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_manifest",
    );
    assert!(reason(&e).contains("IR version"), "{e}");

    // A model is read from memory, never from a path: weights it says are stored in a file
    // (of the server's machine, or beside the model) are refused, not read.
    let secret = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(secret.path(), [7u8; 16]).unwrap();
    let beside = Tar::new().file("model.onnx", &make_model_with(EXTERNAL, &["w.bin"]));
    let beside = beside.file("w.bin", &[7u8; 16]).gz();
    for (case, bundle) in [
        (
            "absolute",
            Tar::new()
                .file(
                    "model.onnx",
                    &make_model_with(EXTERNAL, &[secret.path().to_str().unwrap()]),
                )
                .gz(),
        ),
        ("in the bundle", beside),
    ] {
        let (status, body) = s.publish(&manifest("external", json!({})), bundle).await;
        let e = assert_error(
            &(status, body),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_manifest",
        );
        assert!(
            reason(&e).contains("ONNX Runtime cannot load the model"),
            "{case}: {e}"
        );
    }

    let half = Tar::new().file("model.onnx", &make_model(HALF_INPUT)).gz();
    let (status, body) = s.publish(&manifest("half", json!({})), half).await;
    let e = assert_error(
        &(status, body),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_manifest",
    );
    assert!(reason(&e).contains("float16"), "{e}");

    let elsewhere = Tar::new().file("other.onnx", &make_model(DOUBLE)).gz();
    let (status, body) = s
        .publish(&manifest("elsewhere", json!({})), elsewhere)
        .await;
    let e = assert_error(
        &(status, body),
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_manifest",
    );
    assert_eq!(e["details"]["problems"][0]["path"], "/runtime/file");

    let mut wrong = manifest("wrong", json!({}));
    wrong["init"] = json!([{"id": "only", "type": "Number.In"}]);
    let bundle = Tar::new().file("model.onnx", &make_model(DOUBLE)).gz();
    let e = assert_error(
        &s.publish(&wrong, bundle).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_manifest",
    );
    assert!(reason(&e).contains("take 3 components"), "{e}");
    s.assert_empty("refused models").await;
}

/// The Open Inference Protocol over the same service: a private model is not found without a
/// token and answers with its owner's, errors come in the protocol's shape.
#[tokio::test]
async fn the_inference_protocol_keeps_private_models_private() {
    let s = onnx_server().await;
    let bundle = Tar::new().file("model.onnx", &make_model(DOUBLE)).gz();
    let mut m = manifest("double", json!({}));
    m["init"] = json!([
        {"id": "a", "type": "Number.In"},
        {"id": "b", "type": "Number.In"},
        {"id": "c", "type": "Number.In"},
    ]);
    let (status, body) = s
        .publish_raw(
            Some(&s.token),
            Some(m.to_string().into_bytes()),
            Some(bundle),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _) = s
        .call(
            reqwest::Method::PATCH,
            "/models/alice/double",
            Some(&s.token),
            Some(json!({"visibility": "private"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let url = format!("{}/v2/models/alice/double/infer", s.url);
    let call =
        json!({"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]});
    let anonymous = s.http.post(&url).json(&call).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::NOT_FOUND);
    let body: Value = anonymous.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("not found"),
        "{body}"
    );
    let owner = s
        .http
        .post(&url)
        .bearer_auth(&s.token)
        .json(&call)
        .send()
        .await
        .unwrap();
    assert_eq!(owner.status(), StatusCode::OK);
    let body: Value = owner.json().await.unwrap();
    assert_eq!(body["outputs"][0]["data"], json!([2.0, 4.0, 6.0]), "{body}");
    assert_eq!(body["outputs"][0]["shape"], json!([1, 3]));
}

const COLUMNS: &str = r#"
import sys
from onnx import TensorProto, helper
age = helper.make_tensor_value_info("age", TensorProto.INT64, [None, 1])
color = helper.make_tensor_value_info("color", TensorProto.STRING, [None, 1])
older = helper.make_tensor_value_info("older", TensorProto.INT64, [None, 1])
same = helper.make_tensor_value_info("same", TensorProto.STRING, [None, 1])
one = helper.make_tensor("one", TensorProto.INT64, [1], [1])
g = helper.make_graph(
    [helper.make_node("Add", ["age", "one"], ["older"]), helper.make_node("Identity", ["color"], ["same"])],
    "columns", [age, color], [older, same], [one])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
open(sys.argv[1], "wb").write(m.SerializeToString())
"#;

/// A graph of one input per column, as converters write a pipeline of named columns: each
/// column is a field named after its input, whole numbers and text included.
#[tokio::test]
async fn a_graph_of_named_columns_takes_one_field_per_column() {
    let s = onnx_server().await;
    let bundle = Tar::new().file("model.onnx", &make_model(COLUMNS)).gz();
    let (status, body) = s.publish(&manifest("columns", json!({})), bundle).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, v) = s.get("/models/alice/columns/versions/1").await;
    let init = &v["manifest"]["init"];
    assert_eq!(init[0]["id"], "age");
    assert_eq!(
        (init[0]["type"].as_str(), init[0]["integer"].as_bool()),
        (Some("Number.In"), Some(true))
    );
    assert_eq!(
        (init[1]["id"].as_str(), init[1]["type"].as_str()),
        (Some("color"), Some("Text.In"))
    );

    let calls = [(41, "red"), (7, "blue")].map(|(age, color)| {
        let s = &s;
        async move { predict(s, "columns", json!({"age": age, "color": color})).await }
    });
    let answers = futures::future::join_all(calls).await;
    for ((status, out), (age, color)) in answers.iter().zip([(42, "red"), (8, "blue")]) {
        assert_eq!(*status, StatusCode::OK, "{out}");
        assert_eq!(out["outputs"][0]["data"], json!([age]), "{out}");
        assert_eq!(out["outputs"][1]["data"], json!([color]), "{out}");
    }
    let fraction = predict(&s, "columns", json!({"age": 1.5, "color": "red"})).await;
    assert_error(
        &fraction,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_inputs",
    );

    // The Open Inference Protocol takes a tensor per column.
    let call = json!({"inputs": [
        {"name": "age", "shape": [2, 1], "datatype": "INT64", "data": [1, 2]},
        {"name": "color", "shape": [2, 1], "datatype": "BYTES", "data": ["a", "b"]},
    ]});
    let res = s
        .http
        .post(format!("{}/v2/models/alice/columns/infer", s.url))
        .json(&call)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["outputs"][0]["data"], json!([2, 3]), "{body}");
    assert_eq!(body["outputs"][1]["data"], json!(["a", "b"]), "{body}");
}

/// A loop of a billion turns: seconds of work for any input.
const SPIN: &str = r#"
import sys
from onnx import TensorProto, helper
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 1])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])
# A loop of a billion turns, each adding x to its carry: seconds of work for any input.
body = helper.make_graph(
    [helper.make_node("Identity", ["cond_in"], ["cond_out"]), helper.make_node("Add", ["carry_in", "x"], ["carry_out"])],
    "body",
    [helper.make_tensor_value_info("i", TensorProto.INT64, []),
     helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
     helper.make_tensor_value_info("carry_in", TensorProto.FLOAT, [None, 1])],
    [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
     helper.make_tensor_value_info("carry_out", TensorProto.FLOAT, [None, 1])])
n = helper.make_tensor("n", TensorProto.INT64, [], [1_000_000_000])
t = helper.make_tensor("t", TensorProto.BOOL, [], [True])
g = helper.make_graph([helper.make_node("Loop", ["n", "t", "x"], ["y"], body=body)], "spin", [x], [y], [n, t])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
open(sys.argv[1], "wb").write(m.SerializeToString())
"#;

/// A run past the model's step timeout is stopped by ONNX Runtime's terminate flag and
/// answered 504, and the session serves the next call.
#[tokio::test]
async fn a_run_past_its_time_limit_is_stopped() {
    let s = onnx_server().await;
    let bundle = Tar::new().file("model.onnx", &make_model(SPIN)).gz();
    let mut m = manifest("spin", json!({}));
    m["limits"] = json!({"step_timeout": 1});
    let (status, body) = s.publish(&m, bundle).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    for _ in 0..2 {
        let out = predict(&s, "spin", json!({"x": 1.0})).await;
        let e = assert_error(&out, StatusCode::GATEWAY_TIMEOUT, "step_timeout");
        assert!(
            e["message"].as_str().unwrap().contains("time limit of 1 s"),
            "{e}"
        );
    }
}

/// Pixels in, doubled and their mean per channel out: an image-shaped input whose width may
/// be any size.
const IMAGE: &str = r#"
import sys
from onnx import TensorProto, helper
x = helper.make_tensor_value_info("pixels", TensorProto.UINT8, [None, 3, 2, None])
y = helper.make_tensor_value_info("doubled", TensorProto.FLOAT, [None, 3, 2, None])
z = helper.make_tensor_value_info("mean", TensorProto.FLOAT, [None, 3])
two = helper.make_tensor("two", TensorProto.FLOAT, [1], [2.0])
g = helper.make_graph([
    helper.make_node("Cast", ["pixels"], ["f"], to=TensorProto.FLOAT),
    helper.make_node("Mul", ["f", "two"], ["doubled"]),
    helper.make_node("ReduceMean", ["f"], ["mean"], axes=[2, 3], keepdims=0),
], "image", [x], [y, z], [two])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
open(sys.argv[1], "wb").write(m.SerializeToString())
"#;

fn image(width: usize, base: u64) -> Value {
    json!(
        (0..3)
            .map(|c| (0..2)
                .map(|r| (0..width)
                    .map(|k| base + c * 10 + r * 2 + k as u64)
                    .collect::<Vec<_>>())
                .collect::<Vec<_>>())
            .collect::<Vec<_>>()
    )
}

/// A graph whose input is neither fields nor columns takes one `Tensor.In` of the item's shape
/// (the batch dimension left out); requests of the same shape share a run, others wait for
/// their own; the Open Inference Protocol sends the whole batch as one tensor.
#[tokio::test]
async fn an_image_shaped_input_takes_a_tensor_and_batches_by_shape() {
    let s = onnx_server().await;
    let bundle = Tar::new().file("model.onnx", &make_model(IMAGE)).gz();
    let (status, body) = s.publish(&manifest("image", json!({})), bundle).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, v) = s.get("/models/alice/image/versions/1").await;
    assert_eq!(
        v["manifest"]["init"],
        json!([{"id": "pixels", "type": "Tensor.In", "title": "pixels", "required": true,
                "dtype": "uint8", "shape": [3, 2, -1]}])
    );
    // The model's own document gives the value's schema: nested arrays of the shape.
    let (_, doc) = s.get("/models/alice/image/openapi.json").await;
    let text = doc.to_string();
    assert!(text.contains(r#""maximum":255"#), "{text}");

    let calls = (0..24).map(|i| {
        let s = &s;
        let (width, base) = (1 + i % 3, i as u64);
        async move {
            let out = predict(s, "image", json!({"pixels": image(width, base)})).await;
            (width, base, out)
        }
    });
    for (width, base, (status, out)) in futures::future::join_all(calls).await {
        assert_eq!(status, StatusCode::OK, "{out}");
        let doubled = &out["outputs"][0];
        assert_eq!(doubled["type"], "Json.View");
        let want: Vec<Vec<Vec<f64>>> = serde_json::from_value(image(width, base)).unwrap();
        let want: Vec<Vec<Vec<f64>>> = want
            .into_iter()
            .map(|c| {
                c.into_iter()
                    .map(|r| r.into_iter().map(|x| x * 2.0).collect())
                    .collect()
            })
            .collect();
        assert_eq!(doubled["data"], json!(want), "width {width}, base {base}");
        let mean = (width as f64 - 1.0) / 2.0 + 1.0 + base as f64;
        assert_eq!(out["outputs"][1]["data"][0], json!(mean), "{out}");
    }

    // Values of the wrong shape or type are refused before the model runs, with their place.
    for (bad, path) in [
        (json!([[[1]], [[1]], [[1]]]), "/inputs/pixels/0"),
        (
            json!([[[1], [256]], [[1], [1]], [[1], [1]]]),
            "/inputs/pixels/0/1/0",
        ),
        (
            json!([[[1, 2], [3]], [[1, 2], [3, 4]], [[1, 2], [3, 4]]]),
            "/inputs/pixels/0/1",
        ),
    ] {
        let out = predict(&s, "image", json!({ "pixels": bad })).await;
        let e = assert_error(&out, StatusCode::UNPROCESSABLE_ENTITY, "invalid_inputs");
        assert_eq!(e["details"]["problems"][0]["path"], path, "{e}");
    }

    let call = json!({"inputs": [{"name": "pixels", "shape": [2, 3, 2, 1], "datatype": "UINT8",
                                 "data": (0..12).collect::<Vec<u32>>()}]});
    let res = s
        .http
        .post(format!("{}/v2/models/alice/image/infer", s.url))
        .json(&call)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let doubled = &body["outputs"][0];
    assert_eq!(doubled["shape"], json!([2, 3, 2, 1]), "{body}");
    let want: Vec<f64> = (0..12).map(|x| f64::from(x) * 2.0).collect();
    assert_eq!(doubled["data"], json!(want), "{body}");
    assert_eq!(body["outputs"][1]["shape"], json!([2, 3]), "{body}");
    let meta: Value = s
        .http
        .get(format!("{}/v2/models/alice/image", s.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        meta["inputs"],
        json!([{"name": "pixels", "datatype": "UINT8", "shape": [-1, 3, 2, -1]}])
    );

    // The developer may fix a size the graph leaves open, not change one it fixes.
    let narrow = |shape: Value| {
        let mut m = manifest("narrow", json!({}));
        m["init"] = json!([{"id": "img", "type": "Tensor.In", "title": "Image",
                            "dtype": "uint8", "shape": shape}]);
        m
    };
    let bundle = Tar::new().file("model.onnx", &make_model(IMAGE)).gz();
    let (status, body) = s.publish(&narrow(json!([3, 2, 2])), bundle).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let out = predict(&s, "narrow", json!({"img": image(1, 0)})).await;
    assert_error(&out, StatusCode::UNPROCESSABLE_ENTITY, "invalid_inputs");
    let (status, out) = predict(&s, "narrow", json!({"img": image(2, 0)})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let bundle = Tar::new().file("model.onnx", &make_model(IMAGE)).gz();
    let e = assert_error(
        &s.publish(&narrow(json!([3, 3, -1])), bundle).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_manifest",
    );
    let reason = e["details"]["problems"][0]["reason"].as_str().unwrap();
    assert!(reason.contains(r#"Tensor.In of "uint8" [3,2,-1]"#), "{e}");
}

/// Class probabilities as one `[batch, classes]` tensor, with no label tensor beside them.
const SOFTMAX: &str = r#"
import sys
from onnx import TensorProto, helper
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])
y = helper.make_tensor_value_info("p", TensorProto.FLOAT, [None, 2])
g = helper.make_graph([helper.make_node("Softmax", ["x"], ["p"], axis=1)], "softmax", [x], [y])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
open(sys.argv[1], "wb").write(m.SerializeToString())
"#;

/// A model of one output of class probabilities is a classifier once its labels are named:
/// its answer is a `Label` of the likeliest class.
#[tokio::test]
async fn probabilities_with_labels_are_a_label() {
    let s = onnx_server().await;
    let bundle = Tar::new().file("model.onnx", &make_model(SOFTMAX)).gz();
    let labels = json!({"labels": ["upright", "upside down"]});
    let (status, body) = s.publish(&manifest("turned", labels), bundle).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, out) = predict(&s, "turned", json!({"x0": 0.0, "x1": 2.0})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let label = &out["outputs"][0];
    assert_eq!(label["type"], "Label", "{out}");
    assert_eq!(label["label"], "upside down", "{out}");
    let p = label["confidences"]["upside down"].as_f64().unwrap();
    assert!((p - 0.8808).abs() < 1e-3, "{out}");

    // Without labels the probabilities are shown as they are.
    let bundle = Tar::new().file("model.onnx", &make_model(SOFTMAX)).gz();
    let (status, body) = s.publish(&manifest("raw", json!({})), bundle).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, out) = predict(&s, "raw", json!({"x0": 0.0, "x1": 0.0})).await;
    assert_eq!(out["outputs"][0]["type"], "Json.View", "{out}");
    assert_eq!(out["outputs"][0]["data"], json!([0.5, 0.5]), "{out}");
}

/// `n` zeros summed: as much memory as the caller asks for.
const ZEROS: &str = r#"
import sys
from onnx import TensorProto, helper
n = helper.make_tensor_value_info("n", TensorProto.INT64, [1])
total = helper.make_tensor_value_info("total", TensorProto.FLOAT, [])
g = helper.make_graph([
    helper.make_node("ConstantOfShape", ["n"], ["zeros"],
                     value=helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0])),
    helper.make_node("ReduceSum", ["zeros"], ["total"], keepdims=0),
], "zeros", [n], [total])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
open(sys.argv[1], "wb").write(m.SerializeToString())
"#;

/// ONNX models share one arena of `--onnx-memory-mb`: a run that needs more is refused with
/// a message that says so, and the model serves the next call.
#[tokio::test]
async fn a_run_past_the_onnx_memory_cap_fails_and_the_model_goes_on() {
    let s = Server::start_with_runner(|mut c| {
        c.onnx.library = Some(library());
        c.onnx.memory = 64 << 20;
        c
    })
    .await;
    let bundle = Tar::new().file("model.onnx", &make_model(ZEROS)).gz();
    let (status, body) = s.publish(&manifest("zeros", json!({})), bundle).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, out) = predict(&s, "zeros", json!({"n": 1000})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["outputs"][0]["data"], json!(1000.0), "{out}");
    // 400 MiB of zeros, past the 64 MiB cap.
    let out = predict(&s, "zeros", json!({"n": 100_000_000})).await;
    let e = assert_error(&out, StatusCode::INTERNAL_SERVER_ERROR, "step_failed");
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("64 MiB, --onnx-memory-mb"), "{e}");
    let (status, out) = predict(&s, "zeros", json!({"n": 10})).await;
    assert_eq!(status, StatusCode::OK, "{out}");
}

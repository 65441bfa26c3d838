//! MLflow's scoring protocol at `/api/v1/models/{owner}/{name}/invocations`: rows in any of
//! its four formats, one prediction a row, and errors in MLflow's shape.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::context::{Server, Tar, read};
use crate::onnx::{IRIS, make_model, manifest, onnx_server};

async fn iris() -> Server {
    let s = onnx_server().await;
    let bundle = Tar::new().file("model.onnx", &make_model(IRIS)).gz();
    let labels = json!({"labels": ["setosa", "versicolor", "virginica"]});
    let (status, body) = s.publish(&manifest("iris", labels), bundle).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    s
}

async fn invoke(s: &Server, model: &str, body: Value) -> (StatusCode, Value) {
    s.call(
        reqwest::Method::POST,
        &format!("/models/alice/{model}/invocations"),
        None,
        Some(body),
    )
    .await
}

const SETOSA: [f64; 4] = [5.1, 3.5, 1.4, 0.2];
const VIRGINICA: [f64; 4] = [6.7, 3.0, 5.2, 2.3];

#[tokio::test]
async fn rows_in_each_of_mlflow_s_formats_get_one_prediction_each() {
    let s = iris().await;
    let names = [
        "sepal length (cm)",
        "sepal width (cm)",
        "petal length (cm)",
        "petal width (cm)",
    ];
    let record = |r: [f64; 4]| -> Value {
        names
            .iter()
            .zip(r)
            .map(|(n, v)| ((*n).to_owned(), json!(v)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let bodies = [
        json!({"dataframe_split": {"columns": names, "data": [SETOSA, VIRGINICA]}}),
        json!({"dataframe_records": [record(SETOSA), record(VIRGINICA)]}),
        json!({"instances": [SETOSA, VIRGINICA]}),
        json!({"inputs": {
            "sepal_length_cm": [SETOSA[0], VIRGINICA[0]], "sepal_width_cm": [SETOSA[1], VIRGINICA[1]],
            "petal_length_cm": [SETOSA[2], VIRGINICA[2]], "petal_width_cm": [SETOSA[3], VIRGINICA[3]],
        }}),
    ];
    for body in bodies {
        let (status, out) = invoke(&s, "iris", body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}: {out}");
        assert_eq!(
            out,
            json!({"predictions": ["setosa", "virginica"]}),
            "{body}"
        );
    }
    // A version by its number, as any reference.
    let (status, out) = invoke(&s, "iris@1", json!({"instances": [VIRGINICA]})).await;
    assert_eq!(
        (status, out),
        (StatusCode::OK, json!({"predictions": ["virginica"]}))
    );
}

#[tokio::test]
async fn bad_requests_are_refused_in_mlflow_s_error_shape_before_any_row_runs() {
    let s = iris().await;
    let cases = [
        (
            json!({"instances": [SETOSA], "inputs": [SETOSA]}),
            StatusCode::BAD_REQUEST,
            "exactly one",
        ),
        (
            json!({"dataframe_records": [{"colour": 1}]}),
            StatusCode::BAD_REQUEST,
            "no column \"colour\"",
        ),
        // The second row is wrong: nothing runs, and the problem names it.
        (
            json!({"instances": [SETOSA, [1, 2, "x", 4]]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "/rows/1/petal_length_cm",
        ),
    ];
    for (body, status, needle) in cases {
        let (got, out) = invoke(&s, "iris", body.clone()).await;
        assert_eq!(got, status, "{body}: {out}");
        assert_eq!(out["error_code"], "BAD_REQUEST", "{out}");
        assert!(out["message"].as_str().unwrap().contains(needle), "{out}");
    }
    let (got, out) = invoke(&s, "absent", json!({"instances": [SETOSA]})).await;
    assert_eq!(got, StatusCode::NOT_FOUND);
    assert_eq!(out["error_code"], "RESOURCE_DOES_NOT_EXIST", "{out}");
    let post = |kind: &'static str, body: &'static str| {
        s.http
            .post(s.api("/models/alice/iris/invocations"))
            .header("content-type", kind)
            .body(body)
            .send()
    };
    // CSV needs its header row: a first row of numbers names no columns.
    let (got, out) = read(post("text/csv", "5.1,3.5,1.4,0.2\n").await.unwrap()).await;
    assert_eq!(got, StatusCode::BAD_REQUEST, "{out}");
    assert!(
        out["message"]
            .as_str()
            .unwrap()
            .contains("no column \"5.1\""),
        "{out}"
    );
    let (got, out) = read(post("text/plain", "5.1").await.unwrap()).await;
    assert_eq!(got, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        out["message"].as_str().unwrap().contains("text/csv"),
        "{out}"
    );
}

#[tokio::test]
async fn csv_rows_with_a_header_get_one_prediction_each() {
    let s = iris().await;
    // As pandas writes a DataFrame with its index: a first column with no name.
    let body = ",sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)\n\
                0,5.1,3.5,1.4,0.2\n1,6.7,3.0,5.2,2.3\n";
    let res = s
        .http
        .post(s.api("/models/alice/iris/invocations"))
        .header("content-type", "text/csv; charset=utf-8")
        .body(body)
        .send()
        .await
        .unwrap();
    let (got, out) = read(res).await;
    assert_eq!(got, StatusCode::OK, "{out}");
    assert_eq!(out, json!({"predictions": ["setosa", "virginica"]}));
}

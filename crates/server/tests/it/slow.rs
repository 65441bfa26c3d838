//! Clients that are slow, idle or greedy with connections: each limit cuts them off, and
//! what is refused at this layer is answered in the error shape.

use std::time::{Duration, Instant};

use feather_server::listen::HttpLimits;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::context::Server;

fn limits() -> HttpLimits {
    HttpLimits {
        header_timeout: Duration::from_secs(2),
        body_timeout: Duration::from_secs(2),
        body_min_rate: 1024,
        keep_alive: Duration::from_secs(2),
        max_connections: 8,
        ..HttpLimits::default()
    }
}

async fn connect(s: &Server) -> TcpStream {
    TcpStream::connect(s.url.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection (or `within` passes); what it sent.
async fn until_closed(c: &mut TcpStream, within: Duration) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(within, async {
        loop {
            match c.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&got).into_owned())
}

#[test]
fn the_defaults_cut_a_slow_head_within_30_seconds() {
    let d = HttpLimits::default();
    assert!(d.header_timeout <= Duration::from_secs(30));
    assert!(d.keep_alive <= d.header_timeout && d.body_timeout <= Duration::from_secs(60));
    assert!(d.max_connections >= 1024 && d.body_min_rate > 0);
}

#[tokio::test]
async fn a_head_sent_a_line_at_a_time_is_cut_off_at_the_header_timeout() {
    let s = Server::start_with_http(limits()).await;
    let mut c = connect(&s).await;
    let started = Instant::now();
    c.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")
        .await
        .unwrap();
    // A header line every half second: each one is progress, none finishes the head.
    let mut cut = false;
    for i in 0..20 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if c.write_all(format!("x-slow-{i}: y\r\n").as_bytes())
            .await
            .is_err()
        {
            cut = true;
            break;
        }
    }
    let closed = cut || until_closed(&mut c, Duration::from_secs(5)).await.is_some();
    assert!(closed, "a slow head was never cut off");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(6), "cut after {took:?}");
    // Others are served meanwhile and after.
    assert_eq!(
        s.http
            .get(format!("{}/healthz", s.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test]
async fn a_body_sent_a_byte_at_a_time_gets_408_and_is_closed() {
    let s = Server::start_with_http(limits()).await;
    let mut c = connect(&s).await;
    let head = "POST /api/v1/files HTTP/1.1\r\nhost: x\r\ncontent-type: multipart/form-data; boundary=b\r\ncontent-length: 100000\r\n\r\n";
    c.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let sender = tokio::spawn(async move {
        for _ in 0..40 {
            if c.write_all(b"-").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        c
    });
    let mut c = sender.await.unwrap();
    let answer = until_closed(&mut c, Duration::from_secs(10))
        .await
        .expect("never closed");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"body_too_slow\""), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(13),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn idle_connections_are_closed_after_the_keep_alive_timeout() {
    let s = Server::start_with_http(limits()).await;
    // One that never sends anything, and one that asked once and went quiet.
    let mut silent = connect(&s).await;
    let mut kept = connect(&s).await;
    kept.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    for c in [&mut silent, &mut kept] {
        assert!(
            until_closed(c, Duration::from_secs(6)).await.is_some(),
            "still open"
        );
    }
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn connections_past_the_cap_get_503_in_the_error_shape_until_idle_ones_are_closed() {
    let s = Server::start_with_http(limits()).await;
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(connect(&s).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = connect(&s).await;
    let answer = until_closed(&mut extra, Duration::from_secs(3))
        .await
        .expect("never answered");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.contains("\"code\":\"too_many_connections\""),
        "{answer}"
    );
    // The idle ones are closed at the keep-alive timeout, and new clients are served again.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let r = s
        .http
        .get(format!("{}/healthz", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    drop(idle);
}

#[tokio::test]
async fn too_many_headers_get_431_in_the_error_shape() {
    let s = Server::start_with_http(limits()).await;
    let mut r = s.http.get(format!("{}/healthz", s.url));
    for i in 0..150 {
        r = r.header(format!("x-h-{i}"), "v");
    }
    let got = crate::context::read(r.send().await.unwrap()).await;
    crate::context::assert_error(
        &got,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "headers_too_large",
    );
}

#[tokio::test]
async fn a_client_that_reads_nothing_of_a_large_answer_is_cut_off() {
    let s = Server::start_with_http(limits()).await;
    let part = reqwest::multipart::Part::bytes(vec![7u8; 48 << 20]).file_name("big.bin");
    let form = reqwest::multipart::Form::new().part("file", part);
    let r = s
        .http
        .post(s.api("/files"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let (status, f) = crate::context::read(r).await;
    assert_eq!(status, StatusCode::CREATED, "{f}");
    let mut c = connect(&s).await;
    let get = format!(
        "GET /api/v1/files/{} HTTP/1.1\r\nhost: x\r\n\r\n",
        f["id"].as_str().unwrap()
    );
    c.write_all(get.as_bytes()).await.unwrap();
    // Reads nothing while the server's writes fill the socket's buffers, then finds the
    // connection closed before the answer could all have come.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 20];
    let read_all = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match c.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got += n,
            }
        }
    })
    .await;
    assert!(read_all.is_ok(), "the connection stayed open");
    assert!(got < 48 << 20, "the whole answer was sent ({got} bytes)");
}

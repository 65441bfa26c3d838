//! `feather serve`.

use std::net::SocketAddr;

use clap::Args;
use feather_server::ServerConfig;
use feather_store::BundleLimits;

use crate::DataArg;

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    data: DataArg,
    /// The address to listen on; port 0 picks a free one.
    #[arg(long, env = "FEATHER_ADDR", default_value = "127.0.0.1:7860")]
    addr: SocketAddr,
    /// The URL clients reach this server at, when behind a proxy [default: from each request].
    #[arg(long, env = "FEATHER_PUBLIC_URL")]
    public_url: Option<String>,
    /// Largest bundle upload, in bytes (compressed).
    #[arg(long, env = "FEATHER_MAX_UPLOAD", default_value_t = BundleLimits::default().max_upload)]
    max_upload: u64,
    /// Largest unpacked bundle, in bytes.
    #[arg(long, env = "FEATHER_MAX_UNPACKED", default_value_t = BundleLimits::default().max_unpacked)]
    max_unpacked: u64,
    /// Most entries in a bundle.
    #[arg(long, env = "FEATHER_MAX_FILES", default_value_t = BundleLimits::default().max_files)]
    max_files: u64,
}

pub async fn run(a: ServeArgs) -> anyhow::Result<()> {
    let data = a.data.resolve();
    let config = ServerConfig {
        data: data.clone(),
        addr: a.addr,
        limits: BundleLimits {
            max_upload: a.max_upload,
            max_unpacked: a.max_unpacked,
            max_files: a.max_files,
        },
        public_url: a.public_url,
    };
    feather_server::serve(config, |addr| {
        tracing::info!(data = %data.display(), "feather is serving on http://{addr}");
        // One plain line on stdout, for scripts that started the server on port 0.
        println!("listening on http://{addr}");
    })
    .await?;
    Ok(())
}

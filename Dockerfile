# The feather server's image: the binary (the portal and the Python SDK inside it), Python 3.11
# for model environments, uv to build them, and bubblewrap to contain every worker and build.
#   docker build -t feather .    (or podman/buildah; the context is the repository)
# Model environments are built at run time from the package index the server is given
# (--package-index); nothing else is fetched.

# The portal, built once; the binary embeds web/dist.
FROM node:20-bookworm-slim AS web
WORKDIR /src/web
COPY web/package.json web/package-lock.json ./
RUN npm install --no-save --no-audit --no-fund --loglevel=error
COPY web/ ./
RUN npm run --silent build

# The binary, built with the pinned toolchain and the locked crates.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
COPY --from=web /src/web/dist web/dist
RUN cargo build --release --locked -p feather-cli \
    && install -m 0755 target/release/feather /usr/local/bin/feather

# What runs: Debian 12's Python 3.11 image with the sandbox's tools (bubblewrap; prlimit and
# setpriv are in util-linux, already there).
FROM python:3.11-slim-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap=0.8.* \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir uv==0.13.9 \
    && useradd --uid 10001 --create-home --home-dir /home/feather feather \
    && install -d -o feather -g feather /data
COPY --from=build /usr/local/bin/feather /usr/local/bin/feather
USER 10001
ENV FEATHER_DATA=/data FEATHER_UV=/usr/local/bin/uv
VOLUME ["/data"]
EXPOSE 7860
ENTRYPOINT ["feather"]
CMD ["serve", "--addr", "0.0.0.0:7860"]

# The action's image: a statically linked binary and a CA bundle (the AWS SDK's TLS needs root
# certificates), nothing else. No USER or WORKDIR: GitHub runs container actions as root in
# /github/workspace.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
# glibc with crt-static: the same build scripts/test makes for the container test.
RUN RUSTFLAGS='-C target-feature=+crt-static' cargo build --locked --release --target x86_64-unknown-linux-gnu \
    && cp target/x86_64-unknown-linux-gnu/release/ecr-push-action /ecr-push-action

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /ecr-push-action /ecr-push-action
ENTRYPOINT ["/ecr-push-action"]

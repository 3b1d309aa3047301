# The action's image: a statically linked binary and a CA bundle (the AWS SDK's TLS needs root
# certificates), nothing else. No USER or WORKDIR: GitHub runs container actions as root in
# /github/workspace. Built for linux/amd64 and linux/arm64 (`docker buildx build --platform …`): the
# build stage runs on the build machine's platform and cross-compiles, which is much faster than
# compiling under emulation.
#
# The build stage's image is pinned by digest (the multi-platform index of rust:1.95-bookworm), so a
# re-pushed tag cannot change what compiles a release; tests/hardening.rs fails on an unpinned FROM.
# To update it: `docker buildx imagetools inspect rust:1.95-bookworm` prints the index digest on its
# `Digest:` line; put it after `@sha256:` below (and the new tag before it, for a new Rust version).
ARG RUST_IMAGE=rust:1.95-bookworm@sha256:6258907abe69656e41cd992e0b705cdcfabcbbe3db374f92ed2d47121282d4a1
FROM --platform=$BUILDPLATFORM ${RUST_IMAGE} AS build
ARG TARGETARCH
RUN case "$TARGETARCH" in \
      amd64) echo x86_64-unknown-linux-gnu > /target; cross="gcc-x86-64-linux-gnu libc6-dev-amd64-cross" ;; \
      arm64) echo aarch64-unknown-linux-gnu > /target; cross="gcc-aarch64-linux-gnu libc6-dev-arm64-cross" ;; \
      *) echo "unsupported TARGETARCH $TARGETARCH" >&2; exit 1 ;; \
    esac \
    && if [ "$(dpkg --print-architecture)" = "$TARGETARCH" ]; then cross=""; fi \
    && if [ -n "$cross" ]; then apt-get update && apt-get install -y --no-install-recommends $cross && rm -rf /var/lib/apt/lists/*; fi \
    && rustup target add "$(cat /target)"
ENV CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
    CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
    CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER=x86_64-linux-gnu-gcc \
    CC_x86_64_unknown_linux_gnu=x86_64-linux-gnu-gcc
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY .cargo ./.cargo
COPY src ./src
# glibc with crt-static: the same build settings as tools/test's build for the container test.
RUN target="$(cat /target)" \
    && if [ "$(dpkg --print-architecture)" = "$TARGETARCH" ]; then \
         unset CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER CC_x86_64_unknown_linux_gnu \
               CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER CC_aarch64_unknown_linux_gnu; \
       fi \
    && RUSTFLAGS='-C target-feature=+crt-static' cargo build --locked --release --target "$target" \
    && cp "target/$target/release/ecr-push-action" /ecr-push-action

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /ecr-push-action /ecr-push-action
ENTRYPOINT ["/ecr-push-action"]

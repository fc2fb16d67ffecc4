# audit-sink container image: build with the Rust toolchain, run on distroless.
#   docker build -t kubext/audit-sink:v0.1.0 .        (or podman/buildah/kaniko)
# Images are built where a container engine exists (CI, a workstation); the
# development machines of this repository have none.

# ---- build ----
FROM docker.io/library/rust:1.95-bookworm AS build
WORKDIR /src
# The whole workspace: audit-sink's path dependencies (audit-api) live in it and
# Cargo.lock pins every crate. .dockerignore keeps target/ and node_modules out.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p audit-sink \
 && install -D -m 0755 target/release/audit-sink /out/audit-sink \
 && install -d -m 0755 /out/data

# ---- run ----
# distroless "cc": glibc and libgcc only (ring and zstd link against them), no
# shell, no package manager; the :nonroot tag runs as uid/gid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/audit-sink /usr/local/bin/audit-sink
COPY --from=build --chown=65532:65532 /out/data /data
COPY LICENSE /usr/share/doc/audit-sink/LICENSE
USER 65532:65532
WORKDIR /data
EXPOSE 8443
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/audit-sink"]
# In a container the sink listens on all interfaces, which it refuses to do
# without credentials: add --tls-cert/--tls-key and --token-file (or
# --client-ca) as deploy/base/statefulset.yaml does, or --insecure for a local try.
CMD ["serve", "--listen=0.0.0.0:8443", "--data-dir=/data"]

# syntax=docker/dockerfile:1
# The `identity` CA image: a drop-in for Linkerd's identity controller (see deploy/README.md). The binary is Native
# AOT, so the image needs no .NET runtime: a chiseled runtime-deps base (glibc, OpenSSL, CA certificates, no shell).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
# Set by `docker buildx build --platform ...`; publish for that architecture (amd64 or arm64).
ARG TARGETARCH=amd64
# Native AOT links with clang against zlib.
RUN apt-get update && apt-get install -y --no-install-recommends clang zlib1g-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what src/Identity.Cli needs to build: the build props pin every package version and the
# analyzers, and Identity.Protocol generates its code from protos/.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY protos/ protos/
COPY src/ src/
RUN dotnet publish src/Identity.Cli/Identity.Cli.csproj \
      --configuration Release \
      --arch "$TARGETARCH" \
      --output /app \
 && rm -f /app/*.dbg /app/*.pdb

FROM mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled AS runtime
WORKDIR /app
COPY --from=build /app ./
# The base image sets ASPNETCORE_HTTP_PORTS=8080; `serve` binds its own -addr/-admin-addr, so the
# default is cleared rather than left to be overridden with a warning.
ENV ASPNETCORE_HTTP_PORTS=""
# 2103 is the UID Linkerd's chart gives its controllers; deploy/base runs the pod as the same UID
# (runAsNonRoot can only be verified by the kubelet for a numeric USER).
USER 2103:2103
# gRPC (Certify) and admin (/ping, /ready, /metrics), as Linkerd's controller.
EXPOSE 8080 9990
ENTRYPOINT ["/app/identity"]
CMD ["serve"]

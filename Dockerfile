# LinkFM xApp image: CPU-only torch, librmr from the OSC release packages, non-root.
#   docker build -t registry.example.org:5000/linkfm-xapp:0.1.0 .
# The tag must match containers[0].image in config-file.json (and helm/linkfm/values.yaml).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: the project and its runtime dependencies in a venv ------------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
WORKDIR /src
# torch first, from the CPU wheel index: the default index would pull the CUDA build (GBs).
RUN python -m venv /opt/venv \
    && pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY pyproject.toml constraints.txt README.md ./
COPY schemas/ schemas/
COPY xapp/ xapp/
COPY model/ model/
COPY e2sim/ e2sim/
COPY bench/ bench/
# The `ric` extra carries ricxappframe's runtime needs; ricxappframe itself pins an old
# protobuf that the project's schemas cannot use, so it goes in without its dependencies.
RUN pip install --no-cache-dir -c constraints.txt ".[ric]" \
    && pip install --no-cache-dir --no-deps ricxappframe==3.2.2

# --- rmr: librmr and rmr_probe unpacked from the OSC release packages (rmr + rmr-dev) -----------
FROM ${PYTHON_IMAGE} AS rmr
ARG RMR_VERSION=4.9.4
ARG RMR_REPO=https://packagecloud.io/o-ran-sc/release/packages/debian/stretch
WORKDIR /tmp/rmr
# python instead of curl/wget: nothing to apt-get in this stage. rmr-dev brings the
# unversioned librmr_si.so that ricxappframe loads with ctypes.
RUN for pkg in rmr rmr-dev; do \
      python -c "import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])" \
        "${RMR_REPO}/${pkg}_${RMR_VERSION}_amd64.deb/download.deb" "${pkg}.deb" \
      && dpkg-deb -x "${pkg}.deb" /opt/rmr || exit 1; \
    done \
    && test -e /opt/rmr/usr/local/lib/librmr_si.so

# --- runtime ------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="linkfm-xapp" \
      org.opencontainers.image.description="O-RAN near-RT RIC xApp: rank/PMI/beam recommendations" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=rmr /opt/rmr/usr/local/ /usr/local/
COPY --from=builder /opt/venv /opt/venv
COPY deploy/route/local.rt /opt/route/local.rt
# Defaults baked in; in a cluster the appconfig ConfigMap is mounted over /opt/ric/config.
COPY config-file.json schemas/schema.json /opt/ric/config/
RUN ldconfig \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin linkfm
ENV PATH=/opt/venv/bin:$PATH \
    LD_LIBRARY_PATH=/usr/local/lib:/usr/local/lib64 \
    RMR_SEED_RT=/opt/route/local.rt \
    CONFIG_FILE=/opt/ric/config/config-file.json \
    PYTHONUNBUFFERED=1 \
    OMP_WAIT_POLICY=PASSIVE
USER 10001
EXPOSE 4560 4561 8080
CMD ["linkfm", "xapp"]

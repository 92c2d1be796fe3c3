# Debian's Caddy on the project's base image, with the official image's interface (Caddyfile in
# /etc/caddy, state in /data and /config, wget for the health check). Seeded by
# build-support/bin/seed-infra-bases: apt needs the network, which `pants package` builds lack.
# Few instructions: on the vfs storage driver each one copies the whole file system.
FROM python:3.11-slim-bookworm
ENV XDG_CONFIG_HOME=/config XDG_DATA_HOME=/data
# A new volume takes the owner of the image's directory. Ports below 1024 need no root: Docker
# opens them to every user of a container's network namespace.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends caddy wget \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /config /data && chown caddy:caddy /config /data
USER caddy
EXPOSE 80 443 2019
CMD ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"]
